package experiment

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/train"
)

// DefaultSizes are the training subset sizes of the dataset-size study,
// paper Sec. 5.1's {32, ..., 16384} scaled to the training set: 0 is the
// whole training set.
var DefaultSizes = []int{32, 128, 512, 2048, 0}

// SeededSizeLimit is the largest subset size that gets Seeds runs: a
// small subset's outcome depends on which problems it drew, a large one's
// hardly, and the paper repeats only the small ones.
const SeededSizeLimit = 512

// DefaultSeeds is how many runs each small subset size gets by default.
const DefaultSeeds = 3

// DefaultTestSets is the set trained on at test time: val-easy stands in
// for AMC23 (40 problems), as in paper Sec. 5.2.
var DefaultTestSets = []string{"world:val-easy"}

// windowSteps is how many steps the start and end values of the noisy
// per-batch training metrics are averaged over.
const windowSteps = 10

// TTTOptions configure the dataset-size and test-time-training study
// (paper Sec. 5).
type TTTOptions struct {
	Options
	// Sizes are the training subset sizes (data.subset of the recipe's
	// training set; 0 is the whole set); each gets one run, or Seeds runs
	// when it is at most SeededSizeLimit.
	Sizes []int
	// Seeds is the number of runs of each small size, seed s (1-based)
	// shifting both the recipe's seed and its subset seed by s-1, so
	// that the runs draw other problems and other rollouts; 0 is 1.
	Seeds int
	// TestSets are datasets trained on directly, test-time training; each
	// gets one run and is added to the validation sets if missing.
	TestSets []string
}

// tttSettings is what study.json records for a TTT study.
type tttSettings struct {
	Kind      string   `json:"kind"`
	Recipe    string   `json:"recipe"`
	Overrides []string `json:"overrides"`
	Sizes     []int    `json:"sizes"`
	Seeds     int      `json:"seeds,omitempty"`
	TestSets  []string `json:"test_sets"`
}

// tttSubsetRun is one planned training-set run: its name, subset size (0:
// the whole set) and seed index.
type tttSubsetRun struct {
	Name       string
	Size, Seed int
}

// tttSubsetRuns names the training-set runs: subset-<n> (subset-all for
// the whole set) for the first seed, subset-<n>-seed<s> for the others.
func tttSubsetRuns(sizes []int, seeds int) []tttSubsetRun {
	seeds = max(seeds, 1)
	var out []tttSubsetRun
	for _, n := range sizes {
		name := fmt.Sprintf("subset-%d", n)
		if n == 0 {
			name = "subset-all"
		}
		count := 1
		if n > 0 && n <= SeededSizeLimit {
			count = seeds
		}
		for s := 1; s <= count; s++ {
			r := tttSubsetRun{Name: name, Size: n, Seed: s}
			if s > 1 {
				r.Name = fmt.Sprintf("%s-seed%d", name, s)
			}
			out = append(out, r)
		}
	}
	return out
}

var tttOwned = map[string]string{
	"data.subset":      "choose subset sizes with --sizes",
	"data.subset_seed": "choose the number of seeds with --seeds",
	"seed":             "choose the number of seeds with --seeds",
	"name":             "sub-runs are named subset-<n> and test-time-<set>",
	"trainer.out_dir":  "sub-runs live in <out>/runs",
}

// TTTResult is one run of the study.
type TTTResult struct {
	Run      string `json:"run"`
	TestTime bool   `json:"test_time"`
	Size     int    `json:"size,omitempty"` // the subset size asked for (0: the whole set)
	Seed     int    `json:"seed,omitempty"` // the seed index of a training-set run
	Train    string `json:"train"`          // the training dataset
	Problems int    `json:"problems"`       // training problems after the subset
	Steps    int    `json:"steps"`
	// Epochs is how often the run saw each training problem: steps × batch
	// / problems.
	Epochs float64 `json:"epochs"`

	Collapsed             bool    `json:"collapsed"`
	CollapseStep          int     `json:"collapse_step,omitempty"`
	Threshold             float64 `json:"collapse_threshold"`
	MinRewardAccuracy     float64 `json:"min_reward_accuracy"`
	MinRewardAccuracyStep int     `json:"min_reward_accuracy_step"`

	// Validation accuracy (Metric, averaged over the sets) at the start, at
	// the best validation and at the end, and per set.
	Metric      string  `json:"metric"`
	ValStart    float64 `json:"val_start"`
	ValBest     float64 `json:"val_best"`
	ValBestStep int     `json:"val_best_step"`
	ValFinal    float64 `json:"val_final"`
	// ValStartCI and ValFinalCI are 95% bootstrap intervals of the mean
	// over sets, the problems resampled within each set; nil for a run
	// that logged no per-problem scores.
	ValStartCI *metrics.Interval `json:"val_start_ci,omitempty"`
	ValFinalCI *metrics.Interval `json:"val_final_ci,omitempty"`
	Sets       []SetResult       `json:"sets"`

	// Training dynamics (paper Fig. 6-7), each averaged over the first and
	// last windowSteps steps: ground-truth reward, proxy (majority voting)
	// reward, reward accuracy, and the KL to the starting policy at the end.
	GTRewardStart       float64 `json:"gt_reward_start"`
	GTRewardEnd         float64 `json:"gt_reward_end"`
	ProxyRewardStart    float64 `json:"proxy_reward_start"`
	ProxyRewardEnd      float64 `json:"proxy_reward_end"`
	RewardAccuracyStart float64 `json:"reward_accuracy_start"`
	RewardAccuracyEnd   float64 `json:"reward_accuracy_end"`
	KLEnd               float64 `json:"kl_end"`

	// Validation is the trajectory: accuracy at every validation.
	Validation []valPoint `json:"validation"`
}

// SetResult is one validation set's accuracy at the start and the end,
// with the evaluator's bootstrap intervals over problems where the run
// logged them.
type SetResult struct {
	Name    string            `json:"name"`
	Start   float64           `json:"start"`
	Final   float64           `json:"final"`
	StartCI *metrics.Interval `json:"start_ci,omitempty"`
	FinalCI *metrics.Interval `json:"final_ci,omitempty"`
}

// TTTReport is the outcome of the study.
type TTTReport struct {
	Dir string
	// Title and Preamble replace the table's heading and introduction
	// when another study reports its runs in this form.
	Title, Preamble string
	Results         []TTTResult
	// Pending are the runs that have not finished (a report of a study
	// still training); they are left out of Results.
	Pending []string
	Files   []string
}

// tttRuns plans one run per subset size and one per test set.
func tttRuns(o TTTOptions) ([]subRun, error) {
	base, err := baseConfig(o.Options, []string{"early_stop.enabled=false"}, tttOwned)
	if err != nil {
		return nil, err
	}
	if base.Eval.Every == 0 || len(base.Data.Validation) == 0 {
		return nil, errors.New("the study needs validation (eval.every > 0 and data.validation)")
	}
	// Every run validates on the test sets too, so that test-time
	// training can be compared with training-set RL of the same budget on
	// the same problems (paper Fig. 8).
	for _, set := range o.TestSets {
		if !slices.Contains(base.Data.Validation, set) {
			base.Data.Validation = append(slices.Clone(base.Data.Validation), set)
		}
	}
	if o.Seeds < 0 {
		return nil, fmt.Errorf("seeds %d: want >= 0", o.Seeds)
	}
	var runs []subRun
	seen := map[int]bool{}
	for _, n := range o.Sizes {
		if n < 0 {
			return nil, fmt.Errorf("subset size %d: want >= 1, or 0 for the whole training set", n)
		}
		if seen[n] {
			return nil, fmt.Errorf("subset size %d given twice", n)
		}
		seen[n] = true
	}
	for _, sr := range tttSubsetRuns(o.Sizes, o.Seeds) {
		cfg := base
		cfg.Data.Subset = sr.Size
		cfg.Seed += uint64(sr.Seed - 1)
		cfg.Data.SubsetSeed += uint64(sr.Seed - 1)
		r, err := place(o.Out, cfg, sr.Name)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	names := map[string]bool{}
	for _, set := range o.TestSets {
		_, name, err := train.LoadProblems(set)
		if err != nil {
			return nil, err
		}
		if names[name] {
			return nil, fmt.Errorf("test set %s: another test set has the name %s", set, name)
		}
		names[name] = true
		cfg := base
		cfg.Data.Train, cfg.Data.Subset = set, 0
		cfg.Data.Validation = slices.Clone(base.Data.Validation)
		if !slices.Contains(cfg.Data.Validation, set) {
			cfg.Data.Validation = append(cfg.Data.Validation, set)
		}
		r, err := place(o.Out, cfg, "test-time-"+name)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return nil, errors.New("ttt study: no subset sizes and no test sets")
	}
	return runs, nil
}

// RunTTT runs the dataset-size and test-time-training study in o.Out,
// skipping finished runs and resuming interrupted ones, then writes the
// results (ReportTTT).
func RunTTT(ctx context.Context, o TTTOptions) (*TTTReport, error) {
	if o.Out == "" {
		return nil, errors.New("ttt study: no output directory")
	}
	runs, err := tttRuns(o)
	if err != nil {
		return nil, err
	}
	settings := tttSettings{Kind: "ttt", Recipe: o.Recipe, Overrides: nonNil(o.Overrides), Sizes: o.Sizes, TestSets: nonNil(o.TestSets)}
	if o.Seeds > 1 {
		settings.Seeds = o.Seeds
	}
	if settings.Sizes == nil {
		settings.Sizes = []int{}
	}
	if err := claimStudy(o.Out, settings); err != nil {
		return nil, err
	}
	if err := runAll(ctx, runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportTTT(o.Out)
}

// ReportTTT analyses the finished runs of the TTT study in out and writes
// results.jsonl, results.md and the plots.
func ReportTTT(out string) (*TTTReport, error) {
	var st tttSettings
	if err := readSettings(out, "ttt", &st); err != nil {
		return nil, err
	}
	rep := &TTTReport{Dir: out}
	var names []string
	plan := map[string]tttSubsetRun{}
	for _, sr := range tttSubsetRuns(st.Sizes, st.Seeds) {
		names = append(names, sr.Name)
		plan[sr.Name] = sr
	}
	for _, set := range st.TestSets {
		_, name, err := train.LoadProblems(set)
		if err != nil {
			return nil, err
		}
		names = append(names, "test-time-"+name)
	}
	var runs []*finishedRun
	for _, name := range names {
		if !finished(filepath.Join(out, RunsDir, name)) {
			rep.Pending = append(rep.Pending, name)
			continue
		}
		res, r, err := analyzeTTT(filepath.Join(out, RunsDir, name))
		if err != nil {
			return nil, err
		}
		res.Run = name
		res.TestTime = strings.HasPrefix(name, "test-time-")
		if sr, ok := plan[name]; ok {
			res.Size, res.Seed = sr.Size, sr.Seed
		}
		rep.Results = append(rep.Results, res)
		runs = append(runs, r)
	}
	if len(rep.Results) == 0 {
		return nil, fmt.Errorf("no run of the study in %s has finished yet", out)
	}
	files, err := writeTTT(rep, st, runs)
	rep.Files = files
	return rep, err
}

// AnalyzeTTT reads a finished run directory into its row of the study.
func AnalyzeTTT(dir string) (TTTResult, error) {
	res, _, err := analyzeTTT(dir)
	return res, err
}

func analyzeTTT(dir string) (TTTResult, *finishedRun, error) {
	r, err := readRun(dir)
	if err != nil {
		return TTTResult{}, nil, err
	}
	res := TTTResult{Run: filepath.Base(dir), Train: r.cfg.Data.Train, Steps: r.summary.Steps, Metric: r.metric()}
	problems, _, err := train.LoadProblems(r.cfg.Data.Train)
	if err != nil {
		return res, nil, err
	}
	res.Problems = len(problems)
	if n := r.cfg.Data.Subset; n > 0 && n < res.Problems {
		res.Problems = n
	}
	if res.Problems > 0 {
		res.Epochs = float64(res.Steps*r.cfg.Trainer.GlobalBatch) / float64(res.Problems)
	}
	c := r.summary.Collapse
	res.Collapsed, res.MinRewardAccuracy, res.MinRewardAccuracyStep = c.Collapsed, c.Min, c.MinStep
	if c.Collapsed {
		res.CollapseStep = c.Step
	}
	res.Threshold = r.cfg.EarlyStop.CollapseThreshold
	if res.Threshold == 0 {
		res.Threshold = metrics.DefaultCollapseThreshold
	}
	res.Validation = r.trajectory()
	val, err := summarise(res.Validation)
	if err != nil {
		return res, nil, fmt.Errorf("run %s: %w", dir, err)
	}
	res.ValStart, res.ValBest, res.ValBestStep, res.ValFinal = val.Start, val.Best, val.BestStep, val.Final
	if res.ValStartCI, res.ValFinalCI, err = meanValidationCIs(dir, val.StartStep, val.FinalStep); err != nil {
		return res, nil, fmt.Errorf("run %s: %w", dir, err)
	}
	first, last := res.Validation[0], res.Validation[len(res.Validation)-1]
	for _, name := range sortedNames(first.Sets) {
		res.Sets = append(res.Sets, SetResult{Name: name, Start: first.Sets[name], Final: last.Sets[name],
			StartCI: r.validationCI(first.Step, name), FinalCI: r.validationCI(last.Step, name)})
	}
	res.GTRewardStart, _ = r.headMean(keyGroundTruth, windowSteps)
	res.GTRewardEnd, _ = r.tailMean(keyGroundTruth, windowSteps)
	res.ProxyRewardStart, _ = r.headMean(keyProxyReward, windowSteps)
	res.ProxyRewardEnd, _ = r.tailMean(keyProxyReward, windowSteps)
	res.RewardAccuracyStart, _ = r.headMean(keyRewardAccuracy, windowSteps)
	res.RewardAccuracyEnd, _ = r.tailMean(keyRewardAccuracy, windowSteps)
	res.KLEnd, _ = r.tailMean(keyKL, windowSteps)
	return res, r, nil
}

// meanValidationCIs are the intervals of a run's mean validation accuracy
// at two steps, from its per-problem scores (nil where it logged none).
func meanValidationCIs(dir string, steps ...int) (start, final *metrics.Interval, err error) {
	rows, _, err := runlog.ReadFile[runlog.ProblemScoresRow](filepath.Join(dir, runlog.ValidationProblemsFile))
	if err != nil || len(rows) == 0 {
		return nil, nil, err
	}
	cis := make([]*metrics.Interval, len(steps))
	for i, step := range steps {
		if cis[i], err = meanOfSetsCI(rows, step); err != nil {
			return nil, nil, err
		}
	}
	return cis[0], cis[1], nil
}

// meanOfSetsCI is the bootstrap interval of the mean over sets of the
// per-problem accuracies logged at step (sets in name order), or nil when
// nothing was logged at step.
func meanOfSetsCI(rows []runlog.ProblemScoresRow, step int) (*metrics.Interval, error) {
	var at []runlog.ProblemScoresRow
	for _, r := range rows {
		if r.Step == step {
			at = append(at, r)
		}
	}
	if len(at) == 0 {
		return nil, nil
	}
	slices.SortFunc(at, func(a, b runlog.ProblemScoresRow) int { return strings.Compare(a.Set, b.Set) })
	values := make([][]float64, len(at))
	for i, r := range at {
		values[i] = r.Accuracy()
	}
	ci, err := setMeansCI(defaultBootstrap, values)
	if err != nil {
		return nil, fmt.Errorf("validation at step %d: %w", step, err)
	}
	return &ci, nil
}

func sortedNames(m map[string]float64) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// writeTTT writes the study's results files and plots.
func writeTTT(rep *TTTReport, st tttSettings, runs []*finishedRun) ([]string, error) {
	var files []string
	path := filepath.Join(rep.Dir, ResultsFile)
	if err := writeJSONL(path, asRows(rep.Results)); err != nil {
		return nil, err
	}
	files = append(files, path)
	path = filepath.Join(rep.Dir, ResultsTable)
	if err := writeText(path, tttMarkdown(rep, st)); err != nil {
		return files, err
	}
	files = append(files, path)
	dir := filepath.Join(rep.Dir, PlotsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return files, fmt.Errorf("creating plot directory: %w", err)
	}
	metric := ""
	if len(runs) > 0 {
		metric = runs[0].metric()
	}
	panels := []struct {
		name, title, yLabel string
		series              func(r *finishedRun) report.Series
	}{
		{"validation", "Validation accuracy by training set", "mean validation " + metric,
			func(r *finishedRun) report.Series { return report.Extract(r.validation, r.meanKey()) }},
		{"ground_truth_reward", "Ground-truth reward of the training rollouts", "ground-truth reward (moving average)",
			func(r *finishedRun) report.Series {
				return smooth(report.Extract(r.steps, keyGroundTruth), windowSteps)
			}},
		{"proxy_reward", "Majority-voting reward of the training rollouts", "proxy reward (moving average)",
			func(r *finishedRun) report.Series {
				return smooth(report.Extract(r.steps, keyProxyReward), windowSteps)
			}},
		{"reward_accuracy", "Reward accuracy", "reward accuracy (moving average)",
			func(r *finishedRun) report.Series {
				return smooth(report.Extract(r.steps, keyRewardAccuracy), windowSteps)
			}},
		{"kl", "KL to the starting policy", "KL per token",
			func(r *finishedRun) report.Series { return report.Extract(r.steps, keyKL) }},
	}
	for _, p := range panels {
		var series []report.Series
		for i, r := range runs {
			s := p.series(r)
			s.Name = rep.Results[i].Run
			series = append(series, s)
		}
		var err error
		if files, err = saveLinePlot(files, dir, p.name, p.title, p.yLabel, series); err != nil {
			return files, err
		}
	}
	return files, nil
}

// smooth replaces each value by the mean of the last window values up to
// it.
func smooth(s report.Series, window int) report.Series {
	out := report.Series{Name: s.Name, Steps: s.Steps, Values: make([]float64, len(s.Values))}
	var sum float64
	for i, v := range s.Values {
		sum += v
		if i >= window {
			sum -= s.Values[i-window]
		}
		out.Values[i] = sum / float64(min(i+1, window))
	}
	return out
}

// tttMarkdown renders the study as results.md.
func tttMarkdown(rep *TTTReport, st tttSettings) string {
	var b strings.Builder
	if rep.Title != "" {
		fmt.Fprintf(&b, "# %s\n\n%s", rep.Title, rep.Preamble)
	} else {
		fmt.Fprintf(&b, "# Dataset size and test-time training\n\n")
		fmt.Fprintf(&b, "Majority-voting training on subsets of the training set and on validation sets themselves (paper Sec. 5), every run for the same number of steps. ")
	}
	if len(rep.Results) > 0 {
		r := rep.Results[0]
		fmt.Fprintf(&b, "Collapse: reward accuracy below %g%% (the Model Collapse Step). Validation accuracy is %s averaged over the validation sets; training rewards are averaged over the first and last %d steps.\n\n", 100*r.Threshold, r.Metric, windowSteps)
	}
	fmt.Fprintf(&b, "Settings: %s\n\n", settingsLine(st.Recipe, st.Overrides, nil))
	fmt.Fprintf(&b, "| run | train set | problems | epochs | MCS | min reward acc. (step) | val start [95%% CI] | val best (step) | val final [95%% CI] | GT reward start → end | MV reward start → end | reward acc. end | KL end |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Results {
		mcs := fmt.Sprintf("none within %d", r.Steps)
		if r.Collapsed {
			mcs = fmt.Sprint(r.CollapseStep)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.1f | %s | %.3f (%d) | %s | %.3f (%d) | %s | %.3f → %.3f | %.3f → %.3f | %.3f | %.4f |\n",
			r.Run, r.Train, r.Problems, r.Epochs, mcs, r.MinRewardAccuracy, r.MinRewardAccuracyStep,
			withCI(r.ValStart, r.ValStartCI), r.ValBest, r.ValBestStep, withCI(r.ValFinal, r.ValFinalCI), r.GTRewardStart, r.GTRewardEnd,
			r.ProxyRewardStart, r.ProxyRewardEnd, r.RewardAccuracyEnd, r.KLEnd)
	}
	fmt.Fprintf(&b, "\nValidation %s per set, start → final:\n\n", firstTTTMetric(rep))
	var sets []string
	for _, r := range rep.Results {
		for _, s := range r.Sets {
			if !slices.Contains(sets, s.Name) {
				sets = append(sets, s.Name)
			}
		}
	}
	fmt.Fprintf(&b, "| run |")
	for _, s := range sets {
		fmt.Fprintf(&b, " %s |", s)
	}
	fmt.Fprintf(&b, "\n|---|%s\n", strings.Repeat("---:|", len(sets)))
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| %s |", r.Run)
		for _, name := range sets {
			i := slices.IndexFunc(r.Sets, func(s SetResult) bool { return s.Name == name })
			if i < 0 {
				fmt.Fprintf(&b, " – |")
				continue
			}
			fmt.Fprintf(&b, " %.3f → %.3f |", r.Sets[i].Start, r.Sets[i].Final)
		}
		fmt.Fprintf(&b, "\n")
	}
	if sizes := summariseSizes(rep.Results); len(sizes) > 0 && rep.Title == "" {
		fmt.Fprintf(&b, "\nBy training-set size (paper Fig. 6-7), over the seeds of each size:\n\n")
		fmt.Fprintf(&b, "| size | runs | collapsed | mean MCS of the collapsed | val start | val final mean (min–max) | KL end |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range sizes {
			size := fmt.Sprint(s.Size)
			if s.Size == 0 {
				size = "whole set"
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %.1f | %.3f | %.3f (%.3f–%.3f) | %.4f |\n", size, s.Runs, s.Collapsed, s.MeanCollapseStep, s.ValStartMean, s.ValFinalMean, s.ValFinalMin, s.ValFinalMax, s.KLEndMean)
		}
	}
	for _, c := range compareTTT(rep.Results) {
		fmt.Fprintf(&b, "\nTest-time training on %s against training-set RL of the same budget (paper Fig. 8), %s on %s with 95%% bootstrap intervals over its problems:\n\n", c.TestSet, firstTTTMetric(rep), c.TestSet)
		fmt.Fprintf(&b, "| run | start | final |\n|---|---:|---:|\n")
		fmt.Fprintf(&b, "| %s (test-time) | %s | %s |\n", c.TTTRun, withCI(c.TTT.Start, c.TTT.StartCI), withCI(c.TTT.Final, c.TTT.FinalCI))
		for _, t := range c.Train {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Run, withCI(t.Set.Start, t.Set.StartCI), withCI(t.Set.Final, t.Set.FinalCI))
		}
	}
	if len(rep.Pending) > 0 {
		fmt.Fprintf(&b, "\nNot finished yet, and left out: %s.\n", strings.Join(rep.Pending, ", "))
	}
	return b.String()
}

func firstTTTMetric(rep *TTTReport) string {
	if len(rep.Results) == 0 {
		return ""
	}
	return rep.Results[0].Metric
}

// validationCI is the confidence interval the run logged for a set's
// validation metric at step, or nil where it logged none.
func (r *finishedRun) validationCI(step int, set string) *metrics.Interval {
	for _, row := range r.validation {
		if int(row[runlog.KeyStep]) != step {
			continue
		}
		lo, okLo := row[runlog.ValidationKey(set, r.metric()+runlog.CILow)]
		hi, okHi := row[runlog.ValidationKey(set, r.metric()+runlog.CIHigh)]
		if okLo && okHi {
			return &metrics.Interval{Lo: lo, Hi: hi}
		}
	}
	return nil
}

// TTTSize summarises the training-set runs of one subset size over their
// seeds (paper Fig. 6): how many collapsed, and the spread of their final
// validation accuracy.
type TTTSize struct {
	Size      int `json:"size"` // 0: the whole training set
	Runs      int `json:"runs"`
	Collapsed int `json:"collapsed"`
	// MeanCollapseStep is over the runs that collapsed (0 if none did).
	MeanCollapseStep float64 `json:"mean_collapse_step"`
	ValFinalMean     float64 `json:"val_final_mean"`
	ValFinalMin      float64 `json:"val_final_min"`
	ValFinalMax      float64 `json:"val_final_max"`
	ValStartMean     float64 `json:"val_start_mean"`
	KLEndMean        float64 `json:"kl_end_mean"`
}

// summariseSizes groups the training-set runs by size, in the order the
// sizes first appear.
func summariseSizes(results []TTTResult) []TTTSize {
	var out []TTTSize
	index := map[int]int{}
	for _, r := range results {
		if r.TestTime {
			continue
		}
		i, ok := index[r.Size]
		if !ok {
			i = len(out)
			index[r.Size] = i
			out = append(out, TTTSize{Size: r.Size, ValFinalMin: r.ValFinal, ValFinalMax: r.ValFinal})
		}
		s := &out[i]
		s.Runs++
		if r.Collapsed {
			s.Collapsed++
			s.MeanCollapseStep += float64(r.CollapseStep)
		}
		s.ValFinalMean += r.ValFinal
		s.ValStartMean += r.ValStart
		s.KLEndMean += r.KLEnd
		s.ValFinalMin, s.ValFinalMax = min(s.ValFinalMin, r.ValFinal), max(s.ValFinalMax, r.ValFinal)
	}
	for i := range out {
		s := &out[i]
		if s.Collapsed > 0 {
			s.MeanCollapseStep /= float64(s.Collapsed)
		}
		n := float64(s.Runs)
		s.ValFinalMean, s.ValStartMean, s.KLEndMean = s.ValFinalMean/n, s.ValStartMean/n, s.KLEndMean/n
	}
	return out
}

// TTTComparison is paper Fig. 8 for one test set: its accuracy after
// training on it (test-time training) against after training on the
// training set for the same number of steps.
type TTTComparison struct {
	TestSet string    `json:"test_set"`
	TTTRun  string    `json:"ttt_run"`
	TTT     SetResult `json:"ttt"`
	// Train are the training-set runs' accuracies on the test set, in
	// the order of the results.
	Train []TTTTrainOnSet `json:"train"`
}

// TTTTrainOnSet is a training-set run's accuracy on a test set.
type TTTTrainOnSet struct {
	Run string    `json:"run"`
	Set SetResult `json:"set"`
}

// compareTTT pairs every test-time run with the training-set runs that
// validated on its set.
func compareTTT(results []TTTResult) []TTTComparison {
	var out []TTTComparison
	for _, t := range results {
		if !t.TestTime {
			continue
		}
		set := strings.TrimPrefix(t.Run, "test-time-")
		i := slices.IndexFunc(t.Sets, func(s SetResult) bool { return s.Name == set })
		if i < 0 {
			continue
		}
		c := TTTComparison{TestSet: set, TTTRun: t.Run, TTT: t.Sets[i]}
		for _, r := range results {
			if r.TestTime {
				continue
			}
			if j := slices.IndexFunc(r.Sets, func(s SetResult) bool { return s.Name == set }); j >= 0 {
				c.Train = append(c.Train, TTTTrainOnSet{Run: r.Run, Set: r.Sets[j]})
			}
		}
		out = append(out, c)
	}
	return out
}

// withCI is a value with its interval, "0.450 [0.300, 0.600]".
func withCI(v float64, ci *metrics.Interval) string {
	if ci == nil {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.3f [%.3f, %.3f]", v, ci.Lo, ci.Hi)
}
