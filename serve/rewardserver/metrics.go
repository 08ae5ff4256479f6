package rewardserver

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/urlvr/urlvr/serve"
)

type counter struct{ v atomic.Uint64 }

func (c *counter) add(n uint64) { c.v.Add(n) }
func (c *counter) load() uint64 { return c.v.Load() }

// handleMetrics serves the Prometheus text exposition: the HTTP counters,
// the service's scoring counters, the held groups, and per run the latest
// closed step's training-dynamics metrics and the collapse state.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", serve.PromContentType)
	p := serve.NewPromWriter(w)
	s.stats.WriteProm(p, "urlvr")
	working, queued := s.limiter.Busy()
	p.Metric("urlvr_work_slots", "gauge", "Requests that may score at once.", float64(s.limiter.Capacity()))
	p.Metric("urlvr_work_slots_busy", "gauge", "Work slots taken now.", float64(working))
	p.Metric("urlvr_work_queue_length", "gauge", "Requests waiting for a work slot.", float64(queued))
	p.Metric("urlvr_rollouts_scored_total", "counter", "Rollouts scored.", float64(s.scored.load()))
	rs := s.rv.stats()
	p.Metric("urlvr_held_groups", "gauge", "Split groups held waiting for the rest of their rollouts.", float64(rs.groups))
	p.Metric("urlvr_held_rollouts", "gauge", "Rollouts held in split groups.", float64(rs.rollouts))
	p.Metric("urlvr_held_groups_completed_total", "counter", "Held groups that became whole.", float64(rs.completed))
	p.Metric("urlvr_held_groups_timed_out_total", "counter", "Held groups scored partial because their wait ran out.", float64(rs.timedOut))
	p.Metric("urlvr_held_overflow_total", "counter", "Requests refused because the held-rollout limit was reached.", float64(rs.overflowed))
	p.Metric("urlvr_held_withdrawn_rollouts_total", "counter", "Held rollouts dropped because their client left before the group was whole.", float64(rs.withdrawn))
	used, capacity := s.budget.InUse()
	p.Metric("urlvr_body_bytes_in_flight", "gauge", "Request-body bytes reserved now (the limit is --max-body-in-flight).", float64(used))
	p.Metric("urlvr_body_bytes_in_flight_limit", "gauge", "The request-body byte budget.", float64(capacity))
	p.Metric("urlvr_uptime_seconds", "gauge", "Seconds since the service started.", time.Since(s.started).Seconds())

	runs := s.tracker.reports(time.Now())
	type gauge struct {
		name, typ, help string
		value           func(rep *RunReport) (float64, bool)
	}
	latest := func(f func(st *StepRecord) (float64, bool)) func(*RunReport) (float64, bool) {
		return func(rep *RunReport) (float64, bool) {
			if rep.Latest == nil {
				return 0, false
			}
			return f(rep.Latest)
		}
	}
	dyn := func(f func(st *StepRecord) (float64, bool)) func(*RunReport) (float64, bool) {
		return latest(func(st *StepRecord) (float64, bool) {
			if st.Dynamics == nil {
				return 0, false
			}
			return f(st)
		})
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauges := []gauge{
		{"urlvr_run_step", "gauge", "Latest closed training step of the run.", func(rep *RunReport) (float64, bool) { return float64(rep.LastStep), rep.Steps > 0 }},
		{"urlvr_run_rollouts_total", "counter", "Rollouts scored for the run.", func(rep *RunReport) (float64, bool) { return float64(rep.Rollouts), true }},
		{"urlvr_run_groups_total", "counter", "Groups scored for the run.", func(rep *RunReport) (float64, bool) { return float64(rep.Groups), true }},
		{"urlvr_run_partial_groups_total", "counter", "Groups scored short of the group size for the run.", func(rep *RunReport) (float64, bool) { return float64(rep.PartialGroups), true }},
		{"urlvr_run_proxy_reward", "gauge", "Mean proxy reward of the latest step, over all its rollouts.", latest(func(st *StepRecord) (float64, bool) { return st.ProxyReward, true })},
		{"urlvr_run_ground_truth_reward", "gauge", "Mean ground-truth reward of the latest step (groups with gold answers).", dyn(func(st *StepRecord) (float64, bool) { return st.Dynamics.GroundTruthReward, true })},
		{"urlvr_run_label_accuracy", "gauge", "Label accuracy of the latest step (paper B.2).", dyn(func(st *StepRecord) (float64, bool) { return st.Dynamics.LabelAccuracy, true })},
		{"urlvr_run_reward_accuracy", "gauge", "Reward accuracy of the latest step (paper B.2); binary rewards only.", dyn(func(st *StepRecord) (float64, bool) {
			return st.Dynamics.RewardAccuracy, st.Dynamics.HasRewardAccuracy
		})},
		{"urlvr_run_majority_ratio", "gauge", "Mean majority-answer fraction of the latest step.", dyn(func(st *StepRecord) (float64, bool) {
			return st.Dynamics.MajorityRatio, st.Dynamics.HasMajorityRatio
		})},
		{"urlvr_run_zero_variance_fraction", "gauge", "Fraction of the latest step's prompts whose rewards are all equal.", dyn(func(st *StepRecord) (float64, bool) { return st.Dynamics.ZeroVarianceFraction, true })},
		{"urlvr_run_point_biserial", "gauge", "Correlation of proxy reward and ground truth in the latest step.", dyn(func(st *StepRecord) (float64, bool) { return st.Dynamics.PointBiserial, true })},
		{"urlvr_run_collapsed", "gauge", "1 once the run's Model Collapse Step is confirmed.", func(rep *RunReport) (float64, bool) { return b2f(rep.Collapse.Collapsed), true }},
		{"urlvr_run_collapse_step", "gauge", "The run's Model Collapse Step (first step with reward accuracy below the threshold).", func(rep *RunReport) (float64, bool) {
			return float64(rep.Collapse.Step), rep.Collapse.Collapsed
		}},
		{"urlvr_run_stop", "gauge", "1 when the run is told to stop.", func(rep *RunReport) (float64, bool) { return b2f(rep.Stop), true }},
	}
	for _, g := range gauges {
		p.Family(g.name, g.typ, g.help)
		for i := range runs {
			if v, ok := g.value(&runs[i]); ok {
				p.Sample(g.name, []serve.Label{{Name: "run", Value: runs[i].RunID}}, v)
			}
		}
	}
	if err := p.Flush(); err != nil {
		s.log.Debug("writing metrics", "err", err.Error())
	}
}
