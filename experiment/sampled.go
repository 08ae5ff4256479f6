package experiment

import (
	"context"
	"fmt"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/train"
)

// Offline sampling: the studies that select problems by the base model's
// own votes (paper Fig. 9) or compare many-sample accuracies (Table 9)
// sample a model outside any training run.

// openModel opens a base model by suite name or directory, as the trainer
// resolves model.base; a run's checkpoint directory holds a model too.
func openModel(name string) (*basemodel.Model, error) {
	m, err := basemodel.OpenNamed(name)
	if err != nil {
		return nil, fmt.Errorf("model %q is not a usable model: %w", name, err)
	}
	return m, nil
}

// sampling is how problems are sampled offline.
type sampling struct {
	N           int     // samples per problem
	Temperature float64 // as the recipe's rollouts
	MaxNew      int     // response tokens
	Seed        uint64
}

// sampleClasses draws s.N responses per problem and grades them into
// answer classes and correctness, one metrics.Samples per problem.
func sampleClasses(ctx context.Context, m *basemodel.Model, problems []train.Problem, s sampling) ([]metrics.Samples, error) {
	if s.N < 1 {
		return nil, fmt.Errorf("sampling %d responses per problem; need at least 1", s.N)
	}
	prompts := make([]string, len(problems))
	for i, p := range problems {
		prompts[i] = p.Prompt
	}
	responses, _, err := m.Generate(ctx, prompts, s.N, s.Temperature, s.MaxNew, s.Seed)
	if err != nil {
		return nil, err
	}
	g := grade.Default()
	out := make([]metrics.Samples, len(problems))
	for i, p := range problems {
		answers := make([]string, s.N)
		correct := make([]float64, s.N)
		for j, r := range responses[i*s.N : (i+1)*s.N] {
			res := g.Grade(r, p.Answer)
			answers[j] = res.Answer
			if res.Correct {
				correct[j] = 1
			}
		}
		out[i] = metrics.Samples{Classes: g.Classes(answers).Class, Correct: correct}
	}
	return out, nil
}
