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
	"github.com/urlvr/urlvr/train"
)

// DefaultSizes are the training subset sizes of the dataset-size study, the
// smaller half of paper Sec. 5.1's {32, ..., 16384}.
var DefaultSizes = []int{32, 128, 512, 2048}

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
	// training set); each gets one run.
	Sizes []int
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
	TestSets  []string `json:"test_sets"`
}

var tttOwned = map[string]string{
	"data.subset":     "choose subset sizes with --sizes",
	"name":            "sub-runs are named subset-<n> and test-time-<set>",
	"trainer.out_dir": "sub-runs live in <out>/runs",
}

// TTTResult is one run of the study.
type TTTResult struct {
	Run      string `json:"run"`
	TestTime bool   `json:"test_time"`
	Train    string `json:"train"`    // the training dataset
	Problems int    `json:"problems"` // training problems after the subset
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
	Metric      string      `json:"metric"`
	ValStart    float64     `json:"val_start"`
	ValBest     float64     `json:"val_best"`
	ValBestStep int         `json:"val_best_step"`
	ValFinal    float64     `json:"val_final"`
	Sets        []SetResult `json:"sets"`

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

// SetResult is one validation set's accuracy at the start and the end.
type SetResult struct {
	Name  string  `json:"name"`
	Start float64 `json:"start"`
	Final float64 `json:"final"`
}

// TTTReport is the outcome of the study.
type TTTReport struct {
	Dir     string
	Results []TTTResult
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
	var runs []subRun
	seen := map[int]bool{}
	for _, n := range o.Sizes {
		if n < 1 {
			return nil, fmt.Errorf("subset size %d: want >= 1", n)
		}
		if seen[n] {
			return nil, fmt.Errorf("subset size %d given twice", n)
		}
		seen[n] = true
		cfg := base
		cfg.Data.Subset = n
		r, err := place(o.Out, cfg, fmt.Sprintf("subset-%d", n))
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
	for _, n := range st.Sizes {
		names = append(names, fmt.Sprintf("subset-%d", n))
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
	first, last := res.Validation[0], res.Validation[len(res.Validation)-1]
	for _, name := range sortedNames(first.Sets) {
		res.Sets = append(res.Sets, SetResult{Name: name, Start: first.Sets[name], Final: last.Sets[name]})
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
	var lines []any
	for _, r := range rep.Results {
		lines = append(lines, r)
	}
	var files []string
	path := filepath.Join(rep.Dir, ResultsFile)
	if err := writeJSONL(path, lines); err != nil {
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
		plt, err := report.LinePlot(p.title, p.yLabel, series)
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
	fmt.Fprintf(&b, "# Dataset size and test-time training\n\n")
	fmt.Fprintf(&b, "Majority-voting training on subsets of the training set and on validation sets themselves (paper Sec. 5), every run for the same number of steps. ")
	if len(rep.Results) > 0 {
		r := rep.Results[0]
		fmt.Fprintf(&b, "Collapse: reward accuracy below %g%% (the Model Collapse Step). Validation accuracy is %s averaged over the validation sets; training rewards are averaged over the first and last %d steps.\n\n", 100*r.Threshold, r.Metric, windowSteps)
	}
	fmt.Fprintf(&b, "Settings: %s\n\n", settingsLine(st.Recipe, st.Overrides, nil))
	fmt.Fprintf(&b, "| run | train set | problems | epochs | MCS | min reward acc. (step) | val start | val best (step) | val final | GT reward start → end | MV reward start → end | reward acc. end | KL end |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Results {
		mcs := fmt.Sprintf("none within %d", r.Steps)
		if r.Collapsed {
			mcs = fmt.Sprint(r.CollapseStep)
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.1f | %s | %.3f (%d) | %.3f | %.3f (%d) | %.3f | %.3f → %.3f | %.3f → %.3f | %.3f | %.4f |\n",
			r.Run, r.Train, r.Problems, r.Epochs, mcs, r.MinRewardAccuracy, r.MinRewardAccuracyStep,
			r.ValStart, r.ValBest, r.ValBestStep, r.ValFinal, r.GTRewardStart, r.GTRewardEnd,
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
