package metrics

import (
	"errors"
	"strings"
	"testing"
)

var collapseSeries = []struct {
	step  int
	value float64
}{{1, 0.5}, {2, 0.2}, {3, 0.005}, {4, 0.02}, {5, 0.001}, {6, 0}, {7, 0}}

func TestCollapseDetectorOnline(t *testing.T) {
	cases := []struct {
		name             string
		cfg              CollapseConfig
		step, detectedAt int
		value            float64
		minStep          int
	}{
		{"paper default", CollapseConfig{}, 3, 3, 0.005, 6},
		{"patience 2 skips the lone dip", CollapseConfig{Patience: 2}, 5, 6, 0.001, 6},
		// moving averages of 2: .5 .35 .1025 .0125 .0105 .0005 0
		{"window 2", CollapseConfig{Window: 2}, 6, 6, 0.0005, 7},
		{"threshold 0.25", CollapseConfig{Threshold: 0.25}, 2, 2, 0.2, 6},
	}
	for _, c := range cases {
		det, err := NewCollapseDetector(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range collapseSeries {
			if _, err := det.Observe(o.step, o.value); err != nil {
				t.Fatal(err)
			}
		}
		r := det.Result()
		if !r.Collapsed || r.Step != c.step || r.DetectedAt != c.detectedAt || !near(r.Value, c.value, 1e-12) {
			t.Errorf("%s: result %+v, want step %d detected %d value %v", c.name, r, c.step, c.detectedAt, c.value)
		}
		if r.Observations != 7 || r.LastStep != 7 || r.Min != 0 || r.MinStep != c.minStep {
			t.Errorf("%s: counters %+v", c.name, r)
		}
	}
}

func TestCollapseDetectorNoCollapseAndErrors(t *testing.T) {
	det, _ := NewCollapseDetector(CollapseConfig{})
	for s, v := range []float64{0.9, 0.8, 0.5} {
		if c, err := det.Observe(s, v); err != nil || c {
			t.Fatalf("step %d: collapsed=%v err=%v", s, c, err)
		}
	}
	if r := det.Result(); r.Collapsed || r.Step != 0 {
		t.Errorf("result %+v, want no collapse", r)
	}
	if _, err := det.Observe(2, 0.5); err == nil {
		t.Error("non-increasing step: no error")
	}
	if _, err := det.Observe(3, 1.5); err == nil {
		t.Error("value above 1: no error")
	}
	for _, cfg := range []CollapseConfig{{Threshold: -1}, {Threshold: 2}, {Window: -1}, {Patience: -3}} {
		if _, err := NewCollapseDetector(cfg); err == nil {
			t.Errorf("config %+v: no error", cfg)
		}
	}
	// A continuous-proxy batch is skipped.
	if c, err := det.ObserveDynamics(10, Dynamics{}); err != nil || c || det.Result().Observations != 3 {
		t.Errorf("ObserveDynamics without reward accuracy counted: %v %v %+v", c, err, det.Result())
	}
}

func TestDetectCollapseJSONL(t *testing.T) {
	file := `{"step": 1, "reward_accuracy": 0.6}
{"step": 1, "val/acc": 0.3}

{"step": 2, "reward_accuracy": 0.004}
{"step": 3, "reward_accuracy": 0.5}
{"step": 2, "reward_accuracy": 0.4}
{"step": 4, "reward_accuracy": 0.009}
{"metrics": {"reward_accuracy": 0.001}}
`
	// Step 2 was re-logged after a resume (0.4 wins), so the collapse is at 4.
	r, _, err := DetectCollapseJSONL(strings.NewReader(file), CollapseConfig{}, CollapseFileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Collapsed || r.Step != 4 || r.Observations != 4 {
		t.Errorf("result %+v, want collapse at step 4 over 4 observations", r)
	}

	nested := `{"step": 5, "metrics": {"reward_accuracy": 0.0}}`
	r, _, err = DetectCollapseJSONL(strings.NewReader(nested), CollapseConfig{}, CollapseFileOptions{ValueKey: "metrics.reward_accuracy"})
	if err != nil || r.Step != 5 {
		t.Errorf("nested key: %+v, %v", r, err)
	}

	prefixed := "{\"step\": 3, \"train/reward_accuracy\": 0.5}\n{\"step\": 4, \"train/reward_accuracy\": 0.0}\n"
	r, _, err = DetectCollapseJSONL(strings.NewReader(prefixed), CollapseConfig{}, CollapseFileOptions{})
	if err != nil || r.Step != 4 || r.Observations != 2 {
		t.Errorf("prefixed default key: %+v, %v", r, err)
	}

	custom := `{"global_step": 9, "train/reward_accuracy": 0.0}`
	r, _, err = DetectCollapseJSONL(strings.NewReader(custom), CollapseConfig{},
		CollapseFileOptions{StepKey: "global_step", ValueKey: "train/reward_accuracy"})
	if err != nil || r.Step != 9 {
		t.Errorf("custom keys: %+v, %v", r, err)
	}

	bad := map[string]string{
		"string value":  `{"step": 1, "reward_accuracy": "0.5"}`,
		"no step":       `{"reward_accuracy": 0.5}`,
		"fraction step": `{"step": 1.5, "reward_accuracy": 0.5}`,
		"value above 1": `{"step": 1, "reward_accuracy": 2}`,
	}
	for name, f := range bad {
		if _, _, err := DetectCollapseJSONL(strings.NewReader(f), CollapseConfig{}, CollapseFileOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, _, err = DetectCollapseJSONL(strings.NewReader(`{"step": 1}`), CollapseConfig{}, CollapseFileOptions{})
	if !errors.Is(err, ErrNoObservations) {
		t.Errorf("empty file: err = %v, want ErrNoObservations", err)
	}
	_, _, err = DetectCollapseJSONL(strings.NewReader("{\"step\":1,\"reward_accuracy\":0.5}\n{\"step\":2,\"reward_accuracy\":true}\n"), CollapseConfig{}, CollapseFileOptions{})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %v does not name line 2", err)
	}
	// A header, an array and a line torn by a kill are skipped and counted.
	r, st, err := DetectCollapseJSONL(strings.NewReader("# run x\n{\"step\":1,\"reward_accuracy\":0.5}\n[1,2]\n{\"step\":2,\"reward_accuracy\":0.004}\n{\"step\":3,\"rew"),
		CollapseConfig{}, CollapseFileOptions{})
	if err != nil || !r.Collapsed || r.Step != 2 || r.Observations != 2 {
		t.Errorf("result %+v, err %v", r, err)
	}
	if st.Skipped != 3 || st.FirstSkipped != 1 || !st.Torn {
		t.Errorf("stats %+v, want 3 skipped from line 1, the last torn", st)
	}
}

// FuzzDetectCollapseJSONL: any input either fails with an error or yields a
// result whose collapse step is one of the observed steps with a value
// below the threshold.
func FuzzDetectCollapseJSONL(f *testing.F) {
	for _, seed := range []string{
		"{\"step\": 1, \"reward_accuracy\": 0.6}\n{\"step\": 2, \"reward_accuracy\": 0.004}\n",
		"{\"step\": 2, \"metrics\": {\"reward_accuracy\": 0}}",
		"{\"step\": -5, \"train/reward_accuracy\": 0.009}\n\n{\"step\": 1e3, \"reward_accuracy\": 1}",
		"not json", "{}", "{\"step\": \"1\", \"reward_accuracy\": 0}", "[]", "",
	} {
		f.Add(seed, 2)
	}
	f.Fuzz(func(t *testing.T, in string, window int) {
		cfg := CollapseConfig{Window: window % 5, Patience: 1}
		if cfg.Window < 0 {
			cfg.Window = -cfg.Window
		}
		r, _, err := DetectCollapseJSONL(strings.NewReader(in), cfg, CollapseFileOptions{})
		if err != nil {
			return
		}
		if r.Observations < 1 || r.Min < 0 || r.Min > 1 {
			t.Fatalf("result %+v", r)
		}
		if r.Collapsed && (r.Value >= DefaultCollapseThreshold || r.Step > r.LastStep || r.DetectedAt < r.Step) {
			t.Fatalf("inconsistent collapse %+v", r)
		}
	})
}
