package rewardserver

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/urlvr/urlvr/metrics"
)

// TrackerConfig sets how scored batches are counted into training steps.
type TrackerConfig struct {
	// Collapse configures the Model Collapse Step detector (paper Sec. 6:
	// the first step whose reward accuracy falls below 1%).
	Collapse metrics.CollapseConfig
	// StopOnCollapse raises the run's stop signal once a collapse is
	// confirmed.
	StopOnCollapse bool
	// GroupsPerStep closes a step after that many groups when requests name
	// no step and arrive group by group (SplitWait); 0 relies on StepIdle.
	GroupsPerStep int
	// StepIdle closes such a step when no group arrived for this long.
	StepIdle time.Duration
	// MaxRuns bounds the runs kept (the least recently updated goes first);
	// MaxSteps bounds the history kept per run (the oldest goes first).
	MaxRuns  int
	MaxSteps int
}

func (c TrackerConfig) withDefaults() TrackerConfig {
	if c.StepIdle == 0 {
		c.StepIdle = 10 * time.Second
	}
	if c.MaxRuns == 0 {
		c.MaxRuns = 256
	}
	if c.MaxSteps == 0 {
		c.MaxSteps = 100000
	}
	return c
}

// StepRecord is one training step of a run as the service saw it.
type StepRecord struct {
	Step  int       `json:"step"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Groups and Rollouts scored in the step; PartialGroups of them were
	// scored short of the group size.
	Groups        int `json:"groups"`
	Rollouts      int `json:"rollouts"`
	PartialGroups int `json:"partial_groups"`
	// ProxyReward is the mean reward over every rollout of the step, with
	// ground truth or without.
	ProxyReward float64 `json:"proxy_reward"`
	// GroundTruthGroups have a gold answer or Countdown problem; Dynamics
	// holds the B.2 metrics over them (label and reward accuracy,
	// ground-truth against proxy reward, ...), nil when there are none.
	GroundTruthGroups int               `json:"ground_truth_groups"`
	Dynamics          *metrics.Dynamics `json:"dynamics,omitempty"`
	DynamicsError     string            `json:"dynamics_error,omitempty"`
	// Collapsed says whether the run had collapsed by this step.
	Collapsed bool `json:"collapsed"`
}

// CollapseReport is the running collapse detection of a run.
type CollapseReport struct {
	metrics.CollapseResult
	Threshold float64 `json:"threshold"`
	Window    int     `json:"window"`
	Patience  int     `json:"patience"`
}

// RunReport is what /runs/{id} serves.
type RunReport struct {
	RunID   string    `json:"run_id"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Steps counts the closed steps kept; LastStep is the latest step number.
	Steps    int `json:"steps"`
	LastStep int `json:"last_step"`
	// Totals over the run.
	Groups        int64          `json:"groups"`
	Rollouts      int64          `json:"rollouts"`
	PartialGroups int64          `json:"partial_groups"`
	Collapse      CollapseReport `json:"collapse"`
	// Stop is the signal to end training: raised by a confirmed collapse
	// (with StopOnCollapse) or by POST /runs/{id}/stop.
	Stop       bool   `json:"stop"`
	StopReason string `json:"stop_reason,omitempty"`
	// Latest is the last closed step with its per-problem metrics; Current
	// the step still collecting batches, if any; History every kept closed
	// step without per-problem lists, oldest first.
	Latest  *StepRecord  `json:"latest,omitempty"`
	Current *StepRecord  `json:"current,omitempty"`
	History []StepRecord `json:"history"`
}

// RunStatus is the short form of a run's state that every scoring answer
// carries.
type RunStatus struct {
	RunID string `json:"run_id"`
	// Step is the step this request's rollouts were counted in.
	Step         int    `json:"step"`
	Collapsed    bool   `json:"collapsed"`
	CollapseStep int    `json:"collapse_step,omitempty"`
	Stop         bool   `json:"stop"`
	StopReason   string `json:"stop_reason,omitempty"`
}

// batchRecord is what one scoring call adds to a run.
type batchRecord struct {
	groups, rollouts, partial, truthGroups int
	proxySum                               float64
	mgs                                    []metrics.Group
}

func (b *batchRecord) addGroup(rewards []float64, partial bool, mgs []metrics.Group) {
	b.groups++
	b.rollouts += len(rewards)
	if partial {
		b.partial++
	}
	for _, r := range rewards {
		b.proxySum += r
	}
	if len(mgs) > 0 {
		b.truthGroups++
		b.mgs = append(b.mgs, mgs...)
	}
}

// openStep is a step still collecting batches.
type openStep struct {
	rec      StepRecord
	proxySum float64
	mgs      []metrics.Group
	explicit bool // the step number came from the requests
}

type run struct {
	id               string
	created, updated time.Time
	detector         *metrics.CollapseDetector
	history          []StepRecord
	latest           *StepRecord
	lastMGs          []metrics.Group // of the latest closed step, to reopen it
	lastProxySum     float64
	open             *openStep
	lastStep         int
	hasSteps         bool
	groups, rollouts int64
	partial          int64
	manualStop       string // reason given to POST /runs/{id}/stop
}

// tracker keeps the runs. It is safe for concurrent use.
type tracker struct {
	cfg  TrackerConfig
	mu   sync.Mutex
	runs map[string]*run
	warn func(msg string, args ...any)
}

func newTracker(cfg TrackerConfig, warn func(string, ...any)) (*tracker, error) {
	cfg = cfg.withDefaults()
	if _, err := metrics.NewCollapseDetector(cfg.Collapse); err != nil {
		return nil, err
	}
	return &tracker{cfg: cfg, runs: map[string]*run{}, warn: warn}, nil
}

// getRun returns the run, creating it. Only record calls it, with scored
// rollouts, so every run evicted to make room was a real one.
func (t *tracker) getRun(id string, now time.Time) *run {
	r := t.runs[id]
	if r != nil {
		return r
	}
	if len(t.runs) >= t.cfg.MaxRuns {
		var oldest *run
		for _, x := range t.runs {
			if oldest == nil || x.updated.Before(oldest.updated) {
				oldest = x
			}
		}
		delete(t.runs, oldest.id)
		t.warn("forgetting the least recently updated run", "run", oldest.id, "max_runs", t.cfg.MaxRuns)
	}
	det, _ := metrics.NewCollapseDetector(t.cfg.Collapse) // config checked in newTracker
	r = &run{id: id, created: now, updated: now, detector: det}
	t.runs[id] = r
	return r
}

// record adds a scored batch to a run. With an explicit step the batch joins
// that step (a later step closes the open one; an earlier one rewinds the
// run, as after a restart from a checkpoint). Without one, a batch is a step
// of its own, unless accumulate is set (groups arriving one by one), when
// it joins the open step until GroupsPerStep or StepIdle closes it.
func (t *tracker) record(id string, step *int, accumulate bool, b batchRecord, now time.Time) RunStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.getRun(id, now)
	r.updated = now
	r.groups += int64(b.groups)
	r.rollouts += int64(b.rollouts)
	r.partial += int64(b.partial)

	switch {
	case step != nil:
		s := *step
		if r.open != nil && r.open.rec.Step != s {
			if s > r.open.rec.Step {
				t.close(r, now)
			} else {
				t.rewind(r, s)
			}
		}
		if r.open == nil && r.hasSteps && s <= r.lastStep {
			t.rewind(r, s)
		}
		if r.open == nil {
			r.open = &openStep{rec: StepRecord{Step: s, Start: now}, explicit: true}
		}
	case accumulate:
		if r.open != nil && t.idle(r.open, now) {
			t.close(r, now)
		}
		if r.open == nil {
			r.open = &openStep{rec: StepRecord{Step: t.nextStep(r), Start: now}}
		}
	default:
		if r.open != nil {
			t.close(r, now)
		}
		r.open = &openStep{rec: StepRecord{Step: t.nextStep(r), Start: now}}
	}
	o := r.open
	o.rec.End = now
	o.rec.Groups += b.groups
	o.rec.Rollouts += b.rollouts
	o.rec.PartialGroups += b.partial
	o.rec.GroundTruthGroups += b.truthGroups
	o.proxySum += b.proxySum
	o.mgs = append(o.mgs, b.mgs...)
	stepNow := o.rec.Step
	switch {
	case step == nil && !accumulate:
		t.close(r, now)
	case step == nil && t.cfg.GroupsPerStep > 0 && o.rec.Groups >= t.cfg.GroupsPerStep:
		t.close(r, now)
	}
	st := t.status(r)
	st.Step = stepNow
	return st
}

func (t *tracker) idle(o *openStep, now time.Time) bool {
	return now.Sub(o.rec.End) > t.cfg.StepIdle
}

func (t *tracker) nextStep(r *run) int {
	if r.hasSteps {
		return r.lastStep + 1
	}
	return 1
}

// close finishes the open step: computes its metrics and feeds the collapse
// detector.
func (t *tracker) close(r *run, now time.Time) {
	o := r.open
	r.open = nil
	rec := o.rec
	rec.End = now
	if rec.Rollouts > 0 {
		rec.ProxyReward = o.proxySum / float64(rec.Rollouts)
	}
	if len(o.mgs) > 0 {
		d, err := metrics.ComputeDynamics(o.mgs)
		if err != nil {
			rec.DynamicsError = err.Error()
		} else {
			rec.Dynamics = &d
			if _, err := r.detector.ObserveDynamics(rec.Step, d); err != nil {
				t.warn("collapse detector", "run", r.id, "step", rec.Step, "err", err.Error())
			}
		}
	}
	rec.Collapsed = r.detector.Result().Collapsed
	latest := rec
	r.latest = &latest
	r.lastMGs, r.lastProxySum = o.mgs, o.proxySum
	hist := rec
	if hist.Dynamics != nil {
		d := *hist.Dynamics
		d.PerProblemPMaj, d.PerProblemLabelCorrect = nil, nil
		hist.Dynamics = &d
	}
	r.history = append(r.history, hist)
	if len(r.history) > t.cfg.MaxSteps {
		r.history = append(r.history[:0], r.history[len(r.history)-t.cfg.MaxSteps:]...)
	}
	r.lastStep, r.hasSteps = rec.Step, true
}

// rewind makes step s the open step again: closed steps from s on are
// dropped (the latest closed step, if it is s, is reopened with its data)
// and the collapse detector is replayed over the steps kept.
func (t *tracker) rewind(r *run, s int) {
	var reopen *openStep
	if r.open != nil && r.open.rec.Step == s {
		reopen = r.open
	}
	if reopen == nil && r.latest != nil && r.latest.Step == s {
		rec := *r.latest
		rec.Dynamics, rec.DynamicsError, rec.Collapsed = nil, "", false
		reopen = &openStep{rec: rec, proxySum: r.lastProxySum, mgs: r.lastMGs, explicit: true}
	} else if reopen == nil {
		t.warn("run rewound: dropping later steps", "run", r.id, "to_step", s, "last_step", r.lastStep)
	}
	r.open = nil
	keep := r.history[:0]
	for _, h := range r.history {
		if h.Step < s {
			keep = append(keep, h)
		}
	}
	r.history = keep
	det, _ := metrics.NewCollapseDetector(t.cfg.Collapse)
	r.detector = det
	r.latest, r.lastMGs, r.hasSteps, r.lastStep = nil, nil, false, 0
	for i := range r.history {
		h := &r.history[i]
		if h.Dynamics != nil {
			det.ObserveDynamics(h.Step, *h.Dynamics)
		}
		h.Collapsed = det.Result().Collapsed
		r.lastStep, r.hasSteps = h.Step, true
	}
	if n := len(r.history); n > 0 {
		last := r.history[n-1]
		r.latest = &last
	}
	r.open = reopen
}

// closeIdle closes open steps that saw no batch for StepIdle.
func (t *tracker) closeIdle(now time.Time) {
	for _, r := range t.runs {
		if r.open != nil && t.idle(r.open, now) {
			t.close(r, now)
		}
	}
}

// stop returns the run's stop signal and why it is raised.
func (t *tracker) stop(r *run) (bool, string) {
	if r.manualStop != "" {
		return true, r.manualStop
	}
	if res := r.detector.Result(); res.Collapsed && t.cfg.StopOnCollapse {
		return true, fmt.Sprintf("model collapse at step %d: reward accuracy %.4g below %.4g", res.Step, res.Value, r.detector.Config().Threshold)
	}
	return false, ""
}

func (t *tracker) status(r *run) RunStatus {
	res := r.detector.Result()
	st := RunStatus{RunID: r.id, Collapsed: res.Collapsed}
	st.Stop, st.StopReason = t.stop(r)
	if res.Collapsed {
		st.CollapseStep = res.Step
	}
	return st
}

// statusOf returns a run's status, Step being its open or latest step; a
// run not seen yet has an empty status (and is not created).
func (t *tracker) statusOf(id string) RunStatus {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.runs[id]
	if r == nil {
		return RunStatus{RunID: id}
	}
	st := t.status(r)
	st.Step = r.lastStep
	if r.open != nil {
		st.Step = r.open.rec.Step
	}
	return st
}

// report returns the run's report; ok is false for an unknown run. history
// < 0 keeps the whole history, else its last history entries.
func (t *tracker) report(id string, history int, now time.Time) (RunReport, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeIdle(now)
	r := t.runs[id]
	if r == nil {
		return RunReport{}, false
	}
	return t.reportLocked(r, history), true
}

func (t *tracker) reportLocked(r *run, history int) RunReport {
	cfg := r.detector.Config()
	rep := RunReport{
		RunID: r.id, Created: r.created, Updated: r.updated,
		Steps: len(r.history), LastStep: r.lastStep,
		Groups: r.groups, Rollouts: r.rollouts, PartialGroups: r.partial,
		Collapse: CollapseReport{CollapseResult: r.detector.Result(), Threshold: cfg.Threshold, Window: cfg.Window, Patience: cfg.Patience},
	}
	rep.Stop, rep.StopReason = t.stop(r)
	if r.latest != nil {
		l := *r.latest
		rep.Latest = &l
	}
	if o := r.open; o != nil {
		cur := o.rec
		if cur.Rollouts > 0 {
			cur.ProxyReward = o.proxySum / float64(cur.Rollouts)
		}
		if len(o.mgs) > 0 {
			if d, err := metrics.ComputeDynamics(o.mgs); err == nil {
				cur.Dynamics = &d
			} else {
				cur.DynamicsError = err.Error()
			}
		}
		rep.Current = &cur
	}
	h := r.history
	if history >= 0 && len(h) > history {
		h = h[len(h)-history:]
	}
	rep.History = append([]StepRecord{}, h...)
	return rep
}

// reports returns every run's report without history, sorted by id.
func (t *tracker) reports(now time.Time) []RunReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeIdle(now)
	out := make([]RunReport, 0, len(t.runs))
	for _, r := range t.runs {
		out = append(out, t.reportLocked(r, 0))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID < out[j].RunID })
	return out
}

// stopRun raises a run's stop signal by hand; ok is false for a run the
// tracker does not have, which is not created: runs come only from scored
// rollouts, so requests about unknown runs cannot push real ones out.
func (t *tracker) stopRun(id, reason string, now time.Time) (RunStatus, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.runs[id]
	if r == nil {
		return RunStatus{}, false
	}
	r.updated = now
	if reason == "" {
		reason = "stopped by request"
	}
	r.manualStop = reason
	return t.status(r), true
}

// forget deletes a run; ok is false when it did not exist.
func (t *tracker) forget(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.runs[id]
	delete(t.runs, id)
	return ok
}
