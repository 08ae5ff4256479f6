package foreignlog

import (
	"fmt"
	"math"
	"sort"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/runlog"
)

// DivergenceConfig sets when the proxy reward counts as having left the
// ground-truth reward behind: the trailing mean (over Window logged steps)
// of proxy − ground truth reaches Gap and stays there for Patience steps in
// a row. The paper's runs show this gap opening as the policy sharpens onto
// its own majority (Sec. 4, Fig. 2) before reward accuracy collapses.
type DivergenceConfig struct {
	Gap      float64 // default 0.3
	Window   int     // default 5
	Patience int     // default 3
}

func (c DivergenceConfig) normalized() DivergenceConfig {
	if c.Gap <= 0 {
		c.Gap = 0.3
	}
	if c.Window <= 0 {
		c.Window = 5
	}
	if c.Patience <= 0 {
		c.Patience = 3
	}
	return c
}

// DivergenceResult says whether and where proxy and ground truth parted.
type DivergenceResult struct {
	Diverged bool    `json:"diverged"`
	Step     int     `json:"divergence_step,omitempty"` // first step of the confirming run
	MaxGap   float64 `json:"max_gap"`                   // largest smoothed gap seen
	MaxStep  int     `json:"max_gap_step"`
	Gap      float64 `json:"gap_threshold"`
	Window   int     `json:"window"`
	Patience int     `json:"patience"`
	Steps    int     `json:"steps"` // steps with both rewards
}

// Divergence checks rows (urlvr keys) for proxy/ground-truth divergence. ok
// is false when the rows lack either reward.
func Divergence(rows []map[string]float64, cfg DivergenceConfig) (DivergenceResult, bool) {
	cfg = cfg.normalized()
	type pt struct{ step, gap float64 }
	byStep := map[float64]float64{}
	for _, r := range rows {
		s, ok0 := r[runlog.KeyStep]
		p, ok1 := r[runlog.KeyProxyReward]
		g, ok2 := r[runlog.KeyGroundTruthReward]
		if ok0 && ok1 && ok2 {
			byStep[s] = p - g // a step logged twice keeps its last value
		}
	}
	if len(byStep) == 0 {
		return DivergenceResult{}, false
	}
	pts := make([]pt, 0, len(byStep))
	for s, g := range byStep {
		pts = append(pts, pt{s, g})
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].step < pts[j].step })
	res := DivergenceResult{Gap: cfg.Gap, Window: cfg.Window, Patience: cfg.Patience, Steps: len(pts), MaxGap: math.Inf(-1)}
	sum, run, runStart := 0.0, 0, 0
	for i, p := range pts {
		sum += p.gap
		if i >= cfg.Window {
			sum -= pts[i-cfg.Window].gap
		}
		mean := sum / float64(min(i+1, cfg.Window))
		if mean > res.MaxGap {
			res.MaxGap, res.MaxStep = mean, int(p.step)
		}
		if res.Diverged {
			continue
		}
		if mean >= cfg.Gap {
			if run == 0 {
				runStart = int(p.step)
			}
			run++
			if run >= cfg.Patience {
				res.Diverged, res.Step = true, runStart
			}
		} else {
			run = 0
		}
	}
	return res, true
}

// Flags are the warnings a foreign log raises.
type Flags struct {
	// Collapse is the Model Collapse Step check; nil when the log has no
	// reward accuracy.
	Collapse *metrics.CollapseResult `json:"collapse"`
	// Divergence is nil when the log lacks the proxy or the ground-truth
	// reward.
	Divergence *DivergenceResult `json:"divergence"`
	// Notes say which checks could not run and why.
	Notes []string `json:"notes,omitempty"`
}

// Check runs collapse detection and the divergence check on rows with
// urlvr's keys.
func Check(rows []map[string]float64, cc metrics.CollapseConfig, dc DivergenceConfig) (Flags, error) {
	var fl Flags
	det, err := metrics.NewCollapseDetector(cc)
	if err != nil {
		return fl, err
	}
	byStep := map[int]float64{}
	for _, r := range rows {
		s, ok0 := r[runlog.KeyStep]
		v, ok1 := r[runlog.KeyRewardAccuracy]
		if ok0 && ok1 {
			byStep[int(s)] = v
		}
	}
	if len(byStep) > 0 {
		steps := make([]int, 0, len(byStep))
		for s := range byStep {
			steps = append(steps, s)
		}
		sort.Ints(steps)
		for _, s := range steps {
			if _, err := det.Observe(s, byStep[s]); err != nil {
				return fl, fmt.Errorf("reward accuracy at step %d: %w", s, err)
			}
		}
		res := det.Result()
		fl.Collapse = &res
	} else {
		fl.Notes = append(fl.Notes, "no reward accuracy (train/reward_accuracy or .../reward_accuracy): the Model Collapse Step cannot be detected")
	}
	if d, ok := Divergence(rows, dc); ok {
		fl.Divergence = &d
	} else {
		fl.Notes = append(fl.Notes, "no proxy and ground-truth reward pair: divergence cannot be checked")
	}
	return fl, nil
}
