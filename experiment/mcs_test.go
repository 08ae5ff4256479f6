package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/train"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestCorrelateHandComputed(t *testing.T) {
	ptr := func(v float64) *float64 { return &v }
	cases := []struct {
		name                       string
		x, y                       []float64
		spearman, kendall, pearson *float64
		note                       string
	}{
		{
			// Ranks 1 2 3 4 and 1 3 2 4: one swapped pair. rho = 1 - 6*2/(4*15)
			// = 0.8; tau = (5 - 1)/6; r = 4.15/sqrt(530.75*0.05).
			name: "distinct", x: []float64{10, 20, 30, 41}, y: []float64{0.1, 0.3, 0.2, 0.4},
			spearman: ptr(0.8), kendall: ptr(4.0 / 6), pearson: ptr(4.15 / math.Sqrt(530.75*0.05)),
		},
		{
			// Two survivors tie at cap+1 = 41: x ranks 1 3.5 2 3.5, y ranks
			// 1 4 2 3, rho = 4.5/sqrt(4.5*5); 5 concordant pairs, 1 tied in
			// x, tau-b = 5/sqrt(5*6); r = 5.2/sqrt(641*0.05).
			name: "tied survivors", x: []float64{10, 41, 30, 41}, y: []float64{0.1, 0.4, 0.2, 0.3},
			spearman: ptr(4.5 / math.Sqrt(22.5)), kendall: ptr(5 / math.Sqrt(30)), pearson: ptr(5.2 / math.Sqrt(641*0.05)),
		},
		{
			name: "nobody collapsed", x: []float64{41, 41, 41}, y: []float64{0.1, 0.2, 0.3},
			note: metrics.ErrConstant.Error(),
		},
		{
			name: "one model", x: []float64{10}, y: []float64{0.1},
			note: "need at least 2 observations",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Correlate("p", "g", c.x, c.y)
			for _, v := range []struct {
				name      string
				got, want *float64
			}{{"spearman", got.Spearman, c.spearman}, {"kendall", got.KendallTauB, c.kendall}, {"pearson", got.Pearson, c.pearson}} {
				switch {
				case (v.got == nil) != (v.want == nil):
					t.Errorf("%s = %v, want %v", v.name, v.got, v.want)
				case v.got != nil && !near(*v.got, *v.want):
					t.Errorf("%s = %.12f, want %.12f", v.name, *v.got, *v.want)
				}
			}
			if !strings.Contains(got.Note, c.note) || (c.note == "") != (got.Note == "") {
				t.Errorf("note %q, want one containing %q", got.Note, c.note)
			}
			if got.Models != len(c.x) {
				t.Errorf("models %d, want %d", got.Models, len(c.x))
			}
		})
	}
}

// valRow is a validation line with avg@4 and pass@4 on two sets.
func valRow(step int, midAvg, midPass, hardAvg, hardPass float64) map[string]any {
	return map[string]any{
		"step": float64(step), "val/mean/avg@4": (midAvg + hardAvg) / 2,
		"val/val-mid/avg@4": midAvg, "val/val-mid/pass@4": midPass,
		"val/val-hard/avg@4": hardAvg, "val/val-hard/pass@4": hardPass,
	}
}

// writeFixtureModel writes a model's majority-voting and ground-truth runs:
// 2 rollouts, batch 3, a cap of 5 steps. The majority-voting run collapses
// at collapseStep (confirmed one step later) or survives when it is 0.
func writeFixtureModel(t *testing.T, runs, model string, collapseStep int, gtFinal float64) {
	t.Helper()
	mv := fixtureRun{rollouts: 2, batch: 3, evalN: 4, steps: 5,
		metrics:    stepRows([]float64{10, 20, 30, 40}, []float64{0.5, 0.2, 0.005, 0.001}),
		validation: []map[string]any{valRow(0, 0.5, 0.75, 0.2, 0.6), valRow(2, 0.4, 0.5, 0.2, 0.4)},
		collapse:   metrics.CollapseResult{Observations: 4, LastStep: 4, Min: 0.001, MinStep: 4},
	}
	if collapseStep > 0 {
		mv.collapse.Collapsed, mv.collapse.Step, mv.collapse.DetectedAt = true, collapseStep, collapseStep+1
	}
	mv.write(t, filepath.Join(runs, model, MajorityVoting))
	gt := fixtureRun{rollouts: 2, batch: 3, evalN: 4, steps: 5,
		metrics: stepRows([]float64{10, 10, 10, 10, 10}, nil),
		validation: []map[string]any{valRow(0, 0.5, 0.75, 0.2, 0.6), valRow(2, 0.9, 1, 0.7, 0.9),
			valRow(4, 2*gtFinal-0.2, 1, 0.2, 0.9)},
	}
	gt.write(t, filepath.Join(runs, model, GroundTruth))
}

func TestAnalyzeMCSHandComputed(t *testing.T) {
	runs := t.TempDir()
	writeFixtureModel(t, runs, "m", 2, 0.7)
	got, err := AnalyzeMCS("m", filepath.Join(runs, "m", MajorityVoting), filepath.Join(runs, "m", GroundTruth))
	if err != nil {
		t.Fatal(err)
	}
	want := MCSResult{
		Model: "m", Collapsed: true, CollapseStep: 2, Threshold: 0.01, StepCap: 5, MVSteps: 4,
		MinRewardAccuracy: 0.001, MinRewardAccuracyStep: 4,
		// Collapse confirmed at step 3: (10+20+30) tokens × 2 rollouts × batch 3.
		MCSTokens: 360, MCSResponseLength: 20,
		MVStart: 0.35, MVBest: 0.35, MVFinal: 0.3,
		GTSteps: 5, GTStart: 0.35, GTBest: 0.8, GTBestStep: 2, GTFinal: 0.7,
		GTGainFinal: 0.35, GTGainBest: 0.45,
		// 5 steps × 10 tokens × 2 × 3.
		GTTokens: 300,
		// Step 0: val-mid 0.75 - 0.5, val-hard 0.6 - 0.2; mean 0.325.
		// pass@4 is the largest k, and avg@4 stands in for pass@1.
		PassKGain: 0.325, PassK: 4, Metric: "avg@4",
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"mv start", got.MVStart, want.MVStart}, {"mv best", got.MVBest, want.MVBest}, {"mv final", got.MVFinal, want.MVFinal},
		{"gt start", got.GTStart, want.GTStart}, {"gt best", got.GTBest, want.GTBest}, {"gt final", got.GTFinal, want.GTFinal},
		{"gain final", got.GTGainFinal, want.GTGainFinal}, {"gain best", got.GTGainBest, want.GTGainBest},
		{"pass@k gain", got.PassKGain, want.PassKGain}, {"response length", got.MCSResponseLength, want.MCSResponseLength},
	} {
		if !near(f.got, f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	// The float fields are checked above; compare the rest exactly.
	for _, r := range []*MCSResult{&got, &want} {
		r.MVStart, r.MVBest, r.MVFinal, r.GTStart, r.GTBest, r.GTFinal = 0, 0, 0, 0, 0, 0
		r.GTGainFinal, r.GTGainBest, r.PassKGain, r.MCSResponseLength = 0, 0, 0, 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}

	// A survivor pays for every step it trained: (10+20+30+40) × 6.
	writeFixtureModel(t, runs, "s", 0, 0.7)
	s, err := AnalyzeMCS("s", filepath.Join(runs, "s", MajorityVoting), filepath.Join(runs, "s", GroundTruth))
	if err != nil {
		t.Fatal(err)
	}
	if s.Collapsed || s.MCSTokens != 600 || s.RankValue() != 6 || s.MCSText() != "none within 5" {
		t.Errorf("survivor: collapsed %v, tokens %d, rank value %v, text %q", s.Collapsed, s.MCSTokens, s.RankValue(), s.MCSText())
	}
}

func TestReportMCSWritesTablesAndPlots(t *testing.T) {
	out := t.TempDir()
	runs := filepath.Join(out, RunsDir)
	// MCS 2, 3 and none (ranked 6); final GT gains 0.1, 0.3, 0.2, so the
	// ranks are 1 2 3 against 1 3 2: rho = 0.5, tau = 1/3.
	writeFixtureModel(t, runs, "a", 2, 0.35+0.1)
	writeFixtureModel(t, runs, "b", 3, 0.35+0.3)
	writeFixtureModel(t, runs, "c", 0, 0.35+0.2)
	// d is still training: its report is left out, and said to be.
	writeFixtureModel(t, runs, "d", 0, 0.35)
	if err := os.Remove(filepath.Join(runs, "d", GroundTruth, "summary.json")); err != nil {
		t.Fatal(err)
	}
	if err := claimStudy(out, mcsSettings{Kind: "mcs", Overrides: []string{"trainer.steps=5"}, MVOverrides: []string{}, GTOverrides: []string{}, Models: []string{"a", "b", "c", "d"}}); err != nil {
		t.Fatal(err)
	}
	rep, err := ReportMCS(out, GainFinal)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Pending, []string{"d"}) || len(rep.Results) != 3 {
		t.Errorf("pending %v with %d results, want [d] and 3", rep.Pending, len(rep.Results))
	}
	c := rep.Correlations[0]
	if c.Predictor != "model_collapse_step" || c.Target != "gt_gain_final" || !near(*c.Spearman, 0.5) || !near(*c.KendallTauB, 1.0/3) {
		t.Errorf("correlation %+v, want spearman 0.5, kendall 1/3", c)
	}
	// Three models: a resample of distinct units has rho in {-1, -0.5,
	// 0.5, 1} (or +-1 with two), so the interval spans a wide range
	// around 0.5 and stays within [-1, 1].
	if c.SpearmanCI == nil || c.SpearmanCI.Lo > 0.5 || c.SpearmanCI.Hi < 0.5 || c.SpearmanCI.Lo < -1 || c.SpearmanCI.Hi > 1 || c.SpearmanCI.Hi-c.SpearmanCI.Lo < 1 {
		t.Errorf("spearman interval %+v around 0.5", c.SpearmanCI)
	}
	// pass@k gains are equal for all three fixtures: undefined.
	if p := rep.Correlations[1]; p.Spearman != nil || !strings.Contains(p.Note, "constant") {
		t.Errorf("pass@k correlation %+v, want undefined", p)
	}
	// a stops at step 3, b at step 4 and c trains all 4 logged steps.
	if rep.MCSTokens != 360+600+600 || rep.GTTokens != 900 {
		t.Errorf("token totals %d and %d, want 1560 and 900", rep.MCSTokens, rep.GTTokens)
	}
	rows := readJSONL(t, filepath.Join(out, ResultsFile))
	if len(rows) != 3 || rows[2]["model"] != "c" || rows[2]["collapsed"] != false || rows[0]["mcs_tokens"] != 360.0 {
		t.Errorf("results.jsonl rows %v", rows)
	}
	var saved MCSReport
	raw, err := os.ReadFile(filepath.Join(out, CorrelationFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &saved); err != nil || saved.Gain != GainFinal || len(saved.Correlations) != 2 || !near(*saved.Correlations[0].Spearman, 0.5) {
		t.Errorf("correlation.json %s (%v)", raw, err)
	}
	table, err := os.ReadFile(filepath.Join(out, ResultsTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| c | none within 5 |", "| a | 2 |", "| model_collapse_step | 0.500 [", "pass@4 − pass@1", "--set trainer.steps=5", "(0.6× as many)", "left out: d."} {
		if !strings.Contains(string(table), want) {
			t.Errorf("results.md lacks %q:\n%s", want, table)
		}
	}
	for _, name := range []string{"mcs_vs_gt_gain", "pass_k_vs_gt_gain", "reward_accuracy", "gt_validation"} {
		f, err := os.Open(filepath.Join(out, PlotsDir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s.png: %v", name, err)
		}
		f.Close()
		svg, err := os.ReadFile(filepath.Join(out, PlotsDir, name+".svg"))
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s.svg: %v", name, err)
		}
	}
	// The best-validation basis: every gain is 0.45, so nothing correlates.
	best, err := ReportMCS(out, GainBest)
	if err != nil {
		t.Fatal(err)
	}
	if best.Correlations[0].Target != "gt_gain_best" || best.Correlations[0].Spearman != nil {
		t.Errorf("best-basis correlation %+v, want undefined", best.Correlations[0])
	}
}

func TestMCSStudyTrainsSkipsAndResumes(t *testing.T) {
	models := tinyModels(t, 7, 8, 9)
	opts := func(out string, progress func(Event)) MCSOptions {
		return MCSOptions{Options: Options{Out: out, Overrides: tinyOverrides, Progress: progress}, Models: models}
	}
	var events []string
	record := func(e Event) {
		if e.Kind != RunStep {
			events = append(events, e.Run+" "+e.Kind.String())
		}
	}
	full := t.TempDir()
	rep, err := RunMCS(context.Background(), opts(full, record))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"tiny-a/majority_voting started", "tiny-a/majority_voting finished", "tiny-a/ground_truth started", "tiny-a/ground_truth finished",
		"tiny-b/majority_voting started", "tiny-b/majority_voting finished", "tiny-b/ground_truth started", "tiny-b/ground_truth finished",
		"tiny-c/majority_voting started", "tiny-c/majority_voting finished", "tiny-c/ground_truth started", "tiny-c/ground_truth finished",
	}
	if !reflect.DeepEqual(events, want) {
		t.Fatalf("events %v\nwant %v", events, want)
	}
	if len(rep.Results) != 3 || rep.Results[0].Model != "tiny-a" || rep.Results[0].GTSteps != 3 || rep.Results[0].Metric != "avg@4" {
		t.Fatalf("results %+v", rep.Results)
	}
	results, err := os.ReadFile(filepath.Join(full, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}

	// Running it again trains nothing.
	events = nil
	if _, err := RunMCS(context.Background(), opts(full, record)); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if !strings.HasSuffix(e, " skipped") {
			t.Fatalf("a rerun of a finished study: %v", events)
		}
	}

	// A study interrupted in its third sub-run resumes it and ends with the
	// same results as the uninterrupted one.
	part := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = RunMCS(ctx, opts(part, func(e Event) {
		if e.Index == 3 && e.Kind == RunStep && e.Step.Step == 2 {
			cancel()
		}
	}))
	if err == nil || !strings.Contains(err.Error(), "interrupted after step 2") {
		t.Fatalf("interrupted study: %v", err)
	}
	events = nil
	if _, err := RunMCS(context.Background(), opts(part, record)); err != nil {
		t.Fatal(err)
	}
	if events[0] != "tiny-a/majority_voting skipped" || events[2] != "tiny-b/majority_voting resumed" {
		t.Fatalf("events after the interruption %v", events)
	}
	again, err := os.ReadFile(filepath.Join(part, ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, results) {
		t.Errorf("results after resuming differ:\n%s\nwant\n%s", again, results)
	}
}

func TestMCSStudyRefusesConflictingSettings(t *testing.T) {
	models := tinyModels(t, 7, 8, 9)
	out := t.TempDir()
	for _, set := range []string{"model.base=clean", "reward.estimator=self_certainty", "model={base: clean}", "name=x", "trainer.out_dir=/tmp"} {
		_, err := RunMCS(context.Background(), MCSOptions{Options: Options{Out: out, Overrides: []string{set}}, Models: models})
		if err == nil || !strings.Contains(err.Error(), "the study sets") {
			t.Errorf("--set %s: %v, want a refusal", set, err)
		}
	}
	if _, err := RunMCS(context.Background(), MCSOptions{Options: Options{Out: out, Overrides: []string{"trainer.steps=2", "eval.every=0"}}, Models: models}); err == nil || !strings.Contains(err.Error(), "needs validation") {
		t.Errorf("without validation: %v", err)
	}
	if _, err := RunMCS(context.Background(), MCSOptions{Options: Options{Out: out}, Models: []string{models[0], models[0], models[1]}}); err == nil || !strings.Contains(err.Error(), "share the sub-run name") {
		t.Errorf("a model given twice: %v", err)
	}
	if _, err := RunMCS(context.Background(), MCSOptions{Options: Options{Out: out}, Models: models, Gain: "median"}); err == nil {
		t.Error("gain basis median accepted")
	}
	if err := claimStudy(out, mcsSettings{Kind: "mcs", Overrides: []string{"trainer.steps=3"}}); err != nil {
		t.Fatal(err)
	}
	if err := claimStudy(out, mcsSettings{Kind: "mcs", Overrides: []string{"trainer.steps=4"}}); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("a study directory reused with other settings: %v", err)
	}
	if _, err := ReportTTT(out); err == nil || !strings.Contains(err.Error(), `holds a "mcs" study`) {
		t.Errorf("ttt report of an mcs study: %v", err)
	}
}

func TestShippedModelsListsTheSuite(t *testing.T) {
	names, err := basemodel.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("%s listed twice in %v", n, names)
		}
		seen[n] = true
	}
	if !seen["mild"] || len(names) < 2 {
		t.Fatalf("shipped models %v lack the default model", names)
	}
	if basemodel.Label("base") != "mild" || basemodel.Label("/x/y/tiny-a/") != "tiny-a" || basemodel.Label("clean") != "clean" {
		t.Error("model labels")
	}
}

func TestMCSStudyRefusesBadInputBeforeTraining(t *testing.T) {
	three := tinyModels(t, 7, 8, 9)
	models := three[:2]
	out := filepath.Join(t.TempDir(), "study")
	run := func(o MCSOptions) error {
		o.Out, o.Overrides = out, tinyOverrides
		_, err := RunMCS(context.Background(), o)
		return err
	}
	if err := run(MCSOptions{Models: models}); err == nil || !strings.Contains(err.Error(), "needs at least 3") {
		t.Errorf("two models: %v", err)
	}
	notModel := t.TempDir()
	if err := os.WriteFile(filepath.Join(notModel, "notes.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(MCSOptions{Models: append(slices.Clone(models), notModel)}); err == nil || !strings.Contains(err.Error(), "not a usable model") {
		t.Errorf("a directory that is not a model: %v", err)
	}
	// Nothing was claimed or trained.
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused study left %s behind (%v)", out, err)
	}
	// A directory of another kind of study.
	if err := claimStudy(out, struct {
		Kind string `json:"kind"`
	}{"ttt"}); err != nil {
		t.Fatal(err)
	}
	if err := run(MCSOptions{Models: three}); err == nil || !strings.Contains(err.Error(), `holds a "ttt" study, not "mcs"`) {
		t.Errorf("a ttt study directory: %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("the ttt study directory gained files: %v", entries)
	}
}

func TestMCSPlanUsesAggressiveSettingsAndRobustnessVariants(t *testing.T) {
	out := t.TempDir()
	o := MCSOptions{Options: Options{Out: out, Overrides: []string{"data.train=world:val-easy", "data.validation=[world:val-mid]", "trainer.global_batch=16"}},
		GTOverrides: []string{"trainer.mini_batch=16"}, Models: []string{"m1", "m2", "m3"}, Robustness: true}
	runs, err := mcsRuns(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3*(2+len(MCSVariants)) {
		t.Fatalf("%d sub-runs, want %d", len(runs), 3*(2+len(MCSVariants)))
	}
	byName := map[string]subRun{}
	for _, r := range runs {
		byName[r.name] = r
	}
	mv, gt := byName["m1/"+MajorityVoting].cfg, byName["m1/"+GroundTruth].cfg
	if mv.Trainer.MiniBatch != 1 || mv.Rollout.N != 8 || mv.Eval.N != 256 || mv.Eval.Every != 100 || !mv.EarlyStop.Enabled || !mv.EarlyStop.Collapse {
		t.Errorf("majority voting: mini-batch %d, n %d, eval.n %d, early stop %v/%v", mv.Trainer.MiniBatch, mv.Rollout.N, mv.Eval.N, mv.EarlyStop.Enabled, mv.EarlyStop.Collapse)
	}
	if len(mv.Data.Validation) != 1 || mv.Data.Validation[0] != "world:val-mid" {
		t.Errorf("majority voting validates on %v; the user's data.validation should win over the study's large-mid", mv.Data.Validation)
	}
	plain, err := mcsRuns(MCSOptions{Options: Options{Out: t.TempDir()}, Models: []string{"m1", "m2", "m3"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plain {
		want := []string{"world:large-easy", "world:large-mid", "world:large-hard"}
		if strings.HasSuffix(r.name, "/"+MajorityVoting) {
			want = []string{"world:large-mid"} // pass@256 on one 200-problem set
		}
		if fmt.Sprint(r.cfg.Data.Validation) != fmt.Sprint(want) {
			t.Errorf("%s validates on %v, want %v", r.name, r.cfg.Data.Validation, want)
		}
	}
	if gt.Trainer.Steps != 0 || gt.Trainer.Epochs != 1 || gt.EarlyStop.Enabled || gt.Reward.Estimator != GroundTruth || gt.Eval.Every != 50 {
		t.Errorf("ground truth: steps %d, epochs %d, early stop %v, estimator %s, eval.every %d", gt.Trainer.Steps, gt.Trainer.Epochs, gt.EarlyStop.Enabled, gt.Reward.Estimator, gt.Eval.Every)
	}
	for name, check := range map[string]func(c train.Config) bool{
		"n16":    func(c train.Config) bool { return c.Rollout.N == 16 && c.Trainer.MiniBatch == 1 },
		"n32":    func(c train.Config) bool { return c.Rollout.N == 32 && c.Trainer.MiniBatch == 1 },
		"mb8":    func(c train.Config) bool { return c.Rollout.N == 8 && c.Trainer.MiniBatch == 8 },
		"mbfull": func(c train.Config) bool { return c.Rollout.N == 8 && c.Trainer.MiniBatch == 16 },
	} {
		r, ok := byName["m2/"+MajorityVoting+"-"+name]
		if !ok || !check(r.cfg) || r.cfg.Reward.Estimator != MajorityVoting {
			t.Errorf("variant %s: %+v (planned %v)", name, r.cfg.Trainer, ok)
		}
	}
	// A batch that a mini-batch of 8 cannot divide is refused at planning.
	o.Overrides, o.GTOverrides = append(o.Overrides, "trainer.global_batch=12"), []string{"trainer.mini_batch=12"}
	if _, err := mcsRuns(o); err == nil || !strings.Contains(err.Error(), "mb8") {
		t.Errorf("global batch 12 with the mb8 variant: %v", err)
	}
}

func TestReportMCSRobustnessAgreement(t *testing.T) {
	out := t.TempDir()
	runs := filepath.Join(out, RunsDir)
	// Default MCS 2, 3, none (6); GT gains 0.1, 0.3, 0.2.
	writeFixtureModel(t, runs, "a", 2, 0.35+0.1)
	writeFixtureModel(t, runs, "b", 3, 0.35+0.3)
	writeFixtureModel(t, runs, "c", 0, 0.35+0.2)
	// n16 reverses a and b (MCS 3, 2, none): one discordant pair of 3, tau
	// = (2-1)/3. mb8 has only a and b finished, in the default order:
	// tau = 1 over the one pair. The other variants have no runs.
	variant := map[string][]int{"n16": {3, 2, 0}, "mb8": {1, 4}}
	for v, steps := range variant {
		for i, step := range steps {
			f := fixtureRun{rollouts: 2, batch: 3, evalN: 4, steps: 5,
				metrics:    stepRows([]float64{10, 20, 30, 40}, []float64{0.5, 0.2, 0.005, 0.001}),
				validation: []map[string]any{valRow(0, 0.5, 0.75, 0.2, 0.6)},
				collapse:   metrics.CollapseResult{Observations: 4, LastStep: 4, Min: 0.001, MinStep: 4},
			}
			if step > 0 {
				f.collapse.Collapsed, f.collapse.Step, f.collapse.DetectedAt = true, step, step+1
			}
			f.write(t, filepath.Join(runs, string(rune('a'+i)), MajorityVoting+"-"+v))
		}
	}
	if err := claimStudy(out, mcsSettings{Kind: "mcs", Overrides: []string{}, MVOverrides: []string{}, GTOverrides: []string{}, Models: []string{"a", "b", "c"}, Robustness: true}); err != nil {
		t.Fatal(err)
	}
	rep, err := ReportMCS(out, GainFinal)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]MCSRobustness{}
	for _, r := range rep.Robustness {
		got[r.Variant] = r
	}
	if r := got["n16"]; r.Agreement == nil || !near(*r.Agreement, 1.0/3) || !reflect.DeepEqual(r.Steps, map[string]float64{"a": 3, "b": 2, "c": 6}) {
		t.Errorf("n16: %+v", r)
	}
	// n16 against the gains 0.1, 0.3, 0.2: ranks 2 1 3 vs 1 3 2: rho = -0.5.
	if r := got["n16"]; r.GTGain.Spearman == nil || !near(*r.GTGain.Spearman, -0.5) {
		t.Errorf("n16 vs GT gain: %+v", r.GTGain)
	}
	if r := got["mb8"]; r.Agreement == nil || *r.Agreement != 1 || len(r.Steps) != 2 {
		t.Errorf("mb8: %+v", r)
	}
	if r := got["n32"]; r.Agreement != nil || r.Note == "" || len(r.Steps) != 0 {
		t.Errorf("n32 without runs: %+v", r)
	}
	table, err := os.ReadFile(filepath.Join(out, ResultsTable))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(table), "| n16 | 3 | 0.333 |") {
		t.Errorf("results.md lacks the robustness row:\n%s", table)
	}
}
