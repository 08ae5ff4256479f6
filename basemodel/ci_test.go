package basemodel

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// manifestIntervalBefore is the interval rule the shipped manifests were
// written with, frozen as it stood in this package before the bootstrap
// moved to package metrics: 2,000 resamples from PCG(seed, 0xb0075), each
// the mean of len(xs) draws summed in draw order, sorted, and the entries
// at 0.025·2000 and 0.975·2000 - 1.
func manifestIntervalBefore(xs []float64, seed uint64) [2]float64 {
	const resamples = 2000
	rng := rand.New(rand.NewPCG(seed, 0xb0075))
	means := make([]float64, resamples)
	for b := range means {
		sum := 0.0
		for range xs {
			sum += xs[rng.IntN(len(xs))]
		}
		means[b] = sum / float64(len(xs))
	}
	slices.Sort(means)
	return [2]float64{means[int(0.025*resamples)], means[int(0.975*resamples)-1]}
}

// TestBootstrapCIReproducesTheManifests: the intervals now computed by
// metrics.BootstrapCI are bit for bit those of the rule the shipped
// manifests (and the README's model table) were written with, on sets of
// the sizes and value kinds an evaluation produces: 0/1 (greedy, maj@N,
// pass@N) and multiples of 1/N (avg@N), with the per-metric seeds of
// summarise.
func TestBootstrapCIReproducesTheManifests(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 60 {
		n := []int{1, 2, 3, 30, 40, 200, 1 + rng.IntN(250)}[trial%7]
		xs := make([]float64, n)
		for i := range xs {
			if trial%2 == 0 {
				xs[i] = float64(rng.IntN(2))
			} else {
				xs[i] = float64(rng.IntN(17)) / 16
			}
		}
		seed := uint64(1+trial%3)*4 + uint64(trial%4)
		if got, want := bootstrapCI(xs, seed), manifestIntervalBefore(xs, seed); got != want {
			t.Fatalf("%d values, seed %d: interval %v, the manifests' rule gives %v", n, seed, got, want)
		}
	}
	if got := bootstrapCI(nil, 1); got != ([2]float64{}) {
		t.Errorf("no values: %v, want the zero interval", got)
	}
}
