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
	// Pooled validation: each problem's accuracy averaged over the seeds,
	// then over problems, with the bootstrap interval over problems, at
	// the start, at the best step of the pooled curve and at the end;
	// PooledGain is final − start with its paired interval.
	PooledStart SVPoint `json:"pooled_start"`
	PooledBest  SVPoint `json:"pooled_best"`
	PooledFinal SVPoint `json:"pooled_final"`
	PooledGain  SVPoint `json:"pooled_gain"`
	// Curve is the pooled validation accuracy at every step all the seeds
	// validated.
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
	// Comparisons are the paired differences between conditions.
	Comparisons []SVComparison
	// Pending are the planned runs that have not finished.
	Pending []string
	Files   []string
}

// svStepData is a finished run with its condition and its per-problem
// validation accuracy at each validated step.
type svStepData struct {
	res SVRunResult
	run *finishedRun
	acc map[int][]float64
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
		res, acc, err := analyzeSVRun(r)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", name, err)
		}
		res.Run, res.Model, res.Reward, res.Seed = name, pr.Model, pr.Reward, pr.Seed
		rep.Runs = append(rep.Runs, res)
		data = append(data, svStepData{res: res, run: r, acc: acc})
	}
	if len(rep.Runs) == 0 {
		return nil, fmt.Errorf("no run of the study in %s has finished yet", out)
	}
	var err error
	if rep.Conditions, err = svConditions(data); err != nil {
		return nil, err
	}
	if rep.Comparisons, err = svComparisons(data); err != nil {
		return nil, err
	}
	path := filepath.Join(out, ResultsFile)
	if err := writeJSONL(path, asRows(rep.Runs)); err != nil {
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

// svBootstrap is the resampling of the study's intervals: B = 1000
// resamples of the validation problems, seed 1.
var svBootstrap = metrics.BootstrapConfig{Resamples: 1000, Seed: 1}

// meanCI is the mean of per-problem values with its bootstrap interval.
func meanCI(xs []float64) (SVPoint, error) {
	ci, err := metrics.BootstrapCI([][]float64{xs}, svBootstrap)
	if err != nil {
		return SVPoint{}, err
	}
	return SVPoint{Value: mean(xs), Lo: ci[0].Lo, Hi: ci[0].Hi}, nil
}

// analyzeSVRun reads one run's per-problem validation, rewards and
// verifier metrics; acc is each validated step's per-problem accuracy.
func analyzeSVRun(r *finishedRun) (res SVRunResult, acc map[int][]float64, err error) {
	res = SVRunResult{Steps: r.summary.Steps}
	lines, err := readLastPerStep(filepath.Join(r.dir, problemValidationFile), func(p problemValidation) int { return p.Step })
	if err != nil {
		return res, nil, fmt.Errorf("the study's validation: %w", err)
	}
	acc = map[int][]float64{}
	for _, l := range lines {
		counts, ok := l.Sets[svValidationSet]
		if !ok || l.N < 1 || len(counts) == 0 {
			return res, nil, fmt.Errorf("%s: step %d has no %s validation", problemValidationFile, l.Step, svValidationSet)
		}
		if res.Problems == 0 {
			res.Problems, res.Samples = len(counts), l.N
		}
		if len(counts) != res.Problems || l.N != res.Samples {
			return res, nil, fmt.Errorf("%s: step %d has %d problems × %d samples, step %d had %d × %d", problemValidationFile, l.Step, len(counts), l.N, lines[0].Step, res.Problems, res.Samples)
		}
		a := make([]float64, len(counts))
		for i, c := range counts {
			a[i] = float64(c) / float64(l.N)
		}
		acc[l.Step] = a
		p, err := meanCI(a)
		if err != nil {
			return res, nil, err
		}
		p.Step = l.Step
		res.Validation = append(res.Validation, p)
	}
	if len(res.Validation) == 0 {
		return res, nil, fmt.Errorf("no validation was recorded")
	}
	res.Metric = runlog.Avg(res.Samples)
	first, last, best := res.Validation[0], res.Validation[len(res.Validation)-1], res.Validation[0]
	for _, p := range res.Validation[1:] {
		if p.Value > best.Value {
			best = p
		}
	}
	res.ValStart, res.ValStartLo, res.ValStartHi = first.Value, first.Lo, first.Hi
	res.ValBest, res.ValBestStep, res.ValBestLo, res.ValBestHi = best.Value, best.Step, best.Lo, best.Hi
	res.ValFinal, res.ValFinalLo, res.ValFinalHi = last.Value, last.Lo, last.Hi
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
	return res, acc, nil
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
func svConditions(data []svStepData) ([]SVCondition, error) {
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
				c, err := svCondition(model, rew, group)
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// pooledAcc is, at each step every run of group validated, each problem's
// accuracy averaged over the runs.
func pooledAcc(group []svStepData) (steps []int, acc map[int][]float64) {
	acc = map[int][]float64{}
	for step, a := range group[0].acc {
		sum := slices.Clone(a)
		complete := true
		for _, d := range group[1:] {
			b, ok := d.acc[step]
			if !ok || len(b) != len(a) {
				complete = false
				break
			}
			for i := range sum {
				sum[i] += b[i]
			}
		}
		if !complete {
			continue
		}
		for i := range sum {
			sum[i] /= float64(len(group))
		}
		acc[step] = sum
		steps = append(steps, step)
	}
	slices.Sort(steps)
	return steps, acc
}

func svCondition(model, rew string, group []svStepData) (SVCondition, error) {
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
	valSteps, acc := pooledAcc(group)
	if len(valSteps) == 0 {
		return c, fmt.Errorf("%s/%s: its seeds share no validated step", model, rew)
	}
	for _, step := range valSteps {
		p, err := meanCI(acc[step])
		if err != nil {
			return c, err
		}
		p.Step = step
		c.Curve = append(c.Curve, p)
		if step == valSteps[0] || p.Value > c.PooledBest.Value {
			c.PooledBest = p
		}
	}
	c.PooledStart, c.PooledFinal = c.Curve[0], c.Curve[len(c.Curve)-1]
	first, last := acc[valSteps[0]], acc[valSteps[len(valSteps)-1]]
	problemGain := make([]float64, len(first))
	for i := range problemGain {
		problemGain[i] = last[i] - first[i]
	}
	var err error
	if c.PooledGain, err = meanCI(problemGain); err != nil {
		return c, err
	}
	c.PooledGain.Step = valSteps[len(valSteps)-1]
	if group[0].res.SVVerify == nil {
		return c, nil
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
	return c, nil
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

// SVComparison is a paired difference between two conditions of one
// model at the last step both validated: A's pooled accuracy minus B's,
// per problem, averaged over problems, with its bootstrap interval.
type SVComparison struct {
	Model string  `json:"model"`
	A     string  `json:"a"`
	B     string  `json:"b"`
	Step  int     `json:"step"`
	Diff  SVPoint `json:"diff"`
	Seeds [2]int  `json:"seeds"` // finished seeds of A and of B
}

// svPairs are the comparisons the paper's claims rest on: the verifier
// against the intrinsic reward and against the oracle (Fig. 13), and one
// prompt against the other (Fig. 14).
var svPairs = [][2]string{
	{SVP1, SVEntropy}, {SVP2, SVEntropy}, {SVP1, SVOracle}, {SVP2, SVOracle}, {SVEntropy, SVOracle}, {SVP2, SVP1},
}

// svComparisons computes svPairs for each model whose two conditions both
// have finished runs.
func svComparisons(data []svStepData) ([]SVComparison, error) {
	var out []SVComparison
	for _, model := range []string{SVBase, SVAligned} {
		group := func(rew string) []svStepData {
			var g []svStepData
			for _, d := range data {
				if d.res.Model == model && d.res.Reward == rew {
					g = append(g, d)
				}
			}
			return g
		}
		for _, pair := range svPairs {
			ga, gb := group(pair[0]), group(pair[1])
			if len(ga) == 0 || len(gb) == 0 {
				continue
			}
			sa, acca := pooledAcc(ga)
			_, accb := pooledAcc(gb)
			step := -1
			for _, st := range sa {
				if _, ok := accb[st]; ok {
					step = st
				}
			}
			if step < 0 || len(acca[step]) != len(accb[step]) {
				continue
			}
			diff := make([]float64, len(acca[step]))
			for i := range diff {
				diff[i] = acca[step][i] - accb[step][i]
			}
			d, err := meanCI(diff)
			if err != nil {
				return nil, err
			}
			d.Step = step
			out = append(out, SVComparison{Model: model, A: pair[0], B: pair[1], Step: step, Diff: d, Seeds: [2]int{len(ga), len(gb)}})
		}
	}
	return out, nil
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
		{"validation", figure("validation accuracy", "validation "+metric+" (seeds pooled, 95% CI over problems)", false, SVRewards,
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
	fmt.Fprintf(&b, "; validation by the study before the first step, every %d steps and after the last, on the first %s problems of %s, %d samples each at the recipe's eval temperature and top-p, scored by the exact Countdown verifier.\n\n", st.EvalEvery, evalCount(st.EvalProblems), st.EvalSet, st.EvalN)
	r0 := rep.Runs[0]
	fmt.Fprintf(&b, "Validation accuracy is %s on %d problems. **Pooled** values average each problem's accuracy over the condition's seeds first; their 95%% intervals are percentile bootstrap intervals over the problems (B = %d, seed %d), and the differences between conditions and the gains are paired on the same problems. **Over seeds** gives the mean of the seeds' own values ± their standard deviation, with the range; the by-run table gives each run's value with its own interval over problems. Training rewards are averaged over the first and last %d steps. Reward accuracy is the share of verdicts (accepting: reward ≥ 1/2) that agree with the exact verifier; its minimum is taken on the seed-mean curve smoothed over a trailing %d-step window, and \"dip then recover\" means that minimum lies at least %.2f below the start and the end at least %.2f above it.\n\n",
		r0.Metric, r0.Problems, svBootstrap.Resamples, svBootstrap.Seed, svWindow, svWindow, svDipMargin, svDipMargin)
	fmt.Fprintf(&b, "## By condition\n\n| model | reward | seeds | pooled start | pooled best (step) | pooled final | pooled final − start | final over seeds | GT reward start → end | s/step |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, c := range rep.Conditions {
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s (%d) | %s | %s | %s | %.3f → %.3f | %.1f |\n", c.Model, svLabel(c.Reward), len(c.Runs),
			pointText(c.PooledStart), pointText(c.PooledBest), c.PooledBest.Step, pointText(c.PooledFinal), signedPoint(c.PooledGain), spreadText(c.ValFinal),
			c.GTRewardStart.Mean, c.GTRewardEnd.Mean, c.StepSeconds)
	}
	if len(rep.Comparisons) > 0 {
		fmt.Fprintf(&b, "\n## Paired differences at the last validation\n\n| model | A − B | step | seeds (A, B) | difference [95%% CI] |\n|---|---|---:|---:|---:|\n")
		for _, c := range rep.Comparisons {
			fmt.Fprintf(&b, "| %s | %s − %s | %d | %d, %d | %s |\n", c.Model, svLabel(c.A), svLabel(c.B), c.Step, c.Seeds[0], c.Seeds[1], signedPoint(c.Diff))
		}
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

func signedPoint(p SVPoint) string { return fmt.Sprintf("%+.3f [%+.3f, %+.3f]", p.Value, p.Lo, p.Hi) }

func pointText(p SVPoint) string { return withCI(p.Value, &metrics.Interval{Lo: p.Lo, Hi: p.Hi}) }
