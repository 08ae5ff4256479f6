package experiment

import (
	"context"
	"fmt"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
)

// defaultBootstrap is the resampling the studies report with: 1000
// resamples of the problems, within each validation set, seed 1, 95%
// percentile intervals (metrics.BootstrapCI with the sets as strata).
var defaultBootstrap = metrics.BootstrapConfig{Resamples: 1000, Seed: 1}

// setMeansCI is the percentile-bootstrap interval of meanOfSetMeans(values)
// over the problems, resampled within each set so that every resample
// keeps the sets' sizes.
func setMeansCI(bc metrics.BootstrapConfig, values [][]float64) (metrics.Interval, error) {
	var flat []float64
	bc.Strata = make([]int, len(values))
	for s, vs := range values {
		flat = append(flat, vs...)
		bc.Strata[s] = len(vs)
	}
	ci, err := metrics.BootstrapCI([][]float64{flat}, bc)
	if err != nil {
		return metrics.Interval{}, err
	}
	return ci[0], nil
}

// meanOfSetMeans is the validation score the trainer reports: each set's
// mean over its problems, averaged over sets. values[s][i] is problem i of
// set s.
func meanOfSetMeans(values [][]float64) float64 {
	var sum float64
	for _, vs := range values {
		var m float64
		for _, v := range vs {
			m += v
		}
		m /= float64(len(vs))
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
// i·n .. i·n+n-1), in chunks of 512 whose seeds derive from seed
// (engine.SampleChunks), and grades each against its prompt's gold answer.
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
	o.Seed = seed
	gens, err := m.Engine.SampleChunks(ctx, ids, o, chunk)
	if err != nil {
		return nil, fmt.Errorf("sampling: %w", err)
	}
	out := make([]sampled, 0, len(ids))
	for i, gen := range gens {
		s := sampled{Text: m.Response(gen.Tokens), Tokens: len(gen.Tokens)}
		if a, err := g.Extract(s.Text); err == nil {
			s.Answer = a
			s.Correct = g.Equivalent(a, golds[i/n])
		}
		out = append(out, s)
	}
	return out, nil
}
