package experiment

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/runlog"
)

// Analysing one model's pair of runs.

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
	res.PassKGain, res.PassK = passKGain(mv)

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
	if res.GTGainFinalCI, res.GTGainBestCI, err = pairedGainCIs(gtDir, gtVal); err != nil {
		return res, nil, nil, fmt.Errorf("run %s: %w", gtDir, err)
	}
	return res, mv, gt, nil
}

// pairedGainCIs bootstraps the final and best gains of a run over its
// validation problems, pairing each problem's accuracy at a step with its
// accuracy at the start, resampled within each validation set (the gain
// is a mean over sets). A run without validation_problems.jsonl has no
// intervals.
func pairedGainCIs(dir string, v valSummary) (final, best *metrics.Interval, err error) {
	rows, _, err := runlog.ReadFile[runlog.ProblemScoresRow](filepath.Join(dir, runlog.ValidationProblemsFile))
	if err != nil || len(rows) == 0 {
		return nil, nil, err
	}
	ci := func(step int) (*metrics.Interval, error) {
		d, sizes, err := pairedDifferences(rows, v.StartStep, step)
		if err != nil || d == nil {
			return nil, err
		}
		iv, err := metrics.BootstrapCI([][]float64{d}, metrics.BootstrapConfig{Seed: uint64(step) + 1, Strata: sizes})
		if err != nil {
			return nil, err
		}
		return &iv[0], nil
	}
	if final, err = ci(v.FinalStep); err != nil {
		return nil, nil, err
	}
	best, err = ci(v.BestStep)
	return final, best, err
}

// pairedDifferences returns each validation problem's accuracy at step
// minus its accuracy at start, over every set validated at both (sets in
// name order), and the number of problems of each set; nil when a step has
// no per-problem row. A set whose problems differ between the two rows is
// an error: its problems cannot be paired.
func pairedDifferences(rows []runlog.ProblemScoresRow, start, step int) ([]float64, []int, error) {
	at := func(s int) map[string]runlog.ProblemScoresRow {
		m := map[string]runlog.ProblemScoresRow{}
		for _, r := range rows {
			if r.Step == s {
				m[r.Set] = r
			}
		}
		return m
	}
	before, after := at(start), at(step)
	if len(before) == 0 || len(after) == 0 {
		return nil, nil, nil
	}
	names := make([]string, 0, len(before))
	for set := range before {
		names = append(names, set)
	}
	slices.Sort(names)
	var d []float64
	var sizes []int
	for _, set := range names {
		b := before[set]
		a, ok := after[set]
		if !ok {
			continue
		}
		if a.Problems != b.Problems || len(a.Correct) != len(b.Correct) {
			return nil, nil, fmt.Errorf("validation set %s has other problems at step %d than at step %d", set, step, start)
		}
		ab, aa := b.Accuracy(), a.Accuracy()
		for i := range ab {
			d = append(d, aa[i]-ab[i])
		}
		sizes = append(sizes, len(ab))
	}
	return d, sizes, nil
}

// passKGain is pass@K - pass@1 at the run's first validation, averaged
// over the validation sets, with K the largest k the run logged pass@k for
// (paper Sec. 6.2 uses pass@256 - pass@1, so the study validates the
// majority-voting runs with eval.n = 256). pass@1 is the logged pass@1, or
// avg@n, its unbiased estimate from the same samples. It returns the gain
// and K (0 when nothing was logged).
func passKGain(r *finishedRun) (float64, int) {
	if len(r.validation) == 0 {
		return 0, 0
	}
	row := r.validation[0]
	largest := map[string]int{}
	for key := range row {
		set, metric, ok := runlog.ParseValidationKey(key)
		if !ok || set == runlog.MeanSet {
			continue
		}
		if _, k, ok := runlog.ParseAtK(metric); ok && metric == runlog.Pass(k) && k > largest[set] {
			largest[set] = k
		}
	}
	names := make([]string, 0, len(largest))
	for set := range largest {
		names = append(names, set)
	}
	slices.Sort(names) // a fixed order of summation
	var sum float64
	var sets, k int
	for _, set := range names {
		one, ok := row[runlog.ValidationKey(set, runlog.Pass(1))]
		if !ok {
			if one, ok = row[runlog.ValidationKey(set, runlog.Avg(r.cfg.Eval.N))]; !ok {
				continue
			}
		}
		sum += row[runlog.ValidationKey(set, runlog.Pass(largest[set]))] - one
		sets++
		k = max(k, largest[set])
	}
	if sets == 0 {
		return 0, 0
	}
	return sum / float64(sets), k
}
