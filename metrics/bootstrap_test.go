package metrics

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
)

// bootstrapBefore is BootstrapCI as it stood before strata, percentile
// rules and streams: one stratum, interpolated percentiles, stream 0xb007.
// The validation logs of every run so far were written with it.
func bootstrapBefore(series [][]float64, resamples int, level float64, seed uint64) []Interval {
	n := len(series[0])
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	means := make([][]float64, len(series))
	for s := range means {
		means[s] = make([]float64, resamples)
	}
	idx := make([]int, n)
	for b := range resamples {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		for s, xs := range series {
			var sum float64
			for _, i := range idx {
				sum += xs[i]
			}
			means[s][b] = sum / float64(n)
		}
	}
	alpha := (1 - level) / 2
	out := make([]Interval, len(series))
	for s, m := range means {
		sort.Float64s(m)
		out[s] = Interval{Lo: quantile(m, alpha), Hi: quantile(m, 1-alpha)}
	}
	return out
}

// TestBootstrapCIUnchangedWithoutStrata: with the new fields left zero the
// intervals are bit for bit the earlier ones, so validation logs do not
// move.
func TestBootstrapCIUnchangedWithoutStrata(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 40 {
		n := 1 + rng.IntN(120)
		series := make([][]float64, 1+trial%3)
		for s := range series {
			series[s] = make([]float64, n)
			for i := range series[s] {
				series[s][i] = float64(rng.IntN(9)) / 8
			}
		}
		bc := BootstrapConfig{Seed: uint64(trial), Resamples: []int{0, 1, 200}[trial%3]}
		got, err := BootstrapCI(series, bc)
		if err != nil {
			t.Fatal(err)
		}
		resamples := bc.Resamples
		if resamples == 0 {
			resamples = DefaultResamples
		}
		want := bootstrapBefore(series, resamples, 0.95, bc.Seed)
		for s := range want {
			if got[s] != want[s] {
				t.Fatalf("trial %d series %d: %+v, before %+v", trial, s, got[s], want[s])
			}
		}
	}
}

// TestBootstrapCIStrata: resampling within sets keeps each set's size, and
// the statistic is the mean of the sets' means.
func TestBootstrapCIStrata(t *testing.T) {
	// One set always 1, another of three always 0: every resample's mean
	// of set means is (1+0)/2, whereas the pooled mean would be 1/4.
	ci, err := BootstrapCI([][]float64{{1, 0, 0, 0}}, BootstrapConfig{Seed: 1, Strata: []int{1, 3}})
	if err != nil || ci[0] != (Interval{0.5, 0.5}) {
		t.Fatalf("two constant sets: %+v %v, want [0.5, 0.5]", ci, err)
	}
	// Sets {0, 1} and {0.5}: the first set's resample mean is 0, 1/2 or 1
	// (chances 1/4, 1/2, 1/4), the second is always 1/2, so the statistic
	// is 1/4, 1/2 or 3/4 and the 95% interval is [1/4, 3/4]. Pooled, the
	// three problems can all draw the 0 (chance 1/27 > 2.5%): the interval
	// starts at 0.
	vals := [][]float64{{0, 1, 0.5}}
	ci, err = BootstrapCI(vals, BootstrapConfig{Seed: 7, Resamples: 4000, Strata: []int{2, 1}})
	if err != nil || ci[0] != (Interval{0.25, 0.75}) {
		t.Fatalf("stratified: %+v %v, want [0.25, 0.75]", ci, err)
	}
	pooled, _ := BootstrapCI(vals, BootstrapConfig{Seed: 7, Resamples: 4000})
	if pooled[0].Lo != 0 || pooled[0].Hi != 1 {
		t.Errorf("pooled: %+v, want [0, 1]", pooled[0])
	}
	// One stratum is the unstratified bootstrap, draw for draw.
	one, _ := BootstrapCI(vals, BootstrapConfig{Seed: 7, Resamples: 4000, Strata: []int{3}})
	if one[0] != pooled[0] {
		t.Errorf("one stratum %+v, none %+v", one[0], pooled[0])
	}
	// The draws are shared: an interval does not depend on the series
	// bootstrapped with it.
	pair, _ := BootstrapCI([][]float64{{1, 0, 1}, {0, 1, 0.5}}, BootstrapConfig{Seed: 7, Resamples: 4000, Strata: []int{2, 1}})
	if pair[1] != ci[0] {
		t.Errorf("with a companion series %+v, alone %+v", pair[1], ci[0])
	}
	for _, c := range []struct {
		strata []int
		want   string
	}{{[]int{2, 2}, "hold 4 problems"}, {[]int{3, 0}, "stratum 1 has 0"}} {
		if _, err := BootstrapCI(vals, BootstrapConfig{Strata: c.strata}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("strata %v: %v, want an error with %q", c.strata, err, c.want)
		}
	}
	if _, err := BootstrapCI(vals, BootstrapConfig{Percentiles: 9}); err == nil {
		t.Error("an unknown percentile rule: no error")
	}
	if _, err := BootstrapCorrelation([]float64{1, 2, 3}, []float64{1, 3, 2}, Spearman, BootstrapConfig{Strata: []int{3}}); err == nil {
		t.Error("a stratified correlation: no error")
	}
}

func TestPercentileRules(t *testing.T) {
	sorted := make([]float64, 2000)
	for i := range sorted {
		sorted[i] = float64(i)
	}
	// Trimmed at 95% of 2000: drop 50 at each end.
	if got := (BootstrapConfig{Level: 0.95, Percentiles: Trimmed}).interval(sorted); got != (Interval{50, 1949}) {
		t.Errorf("trimmed 95%% of 2000: %+v, want [50, 1949]", got)
	}
	// Interpolated: h = 0.025·1999 = 49.975 and 0.975·1999 = 1949.025.
	got := (BootstrapConfig{Level: 0.95}).interval(sorted)
	if !near(got.Lo, 49.975, 1e-9) || !near(got.Hi, 1949.025, 1e-9) {
		t.Errorf("interpolated 95%% of 2000: %+v, want [49.975, 1949.025]", got)
	}
	// Trimmed at 90% of 40: drop 2 at each end. Of one mean: that mean.
	if got := (BootstrapConfig{Level: 0.9, Percentiles: Trimmed}).interval(sorted[:40]); got != (Interval{2, 37}) {
		t.Errorf("trimmed 90%% of 40: %+v, want [2, 37]", got)
	}
	if got := (BootstrapConfig{Level: 0.95, Percentiles: Trimmed}).interval(sorted[7:8]); got != (Interval{7, 7}) {
		t.Errorf("trimmed of one: %+v", got)
	}
}
