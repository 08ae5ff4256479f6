package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/train"
)

// The rewards of the Model Collapse Step study, as reward estimator names.
const (
	MajorityVoting = "majority_voting"
	GroundTruth    = "ground_truth"
)

// GainBasis chooses which validation accuracy of the ground-truth run
// counts as its gain over the start.
type GainBasis string

const (
	// GainFinal is the accuracy after the last step minus the start: the
	// paper's GT Gain, measured after a fixed training budget.
	GainFinal GainBasis = "final"
	// GainBest is the best validation minus the start; it is never
	// negative and, being a maximum over noisy validations, biased upward.
	GainBest GainBasis = "best"
)

// ParseGainBasis reads "final" or "best".
func ParseGainBasis(s string) (GainBasis, error) {
	switch g := GainBasis(s); g {
	case GainFinal, GainBest:
		return g, nil
	case "":
		return GainFinal, nil
	}
	return "", fmt.Errorf("gain basis %q: want final or best", s)
}

// MCSOptions configure the Model Collapse Step study (paper Sec. 6.2-6.3).
type MCSOptions struct {
	Options
	// Models are base model names of the shipped suite or model
	// directories; nil is every shipped model.
	Models []string
	// MVOverrides apply to the majority-voting runs only and GTOverrides to
	// the ground-truth runs only, after Options.Overrides: the paper
	// measures the Model Collapse Step with aggressive hyperparameters
	// (Sec. 6.3) and the GT gain with the standard ones.
	MVOverrides, GTOverrides []string
	// Gain is the GT gain the correlations use; "" is GainFinal.
	Gain GainBasis
}

// mcsSettings is what study.json records for an MCS study.
type mcsSettings struct {
	Kind        string   `json:"kind"`
	Recipe      string   `json:"recipe"`
	Overrides   []string `json:"overrides"`
	MVOverrides []string `json:"mv_overrides"`
	GTOverrides []string `json:"gt_overrides"`
	Models      []string `json:"models"`
}

// mcsOwned are the keys the MCS study sets per sub-run.
var mcsOwned = map[string]string{
	"model.base":       "choose models with --models",
	"reward.estimator": "the study runs majority voting and ground truth",
	"name":             "sub-runs are named <model>/<reward>",
	"trainer.out_dir":  "sub-runs live in <out>/runs",
}

// MCSResult is one base model's row of the study.
type MCSResult struct {
	Model string `json:"model"`
	// Collapsed says whether the majority-voting run's reward accuracy
	// fell below the threshold within StepCap steps; CollapseStep is then
	// the Model Collapse Step.
	Collapsed    bool    `json:"collapsed"`
	CollapseStep int     `json:"collapse_step,omitempty"`
	Threshold    float64 `json:"collapse_threshold"`
	StepCap      int     `json:"step_cap"`
	MVSteps      int     `json:"mv_steps"` // steps the majority-voting run trained
	// MinRewardAccuracy is the lowest (smoothed) reward accuracy of the
	// majority-voting run and its step: how close a survivor came.
	MinRewardAccuracy     float64 `json:"min_reward_accuracy"`
	MinRewardAccuracyStep int     `json:"min_reward_accuracy_step"`
	// MCSTokens is the cost of measuring the Model Collapse Step by paper
	// Table 3's accounting: response tokens × rollouts × steps × batch,
	// over the steps up to the one that detected the collapse (all steps
	// without one), with the response length measured at every step.
	MCSTokens         int64   `json:"mcs_tokens"`
	MCSResponseLength float64 `json:"mcs_response_length"`
	// Validation of the majority-voting run (mean avg@k over the sets).
	MVStart float64 `json:"mv_start"`
	MVBest  float64 `json:"mv_best"`
	MVFinal float64 `json:"mv_final"`

	// The ground-truth RLVR run: validation at the start, best and end,
	// the gains, and its token cost by the same accounting.
	GTSteps     int     `json:"gt_steps"`
	GTStart     float64 `json:"gt_start"`
	GTBest      float64 `json:"gt_best"`
	GTBestStep  int     `json:"gt_best_step"`
	GTFinal     float64 `json:"gt_final"`
	GTGainFinal float64 `json:"gt_gain_final"`
	GTGainBest  float64 `json:"gt_gain_best"`
	GTTokens    int64   `json:"gt_tokens"`

	// PassKGain is the static baseline of paper Fig. 11: pass@n - pass@1
	// (= avg@n) of the base model at step 0, averaged over the sets.
	PassKGain float64 `json:"pass_k_gain"`
	Metric    string  `json:"metric"` // the validation metric, e.g. avg@8
	MVRun     string  `json:"mv_run"`
	GTRun     string  `json:"gt_run"`
}

// Gain returns the GT gain of the basis.
func (r MCSResult) Gain(basis GainBasis) float64 {
	if basis == GainBest {
		return r.GTGainBest
	}
	return r.GTGainFinal
}

// RankValue is the Model Collapse Step as a number to rank by: a model
// that did not collapse within StepCap steps survived longer than any that
// did, so it counts as StepCap+1 (all survivors tie).
func (r MCSResult) RankValue() float64 {
	if r.Collapsed {
		return float64(r.CollapseStep)
	}
	return float64(r.StepCap + 1)
}

// MCSText is the Model Collapse Step as the table shows it.
func (r MCSResult) MCSText() string {
	if r.Collapsed {
		return fmt.Sprint(r.CollapseStep)
	}
	return fmt.Sprintf("none within %d", r.StepCap)
}

// Correlation is the agreement of a predictor with the GT gain across
// models. A coefficient is nil where it is undefined (a constant variable
// or fewer than two models); Note says why.
type Correlation struct {
	Predictor   string   `json:"predictor"`
	Target      string   `json:"target"`
	Models      int      `json:"models"`
	Spearman    *float64 `json:"spearman"`
	KendallTauB *float64 `json:"kendall_tau_b"`
	Pearson     *float64 `json:"pearson"`
	Note        string   `json:"note,omitempty"`
}

// Correlate computes Spearman's rho, Kendall's tau-b and Pearson's r of x
// and y.
func Correlate(predictor, target string, x, y []float64) Correlation {
	c := Correlation{Predictor: predictor, Target: target, Models: len(x)}
	var notes []string
	for _, f := range []struct {
		fn  func(x, y []float64) (float64, error)
		out **float64
	}{{metrics.Spearman, &c.Spearman}, {metrics.KendallTauB, &c.KendallTauB}, {metrics.Pearson, &c.Pearson}} {
		v, err := f.fn(x, y)
		if err != nil {
			if !slices.Contains(notes, err.Error()) {
				notes = append(notes, err.Error())
			}
			continue
		}
		*f.out = &v
	}
	c.Note = strings.Join(notes, "; ")
	return c
}

// MCSReport is the outcome of a Model Collapse Step study.
type MCSReport struct {
	Dir          string        `json:"dir"`
	Gain         GainBasis     `json:"gain"`
	Results      []MCSResult   `json:"-"`
	Correlations []Correlation `json:"correlations"`
	// Token totals over all models by Table 3's accounting: measuring every
	// Model Collapse Step against running ground-truth RLVR on every model.
	MCSTokens int64 `json:"mcs_tokens"`
	GTTokens  int64 `json:"gt_tokens"`
	// Pending are the models whose runs have not finished (a report of a
	// study still training); they are left out of everything above.
	Pending []string `json:"pending,omitempty"`
	// Files are the results, table and plots written.
	Files []string `json:"-"`
}

// mcsRuns plans the study's sub-runs: for each model, majority voting with
// early stopping at the collapse, and ground truth for the same budget.
func mcsRuns(o MCSOptions) ([]subRun, error) {
	mvOpts, gtOpts := o.Options, o.Options
	mvOpts.Overrides = append(slices.Clone(o.Overrides), o.MVOverrides...)
	gtOpts.Overrides = append(slices.Clone(o.Overrides), o.GTOverrides...)
	mvBase, err := baseConfig(mvOpts, []string{"early_stop.enabled=true", "early_stop.collapse=true"}, mcsOwned)
	if err != nil {
		return nil, err
	}
	gtBase, err := baseConfig(gtOpts, []string{"early_stop.enabled=false"}, mcsOwned)
	if err != nil {
		return nil, err
	}
	// A recipe's estimator parameters belong to its estimator; they carry
	// over only where the study keeps that estimator.
	for _, rc := range []struct {
		cfg       *train.Config
		estimator string
	}{{&mvBase, MajorityVoting}, {&gtBase, GroundTruth}} {
		if rc.cfg.Reward.Estimator != rc.estimator {
			rc.cfg.Reward.Estimator, rc.cfg.Reward.Params = rc.estimator, nil
		}
	}
	if mvBase.Eval.Every == 0 || gtBase.Eval.Every == 0 || len(gtBase.Data.Validation) == 0 {
		return nil, errors.New("the study needs validation (eval.every > 0 and data.validation) to measure gains")
	}
	seen := map[string]string{}
	var runs []subRun
	for _, m := range o.Models {
		label := basemodel.Label(m)
		if prev, dup := seen[label]; dup {
			return nil, fmt.Errorf("models %q and %q would share the sub-run name %q", prev, m, label)
		}
		seen[label] = m
		mv, gt := mvBase, gtBase
		mv.Model.Base, gt.Model.Base = m, m
		mvRun, err := place(o.Out, mv, label+"/"+MajorityVoting)
		if err != nil {
			return nil, err
		}
		gtRun, err := place(o.Out, gt, label+"/"+GroundTruth)
		if err != nil {
			return nil, err
		}
		runs = append(runs, mvRun, gtRun)
	}
	return runs, nil
}

// RunMCS runs the Model Collapse Step study in o.Out: for each model a
// majority-voting run that stops at its collapse and a ground-truth run for
// the same budget. Finished sub-runs are skipped and interrupted ones
// resumed, so an interrupted study continues where it stopped. It then
// writes the results (ReportMCS).
func RunMCS(ctx context.Context, o MCSOptions) (*MCSReport, error) {
	if o.Out == "" {
		return nil, errors.New("mcs study: no output directory")
	}
	gain, err := ParseGainBasis(string(o.Gain))
	if err != nil {
		return nil, err
	}
	if len(o.Models) == 0 {
		if o.Models, err = basemodel.Shipped(); err != nil {
			return nil, err
		}
	}
	runs, err := mcsRuns(o)
	if err != nil {
		return nil, err
	}
	settings := mcsSettings{
		Kind: "mcs", Recipe: o.Recipe, Overrides: nonNil(o.Overrides),
		MVOverrides: nonNil(o.MVOverrides), GTOverrides: nonNil(o.GTOverrides), Models: o.Models,
	}
	if err := claimStudy(o.Out, settings); err != nil {
		return nil, err
	}
	if err := runAll(ctx, runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportMCS(o.Out, gain)
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// readSettings reads a study directory's study.json into settings and
// checks its kind.
func readSettings(out, kind string, settings any) error {
	raw, err := os.ReadFile(filepath.Join(out, StudyFile))
	if err != nil {
		return fmt.Errorf("%s is not a study directory: %w", out, err)
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(out, StudyFile), err)
	}
	if head.Kind != kind {
		return fmt.Errorf("%s holds a %q study, not %q", out, head.Kind, kind)
	}
	return json.Unmarshal(raw, settings)
}

// ReportMCS analyses the finished sub-runs of the MCS study in out and
// writes results.jsonl, results.md, correlation.json and the plots.
func ReportMCS(out string, gain GainBasis) (*MCSReport, error) {
	gain, err := ParseGainBasis(string(gain))
	if err != nil {
		return nil, err
	}
	var st mcsSettings
	if err := readSettings(out, "mcs", &st); err != nil {
		return nil, err
	}
	rep := &MCSReport{Dir: out, Gain: gain}
	var mvRuns, gtRuns []*finishedRun
	for _, m := range st.Models {
		label := basemodel.Label(m)
		if !finished(filepath.Join(out, RunsDir, label, MajorityVoting)) || !finished(filepath.Join(out, RunsDir, label, GroundTruth)) {
			rep.Pending = append(rep.Pending, label)
			continue
		}
		res, mv, gt, err := analyzeMCS(label, filepath.Join(out, RunsDir, label, MajorityVoting), filepath.Join(out, RunsDir, label, GroundTruth))
		if err != nil {
			return nil, err
		}
		res.MVRun = filepath.ToSlash(filepath.Join(RunsDir, label, MajorityVoting))
		res.GTRun = filepath.ToSlash(filepath.Join(RunsDir, label, GroundTruth))
		rep.Results = append(rep.Results, res)
		rep.MCSTokens += res.MCSTokens
		rep.GTTokens += res.GTTokens
		mvRuns, gtRuns = append(mvRuns, mv), append(gtRuns, gt)
	}
	if len(rep.Results) == 0 {
		return nil, fmt.Errorf("no model of the study in %s has finished both runs yet", out)
	}
	rep.Correlations = correlateMCS(rep.Results, gain)
	if rep.Files, err = writeMCS(rep, st, mvRuns, gtRuns); err != nil {
		return nil, err
	}
	return rep, nil
}

// AnalyzeMCS reads one model's finished majority-voting and ground-truth
// run directories into its row of the study.
func AnalyzeMCS(model, mvDir, gtDir string) (MCSResult, error) {
	res, _, _, err := analyzeMCS(model, mvDir, gtDir)
	return res, err
}

func analyzeMCS(model, mvDir, gtDir string) (MCSResult, *finishedRun, *finishedRun, error) {
	res := MCSResult{Model: model}
	mv, err := readRun(mvDir)
	if err != nil {
		return res, nil, nil, err
	}
	gt, err := readRun(gtDir)
	if err != nil {
		return res, nil, nil, err
	}
	if !mv.summary.CollapseMeasured {
		return res, nil, nil, fmt.Errorf("run %s logged no reward accuracy, so it has no Model Collapse Step", mvDir)
	}
	c := mv.summary.Collapse
	res.Collapsed, res.MinRewardAccuracy, res.MinRewardAccuracyStep = c.Collapsed, c.Min, c.MinStep
	res.Threshold = mv.cfg.EarlyStop.CollapseThreshold
	if res.Threshold == 0 {
		res.Threshold = metrics.DefaultCollapseThreshold
	}
	res.MVSteps = mv.summary.Steps
	res.StepCap = mv.cfg.Trainer.Steps
	if res.StepCap == 0 {
		res.StepCap = mv.summary.Steps
	}
	costUpTo := 0
	if c.Collapsed {
		// The cost of the measurement is every step up to the one that
		// confirmed the collapse.
		res.CollapseStep, costUpTo = c.Step, c.DetectedAt
	}
	res.MCSTokens, _, res.MCSResponseLength = mv.tokenCost(costUpTo)
	mvVal, err := summarise(mv.trajectory())
	if err != nil {
		return res, nil, nil, fmt.Errorf("run %s: %w", mvDir, err)
	}
	res.MVStart, res.MVBest, res.MVFinal = mvVal.Start, mvVal.Best, mvVal.Final
	res.PassKGain = passKGain(mv)

	gtVal, err := summarise(gt.trajectory())
	if err != nil {
		return res, nil, nil, fmt.Errorf("run %s: %w", gtDir, err)
	}
	res.Metric = gt.metric()
	res.GTSteps = gt.summary.Steps
	res.GTStart, res.GTBest, res.GTBestStep, res.GTFinal = gtVal.Start, gtVal.Best, gtVal.BestStep, gtVal.Final
	res.GTGainFinal = gtVal.Final - gtVal.Start
	res.GTGainBest = gtVal.Best - gtVal.Start
	res.GTTokens, _, _ = gt.tokenCost(0)
	return res, mv, gt, nil
}

// passKGain is pass@n - avg@n at the run's first validation, averaged over
// the validation sets (avg@n is the unbiased pass@1).
func passKGain(r *finishedRun) float64 {
	if len(r.validation) == 0 {
		return 0
	}
	row := r.validation[0]
	n := r.cfg.Eval.N
	var sum float64
	var sets int
	for _, key := range keysWithSuffix(row, fmt.Sprintf("/pass@%d", n)) {
		set := strings.TrimSuffix(key, fmt.Sprintf("/pass@%d", n))
		avg, ok := row[set+fmt.Sprintf("/avg@%d", n)]
		if !ok || set == "val/mean" {
			continue
		}
		sum += row[key] - avg
		sets++
	}
	if sets == 0 {
		return 0
	}
	return sum / float64(sets)
}

// keysWithSuffix lists a row's keys under val/ ending in suffix, sorted.
func keysWithSuffix(row map[string]float64, suffix string) []string {
	var keys []string
	for k := range row {
		if strings.HasPrefix(k, "val/") && strings.HasSuffix(k, suffix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// correlateMCS correlates the Model Collapse Step and the pass@k gain with
// the GT gain across models, as paper Fig. 11 does.
func correlateMCS(results []MCSResult, gain GainBasis) []Correlation {
	var mcs, passK, gains []float64
	for _, r := range results {
		mcs = append(mcs, r.RankValue())
		passK = append(passK, r.PassKGain)
		gains = append(gains, r.Gain(gain))
	}
	target := "gt_gain_" + string(gain)
	return []Correlation{
		Correlate("model_collapse_step", target, mcs, gains),
		Correlate("pass_k_gain", target, passK, gains),
	}
}

// writeMCS writes the study's results files and plots.
func writeMCS(rep *MCSReport, st mcsSettings, mvRuns, gtRuns []*finishedRun) ([]string, error) {
	var files []string
	var lines []any
	for _, r := range rep.Results {
		lines = append(lines, r)
	}
	path := filepath.Join(rep.Dir, ResultsFile)
	if err := writeJSONL(path, lines); err != nil {
		return nil, err
	}
	files = append(files, path)
	path = filepath.Join(rep.Dir, CorrelationFile)
	if err := writeJSON(path, rep); err != nil {
		return nil, err
	}
	files = append(files, path)
	path = filepath.Join(rep.Dir, ResultsTable)
	if err := writeText(path, mcsMarkdown(rep, st)); err != nil {
		return nil, err
	}
	files = append(files, path)
	plots, err := mcsPlots(rep, mvRuns, gtRuns)
	return append(files, plots...), err
}

// mcsMarkdown renders the study as results.md.
func mcsMarkdown(rep *MCSReport, st mcsSettings) string {
	var b strings.Builder
	stepCap, metric, threshold := 0, "", 0.0
	if len(rep.Results) > 0 {
		stepCap, metric, threshold = rep.Results[0].StepCap, rep.Results[0].Metric, rep.Results[0].Threshold
	}
	fmt.Fprintf(&b, "# Model Collapse Step vs ground-truth RLVR gain\n\n")
	fmt.Fprintf(&b, "Each base model trained with majority voting until its reward accuracy fell below %g%% (the Model Collapse Step, paper Sec. 6; at most %d steps), and with ground-truth reward for the same budget. ", 100*threshold, stepCap)
	fmt.Fprintf(&b, "Validation accuracy is %s averaged over the validation sets; GT gain is the ground-truth run's validation accuracy minus its start.\n\n", metric)
	fmt.Fprintf(&b, "Settings: %s\n\n", settingsLine(st.Recipe, st.Overrides, map[string][]string{"majority voting only": st.MVOverrides, "ground truth only": st.GTOverrides}))
	fmt.Fprintf(&b, "| model | MCS | min reward acc. (step) | MCS tokens | MV val start → final | GT start | GT best (step) | GT final | GT gain (final) | GT gain (best) | GT tokens | pass@k gain |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| %s | %s | %.3f (%d) | %s | %.3f → %.3f | %.3f | %.3f (%d) | %.3f | %+.3f | %+.3f | %s | %.3f |\n",
			r.Model, r.MCSText(), r.MinRewardAccuracy, r.MinRewardAccuracyStep, humanTokens(r.MCSTokens),
			r.MVStart, r.MVFinal, r.GTStart, r.GTBest, r.GTBestStep, r.GTFinal, r.GTGainFinal, r.GTGainBest,
			humanTokens(r.GTTokens), r.PassKGain)
	}
	fmt.Fprintf(&b, "\nRank correlation with the GT gain (%s) across %d models; a model without a collapse counts as %d steps (it outlived every collapse the budget could see).\n\n", rep.Gain, len(rep.Results), stepCap+1)
	fmt.Fprintf(&b, "| predictor | Spearman ρ | Kendall τ-b | Pearson r |\n|---|---:|---:|---:|\n")
	for _, c := range rep.Correlations {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Predictor, coef(c.Spearman), coef(c.KendallTauB), coef(c.Pearson))
	}
	for _, c := range rep.Correlations {
		if c.Note != "" {
			fmt.Fprintf(&b, "\n%s: %s.\n", c.Predictor, c.Note)
		}
	}
	fmt.Fprintf(&b, "\nToken cost (paper Table 3: response tokens × rollouts × steps × batch, response length measured at every step): measuring the Model Collapse Step of all %d models took %s tokens; ground-truth RLVR on all of them took %s",
		len(rep.Results), humanTokens(rep.MCSTokens), humanTokens(rep.GTTokens))
	if rep.MCSTokens > 0 {
		fmt.Fprintf(&b, " (%.1f× as many)", float64(rep.GTTokens)/float64(rep.MCSTokens))
	}
	fmt.Fprintf(&b, ".\n")
	if len(rep.Pending) > 0 {
		fmt.Fprintf(&b, "\nNot finished yet, and left out: %s.\n", strings.Join(rep.Pending, ", "))
	}
	return b.String()
}

// settingsLine describes the recipe and overrides of a study.
func settingsLine(recipe string, overrides []string, extra map[string][]string) string {
	if recipe == "" {
		recipe = "built-in default recipe"
	}
	parts := []string{recipe}
	if len(overrides) > 0 {
		parts = append(parts, "`--set "+strings.Join(overrides, " --set ")+"`")
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(extra[k]) > 0 {
			parts = append(parts, k+": `"+strings.Join(extra[k], " ")+"`")
		}
	}
	return strings.Join(parts, "; ")
}

func coef(v *float64) string {
	if v == nil {
		return "undefined"
	}
	return fmt.Sprintf("%.3f", *v)
}

// humanTokens prints a token count with a k/M/B suffix.
func humanTokens(n int64) string {
	x := float64(n)
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.2fB", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprint(n)
}

// mcsPlots draws the Model Collapse Step and the pass@k gain against the
// GT gain (paper Fig. 11), the reward accuracy of every majority-voting run
// (Fig. 10, 12) and the validation of every ground-truth run.
func mcsPlots(rep *MCSReport, mvRuns, gtRuns []*finishedRun) ([]string, error) {
	dir := filepath.Join(rep.Dir, PlotsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating plot directory: %w", err)
	}
	stepCap := 0
	if len(rep.Results) > 0 {
		stepCap = rep.Results[0].StepCap
	}
	gainLabel := fmt.Sprintf("GT gain (%s validation minus start)", rep.Gain)
	var mcsPoints, passPoints []scatterPoint
	for _, r := range rep.Results {
		mcsPoints = append(mcsPoints, scatterPoint{X: r.RankValue(), Y: r.Gain(rep.Gain), Label: r.Model, Censored: !r.Collapsed})
		passPoints = append(passPoints, scatterPoint{X: r.PassKGain, Y: r.Gain(rep.Gain), Label: r.Model})
	}
	var files []string
	for i, p := range []struct {
		name, xLabel string
		points       []scatterPoint
	}{
		{"mcs_vs_gt_gain", "Model Collapse Step", mcsPoints},
		{"pass_k_vs_gt_gain", "pass@k gain (pass@n - pass@1 at step 0)", passPoints},
	} {
		c := rep.Correlations[i]
		title := fmt.Sprintf("%s vs GT gain: Spearman %s, Kendall tau-b %s", p.xLabel, coef(c.Spearman), coef(c.KendallTauB))
		plt, err := scatterPlot(title, p.xLabel, gainLabel, p.points, fmt.Sprintf("no collapse within %d steps", stepCap))
		if err != nil {
			return files, err
		}
		paths, err := savePlot(plt, dir, p.name)
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	var accuracy, validation []report.Series
	for i, r := range rep.Results {
		s := report.Extract(mvRuns[i].steps, keyRewardAccuracy)
		s.Name = r.Model
		accuracy = append(accuracy, s)
		v := report.Extract(gtRuns[i].validation, gtRuns[i].meanKey())
		v.Name = r.Model
		validation = append(validation, v)
	}
	for _, p := range []struct {
		name, title, yLabel string
		series              []report.Series
	}{
		{"reward_accuracy", "Majority voting: reward accuracy until the collapse", "reward accuracy", accuracy},
		{"gt_validation", "Ground-truth RLVR: validation accuracy", "mean validation " + firstMetric(rep), validation},
	} {
		plt, err := linePlot(p.title, p.yLabel, p.series)
		if err != nil {
			return files, err
		}
		paths, err := savePlot(plt, dir, p.name)
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}

func firstMetric(rep *MCSReport) string {
	if len(rep.Results) == 0 {
		return ""
	}
	return rep.Results[0].Metric
}
