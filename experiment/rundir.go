package experiment

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/train"
)

// Metric keys a study reads from a run's metrics.jsonl.
const (
	keyRewardAccuracy = runlog.KeyRewardAccuracy
	keyGroundTruth    = runlog.KeyGroundTruthReward
	keyProxyReward    = runlog.KeyProxyReward
	keyResponseLength = runlog.KeyResponseLength
	keyKL             = runlog.KeyKL
)

// finishedRun is what a study reads back from a sub-run's directory: the
// resolved recipe, the summary, and the logged steps and validations, each
// in step order with one row per step.
type finishedRun struct {
	dir        string
	cfg        train.Config
	summary    train.Summary
	steps      []runlog.Values // metrics.jsonl
	validation []runlog.Values // validation.jsonl
}

// finished reports whether the run in dir has ended and written its
// summary.
func finished(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, train.SummaryFile))
	return err == nil
}

// readRun reads a finished run directory.
func readRun(dir string) (*finishedRun, error) {
	cfg, err := train.LoadConfig(filepath.Join(dir, train.ConfigFile), nil)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	r := &finishedRun{dir: dir, cfg: cfg}
	raw, err := os.ReadFile(filepath.Join(dir, train.SummaryFile))
	if err != nil {
		return nil, fmt.Errorf("run %s has not finished: %w", dir, err)
	}
	if err := json.Unmarshal(raw, &r.summary); err != nil {
		return nil, fmt.Errorf("run %s: %s: %w", dir, train.SummaryFile, err)
	}
	if r.steps, err = readSteps(filepath.Join(dir, train.MetricsFile)); err != nil {
		return nil, err
	}
	if r.validation, err = readSteps(filepath.Join(dir, train.ValidationFile)); err != nil {
		return nil, err
	}
	return r, nil
}

// readSteps reads a run log and keeps one row per step, the last one
// written, in step order; rows without a step are dropped.
func readSteps(path string) ([]runlog.Values, error) {
	rows, _, err := runlog.ReadFile[runlog.Values](path)
	if err != nil {
		return nil, err
	}
	return runlog.LastPerStep(rows), nil
}

// metric is the validation metric the run ranks checkpoints by: avg@n,
// averaged over the validation sets.
func (r *finishedRun) metric() string { return runlog.Avg(r.cfg.Eval.N) }

func (r *finishedRun) meanKey() string { return runlog.MeanKey(r.cfg.Eval.N) }

// tokenCost is paper Table 3's accounting of a run's training rollouts:
// response length × rollouts × steps × batch, with the response length
// measured at every step, over the steps up to and including upTo (all
// steps when upTo <= 0). It returns the tokens, the steps counted and their
// mean response length.
func (r *finishedRun) tokenCost(upTo int) (tokens int64, steps int, meanLength float64) {
	perStep := float64(r.cfg.Rollout.N * r.cfg.Trainer.GlobalBatch)
	var sum float64
	for _, row := range r.steps {
		length, ok := row[keyResponseLength]
		if !ok || (upTo > 0 && row[runlog.KeyStep] > float64(upTo)) {
			continue
		}
		sum += length
		steps++
	}
	if steps == 0 {
		return 0, 0, 0
	}
	// The logged length is the step's token count over its rollouts, so the
	// product is a whole number up to rounding.
	return int64(math.Round(sum * perStep)), steps, sum / float64(steps)
}

// valPoint is the validation accuracy at one step.
type valPoint struct {
	Step int                `json:"step"`
	Mean float64            `json:"mean"`
	Sets map[string]float64 `json:"sets"`
}

// trajectory is the run's validation accuracy (the ranking metric) at every
// validation, overall and per set.
func (r *finishedRun) trajectory() []valPoint {
	var out []valPoint
	for _, row := range r.validation {
		mean, ok := row[r.meanKey()]
		if !ok {
			continue
		}
		p := valPoint{Step: int(row[runlog.KeyStep]), Mean: mean, Sets: map[string]float64{}}
		for key, v := range row {
			if set, metric, ok := runlog.ParseValidationKey(key); ok && set != runlog.MeanSet && metric == r.metric() {
				p.Sets[set] = v
			}
		}
		out = append(out, p)
	}
	return out
}

// valSummary is a run's validation accuracy at the start, at its best
// validation and at the end.
type valSummary struct {
	Start, Best, Final             float64
	StartStep, BestStep, FinalStep int
}

func summarise(points []valPoint) (valSummary, error) {
	if len(points) == 0 {
		return valSummary{}, fmt.Errorf("no validation was logged (set eval.every > 0)")
	}
	last := points[len(points)-1]
	s := valSummary{Start: points[0].Mean, Best: points[0].Mean, StartStep: points[0].Step, BestStep: points[0].Step,
		Final: last.Mean, FinalStep: last.Step}
	for _, p := range points[1:] {
		if p.Mean > s.Best {
			s.Best, s.BestStep = p.Mean, p.Step
		}
	}
	return s, nil
}

// tailMean is the mean of key over the last n logged steps that have it,
// smoothing the per-batch noise of the training metrics.
func (r *finishedRun) tailMean(key string, n int) (float64, bool) {
	var sum float64
	var count int
	for i := len(r.steps) - 1; i >= 0 && count < n; i-- {
		if v, ok := r.steps[i][key]; ok {
			sum += v
			count++
		}
	}
	if count == 0 {
		return 0, false
	}
	return sum / float64(count), true
}

// headMean is the mean of key over the first n logged steps that have it.
func (r *finishedRun) headMean(key string, n int) (float64, bool) {
	var sum float64
	var count int
	for i := 0; i < len(r.steps) && count < n; i++ {
		if v, ok := r.steps[i][key]; ok {
			sum += v
			count++
		}
	}
	if count == 0 {
		return 0, false
	}
	return sum / float64(count), true
}

// minOf returns the lowest value of key over the logged steps and its step.
func (r *finishedRun) minOf(key string) (value float64, step int, ok bool) {
	for _, row := range r.steps {
		if v, has := row[key]; has && (!ok || v < value) {
			value, step, ok = v, int(row[runlog.KeyStep]), true
		}
	}
	return value, step, ok
}
