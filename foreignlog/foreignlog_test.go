package foreignlog

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/metrics"
)

func TestReadVeRLConsole(t *testing.T) {
	lg, err := ReadFile("testdata/verl_console.log")
	if err != nil {
		t.Fatal(err)
	}
	if lg.Format != VeRLConsole {
		t.Fatalf("format %s", lg.Format)
	}
	if len(lg.Rows) != 30 {
		t.Fatalf("%d rows, want 30", len(lg.Rows))
	}
	// The progress line and the torn last line are skipped, not parsed.
	if lg.Skipped != 2 {
		t.Errorf("skipped %d, want 2", lg.Skipped)
	}
	r := lg.Rows[0]
	// step 1: critic/score/mean = 0.40+0.02 printed as 0.420.
	if r["step"] != 1 || r["train/proxy_reward"] != 0.42 || r["actor/response_length"] != 500 || r["perf/step_seconds"] != 80.4 {
		t.Errorf("row 1 = %v", r)
	}
	if lg.Found["train/proxy_reward"] != "critic/score/mean" {
		t.Errorf("proxy from %q, want critic/score/mean (score wins over rewards)", lg.Found["train/proxy_reward"])
	}
	if v, ok := lg.Rows[9]["val/openai/gsm8k/avg@1"]; !ok || v != 0.5 {
		t.Errorf("step 10 validation = %v, %v; want 0.5 under val/openai/gsm8k/avg@1", v, ok)
	}
	for _, k := range []string{"train/reward_accuracy", "train/ground_truth_reward", "train/label_accuracy"} {
		if !slices.Contains(lg.Missing, k) {
			t.Errorf("missing %v lacks %s", lg.Missing, k)
		}
	}
	if !slices.Contains(lg.Unmapped, "perf/throughput") || slices.Contains(lg.Unmapped, "critic/score/mean") {
		t.Errorf("unmapped = %v", lg.Unmapped)
	}
	fl, err := Check(lg.Rows, metrics.CollapseConfig{}, DivergenceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if fl.Collapse != nil || fl.Divergence != nil || len(fl.Notes) != 2 {
		t.Errorf("flags on a log without accuracy or ground truth = %+v", fl)
	}
}

func TestReadVeRLFileFlagsCollapse(t *testing.T) {
	lg, err := ReadFile("testdata/verl_metrics.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if lg.Format != VeRLFile || len(lg.Rows) != 40 || lg.Skipped != 1 {
		t.Fatalf("format %s, %d rows, %d skipped; want verl-file, 40, 1 (the torn line)", lg.Format, len(lg.Rows), lg.Skipped)
	}
	if got := lg.Rows[19]["val/math500/pass@4"]; math.Abs(got-0.6) > 1e-12 {
		t.Errorf("step 20 pass@4 = %v, want 0.6", got)
	}
	if _, ok := lg.Rows[0]["custom/unknown_metric"]; !ok {
		t.Error("an unknown metric lost its values")
	}
	fl, err := Check(lg.Rows, metrics.CollapseConfig{}, DivergenceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// reward accuracy max(0, 0.8-0.025 s) first falls below 0.01 at s = 32
	// (0.8-0.8 = 0; at s=31 it is 0.025).
	if fl.Collapse == nil || !fl.Collapse.Collapsed || fl.Collapse.Step != 32 {
		t.Fatalf("collapse = %+v, want step 32", fl.Collapse)
	}
	// gap(s) = (0.4+0.015 s) - (0.3-0.005 s) = 0.1 + 0.02 s, linear, so the
	// 5-step trailing mean at s >= 5 is gap(s-2) = 0.06 + 0.02 s: it reaches
	// 0.3 at s = 12; three steps confirm it.
	if fl.Divergence == nil || !fl.Divergence.Diverged || fl.Divergence.Step != 12 {
		t.Fatalf("divergence = %+v, want step 12", fl.Divergence)
	}
}

func TestReadTRLState(t *testing.T) {
	lg, err := ReadFile("testdata/trainer_state.json")
	if err != nil {
		t.Fatal(err)
	}
	// 50 training entries and 2 evaluation entries; the closing summary
	// entry is skipped.
	if lg.Format != TRLState || len(lg.Rows) != 52 || lg.Skipped != 1 {
		t.Fatalf("format %s, %d rows, %d skipped", lg.Format, len(lg.Rows), lg.Skipped)
	}
	r := lg.Rows[0]
	if r["train/proxy_reward"] != 0.365 || r["train/ground_truth_reward"] != 0.394 || r["actor/response_length"] != 178 {
		t.Errorf("row 1 = %v", r)
	}
	if slices.Contains(lg.Missing, "actor/kl") || !slices.Contains(lg.Missing, "train/reward_accuracy") {
		t.Errorf("missing = %v", lg.Missing)
	}
	fl, err := Check(lg.Rows, metrics.CollapseConfig{}, DivergenceConfig{Gap: 0.2, Window: 1, Patience: 1})
	if err != nil {
		t.Fatal(err)
	}
	// gap = (0.35+0.015 s) - (0.4-0.006 s) = -0.05 + 0.021 s >= 0.2 first at
	// s = 12 (0.202).
	if fl.Divergence == nil || fl.Divergence.Step != 12 {
		t.Errorf("divergence = %+v, want step 12", fl.Divergence)
	}
}

func TestDetectRejectsOtherFiles(t *testing.T) {
	for _, head := range []string{"", "hello\nworld\n", `{"a": 1}`, "step 3 loss 0.1\n"} {
		if fm, ok := DetectBytes([]byte(head)); ok {
			t.Errorf("%q detected as %s", head, fm)
		}
	}
	dir := t.TempDir()
	p := dir + "/x.log"
	os.WriteFile(p, []byte("nothing here\n"), 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "not a veRL") {
		t.Errorf("err = %v", err)
	}
}

func TestConsoleNamesWithColons(t *testing.T) {
	lg, err := Read(strings.NewReader("step:3 - val-core/a:b/acc/mean@2:0.250 - x:1.000\n"), VeRLConsole)
	if err != nil {
		t.Fatal(err)
	}
	if len(lg.Rows) != 1 || lg.Rows[0]["val/a:b/avg@2"] != 0.25 || lg.Rows[0]["x"] != 1 {
		t.Errorf("rows = %v", lg.Rows)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte("step:1 - a:0.5\n"), 0)
	f.Add([]byte(`{"step": 1, "data": {"critic/score/mean": 0.5}}`), 1)
	f.Add([]byte(`{"log_history": [{"step": 1, "reward": 0.2}]}`), 2)
	f.Fuzz(func(t *testing.T, b []byte, which int) {
		fm := Formats[(which%3+3)%3]
		lg, err := Read(strings.NewReader(string(b)), fm)
		if err != nil {
			return
		}
		for _, r := range lg.Rows {
			if _, ok := r["step"]; !ok {
				t.Fatalf("row without step: %v", r)
			}
		}
		if _, err := Check(lg.Rows, metrics.CollapseConfig{}, DivergenceConfig{}); err != nil && !strings.Contains(err.Error(), "reward accuracy") {
			t.Fatal(err)
		}
	})
}
