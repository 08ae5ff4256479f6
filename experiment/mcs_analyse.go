package experiment

import (
	"fmt"
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
	var names []string
	for key := range row {
		if set, metric, ok := runlog.ParseValidationKey(key); ok && set != runlog.MeanSet && metric == runlog.Pass(n) {
			names = append(names, set)
		}
	}
	slices.Sort(names) // a fixed order of summation
	var sum float64
	var sets int
	for _, set := range names {
		avg, ok := row[runlog.ValidationKey(set, runlog.Avg(n))]
		if !ok {
			continue
		}
		sum += row[runlog.ValidationKey(set, runlog.Pass(n))] - avg
		sets++
	}
	if sets == 0 {
		return 0
	}
	return sum / float64(sets)
}
