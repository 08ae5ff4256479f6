package experiment

import (
	"slices"
	"strings"

	"github.com/urlvr/urlvr/metrics"
)

// Correlating the collapse step with the ground-truth gain (paper Fig. 11).

// Correlation is the agreement of a predictor with the GT gain across
// models. A coefficient is nil where it is undefined (a constant variable
// or fewer than two models); Note says why.
type Correlation struct {
	Predictor   string   `json:"predictor"`
	Target      string   `json:"target"`
	Models      int      `json:"models"`
	Spearman    *float64 `json:"spearman"`
	KendallTauB *float64 `json:"kendall_tau_b"`
	Pearson     *float64 `json:"pearson"`
	Note        string   `json:"note,omitempty"`
}

// Correlate computes Spearman's rho, Kendall's tau-b and Pearson's r of x
// and y.
func Correlate(predictor, target string, x, y []float64) Correlation {
	c := Correlation{Predictor: predictor, Target: target, Models: len(x)}
	var notes []string
	for _, f := range []struct {
		fn  func(x, y []float64) (float64, error)
		out **float64
	}{{metrics.Spearman, &c.Spearman}, {metrics.KendallTauB, &c.KendallTauB}, {metrics.Pearson, &c.Pearson}} {
		v, err := f.fn(x, y)
		if err != nil {
			if !slices.Contains(notes, err.Error()) {
				notes = append(notes, err.Error())
			}
			continue
		}
		*f.out = &v
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
