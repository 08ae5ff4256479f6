package experiment

import (
	"slices"
	"strings"

	"github.com/urlvr/urlvr/metrics"
)

// Correlating the collapse step with the ground-truth gain (paper Fig. 11).

// Correlation is the agreement of a predictor with the GT gain across
// models. A coefficient is nil where it is undefined (a constant variable
// or fewer than two models); Note says why. The rank coefficients carry a
// 95% percentile-bootstrap interval over models (nil where too few
// resamples are defined): with ten models, a single coefficient says
// little without it.
type Correlation struct {
	Predictor     string            `json:"predictor"`
	Target        string            `json:"target"`
	Models        int               `json:"models"`
	Spearman      *float64          `json:"spearman"`
	SpearmanCI    *metrics.Interval `json:"spearman_ci,omitempty"`
	KendallTauB   *float64          `json:"kendall_tau_b"`
	KendallTauBCI *metrics.Interval `json:"kendall_tau_b_ci,omitempty"`
	Pearson       *float64          `json:"pearson"`
	Note          string            `json:"note,omitempty"`
}

// correlationSeed seeds the bootstrap over models, so a report's intervals
// are the same every time it is written.
const correlationSeed = 12

// Correlate computes Spearman's rho, Kendall's tau-b and Pearson's r of x
// and y, and bootstrap intervals of the two rank coefficients.
func Correlate(predictor, target string, x, y []float64) Correlation {
	c := Correlation{Predictor: predictor, Target: target, Models: len(x)}
	var notes []string
	note := func(err error) {
		if !slices.Contains(notes, err.Error()) {
			notes = append(notes, err.Error())
		}
	}
	for _, f := range []struct {
		fn  func(x, y []float64) (float64, error)
		out **float64
		ci  **metrics.Interval
	}{{metrics.Spearman, &c.Spearman, &c.SpearmanCI}, {metrics.KendallTauB, &c.KendallTauB, &c.KendallTauBCI}, {metrics.Pearson, &c.Pearson, nil}} {
		v, err := f.fn(x, y)
		if err != nil {
			note(err)
			continue
		}
		*f.out = &v
		if f.ci == nil {
			continue
		}
		b, err := metrics.BootstrapCorrelation(x, y, f.fn, metrics.BootstrapConfig{Seed: correlationSeed})
		if err != nil {
			note(err)
			continue
		}
		*f.ci = &b.CI
	}
	c.Note = strings.Join(notes, "; ")
	return c
}

// correlateMCS correlates the Model Collapse Step and the pass@k gain with
// the GT gain across models, as paper Fig. 11 does.
func correlateMCS(results []MCSResult, gain GainBasis) []Correlation {
	var mcs, passK, gains []float64
	for _, r := range results {
		mcs = append(mcs, r.RankValue())
		passK = append(passK, r.PassKGain)
		gains = append(gains, r.Gain(gain))
	}
	target := "gt_gain_" + string(gain)
	return []Correlation{
		Correlate("model_collapse_step", target, mcs, gains),
		Correlate("pass_k_gain", target, passK, gains),
	}
}
