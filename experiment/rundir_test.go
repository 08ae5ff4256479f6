package experiment

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/train"
)

// TestReadRunAggregatesResumedAndTornLogs reads a run that was killed
// mid-line and resumed: the step logged twice counts once (its last line),
// the torn line is skipped, and the validation intervals are not taken for
// sets.
func TestReadRunAggregatesResumedAndTornLogs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	f := fixtureRun{rollouts: 2, batch: 3, evalN: 4, steps: 3,
		metrics: []map[string]any{
			{"step": 1.0, keyResponseLength: 10.0, keyRewardAccuracy: 0.8},
			{"step": 2.0, keyResponseLength: 99.0, keyRewardAccuracy: 0.1}, // lost to the kill, logged again
			{"step": 2.0, keyResponseLength: 20.0, keyRewardAccuracy: 0.6},
			{"step": 3.0, keyResponseLength: 30.0, keyRewardAccuracy: 0.4},
		},
		validation: []map[string]any{
			valRow(0, 0.5, 0.75, 0.25, 0.5),
			valRow(2, 0.75, 1, 0.25, 0.75),
		},
	}
	f.validation[1]["val/val-mid/avg@4_ci_lo"] = 0.5
	f.validation[1]["val/val-mid/avg@4_ci_hi"] = 1.0
	f.write(t, dir)
	torn, err := os.OpenFile(filepath.Join(dir, train.MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := torn.WriteString(`{"step":4,"actor/respo`); err != nil {
		t.Fatal(err)
	}
	torn.Close()

	r, err := readRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	// (10 + 20 + 30) tokens × 2 rollouts × batch 3; steps 1-2: 30 × 6.
	if tokens, steps, mean := r.tokenCost(0); tokens != 360 || steps != 3 || mean != 20 {
		t.Errorf("token cost %d over %d steps, mean length %v; want 360, 3, 20", tokens, steps, mean)
	}
	if tokens, _, _ := r.tokenCost(2); tokens != 180 {
		t.Errorf("token cost to step 2: %d, want 180", tokens)
	}
	if v, step, ok := r.minOf(keyRewardAccuracy); !ok || v != 0.4 || step != 3 {
		t.Errorf("lowest reward accuracy %v at %d, want 0.4 at 3 (the replaced 0.1 is gone)", v, step)
	}
	want := []valPoint{
		{Step: 0, Mean: 0.375, Sets: map[string]float64{"val-mid": 0.5, "val-hard": 0.25}},
		{Step: 2, Mean: 0.5, Sets: map[string]float64{"val-mid": 0.75, "val-hard": 0.25}},
	}
	if got := r.trajectory(); !reflect.DeepEqual(got, want) {
		t.Errorf("trajectory %+v, want %+v", got, want)
	}
	// pass@4 - avg@4 at step 0: val-mid 0.25, val-hard 0.25.
	if g, k := passKGain(r); g != 0.25 || k != 4 {
		t.Errorf("pass@k gain %v at k=%d, want 0.25 at 4", g, k)
	}
	if m, ok := r.tailMean(keyResponseLength, 2); !ok || m != 25 {
		t.Errorf("tail mean %v, want 25", m)
	}
}

func TestPassKGainUsesLargestKAndPassAtOne(t *testing.T) {
	// Paper Sec. 6.2: pass@256 - pass@1. Set a logs pass@1, pass@16 and
	// pass@256: 0.9 - 0.2 = 0.7. Set b logs no pass@1, so avg@256 (its
	// unbiased estimate) stands in: 0.6 - 0.3 = 0.3. Mean 0.5; the mean
	// pseudo-set and interval keys are ignored.
	r := &finishedRun{validation: []runlog.Values{{
		runlog.KeyStep: 0,
		runlog.ValidationKey("a", runlog.Pass(1)):                 0.2,
		runlog.ValidationKey("a", runlog.Pass(16)):                0.5,
		runlog.ValidationKey("a", runlog.Pass(256)):               0.9,
		runlog.ValidationKey("a", runlog.Pass(256)+runlog.CIHigh): 0.99,
		runlog.ValidationKey("a", runlog.Avg(256)):                0.25,
		runlog.ValidationKey("b", runlog.Pass(256)):               0.6,
		runlog.ValidationKey("b", runlog.Avg(256)):                0.3,
		runlog.ValidationKey(runlog.MeanSet, runlog.Pass(512)):    1,
	}}}
	r.cfg.Eval.N = 256
	if g, k := passKGain(r); math.Abs(g-0.5) > 1e-12 || k != 256 {
		t.Errorf("pass@k gain %v at k=%d, want 0.5 at 256", g, k)
	}
}
