package experiment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/grade"
)

// bootstrap computes percentile confidence intervals by resampling
// problems with replacement, within each stratum (validation set)
// separately, so that every resample keeps the sets' sizes. B resamples
// are drawn from a generator seeded with Seed, so intervals are
// reproducible. (A study-local helper until the evaluator in metrics
// offers intervals.)
type bootstrap struct {
	B    int
	Seed uint64
}

// defaultBootstrap is the resampling the studies report with.
var defaultBootstrap = bootstrap{B: 1000, Seed: 1}

// interval returns the 2.5th and 97.5th percentiles of stat over B
// resamples; sizes are the strata's problem counts, and stat receives for
// each stratum the indices drawn.
func (b bootstrap) interval(sizes []int, stat func(pick [][]int) float64) (lo, hi float64) {
	rng := rand.New(rand.NewPCG(b.Seed, 0xb007))
	pick := make([][]int, len(sizes))
	for s, n := range sizes {
		pick[s] = make([]int, n)
	}
	vals := make([]float64, b.B)
	for i := range vals {
		for s, n := range sizes {
			for j := range pick[s] {
				pick[s][j] = rng.IntN(n)
			}
		}
		vals[i] = stat(pick)
	}
	slices.Sort(vals)
	return percentile(vals, 0.025), percentile(vals, 0.975)
}

// percentile of sorted values, by linear interpolation between ranks.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}

// meanOfSetMeans is the validation score the trainer reports: each set's
// mean over its problems, averaged over sets. values[s][i] is problem i of
// set s; pick, when non-nil, resamples the problems.
func meanOfSetMeans(values [][]float64, pick [][]int) float64 {
	var sum float64
	for s, vs := range values {
		var m float64
		if pick == nil {
			for _, v := range vs {
				m += v
			}
			m /= float64(len(vs))
		} else {
			for _, i := range pick[s] {
				m += vs[i]
			}
			m /= float64(len(pick[s]))
		}
		sum += m
	}
	return sum / float64(len(values))
}

// sampled is one sampled response, graded.
type sampled struct {
	Text    string
	Answer  string // "" when none could be extracted
	Correct bool
	Tokens  int
}

// sampleGraded draws n responses to each prompt from m (prompt i's at
// i·n .. i·n+n-1), in chunks whose seeds derive from seed, and grades each
// against its prompt's gold answer.
func sampleGraded(ctx context.Context, m *basemodel.Model, prompts, golds []string, n int, o engine.SampleOptions, seed uint64, g *grade.Grader) ([]sampled, error) {
	const chunk = 512
	ids := make([][]int, 0, len(prompts)*n)
	for _, p := range prompts {
		enc := m.EncodePrompt(p)
		for range n {
			ids = append(ids, enc)
		}
	}
	o.StopTokens = m.StopTokens()
	out := make([]sampled, 0, len(ids))
	for c, lo := 0, 0; lo < len(ids); c, lo = c+1, lo+chunk {
		hi := min(len(ids), lo+chunk)
		o.Seed = seed + uint64(c)*0x9e3779b97f4a7c15
		gens, err := m.Engine.Sample(ctx, ids[lo:hi], o)
		if err != nil {
			return nil, fmt.Errorf("sampling: %w", err)
		}
		for k, gen := range gens {
			s := sampled{Text: m.Response(gen.Tokens), Tokens: len(gen.Tokens)}
			if a, err := g.Extract(s.Text); err == nil {
				s.Answer = a
				s.Correct = g.Equivalent(a, golds[(lo+k)/n])
			}
			out = append(out, s)
		}
	}
	return out, nil
}
