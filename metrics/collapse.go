package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/urlvr/urlvr/runlog"
)

// DefaultCollapseThreshold is the paper's Model Collapse Step threshold:
// reward accuracy below 1%.
const DefaultCollapseThreshold = 0.01

// CollapseConfig sets how the Model Collapse Step is detected.
type CollapseConfig struct {
	// Threshold is the reward accuracy below which a step counts as
	// collapsed; 0 means DefaultCollapseThreshold.
	Threshold float64
	// Window is the length of the trailing moving average applied to reward
	// accuracy before comparing it with Threshold; 0 or 1 means none. Early
	// steps average over the observations available so far.
	Window int
	// Patience is how many consecutive collapsed observations confirm a
	// collapse; 0 or 1 means the first one does. The reported step is the
	// first of the run, so patience delays detection but not the step.
	Patience int
}

func (c CollapseConfig) normalized() (CollapseConfig, error) {
	if c.Threshold == 0 {
		c.Threshold = DefaultCollapseThreshold
	}
	if math.IsNaN(c.Threshold) || c.Threshold < 0 || c.Threshold > 1 {
		return c, fmt.Errorf("collapse threshold %v outside (0, 1]", c.Threshold)
	}
	if c.Window < 0 {
		return c, fmt.Errorf("collapse window %d is negative", c.Window)
	}
	if c.Patience < 0 {
		return c, fmt.Errorf("collapse patience %d is negative", c.Patience)
	}
	c.Window = max(c.Window, 1)
	c.Patience = max(c.Patience, 1)
	return c, nil
}

// CollapseResult is the outcome of collapse detection.
type CollapseResult struct {
	// Collapsed says whether a collapse was confirmed.
	Collapsed bool `json:"collapsed"`
	// Step is the Model Collapse Step: the first step of the confirming run
	// of below-threshold (smoothed) reward accuracy; 0 when not collapsed.
	Step int `json:"collapse_step"`
	// DetectedAt is the step at which the run reached Patience; equal to
	// Step without patience.
	DetectedAt int `json:"detected_at"`
	// Value is the (smoothed) reward accuracy at Step.
	Value float64 `json:"value"`
	// Observations counts the steps seen; LastStep is the latest of them.
	Observations int `json:"observations"`
	LastStep     int `json:"last_step"`
	// Min is the lowest smoothed reward accuracy seen, MinStep its step.
	Min     float64 `json:"min"`
	MinStep int     `json:"min_step"`
}

// CollapseDetector finds the Model Collapse Step online: feed it one reward
// accuracy per training step with Observe. It is not safe for concurrent
// use.
type CollapseDetector struct {
	cfg      CollapseConfig
	window   []float64 // the last Window raw values, oldest first
	runStart int       // first step of the current below-threshold run
	runLen   int
	runValue float64
	res      CollapseResult
}

// NewCollapseDetector returns a detector for cfg.
func NewCollapseDetector(cfg CollapseConfig) (*CollapseDetector, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	return &CollapseDetector{cfg: cfg, window: make([]float64, 0, cfg.Window)}, nil
}

// Config returns the detector's settings with defaults filled in.
func (d *CollapseDetector) Config() CollapseConfig { return d.cfg }

// Observe records the reward accuracy of a step and reports whether the run
// has collapsed (by this step or earlier). Steps must strictly increase and
// values lie in [0, 1]. Observations after a confirmed collapse still update
// the counters but not the collapse step.
func (d *CollapseDetector) Observe(step int, rewardAccuracy float64) (bool, error) {
	if math.IsNaN(rewardAccuracy) || rewardAccuracy < 0 || rewardAccuracy > 1 {
		return d.res.Collapsed, fmt.Errorf("step %d: reward accuracy %v outside [0, 1]", step, rewardAccuracy)
	}
	if d.res.Observations > 0 && step <= d.res.LastStep {
		return d.res.Collapsed, fmt.Errorf("step %d does not follow step %d", step, d.res.LastStep)
	}
	// Trailing moving average over at most Window values, summed afresh
	// each step so that no rounding accumulates over a long run.
	if len(d.window) == d.cfg.Window {
		copy(d.window, d.window[1:])
		d.window = d.window[:len(d.window)-1]
	}
	d.window = append(d.window, rewardAccuracy)
	var sum float64
	for _, v := range d.window {
		sum += v
	}
	smoothed := sum / float64(len(d.window))

	if d.res.Observations == 0 || smoothed < d.res.Min {
		d.res.Min, d.res.MinStep = smoothed, step
	}
	d.res.Observations++
	d.res.LastStep = step

	if d.res.Collapsed {
		return true, nil
	}
	if smoothed < d.cfg.Threshold {
		if d.runLen == 0 {
			d.runStart, d.runValue = step, smoothed
		}
		d.runLen++
		if d.runLen >= d.cfg.Patience {
			d.res.Collapsed = true
			d.res.Step = d.runStart
			d.res.Value = d.runValue
			d.res.DetectedAt = step
		}
	} else {
		d.runLen = 0
	}
	return d.res.Collapsed, nil
}

// ObserveDynamics feeds the reward accuracy of a batch's Dynamics; a batch
// without reward accuracy (a continuous proxy reward) is skipped.
func (d *CollapseDetector) ObserveDynamics(step int, dyn Dynamics) (bool, error) {
	if !dyn.HasRewardAccuracy {
		return d.res.Collapsed, nil
	}
	return d.Observe(step, dyn.RewardAccuracy)
}

// Result returns what the detector has found so far.
func (d *CollapseDetector) Result() CollapseResult { return d.res }

// CollapseFileOptions names the fields DetectCollapseJSONL reads.
type CollapseFileOptions struct {
	// StepKey is the step field; "" means "step".
	StepKey string
	// ValueKey is the reward-accuracy field. "" means "reward_accuracy", or
	// runlog.KeyRewardAccuracy (the prefixed name of urlvr's metrics.jsonl) on
	// lines without it. A key not found at the top level is looked up as a
	// dotted path into nested objects ("metrics.reward_accuracy").
	ValueKey string
}

// DefaultRewardAccuracyKeys are the fields DetectCollapseJSONL reads when
// no key is given, in order of preference.
var DefaultRewardAccuracyKeys = []string{"reward_accuracy", runlog.KeyRewardAccuracy}

// ErrNoObservations is returned when a metrics file has no line with both
// the step and the reward-accuracy field.
var ErrNoObservations = errors.New("no line has both the step and the reward-accuracy field")

// DetectCollapseJSONL finds the Model Collapse Step of a run from its
// metrics.jsonl. Lines without the value field (evaluation lines) and blank
// lines are passed over; lines that are not JSON objects (a header, a line
// torn by a kill) are skipped and counted in the returned Stats. When a step
// appears more than once, as after resuming from a checkpoint, its last line
// wins; steps are then taken in increasing order. A line whose fields have
// the wrong type is an error naming the line.
func DetectCollapseJSONL(r io.Reader, cfg CollapseConfig, opt CollapseFileOptions) (CollapseResult, runlog.Stats, error) {
	det, err := NewCollapseDetector(cfg)
	if err != nil {
		return CollapseResult{}, runlog.Stats{}, err
	}
	if opt.StepKey == "" {
		opt.StepKey = runlog.KeyStep
	}
	valueKeys := []string{opt.ValueKey}
	if opt.ValueKey == "" {
		valueKeys = DefaultRewardAccuracyKeys
	}
	values := map[int]float64{}
	st, err := runlog.Scan(r, func(_ int, raw []byte) error {
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return err
		}
		var (
			v   any
			key string
		)
		for _, key = range valueKeys {
			if v, _ = lookup(obj, key); v != nil {
				break
			}
		}
		if v == nil {
			return nil
		}
		value, ok := v.(float64)
		if !ok {
			return fmt.Errorf("field %q is %T, not a number", key, v)
		}
		s, ok := lookup(obj, opt.StepKey)
		if !ok {
			return fmt.Errorf("has %q but no %q", key, opt.StepKey)
		}
		step, ok := s.(float64)
		if !ok || step != math.Trunc(step) || math.Abs(step) > 1<<53 {
			return fmt.Errorf("field %q is %v, not an integer", opt.StepKey, s)
		}
		values[int(step)] = value
		return nil
	})
	if err != nil {
		return CollapseResult{}, st, err
	}
	if len(values) == 0 {
		return CollapseResult{}, st, ErrNoObservations
	}
	steps := make([]int, 0, len(values))
	for s := range values {
		steps = append(steps, s)
	}
	sort.Ints(steps)
	for _, s := range steps {
		if _, err := det.Observe(s, values[s]); err != nil {
			return CollapseResult{}, st, err
		}
	}
	return det.Result(), st, nil
}

// lookup finds key in obj, first as a top-level key, then as a dotted path
// through nested objects.
func lookup(obj map[string]any, key string) (any, bool) {
	if v, ok := obj[key]; ok {
		return v, true
	}
	parts := strings.Split(key, ".")
	if len(parts) < 2 {
		return nil, false
	}
	var cur any = obj
	for _, p := range parts {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}
