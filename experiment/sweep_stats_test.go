package experiment

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// stratifiedIntervalBefore is the study-local bootstrap the studies used
// before metrics.BootstrapCI took strata, frozen: B resamples from
// PCG(seed, 0xb007), each stratum's problems drawn from that stratum, the
// statistic evaluated on the draws, type-7 percentiles written as
// a(1-f) + bf.
func stratifiedIntervalBefore(b int, seed uint64, sizes []int, stat func(pick [][]int) float64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	pick := make([][]int, len(sizes))
	for s, n := range sizes {
		pick[s] = make([]int, n)
	}
	vals := make([]float64, b)
	for i := range vals {
		for s, n := range sizes {
			for j := range pick[s] {
				pick[s][j] = rng.IntN(n)
			}
		}
		vals[i] = stat(pick)
	}
	slices.Sort(vals)
	percentile := func(q float64) float64 {
		pos := q * float64(len(vals)-1)
		i := int(pos)
		if i >= len(vals)-1 {
			return vals[len(vals)-1]
		}
		f := pos - float64(i)
		return vals[i]*(1-f) + vals[i+1]*f
	}
	return percentile(0.025), percentile(0.975)
}

func meanOfPicked(values [][]float64, pick [][]int) float64 {
	var sum float64
	for s, vs := range values {
		var m float64
		for _, i := range pick[s] {
			m += vs[i]
		}
		sum += m / float64(len(pick[s]))
	}
	return sum / float64(len(values))
}

// TestStudyIntervalsAsBefore: the studies' intervals, now from
// metrics.BootstrapCI with the sets as strata, are the earlier study-local
// ones: the same draws and the same statistic, so they agree up to the
// rounding of the interpolation and, for differences, of subtracting per
// problem before averaging (far below the 0.1 percentage points the
// reports print).
func TestStudyIntervalsAsBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var worst float64
	exact := 0
	const trials = 40
	for trial := range trials {
		sets := 1 + trial%3
		a, b := make([][]float64, sets), make([][]float64, sets)
		for s := range a {
			n := 1 + rng.IntN(60)
			a[s], b[s] = make([]float64, n), make([]float64, n)
			for i := range n {
				a[s][i] = float64(rng.IntN(9)) / 8
				b[s][i] = float64(rng.IntN(9)) / 8
			}
		}
		sizes := make([]int, sets)
		for s := range a {
			sizes[s] = len(a[s])
		}
		lo, hi := stratifiedIntervalBefore(defaultBootstrap.Resamples, defaultBootstrap.Seed, sizes, func(p [][]int) float64 { return meanOfPicked(a, p) })
		p, err := pointCI(defaultBootstrap, 0, a)
		if err != nil {
			t.Fatal(err)
		}
		dlo, dhi := stratifiedIntervalBefore(defaultBootstrap.Resamples, defaultBootstrap.Seed, sizes, func(p [][]int) float64 {
			return meanOfPicked(b, p) - meanOfPicked(a, p)
		})
		d, err := diffCI(defaultBootstrap, a, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range [][2]float64{{p.Lo, lo}, {p.Hi, hi}, {d.Lo, dlo}, {d.Hi, dhi}} {
			worst = max(worst, math.Abs(c[0]-c[1]))
			if c[0] == c[1] {
				exact++
			}
		}
	}
	if worst > 1e-12 {
		t.Errorf("intervals differ from the earlier ones by up to %g", worst)
	}
	t.Logf("%d of %d interval ends bit for bit as before; the largest difference %g", exact, 4*trials, worst)
}
