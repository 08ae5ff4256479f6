package experiment

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/train"
)

// Files of a self-verification study besides results.jsonl (one line per
// finished run) and results.md.
const (
	// SVConditionsFile holds one summary per condition (model × reward)
	// over its finished seeds.
	SVConditionsFile = "conditions.json"
)

// svWindow is how many steps the start and end of the per-step training
// metrics are averaged over, and the trailing window the reward-accuracy
// curve is smoothed with before its minimum is taken: the study's runs are
// short, so the window is short too.
const svWindow = 3

// svDipMargin is how far, in reward accuracy, the smoothed curve must fall
// below its start and then climb back above its minimum for the study to
// call it a dip that recovered (paper Fig. 14).
const svDipMargin = 0.05

// SVPoint is a validation accuracy with its 95% interval at one step.
type SVPoint struct {
	Step  int     `json:"step"`
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// SVDip is a reward-accuracy curve's start (mean of its first svWindow
// steps), its minimum after smoothing with a trailing svWindow mean and
// the step of that minimum, and its end (mean of its last svWindow steps).
type SVDip struct {
	Start   float64 `json:"start"`
	Min     float64 `json:"min"`
	MinStep int     `json:"min_step"`
	End     float64 `json:"end"`
	// Dip is Start − Min and Recovery End − Min; DipThenRecover is both at
	// least svDipMargin with the minimum before the last step.
	Dip            float64 `json:"dip"`
	Recovery       float64 `json:"recovery"`
	DipThenRecover bool    `json:"dip_then_recover"`
}

// SVVerify is what a self-verification run measures of its verifier.
type SVVerify struct {
	// RewardAccuracy is the agreement of the verdicts (accepted: reward
	// >= 1/2) with the exact verifier, over steps.
	RewardAccuracy SVDip `json:"reward_accuracy"`
	// RewardAccuracyMin and its step repeat RewardAccuracy's as plain
	// fields of a results row.
	RewardAccuracyMin     float64 `json:"reward_accuracy_min"`
	RewardAccuracyMinStep int     `json:"reward_accuracy_min_step"`
	// RewardStart and RewardEnd are the self-verify reward (the share of
	// rollouts the policy accepts) over the first and last svWindow steps;
	// OracleStart and OracleEnd the share the exact verifier accepts.
	RewardStart float64 `json:"reward_start"`
	RewardEnd   float64 `json:"reward_end"`
	// ParseRate is the share of replies with a verdict, TruePositive and
	// FalsePositive the verifier's acceptance rates of correct and of
	// wrong rollouts, each the mean over the steps that logged it (a rate
	// no step could measure, the true-positive rate of a policy that never
	// solved a problem, is nil).
	ParseRate     float64  `json:"parse_rate"`
	TruePositive  *float64 `json:"true_positive_rate"`
	FalsePositive *float64 `json:"false_positive_rate"`
	// Tokens and Seconds are the verification's totals over the run,
	// Share its seconds over the run's step seconds.
	Tokens  float64 `json:"tokens"`
	Seconds float64 `json:"seconds"`
	Share   float64 `json:"share_of_step_time"`
}

// SVRunResult is one finished run of the study.
type SVRunResult struct {
	Run    string `json:"run"`
	Model  string `json:"model"` // base or aligned
	Reward string `json:"reward"`
	Seed   int    `json:"seed"`
	Steps  int    `json:"steps"`
	// Metric is the validation metric (avg@n), Problems and Samples the
	// validation problems and samples per problem behind each value.
	Metric   string `json:"metric"`
	Problems int    `json:"val_problems"`
	Samples  int    `json:"val_samples"`
	// Validation at the start, at its best and at the end, each with the
	// run's 95% bootstrap interval over the validation problems. Flat
	// fields, so that the dashboard's results table shows them.
	ValStart    float64 `json:"val_start"`
	ValStartLo  float64 `json:"val_start_lo"`
	ValStartHi  float64 `json:"val_start_hi"`
	ValBest     float64 `json:"val_best"`
	ValBestStep int     `json:"val_best_step"`
	ValBestLo   float64 `json:"val_best_lo"`
	ValBestHi   float64 `json:"val_best_hi"`
	ValFinal    float64 `json:"val_final"`
	ValFinalLo  float64 `json:"val_final_lo"`
	ValFinalHi  float64 `json:"val_final_hi"`
	// GTRewardStart and GTRewardEnd are the ground-truth reward of the
	// training rollouts over the first and last svWindow steps.
	GTRewardStart float64 `json:"gt_reward_start"`
	GTRewardEnd   float64 `json:"gt_reward_end"`
	// StepSeconds is the run's total step time.
	StepSeconds float64 `json:"step_seconds"`
	// The verifier's measures, for the self-verification rewards only;
	// its fields are the row's own in JSON.
	*SVVerify
	Validation []SVPoint `json:"validation"`
}

func (r SVRunResult) start() SVPoint {
	return SVPoint{Step: 0, Value: r.ValStart, Lo: r.ValStartLo, Hi: r.ValStartHi}
}
func (r SVRunResult) best() SVPoint {
	return SVPoint{Step: r.ValBestStep, Value: r.ValBest, Lo: r.ValBestLo, Hi: r.ValBestHi}
}
func (r SVRunResult) final() SVPoint {
	return SVPoint{Step: r.Steps, Value: r.ValFinal, Lo: r.ValFinalLo, Hi: r.ValFinalHi}
}

// SVSpread is a value's mean over seeds with its sample standard
// deviation (0 for one seed) and range.
type SVSpread struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

func spreadOf(xs []float64) SVSpread {
	if len(xs) == 0 {
		return SVSpread{}
	}
	s := SVSpread{Mean: mean(xs), Min: slices.Min(xs), Max: slices.Max(xs)}
	if len(xs) > 1 {
		var ss float64
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(ss / float64(len(xs)-1))
	}
	return s
}

// SVCondition summarises one model × reward over its finished seeds.
type SVCondition struct {
	Model    string   `json:"model"`
	Reward   string   `json:"reward"`
	Runs     []string `json:"runs"`
	Problems int      `json:"val_problems"`
	Samples  int      `json:"val_samples"`
	// Validation over seeds: start, best and final.
	ValStart SVSpread `json:"val_start"`
	ValBest  SVSpread `json:"val_best"`
	ValFinal SVSpread `json:"val_final"`
	// Gain is final − start, over seeds.
	Gain          SVSpread `json:"gain"`
	GTRewardStart SVSpread `json:"gt_reward_start"`
	GTRewardEnd   SVSpread `json:"gt_reward_end"`
	// Curve is the validation accuracy over steps, the mean over seeds of
	// each seed's value and of its interval's bounds, at the steps every
	// seed validated.
	Curve []SVPoint `json:"curve"`
	// StepSeconds is the mean step time.
	StepSeconds float64 `json:"step_seconds"`
	// Verify is for the self-verification rewards: RewardAccuracy is taken
	// on the seed-mean curve, the rest are means over seeds.
	Verify *SVVerify `json:"verify,omitempty"`
	// VerifyPerStep are the verification tokens and seconds per step.
	VerifyTokensPerStep  float64 `json:"verify_tokens_per_step,omitempty"`
	VerifySecondsPerStep float64 `json:"verify_seconds_per_step,omitempty"`
}

// SelfVerifyReport is the study's outcome.
type SelfVerifyReport struct {
	Dir        string
	Base       string // the models' names as given
	Aligned    string
	Runs       []SVRunResult
	Conditions []SVCondition
	// Pending are the planned runs that have not finished.
	Pending []string
	Files   []string
}

// svStepData is a finished run with its condition.
type svStepData struct {
	res SVRunResult
	run *finishedRun
}

// ReportSelfVerify analyses the finished runs of the study in out and
// writes results.jsonl, conditions.json, results.md and the plots. A study
// still training is reported on its finished runs, the others listed as
// pending.
func ReportSelfVerify(out string) (*SelfVerifyReport, error) {
	var st svSettings
	if err := readSettings(out, svKind, &st); err != nil {
		return nil, err
	}
	rep := &SelfVerifyReport{Dir: out, Base: st.Base, Aligned: st.Aligned}
	var data []svStepData
	for _, pr := range svPlan(st.Seeds) {
		name := svRunName(pr.Model, pr.Reward, pr.Seed)
		dir := filepath.Join(out, RunsDir, filepath.FromSlash(name))
		if !finished(dir) {
			rep.Pending = append(rep.Pending, name)
			continue
		}
		r, err := readRun(dir)
		if err != nil {
			return nil, err
		}
		res, err := analyzeSVRun(r)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", name, err)
		}
		res.Run, res.Model, res.Reward, res.Seed = name, pr.Model, pr.Reward, pr.Seed
		rep.Runs = append(rep.Runs, res)
		data = append(data, svStepData{res: res, run: r})
	}
	if len(rep.Runs) == 0 {
		return nil, fmt.Errorf("no run of the study in %s has finished yet", out)
	}
	rep.Conditions = svConditions(data)
	var lines []any
	for _, r := range rep.Runs {
		lines = append(lines, r)
	}
	path := filepath.Join(out, ResultsFile)
	if err := writeJSONL(path, lines); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	path = filepath.Join(out, SVConditionsFile)
	if err := writeJSON(path, rep.Conditions); err != nil {
		return rep, err
	}
	rep.Files = append(rep.Files, path)
	path = filepath.Join(out, ResultsTable)
	if err := writeText(path, svMarkdown(rep, st)); err != nil {
		return rep, err
	}
	rep.Files = append(rep.Files, path)
	files, err := svFigures(rep, data)
	rep.Files = append(rep.Files, files...)
	return rep, err
}

// analyzeSVRun reads one run's validation, rewards and verifier metrics.
func analyzeSVRun(r *finishedRun) (SVRunResult, error) {
	res := SVRunResult{Steps: r.summary.Steps, Metric: r.metric(), Samples: r.cfg.Eval.N}
	if len(r.cfg.Data.Validation) != 1 {
		return res, fmt.Errorf("%d validation sets; the study validates on one", len(r.cfg.Data.Validation))
	}
	set := ""
	for _, row := range r.validation {
		v, ok := row[r.meanKey()]
		if !ok {
			continue
		}
		step := int(row[runlog.KeyStep])
		if set == "" {
			for key := range row {
				if s, metric, ok := runlog.ParseValidationKey(key); ok && s != runlog.MeanSet && metric == r.metric() {
					set = s
				}
			}
		}
		p := SVPoint{Step: step, Value: v, Lo: v, Hi: v}
		if ci := r.validationCI(step, set); ci != nil {
			p.Lo, p.Hi = ci.Lo, ci.Hi
		}
		res.Validation = append(res.Validation, p)
	}
	if len(res.Validation) == 0 {
		return res, fmt.Errorf("no validation was logged")
	}
	first, last, best := res.Validation[0], res.Validation[len(res.Validation)-1], res.Validation[0]
	for _, p := range res.Validation[1:] {
		if p.Value > best.Value {
			best = p
		}
	}
	res.ValStart, res.ValStartLo, res.ValStartHi = first.Value, first.Lo, first.Hi
	res.ValBest, res.ValBestStep, res.ValBestLo, res.ValBestHi = best.Value, best.Step, best.Lo, best.Hi
	res.ValFinal, res.ValFinalLo, res.ValFinalHi = last.Value, last.Lo, last.Hi
	ps, _, err := train.LoadProblems(r.cfg.Data.Validation[0])
	if err != nil {
		return res, err
	}
	res.Problems = len(ps)
	res.GTRewardStart, _ = r.headMean(keyGroundTruth, svWindow)
	res.GTRewardEnd, _ = r.tailMean(keyGroundTruth, svWindow)
	for _, row := range r.steps {
		res.StepSeconds += row[runlog.KeyStepSeconds]
	}
	if _, ok := r.headMean(runlog.KeySelfVerifyReward, 1); ok {
		v := &SVVerify{}
		acc := report.Extract(r.steps, runlog.KeySelfVerifyAccuracy)
		v.RewardAccuracy = dipOf(acc)
		v.RewardAccuracyMin, v.RewardAccuracyMinStep = v.RewardAccuracy.Min, v.RewardAccuracy.MinStep
		v.RewardStart, _ = r.headMean(runlog.KeySelfVerifyReward, svWindow)
		v.RewardEnd, _ = r.tailMean(runlog.KeySelfVerifyReward, svWindow)
		v.ParseRate = mean(report.Extract(r.steps, runlog.KeySelfVerifyParseRate).Values)
		v.TruePositive = meanIfAny(report.Extract(r.steps, runlog.KeySelfVerifyTruePositive).Values)
		v.FalsePositive = meanIfAny(report.Extract(r.steps, runlog.KeySelfVerifyFalsePositive).Values)
		for _, row := range r.steps {
			v.Tokens += row[runlog.KeySelfVerifyTokens]
			v.Seconds += row[runlog.KeySelfVerifySeconds]
		}
		if res.StepSeconds > 0 {
			v.Share = v.Seconds / res.StepSeconds
		}
		res.SVVerify = v
	}
	return res, nil
}

// dipOf finds a curve's start, smoothed minimum and end (SVDip).
func dipOf(s report.Series) SVDip {
	n := len(s.Values)
	if n == 0 {
		return SVDip{}
	}
	w := min(svWindow, n)
	d := SVDip{Start: mean(s.Values[:w]), End: mean(s.Values[n-w:])}
	sm := smooth(s, w)
	// The minimum is taken over full windows only, so that the first
	// steps, averaged over fewer values, do not count as a dip.
	d.Min, d.MinStep = sm.Values[w-1], int(sm.Steps[w-1])
	minAt := w - 1
	for i := w; i < n; i++ {
		if sm.Values[i] < d.Min {
			d.Min, d.MinStep, minAt = sm.Values[i], int(sm.Steps[i]), i
		}
	}
	d.Dip, d.Recovery = d.Start-d.Min, d.End-d.Min
	d.DipThenRecover = d.Dip >= svDipMargin && d.Recovery >= svDipMargin && minAt < n-1
	return d
}

// svConditions groups the runs by model and reward, in plan order.
func svConditions(data []svStepData) []SVCondition {
	var out []SVCondition
	for _, model := range []string{SVBase, SVAligned} {
		for _, rew := range SVRewards {
			var group []svStepData
			for _, d := range data {
				if d.res.Model == model && d.res.Reward == rew {
					group = append(group, d)
				}
			}
			if len(group) > 0 {
				out = append(out, svCondition(model, rew, group))
			}
		}
	}
	return out
}

func svCondition(model, rew string, group []svStepData) SVCondition {
	c := SVCondition{Model: model, Reward: rew, Problems: group[0].res.Problems, Samples: group[0].res.Samples}
	var start, best, final, gain, gtS, gtE, stepSec []float64
	for _, d := range group {
		r := d.res
		c.Runs = append(c.Runs, r.Run)
		start, best, final = append(start, r.ValStart), append(best, r.ValBest), append(final, r.ValFinal)
		gain = append(gain, r.ValFinal-r.ValStart)
		gtS, gtE = append(gtS, r.GTRewardStart), append(gtE, r.GTRewardEnd)
		if r.Steps > 0 {
			stepSec = append(stepSec, r.StepSeconds/float64(r.Steps))
		}
	}
	c.ValStart, c.ValBest, c.ValFinal, c.Gain = spreadOf(start), spreadOf(best), spreadOf(final), spreadOf(gain)
	c.GTRewardStart, c.GTRewardEnd = spreadOf(gtS), spreadOf(gtE)
	c.StepSeconds = mean(stepSec)
	c.Curve = svMeanCurve(group)
	if group[0].res.SVVerify == nil {
		return c
	}
	v := &SVVerify{}
	var runs []*finishedRun
	var steps float64
	var tpr, fpr []float64
	for _, d := range group {
		rv := d.res.SVVerify
		runs = append(runs, d.run)
		v.RewardStart += rv.RewardStart
		v.RewardEnd += rv.RewardEnd
		v.ParseRate += rv.ParseRate
		if rv.TruePositive != nil {
			tpr = append(tpr, *rv.TruePositive)
		}
		if rv.FalsePositive != nil {
			fpr = append(fpr, *rv.FalsePositive)
		}
		v.Tokens += rv.Tokens
		v.Seconds += rv.Seconds
		v.Share += rv.Share
		steps += float64(d.res.Steps)
	}
	n := float64(len(group))
	if steps > 0 {
		c.VerifyTokensPerStep, c.VerifySecondsPerStep = v.Tokens/steps, v.Seconds/steps
	}
	v.RewardStart, v.RewardEnd, v.ParseRate = v.RewardStart/n, v.RewardEnd/n, v.ParseRate/n
	v.TruePositive, v.FalsePositive = meanIfAny(tpr), meanIfAny(fpr)
	v.Tokens, v.Seconds, v.Share = v.Tokens/n, v.Seconds/n, v.Share/n
	v.RewardAccuracy = dipOf(stepMean(runs, runlog.KeySelfVerifyAccuracy))
	v.RewardAccuracyMin, v.RewardAccuracyMinStep = v.RewardAccuracy.Min, v.RewardAccuracy.MinStep
	c.Verify = v
	return c
}

// stepMean is key's mean over runs at every step all of them logged it.
func stepMean(runs []*finishedRun, key string) report.Series {
	sum := map[float64]float64{}
	count := map[float64]int{}
	for _, r := range runs {
		s := report.Extract(r.steps, key)
		for i, step := range s.Steps {
			sum[step] += s.Values[i]
			count[step]++
		}
	}
	var out report.Series
	for step, c := range count {
		if c == len(runs) {
			out.Steps = append(out.Steps, step)
		}
	}
	slices.Sort(out.Steps)
	for _, step := range out.Steps {
		out.Values = append(out.Values, sum[step]/float64(len(runs)))
	}
	return out
}

// svMeanCurve is the validation curve averaged over the group's seeds,
// value and interval bounds alike, at the steps every seed validated.
func svMeanCurve(group []svStepData) []SVPoint {
	type acc struct {
		v, lo, hi float64
		n         int
	}
	by := map[int]*acc{}
	for _, d := range group {
		for _, p := range d.res.Validation {
			a := by[p.Step]
			if a == nil {
				a = &acc{}
				by[p.Step] = a
			}
			a.v, a.lo, a.hi, a.n = a.v+p.Value, a.lo+p.Lo, a.hi+p.Hi, a.n+1
		}
	}
	var out []SVPoint
	for step, a := range by {
		if a.n == len(group) {
			n := float64(a.n)
			out = append(out, SVPoint{Step: step, Value: a.v / n, Lo: a.lo / n, Hi: a.hi / n})
		}
	}
	slices.SortFunc(out, func(a, b SVPoint) int { return a.Step - b.Step })
	return out
}

// svLabel is a condition's legend label.
func svLabel(rew string) string {
	switch rew {
	case SVOracle:
		return "oracle (ground truth)"
	case SVEntropy:
		return "trajectory entropy"
	case SVP1:
		return "self-verification P1"
	case SVP2:
		return "self-verification P2"
	}
	return rew
}

// svFigures draws the study's figures, one file each, with a base and an
// aligned panel side by side: validation accuracy with its interval band
// (Fig. 13), the ground-truth reward of the rollouts, and, for the two
// prompts (Fig. 14), reward accuracy and the self-verify reward.
func svFigures(rep *SelfVerifyReport, data []svStepData) ([]string, error) {
	dir := filepath.Join(rep.Dir, PlotsDir)
	metric := rep.Runs[0].Metric
	models := map[string]string{SVBase: rep.Base, SVAligned: rep.Aligned}
	byCond := func(model, rew string) []*finishedRun {
		var runs []*finishedRun
		for _, d := range data {
			if d.res.Model == model && d.res.Reward == rew {
				runs = append(runs, d.run)
			}
		}
		return runs
	}
	figure := func(title, yLabel string, rate bool, rewards []string, line func(model, rew string) (bandSeries, bool)) []panel {
		var ps []panel
		for _, model := range []string{SVBase, SVAligned} {
			p := panel{Title: fmt.Sprintf("%s model (%s): %s", model, filepath.Base(models[model]), title), YLabel: yLabel}
			if rate {
				// A share: the whole range, with room for the legend.
				p.YMin, p.YMax = 0, 1.25
			}
			for _, rew := range rewards {
				b, ok := line(model, rew)
				if !ok {
					b = bandSeries{} // keep the colour of every reward the same across figures
				}
				b.Name = svLabel(rew)
				b.Dashed = rew == SVOracle
				p.Lines = append(p.Lines, b)
			}
			ps = append(ps, p)
		}
		return ps
	}
	seedMeanLine := func(key string) func(model, rew string) (bandSeries, bool) {
		return func(model, rew string) (bandSeries, bool) {
			runs := byCond(model, rew)
			if len(runs) == 0 {
				return bandSeries{}, false
			}
			s := stepMean(runs, key)
			return bandSeries{Series: smooth(s, svWindow)}, len(s.Steps) > 0
		}
	}
	figs := []struct {
		name   string
		panels []panel
	}{
		{"validation", figure("validation accuracy", "validation "+metric+" (seed mean, mean 95% CI)", false, SVRewards,
			func(model, rew string) (bandSeries, bool) {
				i := slices.IndexFunc(rep.Conditions, func(c SVCondition) bool { return c.Model == model && c.Reward == rew })
				if i < 0 {
					return bandSeries{}, false
				}
				var b bandSeries
				for _, p := range rep.Conditions[i].Curve {
					b.Steps = append(b.Steps, float64(p.Step))
					b.Values, b.Lo, b.Hi = append(b.Values, p.Value), append(b.Lo, p.Lo), append(b.Hi, p.Hi)
				}
				return b, true
			})},
		{"ground_truth_reward", figure("ground-truth reward of the rollouts", fmt.Sprintf("ground-truth reward (seed mean, %d-step mean)", svWindow), false, SVRewards,
			seedMeanLine(keyGroundTruth))},
		{"reward_accuracy", figure("reward accuracy", fmt.Sprintf("verdicts agreeing with the verifier (%d-step mean)", svWindow), true, SVRewards,
			seedMeanLine(runlog.KeySelfVerifyAccuracy))},
		{"selfverify_reward", figure("self-verify reward", fmt.Sprintf("rollouts the policy accepts (%d-step mean)", svWindow), true, SVRewards,
			seedMeanLine(runlog.KeySelfVerifyReward))},
	}
	var files []string
	for _, f := range figs {
		out, err := saveFigure(f.panels, 2, dir, f.name, 5*vg.Inch, 3.6*vg.Inch)
		files = append(files, out...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}

// svMarkdown renders results.md.
func svMarkdown(rep *SelfVerifyReport, st svSettings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Self-verification on Countdown (paper Sec. 7, Figs. 13-14)\n\n")
	fmt.Fprintf(&b, "Base model `%s`, aligned model `%s`; rewards: oracle (the exact Countdown verifier), trajectory entropy, and self-verification with prompts P1 and P2; %d seeds each, the same budget for all. ", st.Base, st.Aligned, st.Seeds)
	fmt.Fprintf(&b, "Settings: %s; study defaults `%s`", settingsLine(st.Recipe, st.Overrides, map[string][]string{"oracle": st.OracleSets, "entropy": st.EntropySets, "verify": st.VerifySets}), strings.Join(st.Defaults, " "))
	fmt.Fprintf(&b, "; validation: the first %s problems of %s.\n\n", evalCount(st.EvalProblems), st.EvalSet)
	r0 := rep.Runs[0]
	fmt.Fprintf(&b, "Validation accuracy is %s on %d problems (%d samples each). Intervals are each run's 95%% bootstrap interval over the validation problems (per seed, not pooled over seeds); a condition's value is the mean over its seeds ± their standard deviation, with the range; its curve's band is the mean over seeds of the seeds' interval bounds. Training rewards are averaged over the first and last %d steps. Reward accuracy is the share of verdicts (accepting: reward ≥ 1/2) that agree with the exact verifier; its minimum is taken on the seed-mean curve smoothed over %d steps, and a dip that recovers means the minimum lies at least %.2f below the start and the end rises at least %.2f above it.\n\n",
		r0.Metric, r0.Problems, r0.Samples, svWindow, svWindow, svDipMargin, svDipMargin)
	fmt.Fprintf(&b, "## By condition\n\n| model | reward | seeds | val start | val best | val final | final − start | GT reward start → end | s/step |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range rep.Conditions {
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %.3f → %.3f | %.1f |\n", c.Model, svLabel(c.Reward), len(c.Runs),
			spreadText(c.ValStart), spreadText(c.ValBest), spreadText(c.ValFinal), signedSpread(c.Gain),
			c.GTRewardStart.Mean, c.GTRewardEnd.Mean, c.StepSeconds)
	}
	fmt.Fprintf(&b, "\n## The verifier\n\n| model | prompt | reward acc. start | min (step) | end | dip → recovery | dip then recover | parse rate | TPR | FPR | self-verify reward start → end | tokens/step | s/step | share of step time |\n|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range rep.Conditions {
		v := c.Verify
		if v == nil {
			continue
		}
		d := v.RewardAccuracy
		fmt.Fprintf(&b, "| %s | %s | %.3f | %.3f (%d) | %.3f | %.3f → %.3f | %s | %.3f | %s | %s | %.3f → %.3f | %.0f | %.2f | %.0f%% |\n",
			c.Model, strings.TrimPrefix(c.Reward, "verify-"), d.Start, d.Min, d.MinStep, d.End, d.Dip, d.Recovery, yesNo(d.DipThenRecover),
			v.ParseRate, optRate(v.TruePositive), optRate(v.FalsePositive), v.RewardStart, v.RewardEnd, c.VerifyTokensPerStep, c.VerifySecondsPerStep, 100*v.Share)
	}
	fmt.Fprintf(&b, "\n## By run\n\n| run | steps | val start | val best (step) | val final | GT reward start → end | reward acc. min (step) | parse rate | verify share |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Runs {
		acc, parse, share := "–", "–", "–"
		if v := r.SVVerify; v != nil {
			acc = fmt.Sprintf("%.3f (%d)", v.RewardAccuracy.Min, v.RewardAccuracy.MinStep)
			parse, share = fmt.Sprintf("%.3f", v.ParseRate), fmt.Sprintf("%.0f%%", 100*v.Share)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s (%d) | %s | %.3f → %.3f | %s | %s | %s |\n", r.Run, r.Steps,
			pointText(r.start()), pointText(r.best()), r.ValBestStep, pointText(r.final()), r.GTRewardStart, r.GTRewardEnd, acc, parse, share)
	}
	if len(rep.Pending) > 0 {
		fmt.Fprintf(&b, "\nNot finished yet, and left out: %s.\n", strings.Join(rep.Pending, ", "))
	}
	return b.String()
}

// meanIfAny is the mean of xs, nil when there are none.
func meanIfAny(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	m := mean(xs)
	return &m
}

func optRate(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.3f", *v)
}

func evalCount(n int) string {
	if n == 0 {
		return "all"
	}
	return fmt.Sprint(n)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func spreadText(s SVSpread) string {
	return fmt.Sprintf("%.3f ± %.3f (%.3f–%.3f)", s.Mean, s.SD, s.Min, s.Max)
}

func signedSpread(s SVSpread) string {
	return fmt.Sprintf("%+.3f ± %.3f", s.Mean, s.SD)
}

func pointText(p SVPoint) string { return withCI(p.Value, &metrics.Interval{Lo: p.Lo, Hi: p.Hi}) }
