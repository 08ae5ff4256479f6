package experiment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task/arith"
	"github.com/urlvr/urlvr/train"
)

// TestDipOfFindsTheDipAndTheRecovery checks the reward-accuracy summary on
// a hand-made curve. With a 3-step window: start = (0.8+0.7+0.6)/3 = 0.7,
// end = (0.7+0.8+0.9)/3 = 0.8; the trailing means from step 3 on are 0.7,
// 0.5667, 0.5, 0.5333, 0.6667, 0.8, so the minimum is 0.5 at step 5, the
// dip 0.2 and the recovery 0.3.
func TestDipOfFindsTheDipAndTheRecovery(t *testing.T) {
	s := report.Series{Steps: []float64{1, 2, 3, 4, 5, 6, 7, 8}, Values: []float64{0.8, 0.7, 0.6, 0.4, 0.5, 0.7, 0.8, 0.9}}
	d := dipOf(s)
	if !near(d.Start, 0.7) || !near(d.End, 0.8) || !near(d.Min, 0.5) || d.MinStep != 5 || !near(d.Dip, 0.2) || !near(d.Recovery, 0.3) || !d.DipThenRecover {
		t.Fatalf("dip %+v", d)
	}
	// A curve that only falls has its minimum at the last step: no
	// recovery. start 0.9, end 0.5, minimum (0.6+0.5+0.4)/3 = 0.5 at step 6.
	d = dipOf(report.Series{Steps: []float64{1, 2, 3, 4, 5, 6}, Values: []float64{1, 0.9, 0.8, 0.6, 0.5, 0.4}})
	if !near(d.Start, 0.9) || !near(d.End, 0.5) || !near(d.Min, 0.5) || d.MinStep != 6 || d.DipThenRecover {
		t.Fatalf("falling curve %+v", d)
	}
	// Shorter than the window: the window shrinks to the curve.
	d = dipOf(report.Series{Steps: []float64{1, 2}, Values: []float64{0.2, 0.4}})
	if !near(d.Start, 0.3) || !near(d.End, 0.3) || !near(d.Min, 0.3) || d.MinStep != 2 || d.DipThenRecover {
		t.Fatalf("two steps %+v", d)
	}
}

func TestSpreadOf(t *testing.T) {
	// 0.3, 0.5, 0.7: mean 0.5, sample variance (0.04+0+0.04)/2 = 0.04.
	s := spreadOf([]float64{0.3, 0.5, 0.7})
	if !near(s.Mean, 0.5) || !near(s.SD, 0.2) || s.Min != 0.3 || s.Max != 0.7 {
		t.Fatalf("%+v", s)
	}
	if s := spreadOf([]float64{0.4}); s.SD != 0 || s.Mean != 0.4 {
		t.Fatalf("one seed %+v", s)
	}
}

// svFixture writes a finished run of the study by hand: the study's
// per-problem validation (correct samples of 4 problems out of 2) at steps
// 0 and 2, and the given training steps.
func svFixture(t *testing.T, out, name string, start, final []int, steps []map[string]any) {
	t.Helper()
	dir := filepath.Join(out, RunsDir, filepath.FromSlash(name))
	fixtureRun{rollouts: 4, batch: 2, evalN: 2, steps: 3, metrics: steps}.write(t, dir)
	for step, counts := range map[int][]int{0: start, 2: final} {
		line := problemValidation{Step: step, N: 2, Sets: map[string][]int{svValidationSet: counts}}
		if err := appendJSONLine(filepath.Join(dir, problemValidationFile), line); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReportSelfVerifyAggregatesByHand checks the report on hand-made
// runs: two oracle seeds of the base model and one P1 seed, the other
// runs of a 2-seed study pending.
func TestReportSelfVerifyAggregatesByHand(t *testing.T) {
	out := t.TempDir()
	st := svSettings{Kind: svKind, Base: "b", Aligned: "a", Seeds: 2, EvalSet: "countdown:val", EvalProblems: 4, EvalEvery: 2, EvalN: 2, Defaults: SVDefaults}
	if err := claimStudy(out, st); err != nil {
		t.Fatal(err)
	}
	gt := func(vals ...float64) []map[string]any {
		var rows []map[string]any
		for i, v := range vals {
			rows = append(rows, map[string]any{"step": float64(i + 1), keyGroundTruth: v, runlog.KeyStepSeconds: 2.0})
		}
		return rows
	}
	// Per-problem accuracy (counts / 2): oracle seed 1 from 0, .5, 1, .5
	// (mean .5) to .5, .5, 1, 1 (.75); seed 2 from .5 each (.5) to 1, 1,
	// 1, .5 (.875).
	svFixture(t, out, "base/oracle/seed-1", []int{0, 1, 2, 1}, []int{1, 1, 2, 2}, gt(0.1, 0.2, 0.3))
	svFixture(t, out, "base/oracle/seed-2", []int{1, 1, 1, 1}, []int{2, 2, 2, 1}, gt(0.2, 0.3, 0.4))
	// The P1 run ends at 0, 0, .5, .5 (.25); verdict agreement 0.9, 0.5,
	// 0.8; 40 verification tokens and 1 s in each step of 4 s.
	var p1 []map[string]any
	for i, acc := range []float64{0.9, 0.5, 0.8} {
		p1 = append(p1, map[string]any{"step": float64(i + 1), keyGroundTruth: 0.1, runlog.KeyStepSeconds: 4.0,
			runlog.KeySelfVerifyReward: 0.5, runlog.KeySelfVerifyAccuracy: acc, runlog.KeySelfVerifyParseRate: 1 - 0.25*float64(i),
			runlog.KeySelfVerifyTokens: 40.0, runlog.KeySelfVerifySeconds: 1.0, runlog.KeySelfVerifyTruePositive: 1.0, runlog.KeySelfVerifyFalsePositive: 0.5})
	}
	svFixture(t, out, "base/verify-p1/seed-1", []int{0, 1, 2, 1}, []int{0, 0, 1, 1}, p1)

	rep, err := ReportSelfVerify(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 3 || len(rep.Pending) != 13 || len(rep.Conditions) != 2 {
		t.Fatalf("runs %d pending %d conditions %d", len(rep.Runs), len(rep.Pending), len(rep.Conditions))
	}
	// A run whose problems all score alike has a zero-width interval.
	if r := rep.Runs[2]; r.ValStart != 0.5 || r.ValStartLo != 0.5 || r.ValStartHi != 0.5 || r.ValFinal != 0.875 || r.Metric != "avg@2" || r.Problems != 4 {
		t.Fatalf("oracle seed 2 %+v", r)
	}
	or := rep.Conditions[0]
	// Over seeds: final .75 and .875, mean .8125, sd .125/sqrt(2); GT
	// reward of the 3 steps 0.2 and 0.3, mean 0.25.
	if or.Model != SVBase || or.Reward != SVOracle || len(or.Runs) != 2 || !near(or.ValFinal.Mean, 0.8125) || !near(or.ValFinal.SD, 0.125/math.Sqrt2) ||
		!near(or.GTRewardEnd.Mean, 0.25) || or.Problems != 4 || or.Samples != 2 || or.StepSeconds != 2 || or.Verify != nil {
		t.Fatalf("oracle condition %+v", or)
	}
	// Pooled: per problem the seeds' mean, start .25, .5, .75, .5 (.5),
	// final .75, .75, 1, .75 (.8125); the gain per problem .5, .25, .25,
	// .25 (.3125), whose interval lies within [.25, .5].
	if !near(or.PooledStart.Value, 0.5) || !near(or.PooledFinal.Value, 0.8125) || or.PooledBest.Step != 2 || !near(or.PooledGain.Value, 0.3125) ||
		or.PooledGain.Lo < 0.25 || or.PooledGain.Hi > 0.5 || or.PooledGain.Lo > or.PooledGain.Value || len(or.Curve) != 2 {
		t.Fatalf("oracle pooled %+v", or)
	}
	v := rep.Conditions[1].Verify
	// Agreement 0.9, 0.5, 0.8 with a 3-step window: start = end =
	// minimum = 0.7333 at step 3, no dip. Parse rate (1+0.75+0.5)/3 = 0.75;
	// 120 tokens and 3 s of 12 s: a quarter of the step time.
	if v == nil || !near(v.RewardAccuracy.Min, 2.2/3) || v.RewardAccuracy.MinStep != 3 || v.RewardAccuracy.DipThenRecover ||
		!near(v.ParseRate, 0.75) || v.Tokens != 120 || v.Seconds != 3 || !near(v.Share, 0.25) || v.FalsePositive == nil || *v.FalsePositive != 0.5 {
		t.Fatalf("P1 verifier %+v", v)
	}
	if rep.Conditions[1].VerifyTokensPerStep != 40 {
		t.Errorf("tokens per step %v", rep.Conditions[1].VerifyTokensPerStep)
	}
	// P1 − oracle at step 2, paired per problem: (0, 0, .5, .5) − (.75,
	// .75, 1, .75) = −.5625 on average.
	i := slices.IndexFunc(rep.Comparisons, func(c SVComparison) bool { return c.A == SVP1 && c.B == SVOracle })
	if i < 0 || len(rep.Comparisons) != 1 {
		t.Fatalf("comparisons %+v", rep.Comparisons)
	}
	if c := rep.Comparisons[i]; c.Step != 2 || !near(c.Diff.Value, -0.5625) || c.Seeds != [2]int{1, 2} || c.Diff.Lo < -0.75 || c.Diff.Hi > -0.25 {
		t.Fatalf("P1 − oracle %+v", c)
	}
	md, err := os.ReadFile(filepath.Join(out, ResultsTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0.812 ± 0.088 (0.750–0.875)", "0.500 [0.500, 0.500]", "-0.562", "Not finished yet", "aligned/verify-p2/seed-2", "25%"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"validation.png", "ground_truth_reward.png", "reward_accuracy.png", "selfverify_reward.png"} {
		if st, err := os.Stat(filepath.Join(out, PlotsDir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := ReportSelfVerify(t.TempDir()); err == nil {
		t.Error("a directory without a study reported")
	}
}

// svTinyModel is a tiny random model whose context holds the Countdown
// prompt and both verification prompts.
func svTinyModel(t *testing.T, positions int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny-cd")
	shape := arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: positions}
	if err := basemodel.WriteRandom(dir, shape, 3); err != nil {
		t.Fatal(err)
	}
	return dir
}

var svTinyOverrides = []string{
	"trainer.steps=1", "trainer.global_batch=2", "trainer.mini_batch=2", "rollout.n=2",
	"rollout.max_response_length=4", "data.subset=4", "trainer.save_every=1",
}

func TestPlanSelfVerifyOrderAndRefusals(t *testing.T) {
	model := svTinyModel(t, 1024)
	other := svTinyModel(t, 1024)
	o := SelfVerifyOptions{Options: Options{Out: t.TempDir(), Overrides: svTinyOverrides}, Base: model, Aligned: other,
		Seeds: 2, EvalSet: "countdown:val", EvalProblems: 4, EvalEvery: 1, EvalN: 1, VerifySets: []string{"reward.params.no_verdict_reward=0.5"}}
	plan, err := PlanSelfVerify(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.runs) != 16 || plan.Runs[0].Name != "base/oracle/seed-1" || plan.Runs[7].Name != "aligned/verify-p2/seed-1" || plan.Runs[8].Name != "base/oracle/seed-2" {
		t.Fatalf("plan %+v", plan.Runs)
	}
	for i, r := range plan.runs {
		cfg := r.cfg
		if cfg.Trainer.Steps != 1 || cfg.Rollout.N != 2 || cfg.Data.Train != "countdown:train" || len(cfg.Data.Validation) != 0 || cfg.Eval.Every != 0 || r.observe == nil {
			t.Fatalf("run %s: %+v", r.name, cfg)
		}
		if want := uint64(1 + i/8); cfg.Seed != want {
			t.Errorf("run %s: seed %d, want %d", r.name, cfg.Seed, want)
		}
		switch {
		case strings.Contains(r.name, "verify-p1"):
			if cfg.Reward.Estimator != "self_verification" || cfg.Reward.Params["prompt"] != "P1" || cfg.Reward.Params["no_verdict_reward"] != 0.5 {
				t.Errorf("run %s: reward %+v", r.name, cfg.Reward)
			}
		case strings.Contains(r.name, "oracle"):
			if cfg.Reward.Estimator != "ground_truth" || cfg.Reward.Params != nil {
				t.Errorf("run %s: reward %+v", r.name, cfg.Reward)
			}
		}
	}
	short := svTinyModel(t, 128)
	for _, c := range []struct {
		mod  func(*SelfVerifyOptions)
		want string
	}{
		{func(o *SelfVerifyOptions) { o.Seeds = 0 }, "0 seeds"},
		{func(o *SelfVerifyOptions) { o.Base = "no-such-model" }, "--base"},
		{func(o *SelfVerifyOptions) { o.Aligned = short }, "verification prompt"},
		{func(o *SelfVerifyOptions) { o.Aligned = o.Base }, "both"},
		{func(o *SelfVerifyOptions) { o.Overrides = []string{"model.base=x"} }, "--base and --aligned"},
		{func(o *SelfVerifyOptions) { o.Overrides = []string{"reward.params.prompt=P2"} }, "itself"},
		{func(o *SelfVerifyOptions) { o.EntropySets = []string{"trainer.steps=5"} }, "same budget"},
		{func(o *SelfVerifyOptions) { o.VerifySets = []string{"optim.lr=1"} }, "same budget"},
		{func(o *SelfVerifyOptions) { o.VerifySets = []string{"reward.params.prompt=P2"} }, "compares the prompts"},
		{func(o *SelfVerifyOptions) { o.OracleSets = []string{"reward.estimator=x"} }, "itself"},
		{func(o *SelfVerifyOptions) { o.Overrides = append(o.Overrides, "eval.every=5") }, "--eval-every"},
		{func(o *SelfVerifyOptions) { o.EvalN = 0 }, "--eval-n"},
	} {
		bad := o
		bad.Overrides = append([]string(nil), o.Overrides...)
		c.mod(&bad)
		if _, err := PlanSelfVerify(bad); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error with %q", bad, err, c.want)
		}
	}
	// A study directory of another kind is refused before training.
	out := t.TempDir()
	if err := claimStudy(out, map[string]string{"kind": "ttt"}); err != nil {
		t.Fatal(err)
	}
	o.Out = out
	if _, err := RunSelfVerify(context.Background(), o); err == nil || !strings.Contains(err.Error(), `holds a "ttt" study`) {
		t.Fatalf("another kind's directory: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(out, RunsDir)); len(entries) != 0 {
		t.Errorf("runs were made in another study's directory: %v", entries)
	}
}

// TestSelfVerifyStudyEndToEnd trains the whole study on a tiny model, one
// seed and one step per run, then resumes it: the second invocation skips
// every run, and a run whose summary is lost is resumed.
func TestSelfVerifyStudyEndToEnd(t *testing.T) {
	model := svTinyModel(t, 1024)
	aligned := svTinyModel(t, 1024)
	out := t.TempDir()
	o := SelfVerifyOptions{Options: Options{Out: out, Overrides: svTinyOverrides, Jobs: 2}, Base: model, Aligned: aligned,
		Seeds: 1, EvalSet: "countdown:val", EvalProblems: 3, EvalEvery: 1, EvalN: 1}
	rep, err := RunSelfVerify(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 8 || len(rep.Pending) != 0 || len(rep.Conditions) != 8 {
		t.Fatalf("runs %d pending %v conditions %d", len(rep.Runs), rep.Pending, len(rep.Conditions))
	}
	for _, c := range rep.Conditions {
		isSV := strings.HasPrefix(c.Reward, "verify-")
		if (c.Verify != nil) != isSV || c.Problems != 3 || c.Samples != 1 || len(c.Curve) != 2 {
			t.Errorf("condition %s/%s: verify %v, problems %d, curve %+v", c.Model, c.Reward, c.Verify, c.Problems, c.Curve)
		}
		if isSV && (c.VerifyTokensPerStep <= 0 || c.Verify.Share <= 0 || c.Verify.Share >= 1) {
			t.Errorf("condition %s/%s: verification cost %v tokens/step, share %v", c.Model, c.Reward, c.VerifyTokensPerStep, c.Verify.Share)
		}
	}
	// Resume: drop one run's summary, as if it had been killed after its
	// last checkpoint.
	if err := os.Remove(filepath.Join(out, RunsDir, "aligned", "entropy", "seed-1", train.SummaryFile)); err != nil {
		t.Fatal(err)
	}
	counts := map[EventKind]int{}
	o.Progress = func(e Event) { counts[e.Kind]++ }
	if _, err := RunSelfVerify(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if counts[RunSkipped] != 7 || counts[RunResumed] != 1 {
		t.Errorf("second invocation: %v, want 7 skipped and 1 resumed", counts)
	}
	if rep, err = ReportSelfVerify(out); err != nil || len(rep.Runs) != 8 {
		t.Fatalf("report only: %v", err)
	}
	// Other settings in the same directory are refused.
	o.Seeds = 2
	if _, err := RunSelfVerify(context.Background(), o); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("changed settings: %v", err)
	}
}
