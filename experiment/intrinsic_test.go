package experiment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/metrics"
)

func TestClassifyFailureRulesInOrder(t *testing.T) {
	// A run that changed nothing: validation flat, interval across 0.
	calm := RunEvidence{LengthStart: 40, LengthEnd: 39, EntropyStart: 0.1, EntropyEnd: 0.09,
		ValStart: 0.4, ValEnd: 0.39, ValDiffLo: -0.03, ValDiffHi: 0.01}
	with := func(f func(*RunEvidence)) RunEvidence { e := calm; f(&e); return e }
	for _, c := range []struct {
		name string
		e    RunEvidence
		want FailureMode
	}{
		{"calm", calm, NoFailureWithinBudget},
		{"length 40 -> 23 is below 60%", with(func(e *RunEvidence) { e.LengthEnd = 23 }), LengthCollapse},
		{"length 40 -> 25 is not", with(func(e *RunEvidence) { e.LengthEnd = 25 }), NoFailureWithinBudget},
		{"repeated lines 2% -> 30%", with(func(e *RunEvidence) { e.RepeatStart, e.RepeatEnd = 0.02, 0.3 }), Repetition},
		{"repeated lines 15% -> 22%: not 10 points up", with(func(e *RunEvidence) { e.RepeatStart, e.RepeatEnd = 0.15, 0.22 }), NoFailureWithinBudget},
		{"running to the limit 0% -> 40%", with(func(e *RunEvidence) { e.TruncatedEnd = 0.4 }), Repetition},
		{"no answer 60%", with(func(e *RunEvidence) { e.NoAnswerEnd = 0.6 }), FormatHack},
		{"one answer for 4 prompts", with(func(e *RunEvidence) { e.TopAnswer, e.TopAnswerShare, e.TopAnswerPrompts = "3", 0.7, 4 }), ConstantAnswer},
		{"one answer for 2 prompts is not constant", with(func(e *RunEvidence) { e.TopAnswerShare, e.TopAnswerPrompts = 0.7, 2 }), NoFailureWithinBudget},
		{"entropy 0.1 -> 0.05 and validation fell", with(func(e *RunEvidence) { e.EntropyEnd, e.ValEnd, e.ValDiffLo, e.ValDiffHi = 0.05, 0.3, -0.14, -0.06 }), ConfidentWrong},
		{"entropy 0.1 -> 0.05, validation flat", with(func(e *RunEvidence) { e.EntropyEnd = 0.05 }), NoFailureWithinBudget},
		{"validation fell, entropy did not", with(func(e *RunEvidence) { e.ValDiffHi = -0.01 }), UnexplainedDecline},
		// Length collapse comes first even when everything else holds.
		{"all at once", with(func(e *RunEvidence) {
			e.LengthEnd, e.RepeatEnd, e.NoAnswerEnd, e.EntropyEnd, e.ValDiffHi = 10, 0.5, 0.9, 0.01, -0.1
		}), LengthCollapse},
	} {
		got, why := ClassifyFailure(c.e)
		if got != c.want || why == "" {
			t.Errorf("%s: %q (%s), want %q", c.name, got, why, c.want)
		}
	}
}

func TestRepeatedLineShareAndTopAnswer(t *testing.T) {
	// Lines: a b a | c c c | (blank) -> 6 lines, 1 + 2 repeats.
	if got := repeatedLineShare([]string{"a\nb\na", "c\nc\nc", "\n"}); !near(got, 0.5) {
		t.Errorf("repeated line share %v, want 0.5", got)
	}
	if got := repeatedLineShare(nil); got != 0 {
		t.Errorf("no responses: %v", got)
	}
	rs := []sampleRecord{
		{PromptID: "p1", Answer: "3"}, {PromptID: "p1", Answer: "3"}, {PromptID: "p2", Answer: "3"},
		{PromptID: "p2", Answer: "5"}, {PromptID: "p3", Answer: ""}, {PromptID: "p3", Answer: "3"},
	}
	a, share, prompts := topAnswer(rs)
	if a != "3" || !near(share, 4.0/6) || prompts != 3 {
		t.Errorf("top answer %q %v %d, want 3, 4/6, 3 prompts", a, share, prompts)
	}
}

func TestMeanOfSetMeansAndBootstrap(t *testing.T) {
	sets := [][]float64{{1, 0}, {1, 1, 1, 0}}
	if got := meanOfSetMeans(sets); !near(got, 0.625) {
		t.Errorf("mean of set means %v, want (0.5+0.75)/2", got)
	}
	// Identical problems: every resample gives the same value.
	same := [][]float64{{0.3, 0.3, 0.3}}
	ci, err := setMeansCI(defaultBootstrap, same)
	if err != nil || !near(ci.Lo, 0.3) || !near(ci.Hi, 0.3) {
		t.Errorf("degenerate interval %+v %v", ci, err)
	}
	// Two problems 0 and 1: resample means are 0, 1/2, 1 with chances
	// 1/4, 1/2, 1/4, so the 2.5th and 97.5th percentiles are 0 and 1.
	two := [][]float64{{0, 1}}
	b := metrics.BootstrapConfig{Resamples: 4000, Seed: 7}
	if ci, err = setMeansCI(b, two); err != nil || ci.Lo != 0 || ci.Hi != 1 {
		t.Errorf("interval %+v %v, want [0, 1]", ci, err)
	}
	// Sets {0, 1} and {0.5}, resampled within each: the statistic is
	// (0 or 1/2 or 1, plus 1/2) / 2, so the interval is [1/4, 3/4].
	if ci, err = setMeansCI(b, [][]float64{{0, 1}, {0.5}}); err != nil || ci.Lo != 0.25 || ci.Hi != 0.75 {
		t.Errorf("two sets: interval %+v %v, want [0.25, 0.75]", ci, err)
	}
	// Seeded: the same call gives the same interval.
	wide := [][]float64{{0, 0.2, 0.5, 0.9, 1, 0.4}}
	c1, _ := setMeansCI(b, wide)
	c2, _ := setMeansCI(b, wide)
	if c1 != c2 || !(c1.Lo < 0.5 && c1.Hi > 0.5) {
		t.Errorf("intervals %+v and %+v", c1, c2)
	}
	if _, err := setMeansCI(b, [][]float64{{1}, {}}); err == nil {
		t.Error("an empty set: no error")
	}
}

// runData builds a run's per-problem validation by hand: acc[step] is
// the accuracy of every problem of one set of size n.
func runData(n int, acc map[int][]float64) *intrinsicRunData {
	d := &intrinsicRunData{sets: []string{"s"}, val: map[int][][]float64{}, n: 4}
	for step, a := range acc {
		d.val[step] = [][]float64{a[:n]}
	}
	return d
}

func TestSummariseRewardFindsRiseThenFall(t *testing.T) {
	fill := func(v float64) []float64 { return []float64{v, v, v, v} }
	// Two seeds; their per-problem mean is 0.2, 0.7, 0.3 at steps 0, 10, 20.
	a := runData(4, map[int][]float64{0: fill(0.2), 10: fill(0.6), 20: fill(0.3)})
	b := runData(4, map[int][]float64{0: fill(0.2), 10: fill(0.8), 20: fill(0.3), 30: fill(0)})
	rs, err := summariseReward(defaultBootstrap, "mv", []*intrinsicRunData{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Curve) != 3 || rs.Problems != 4 || rs.Seeds != 2 {
		t.Fatalf("curve %+v (step 30 is not shared by both seeds)", rs.Curve)
	}
	if rs.Peak.Step != 10 || !near(rs.Peak.Value, 0.7) || !near(rs.Rise.Value, 0.5) || !near(rs.Fall.Value, 0.4) || !rs.RiseThenFall {
		t.Errorf("summary %+v", rs)
	}
	if !near(rs.Rise.Lo, 0.5) || !near(rs.Rise.Hi, 0.5) {
		t.Errorf("identical problems must give a point interval, got %+v", rs.Rise)
	}
	// Problems that disagree: the rise interval straddles 0.
	c := runData(4, map[int][]float64{0: {0, 1, 0, 1}, 10: {1, 0, 1, 0.2}, 20: {1, 0, 1, 0.1}})
	rs, err = summariseReward(defaultBootstrap, "x", []*intrinsicRunData{c})
	if err != nil {
		t.Fatal(err)
	}
	if rs.RiseThenFall || !(rs.Rise.Lo < 0 && rs.Rise.Hi > 0) {
		t.Errorf("noisy rise %+v", rs.Rise)
	}
}

func TestReadLastPerStepKeepsTheLastLineAndSkipsATornOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.jsonl")
	body := `{"step":0,"n":1}` + "\n" + `{"step":2,"n":2}` + "\n" + `{"step":1,"n":3}` + "\n" + `{"step":2,"n":4}` + "\n" + `{"step":3,"n`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := readLastPerStep(path, func(p problemValidation) int { return p.Step })
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0].N != 1 || rows[1].N != 3 || rows[2].N != 4 {
		t.Errorf("rows %+v", rows)
	}
	if err := os.WriteFile(path, []byte("{bad\n"+`{"step":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readLastPerStep(path, func(p problemValidation) int { return p.Step }); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a corrupt line inside the file: %v", err)
	}
}

func TestIntrinsicStudyTrainsValidatesAndResumes(t *testing.T) {
	models := tinyModels(t, 5)
	out := t.TempDir()
	o := IntrinsicOptions{
		Options: Options{Out: out, Jobs: 2, Overrides: []string{"data.train=world:val-easy", "data.validation=[world:val-mid]",
			"rollout.n=4", "rollout.max_response_length=16", "trainer.global_batch=4", "trainer.mini_batch=4",
			"trainer.steps=4", "trainer.save_every=2", "trainer.sample_every=2"}},
		Model: models[0], Rewards: []string{"majority_voting", "probability"}, Seeds: []uint64{1, 2},
		EvalEvery: 2, EvalN: 2,
	}
	// A kill after the first runs: cancel once two runs have finished.
	ctx, cancel := context.WithCancel(context.Background())
	done := 0
	o.Progress = func(e Event) {
		if e.Kind == RunFinished {
			done++
			if done == 2 {
				cancel()
			}
		}
	}
	if _, err := RunIntrinsic(ctx, o); err == nil {
		t.Fatal("a cancelled study reported success")
	}
	var kinds []EventKind
	o.Progress = func(e Event) {
		if e.Kind != RunStep {
			kinds = append(kinds, e.Kind)
		}
	}
	rep, err := RunIntrinsic(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, k := range kinds {
		if k == RunSkipped {
			skipped++
		}
	}
	if skipped < 2 {
		t.Errorf("second invocation events %v: want the two finished runs skipped", kinds)
	}
	if len(rep.Runs) != 4 || len(rep.Rewards) != 2 {
		t.Fatalf("runs %d rewards %d", len(rep.Runs), len(rep.Rewards))
	}
	for _, rs := range rep.Rewards {
		// Validation before the first step and at steps 2 and 4, over the
		// 30 problems of val-mid.
		if len(rs.Curve) != 3 || rs.Curve[2].Step != 4 || rs.Problems != 30 || rs.Metric != "avg@2" {
			t.Errorf("%s: curve %+v, problems %d", rs.Reward, rs.Curve, rs.Problems)
		}
		for _, p := range rs.Curve {
			if !(p.Lo <= p.Value && p.Value <= p.Hi) || math.IsNaN(p.Value) {
				t.Errorf("%s: point %+v outside its interval", rs.Reward, p)
			}
		}
	}
	for _, name := range []string{"intrinsic.png", "proxy-vs-gt.png", "../results.md", "../rewards.json"} {
		if st, err := os.Stat(filepath.Join(out, PlotsDir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, bad := range []IntrinsicOptions{
		{Options: Options{Out: t.TempDir()}, Model: models[0], Rewards: []string{"nope"}, Seeds: []uint64{1}, EvalEvery: 1, EvalN: 1},
		{Options: Options{Out: t.TempDir(), Overrides: []string{"reward.estimator=probability"}}, Model: models[0], Rewards: []string{"probability"}, Seeds: []uint64{1}, EvalEvery: 1, EvalN: 1},
		{Options: Options{Out: t.TempDir()}, Model: models[0], Rewards: []string{"probability"}, Seeds: []uint64{1, 1}, EvalEvery: 1, EvalN: 1},
		{Options: Options{Out: t.TempDir()}, Model: models[0], Rewards: []string{"probability"}, EvalEvery: 1, EvalN: 1},
	} {
		if _, err := PlanIntrinsic(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
