package experiment

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/runlog"
)

// IntrinsicReport is the outcome of the intrinsic-reward study.
type IntrinsicReport struct {
	Dir       string
	Model     string
	Bootstrap int // resamples behind every interval
	Rewards   []RewardSummary
	Runs      []IntrinsicRun
	Pending   []string
	Files     []string
}

// CI is a value with its 95% bootstrap interval.
type CI struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// CIPoint is validation accuracy at one step with its interval.
type CIPoint struct {
	Step int `json:"step"`
	CI
}

// RewardSummary is one reward over its seeds: the validation curve of the
// per-problem accuracy averaged over seeds, with intervals over problems,
// and whether it rose and then fell beyond them.
type RewardSummary struct {
	Reward   string    `json:"reward"`
	Seeds    int       `json:"seeds"`
	Problems int       `json:"problems"`
	Metric   string    `json:"metric"` // avg@n
	Curve    []CIPoint `json:"curve"`
	Start    CIPoint   `json:"start"`
	Peak     CIPoint   `json:"peak"` // the step of the highest point estimate
	End      CIPoint   `json:"end"`
	// Rise is peak − start and Fall peak − end, each with a paired
	// interval (the same resampled problems at both steps).
	Rise CI `json:"rise"`
	Fall CI `json:"fall"`
	// RiseThenFall: both intervals lie above 0.
	RiseThenFall bool                `json:"rise_then_fall"`
	Modes        map[FailureMode]int `json:"modes"`
}

// IntrinsicRun is one run: its failure mode by ClassifyFailure and example
// rollouts from its first and last sample dumps.
type IntrinsicRun struct {
	Run      string         `json:"run"`
	Reward   string         `json:"reward"`
	Seed     uint64         `json:"seed"`
	Steps    int            `json:"steps"`
	Mode     FailureMode    `json:"mode"`
	Why      string         `json:"why"`
	Evidence RunEvidence    `json:"evidence"`
	Before   []sampleRecord `json:"before"`
	After    []sampleRecord `json:"after"`
}

// intrinsicRunData is a finished run with its per-problem validation.
type intrinsicRunData struct {
	run  *finishedRun
	sets []string            // set names, sorted
	val  map[int][][]float64 // step -> [set][problem] accuracy
	n    int
}

func readIntrinsicRun(dir string) (*intrinsicRunData, error) {
	r, err := readRun(dir)
	if err != nil {
		return nil, err
	}
	rows, err := readLastPerStep(filepath.Join(dir, problemValidationFile), func(p problemValidation) int { return p.Step })
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("run %s: no per-problem validation", dir)
	}
	d := &intrinsicRunData{run: r, val: map[int][][]float64{}, n: rows[0].N}
	for name := range rows[0].Sets {
		d.sets = append(d.sets, name)
	}
	slices.Sort(d.sets)
	for _, row := range rows {
		vals := make([][]float64, len(d.sets))
		for s, name := range d.sets {
			counts, ok := row.Sets[name]
			if !ok || len(counts) != len(rows[0].Sets[name]) {
				return nil, fmt.Errorf("run %s: validation at step %d lacks set %s or changed its size", dir, row.Step, name)
			}
			vals[s] = make([]float64, len(counts))
			for i, c := range counts {
				vals[s][i] = float64(c) / float64(row.N)
			}
		}
		d.val[row.Step] = vals
	}
	return d, nil
}

func (d *intrinsicRunData) steps() []int {
	steps := make([]int, 0, len(d.val))
	for s := range d.val {
		steps = append(steps, s)
	}
	slices.Sort(steps)
	return steps
}

// diffCI is b − a over problems with its paired bootstrap interval: the
// interval of the per-problem differences.
func diffCI(bs metrics.BootstrapConfig, a, b [][]float64) (CI, error) {
	if len(a) != len(b) {
		return CI{}, fmt.Errorf("%d validation sets at one step and %d at another", len(a), len(b))
	}
	d := make([][]float64, len(a))
	for s := range a {
		if len(b[s]) != len(a[s]) {
			return CI{}, fmt.Errorf("set %d has %d problems at one step and %d at another", s, len(a[s]), len(b[s]))
		}
		d[s] = make([]float64, len(a[s]))
		for i := range a[s] {
			d[s][i] = b[s][i] - a[s][i]
		}
	}
	ci, err := setMeansCI(bs, d)
	if err != nil {
		return CI{}, err
	}
	return CI{Value: meanOfSetMeans(b) - meanOfSetMeans(a), Lo: ci.Lo, Hi: ci.Hi}, nil
}

func pointCI(bs metrics.BootstrapConfig, step int, vals [][]float64) (CIPoint, error) {
	ci, err := setMeansCI(bs, vals)
	if err != nil {
		return CIPoint{}, fmt.Errorf("step %d: %w", step, err)
	}
	return CIPoint{Step: step, CI: CI{Value: meanOfSetMeans(vals), Lo: ci.Lo, Hi: ci.Hi}}, nil
}

// summariseReward averages the seeds' per-problem accuracy at the steps
// every seed validated, and finds the start, peak and end.
func summariseReward(bs metrics.BootstrapConfig, reward string, runs []*intrinsicRunData) (RewardSummary, error) {
	rs := RewardSummary{Reward: reward, Seeds: len(runs), Modes: map[FailureMode]int{}, Metric: runlog.Avg(runs[0].n)}
	steps := runs[0].steps()
	for _, r := range runs[1:] {
		steps = slices.DeleteFunc(steps, func(s int) bool { _, ok := r.val[s]; return !ok })
	}
	if len(steps) == 0 {
		return rs, fmt.Errorf("reward %s: its seeds share no validation step", reward)
	}
	avg := map[int][][]float64{}
	for _, s := range steps {
		first := runs[0].val[s]
		m := make([][]float64, len(first))
		for k := range first {
			m[k] = make([]float64, len(first[k]))
			for _, r := range runs {
				if len(r.val[s]) != len(first) || len(r.val[s][k]) != len(first[k]) {
					return rs, fmt.Errorf("reward %s: seeds validated on different sets", reward)
				}
				for i, v := range r.val[s][k] {
					m[k][i] += v / float64(len(runs))
				}
			}
		}
		avg[s] = m
		p, err := pointCI(bs, s, m)
		if err != nil {
			return rs, fmt.Errorf("reward %s: %w", reward, err)
		}
		rs.Curve = append(rs.Curve, p)
	}
	for _, v := range avg[steps[0]] {
		rs.Problems += len(v)
	}
	rs.Start, rs.End = rs.Curve[0], rs.Curve[len(rs.Curve)-1]
	rs.Peak = rs.Start
	for _, p := range rs.Curve {
		if p.Value > rs.Peak.Value {
			rs.Peak = p
		}
	}
	var err error
	if rs.Rise, err = diffCI(bs, avg[rs.Start.Step], avg[rs.Peak.Step]); err != nil {
		return rs, fmt.Errorf("reward %s: %w", reward, err)
	}
	if rs.Fall, err = diffCI(bs, avg[rs.End.Step], avg[rs.Peak.Step]); err != nil {
		return rs, fmt.Errorf("reward %s: %w", reward, err)
	}
	rs.RiseThenFall = rs.Rise.Lo > 0 && rs.Fall.Lo > 0
	return rs, nil
}

// runEvidence gathers what ClassifyFailure reads from one run.
func runEvidence(bs metrics.BootstrapConfig, d *intrinsicRunData) (RunEvidence, []sampleRecord, []sampleRecord, error) {
	r := d.run
	var e RunEvidence
	e.LengthStart, _ = r.headMean(keyResponseLength, windowSteps)
	e.LengthEnd, _ = r.tailMean(keyResponseLength, windowSteps)
	e.EntropyStart, _ = r.headMean(runlog.KeyEntropy, windowSteps)
	e.EntropyEnd, _ = r.tailMean(runlog.KeyEntropy, windowSteps)
	e.TruncatedStart, _ = r.headMean(runlog.KeyTruncated, windowSteps)
	e.TruncatedEnd, _ = r.tailMean(runlog.KeyTruncated, windowSteps)
	e.NoAnswerEnd, _ = r.tailMean(runlog.KeyNoAnswer, windowSteps)
	steps := d.steps()
	first, last := d.val[steps[0]], d.val[steps[len(steps)-1]]
	e.ValStart, e.ValEnd = meanOfSetMeans(first), meanOfSetMeans(last)
	diff, err := diffCI(bs, first, last)
	if err != nil {
		return e, nil, nil, fmt.Errorf("run %s: %w", r.dir, err)
	}
	e.ValDiffLo, e.ValDiffHi = diff.Lo, diff.Hi
	dumps := sampleSteps(r.dir)
	if len(dumps) == 0 {
		return e, nil, nil, nil
	}
	before, err := readSamples(r.dir, dumps[0])
	if err != nil {
		return e, nil, nil, err
	}
	after, err := readSamples(r.dir, dumps[len(dumps)-1])
	if err != nil {
		return e, nil, nil, err
	}
	e.RepeatStart, e.RepeatEnd = repeatedLineShare(responses(before)), repeatedLineShare(responses(after))
	e.TopAnswer, e.TopAnswerShare, e.TopAnswerPrompts = topAnswer(after)
	return e, examples(before), examples(after), nil
}

func responses(rs []sampleRecord) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Response
	}
	return out
}

// examples picks the highest-reward rollout of each of the first two
// prompts of a dump: what the reward reinforced.
func examples(rs []sampleRecord) []sampleRecord {
	var out []sampleRecord
	var prompts []string
	for _, r := range rs {
		if !slices.Contains(prompts, r.PromptID) {
			prompts = append(prompts, r.PromptID)
		}
	}
	for _, p := range prompts[:min(2, len(prompts))] {
		best := -1
		for i, r := range rs {
			if r.PromptID == p && (best < 0 || r.Reward > rs[best].Reward) {
				best = i
			}
		}
		out = append(out, rs[best])
	}
	return out
}

// ReportIntrinsic analyses the finished runs of the study in out and
// writes results.jsonl (one line per run), rewards.json, results.md and
// the figures.
func ReportIntrinsic(out string) (*IntrinsicReport, error) {
	var st intrinsicSettings
	if err := readSettings(out, "intrinsic", &st); err != nil {
		return nil, err
	}
	bs := defaultBootstrap
	rep := &IntrinsicReport{Dir: out, Model: st.Model, Bootstrap: bs.Resamples}
	byReward := map[string][]*intrinsicRunData{}
	for _, est := range st.Rewards {
		for _, seed := range st.Seeds {
			name := intrinsicRunName(est, seed)
			dir := filepath.Join(out, RunsDir, filepath.FromSlash(name))
			if !finished(dir) {
				rep.Pending = append(rep.Pending, name)
				continue
			}
			d, err := readIntrinsicRun(dir)
			if err != nil {
				return nil, err
			}
			e, before, after, err := runEvidence(bs, d)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			mode, why := ClassifyFailure(e)
			rep.Runs = append(rep.Runs, IntrinsicRun{Run: name, Reward: est, Seed: seed, Steps: d.run.summary.Steps,
				Mode: mode, Why: why, Evidence: e, Before: before, After: after})
			byReward[est] = append(byReward[est], d)
		}
	}
	if len(rep.Runs) == 0 {
		return nil, fmt.Errorf("no run of the study in %s has finished yet", out)
	}
	for _, est := range st.Rewards {
		if len(byReward[est]) == 0 {
			continue
		}
		rs, err := summariseReward(bs, est, byReward[est])
		if err != nil {
			return nil, err
		}
		for _, r := range rep.Runs {
			if r.Reward == est {
				rs.Modes[r.Mode]++
			}
		}
		rep.Rewards = append(rep.Rewards, rs)
	}
	path := filepath.Join(out, ResultsFile)
	if err := writeJSONL(path, asRows(rep.Runs)); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	path = filepath.Join(out, "rewards.json")
	if err := writeJSON(path, rep.Rewards); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	path = filepath.Join(out, ResultsTable)
	if err := writeText(path, intrinsicMarkdown(rep, st)); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	files, err := intrinsicFigures(rep, byReward, st)
	rep.Files = append(rep.Files, files...)
	return rep, err
}

// seedMean is a training metric averaged over a reward's seeds at each
// step they all logged, smoothed by a trailing mean of windowSteps.
func seedMean(runs []*intrinsicRunData, key string) report.Series {
	finished := make([]*finishedRun, len(runs))
	for i, d := range runs {
		finished[i] = d.run
	}
	return smooth(stepMean(finished, key), windowSteps)
}

func intrinsicFigures(rep *IntrinsicReport, byReward map[string][]*intrinsicRunData, st intrinsicSettings) ([]string, error) {
	dir := filepath.Join(rep.Dir, PlotsDir)
	val := panel{Title: "Validation (mean of sets), 95% CI over problems", YLabel: "validation " + rep.Rewards[0].Metric}
	for _, rs := range rep.Rewards {
		b := bandSeries{Series: report.Series{Name: rs.Reward}, Dashed: rs.Reward == "ground_truth"}
		for _, p := range rs.Curve {
			b.Steps = append(b.Steps, float64(p.Step))
			b.Values = append(b.Values, p.Value)
			b.Lo = append(b.Lo, p.Lo)
			b.Hi = append(b.Hi, p.Hi)
		}
		val.Lines = append(val.Lines, b)
	}
	train := func(title, key string) panel {
		p := panel{Title: title + " (seed mean)", YLabel: key}
		for _, rs := range rep.Rewards {
			s := seedMean(byReward[rs.Reward], key)
			s.Name = rs.Reward
			p.Lines = append(p.Lines, bandSeries{Series: s, Dashed: rs.Reward == "ground_truth"})
		}
		return p
	}
	panels := []panel{
		val,
		train("Ground-truth reward of the rollouts", runlog.KeyGroundTruthReward),
		train("Label accuracy", runlog.KeyLabelAccuracy),
		train("Reward accuracy", runlog.KeyRewardAccuracy),
		train("Actor entropy", runlog.KeyEntropy),
		train("Response length", runlog.KeyResponseLength),
	}
	files, err := saveFigure(panels, 3, dir, "intrinsic", 4.6*vg.Inch, 3.4*vg.Inch)
	if err != nil {
		return files, err
	}
	var pv []panel
	for _, rs := range rep.Rewards {
		proxy := seedMean(byReward[rs.Reward], runlog.KeyProxyReward)
		proxy.Name = "proxy reward"
		gt := seedMean(byReward[rs.Reward], runlog.KeyGroundTruthReward)
		gt.Name = "ground-truth reward"
		pv = append(pv, panel{Title: rs.Reward, YLabel: "reward (mean of seeds)",
			Lines: []bandSeries{{Series: proxy}, {Series: gt, Dashed: true}}})
	}
	more, err := saveFigure(pv, 4, dir, "proxy-vs-gt", 3.6*vg.Inch, 2.8*vg.Inch)
	return append(files, more...), err
}

func ciText(c CI) string { return fmt.Sprintf("%.3f [%.3f, %.3f]", c.Value, c.Lo, c.Hi) }

func intrinsicMarkdown(rep *IntrinsicReport, st intrinsicSettings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Intrinsic rewards side by side (paper Sec. 4.1, Figs. 2-3)\n\n")
	fmt.Fprintf(&b, "Base model `%s`; seeds %v; settings: %s; study defaults `%s`; validation every %d steps, %d samples per problem. ",
		st.Model, st.Seeds, settingsLine(st.Recipe, st.Overrides, nil), strings.Join(st.Defaults, " "), st.EvalEvery, st.EvalN)
	fmt.Fprintf(&b, "Validation accuracy is each set's mean per-problem accuracy (averaged over seeds first), averaged over sets; intervals are 95%% percentile bootstrap intervals over problems (resampled within each set, B = %d, seed %d). Rise = peak − start and fall = peak − end, with paired intervals; \"rise then fall\" means both intervals lie above 0. The peak is the step of the highest point estimate, so the rise is biased upward by that choice.\n\n", rep.Bootstrap, defaultBootstrap.Seed)
	fmt.Fprintf(&b, "| reward | seeds | start | peak (step) | end | rise | fall | rise then fall | failure modes |\n|---|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, rs := range rep.Rewards {
		var modes []string
		keys := mapsKeys(rs.Modes)
		slices.Sort(keys)
		for _, m := range keys {
			modes = append(modes, fmt.Sprintf("%s ×%d", m, rs.Modes[m]))
		}
		verdict := "no"
		if rs.RiseThenFall {
			verdict = "yes"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s (%d) | %s | %s | %s | %s | %s |\n", rs.Reward, rs.Seeds, ciText(rs.Start.CI),
			ciText(rs.Peak.CI), rs.Peak.Step, ciText(rs.End.CI), ciText(rs.Rise), ciText(rs.Fall), verdict, strings.Join(modes, ", "))
	}
	fmt.Fprintf(&b, "\n## Failure mode of each run\n\nThe rule (first that holds): length collapse (end length < %.0f%% of start); repetition (≥ %.0f%% repeated lines in the last sample dump and %.0f points above the first, or ≥ %.0f%% of responses at the length limit and %.0f points above the start); format hack (≥ %.0f%% without an answer); constant answer (one answer ≥ %.0f%% of the last dump, for ≥ %d prompts); confident-wrong sharpening (entropy < %.0f%% of start and validation end − start interval below 0); decline without a named pattern (validation fell, entropy did not); none within budget. Training metrics are means of the first and last %d steps.\n\n",
		100*lengthCollapseRatio, 100*repetitionShare, 100*repetitionRise, 100*truncationShare, 100*truncationRise, 100*noAnswerShare, 100*constantAnswerShare, constantAnswerPrompts, 100*sharpenedEntropyRatio, windowSteps)
	fmt.Fprintf(&b, "| run | mode | evidence | length | entropy | repeated lines | at limit | no answer |\n|---|---|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Runs {
		e := r.Evidence
		fmt.Fprintf(&b, "| %s | %s | %s | %.1f → %.1f | %.3f → %.3f | %.0f%% → %.0f%% | %.0f%% → %.0f%% | %.0f%% |\n", r.Run, r.Mode, r.Why,
			e.LengthStart, e.LengthEnd, e.EntropyStart, e.EntropyEnd, 100*e.RepeatStart, 100*e.RepeatEnd, 100*e.TruncatedStart, 100*e.TruncatedEnd, 100*e.NoAnswerEnd)
	}
	fmt.Fprintf(&b, "\n## Example rollouts, first and last sample dump (highest-reward rollout of two prompts, first seed)\n\n")
	done := map[string]bool{}
	for _, r := range rep.Runs {
		if done[r.Reward] || len(r.Before) == 0 {
			continue
		}
		done[r.Reward] = true
		fmt.Fprintf(&b, "### %s (%s: %s)\n\n", r.Reward, r.Run, r.Mode)
		for _, part := range []struct {
			label string
			rs    []sampleRecord
		}{{"before", r.Before}, {"after", r.After}} {
			for _, s := range part.rs {
				ok := "wrong"
				if s.Correct {
					ok = "correct"
				}
				fmt.Fprintf(&b, "- %s, step %d, `%s` (gold %s, reward %.3g, %s):\n\n  ```\n  %s\n  ```\n", part.label, s.Step,
					strings.TrimSpace(s.Prompt), s.Gold, s.Reward, ok, strings.ReplaceAll(s.Response, "\n", "\n  "))
			}
		}
		fmt.Fprintf(&b, "\n")
	}
	if len(rep.Pending) > 0 {
		fmt.Fprintf(&b, "Not finished yet, and left out: %s.\n", strings.Join(rep.Pending, ", "))
	}
	return b.String()
}

func mapsKeys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
