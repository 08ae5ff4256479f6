package basemodel

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/urlvr/urlvr/reward"
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

// verifyIntervalsBefore is the verification intervals' rule as it stood in
// this package before it moved to metrics.BootstrapStatistics: 2,000
// resamples from PCG(seed, 0xb0075), each drawing len(problems) problems
// and taking all their candidates, sorted, the entries at 0.025·2000 and
// 0.975·2000 - 1.
func verifyIntervalsBefore(cands []candidate, verdicts []reward.Verdict, seed uint64) map[string][2]float64 {
	const resamples = 2000
	byProblem := map[int][]int{}
	var problems []int
	for i, c := range cands {
		if _, ok := byProblem[c.problem]; !ok {
			problems = append(problems, c.problem)
		}
		byProblem[c.problem] = append(byProblem[c.problem], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0xb0075))
	stats := make([][]float64, 4)
	var idx []int
	for range resamples {
		idx = idx[:0]
		for range problems {
			idx = append(idx, byProblem[problems[rng.IntN(len(problems))]]...)
		}
		a, p, t, f := verifyRates(cands, verdicts, idx)
		for k, x := range []float64{a, p, t, f} {
			stats[k] = append(stats[k], x)
		}
	}
	out := map[string][2]float64{}
	for k, name := range []string{"accuracy", "parse_rate", "tpr", "fpr"} {
		slices.Sort(stats[k])
		out[name] = [2]float64{stats[k][int(0.025*resamples)], stats[k][int(0.975*resamples)-1]}
	}
	return out
}

// The verification intervals recorded in the Countdown manifests come out
// bit for bit the same through metrics.BootstrapStatistics.
func TestVerifyIntervalsReproduceTheOldRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for c := range 20 {
		var cands []candidate
		var verdicts []reward.Verdict
		problems := 1 + rng.IntN(60)
		for p := range problems {
			for range 1 + rng.IntN(2) {
				cands = append(cands, candidate{problem: p * 3, correct: rng.IntN(2) == 0})
				verdicts = append(verdicts, []reward.Verdict{reward.NoVerdict, reward.VerdictFalse, reward.VerdictTrue}[rng.IntN(3)])
			}
		}
		seed := rng.Uint64()
		got := verifyReport("P2", cands, verdicts, seed).CI
		want := verifyIntervalsBefore(cands, verdicts, seed)
		for name, w := range want {
			if got[name] != w {
				t.Fatalf("case %d, %s: interval %v, the old rule gives %v", c, name, got[name], w)
			}
		}
	}
}
