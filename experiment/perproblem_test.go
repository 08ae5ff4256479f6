package experiment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/grade"
)

func bools(s string) []bool {
	out := make([]bool, len(s))
	for i, c := range s {
		out[i] = c == '1'
	}
	return out
}

func TestClassifyProblem(t *testing.T) {
	for _, c := range []struct {
		greedy string
		want   Pattern
	}{
		{"1111111111111", AmplifyingSuccess},
		{"0000000000000", AmplifyingFailure},
		{"0000111111111", WrongToCorrect},
		{"1111000000000", CorrectToWrong},
		// The end is the majority of the last 10 epochs: 6 of 10 right.
		{"0" + "000000" + "1010101111", WrongToCorrect},
		// 5 of 10 is not more than half.
		{"1" + "000000" + "1010101010", CorrectToWrong},
		// A start that is right and one lucky epoch do not flip it.
		{"10", CorrectToWrong},
		{"01", WrongToCorrect},
	} {
		got, err := ClassifyProblem(bools(c.greedy))
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.greedy, got, err, c.want)
		}
	}
	if _, err := ClassifyProblem(bools("1")); err == nil {
		t.Error("a single observation was classified")
	}
}

func TestTopRewardCorrect(t *testing.T) {
	for _, c := range []struct {
		rs       []sampleRecord
		want, ok bool
	}{
		{nil, false, false},
		{[]sampleRecord{{Reward: 0.2, Correct: true}, {Reward: 0.9, Correct: false}}, false, true},
		{[]sampleRecord{{Reward: 0.9, Correct: true}, {Reward: 0.2, Correct: false}}, true, true},
		// Ties: 1 of 2 tied rollouts correct counts as correct, 1 of 3 not.
		{[]sampleRecord{{Reward: 1, Correct: true}, {Reward: 1}, {Reward: 0, Correct: true}}, true, true},
		{[]sampleRecord{{Reward: 1, Correct: true}, {Reward: 1}, {Reward: 1}}, false, true},
	} {
		got, ok := topRewardCorrect(c.rs)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: %v %v, want %v %v", c.rs, got, ok, c.want, c.ok)
		}
	}
}

func TestGeometricRateAndRises(t *testing.T) {
	// 1 − p_maj = 0.6 · 0.9^k: the fitted factor is 0.9 exactly.
	steps := []int{0, 1, 2, 5, 10, 20}
	var p []float64
	for _, s := range steps {
		p = append(p, 1-0.6*math.Pow(0.9, float64(s)))
	}
	rate, ok := geometricRate(steps, p)
	if !ok || math.Abs(rate-0.9) > 1e-12 {
		t.Errorf("rate %v, %v; want 0.9", rate, ok)
	}
	if _, ok := geometricRate([]int{0, 1}, []float64{1, 1}); ok {
		t.Error("a rate from no point below 1")
	}
	rises, of := risesEachStep([]int{0, 1, 2, 3, 10, 15}, []float64{0.1, 0.2, 0.2, 0.3, 0.5, 0.9})
	if rises != 3 || of != 4 {
		t.Errorf("rises %d of %d, want 3 of 4 (step 15 is past the first ten)", rises, of)
	}
}

func TestMajorityOfUsesEquivalenceClasses(t *testing.T) {
	g := grade.Default()
	ss := []sampled{{Answer: "1/2"}, {Answer: "0.5"}, {Answer: "3"}, {Answer: ""}, {Answer: "\\frac{1}{2}"}, {Answer: "3"}}
	m := majorityOf(ss, "0.5", g)
	if !near(m.share, 0.5) || !m.right || m.answer != "1/2" {
		t.Errorf("majority %+v, want 1/2 with 3 of 6, right", m)
	}
	if m := majorityOf(nil, "1", g); m.share != 0 || m.right {
		t.Errorf("no samples: %+v", m)
	}
}

func TestInterleaveAlternatesKinds(t *testing.T) {
	r := []SelectedProblem{{ID: "r1"}, {ID: "r2"}, {ID: "r3"}}
	w := []SelectedProblem{{ID: "w1"}}
	var ids []string
	for _, p := range interleave(r, w, 4) {
		ids = append(ids, p.ID)
	}
	if strings.Join(ids, ",") != "w1,r1,r2,r3" {
		t.Errorf("order %v", ids)
	}
}

func TestPerProblemStudyRecordsEveryEpoch(t *testing.T) {
	models := tinyModels(t, 9)
	out := t.TempDir()
	o := PerProblemOptions{
		Options: Options{Out: out, Jobs: 2, Overrides: []string{"rollout.n=4", "rollout.max_response_length=16", "trainer.save_every=2"}},
		Model:   models[0], Estimator: "trajectory_entropy", Epochs: 4, Set: "world:val-hard", Problems: 3,
		SelectSamples: 4, Confidence: 4, HeldoutSet: "world:val-easy", Heldout: 3, HeldoutEvery: 2,
		PMajProblems: 1, PMajSamples: 16, PMajSteps: []int{0, 1, 2, 4}, Seed: 3,
	}
	// Interrupt the study in the middle of its runs, then run it again:
	// every epoch of every run must still be measured exactly once.
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	o.Progress = func(e Event) {
		if e.Kind == RunStep {
			if steps++; steps == 5 {
				cancel()
			}
		}
	}
	if _, err := RunPerProblem(ctx, o, nil); err == nil {
		t.Fatal("an interrupted study reported success")
	}
	o.Progress = nil
	rep, err := RunPerProblem(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 3 {
		t.Fatalf("problems %d", len(rep.Problems))
	}
	total := 0
	for _, n := range rep.Counts {
		total += n
	}
	if total != 3 {
		t.Errorf("counts %v", rep.Counts)
	}
	for i, p := range rep.Problems {
		if len(p.Greedy) != 5 || len(p.Confidence) != 5 || len(p.Wave) != 5 {
			t.Errorf("%s: %d greedy, %d confidence, %d wave", p.ID, len(p.Greedy), len(p.Confidence), len(p.Wave))
		}
		if len(p.HeldoutSteps) != 3 || p.HeldoutSteps[2] != 4 {
			t.Errorf("%s: held-out at %v, want 0, 2, 4", p.ID, p.HeldoutSteps)
		}
		if wantPMaj := i == 0; (len(p.PMaj) == 4) != wantPMaj {
			t.Errorf("%s: p_maj at %v", p.ID, p.PMajSteps)
		}
	}
	for _, name := range []string{"heatmap.png", "heatmap-all.png", "pmaj.png"} {
		if st, err := os.Stat(filepath.Join(out, PlotsDir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Bad input is refused before training.
	for _, c := range []struct {
		mod  func(*PerProblemOptions)
		want string
	}{
		{func(o *PerProblemOptions) { o.IDs = []string{"arith-val-hard/999"} }, `problem "arith-val-hard/999" is not in world:val-hard`},
		{func(o *PerProblemOptions) { o.Estimator = "nope" }, `unknown estimator "nope"`},
		{func(o *PerProblemOptions) { o.Overrides = []string{"trainer.steps=5"} }, "the study sets trainer.steps"},
		{func(o *PerProblemOptions) { o.PMajSteps = []int{9} }, "--pmaj-steps 9"},
		{func(o *PerProblemOptions) { o.Problems = 500 }, "has only"},
	} {
		bad := o
		bad.Out = filepath.Join(t.TempDir(), "x")
		c.mod(&bad)
		_, _, err := PlanPerProblem(context.Background(), bad)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
		if _, err := os.Stat(bad.Out); err == nil {
			t.Errorf("a refused study wrote %s", bad.Out)
		}
	}
}
