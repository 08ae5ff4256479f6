package metrics

import (
	"fmt"
	"sort"
)

// BootstrapStatistics returns the percentile-bootstrap intervals of
// statistics that are not means of one value per problem — a rate over a
// varying number of items per problem, such as a verifier's true-positive
// rate over the candidates of the drawn problems. Each of bc.Resamples
// resamples draws n problem indexes with replacement (from bc's generator,
// stream 0xb007 unless bc names one), and stat returns every statistic,
// always as many, computed from that draw. Strata are not supported here.
func BootstrapStatistics(n int, stat func(draw []int) []float64, bc BootstrapConfig) ([]Interval, error) {
	bc, err := bc.withDefaults()
	if err != nil {
		return nil, err
	}
	if n < 1 || len(bc.Strata) > 0 {
		return nil, fmt.Errorf("bootstrap: %d problems and strata %v; want at least one problem and no strata", n, bc.Strata)
	}
	rng := bc.rng(defaultStream)
	var values [][]float64
	draw := make([]int, n)
	for b := range bc.Resamples {
		for i := range draw {
			draw[i] = rng.IntN(n)
		}
		xs := stat(draw)
		if b == 0 {
			values = make([][]float64, len(xs))
		}
		if len(xs) != len(values) {
			return nil, fmt.Errorf("bootstrap: resample %d gave %d statistics, the first gave %d", b, len(xs), len(values))
		}
		for k, x := range xs {
			values[k] = append(values[k], x)
		}
	}
	out := make([]Interval, len(values))
	for k, v := range values {
		sort.Float64s(v)
		out[k] = bc.interval(v)
	}
	return out, nil
}
