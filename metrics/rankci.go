package metrics

import (
	"errors"
	"fmt"
	"sort"
)

// CorrelationCI is a rank correlation across a handful of units (models of
// a suite, paper Fig. 11) with a percentile-bootstrap interval over those
// units: with ten models a coefficient of 0.5 is compatible with almost
// anything, and the interval says so.
type CorrelationCI struct {
	Value float64
	CI    Interval
	// Resamples is how many bootstrap resamples had a defined coefficient;
	// a resample that drew one unit repeatedly can make a variable
	// constant, and is left out rather than counted as 0.
	Resamples int
}

// BootstrapCorrelation returns corr(x, y) with a percentile-bootstrap
// interval: B resamples draw len(x) (x, y) pairs with replacement from one
// generator seeded by bc.Seed, the coefficient of each resample is taken,
// and the interval runs between the (1-level)/2 and (1+level)/2 quantiles of
// the defined ones (bc.Percentiles and bc.Stream apply as in BootstrapCI;
// units are not stratified). corr is Spearman, KendallTauB or Pearson. It
// fails when the coefficient of the data itself is undefined, or when fewer
// than half of the resamples are.
func BootstrapCorrelation(x, y []float64, corr func(x, y []float64) (float64, error), bc BootstrapConfig) (CorrelationCI, error) {
	value, err := corr(x, y)
	if err != nil {
		return CorrelationCI{}, err
	}
	bc, err = bc.withDefaults()
	if err != nil {
		return CorrelationCI{}, err
	}
	if len(bc.Strata) > 0 {
		return CorrelationCI{}, errors.New("bootstrap: a correlation across units is not resampled within strata")
	}
	n := len(x)
	rng := bc.rng(0xc0ee)
	bx, by := make([]float64, n), make([]float64, n)
	values := make([]float64, 0, bc.Resamples)
	for range bc.Resamples {
		for i := range n {
			j := rng.IntN(n)
			bx[i], by[i] = x[j], y[j]
		}
		v, err := corr(bx, by)
		if errors.Is(err, ErrConstant) {
			continue
		}
		if err != nil {
			return CorrelationCI{}, err
		}
		values = append(values, v)
	}
	if 2*len(values) < bc.Resamples {
		return CorrelationCI{}, fmt.Errorf("bootstrap: the correlation is undefined in %d of %d resamples of %d units; too few distinct units for an interval", bc.Resamples-len(values), bc.Resamples, n)
	}
	sort.Float64s(values)
	return CorrelationCI{
		Value:     value,
		CI:        bc.interval(values),
		Resamples: len(values),
	}, nil
}

// RankingAgreement is Kendall's tau-b between two scorings of the same
// units, the agreement of two rankings (paper Fig. 12: the Model Collapse
// Step ranking under other rollout counts and mini-batch sizes against the
// default one). 1 is the same order, -1 the reverse.
func RankingAgreement(a, b []float64) (float64, error) {
	return KendallTauB(a, b)
}
