package reward

import (
	"context"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/urlvr/urlvr/rollout"
)

// benchBatch is the paper's default batch shape (Table 7): 64 prompts x 8
// rollouts, here with 512-token responses and integer answers.
func benchBatch(prompts, n, tokens int) []*rollout.Group {
	rng := rand.New(rand.NewPCG(1, 2))
	groups := make([]*rollout.Group, prompts)
	for k := range groups {
		g := &rollout.Group{PromptID: strconv.Itoa(k)}
		for range n {
			r := rollout.Rollout{
				Answer:        strconv.Itoa(rng.IntN(4)),
				LogProbs:      make([]float32, tokens),
				Entropies:     make([]float32, tokens),
				SelfCertainty: make([]float32, tokens),
				Top2Gap:       make([]float32, tokens),
				AnswerMask:    make([]bool, tokens),
			}
			for t := range tokens {
				r.LogProbs[t] = -float32(rng.ExpFloat64())
				r.Entropies[t] = float32(rng.Float64() * 3)
				r.SelfCertainty[t] = float32(rng.Float64() * 10)
				r.Top2Gap[t] = float32(rng.Float64())
				r.AnswerMask[t] = t >= tokens-4
			}
			g.Rollouts = append(g.Rollouts, r)
		}
		groups[k] = g
	}
	return groups
}

func benchEstimators() []Estimator {
	return []Estimator{SelfCertainty{}, TokenEntropy{}, TrajectoryEntropy{}, Probability{}, ProbabilityDisparity{}, MajorityVoting{}}
}

func BenchmarkEstimator(b *testing.B) {
	groups := benchBatch(64, 8, 512)
	ctx := context.Background()
	for _, e := range benchEstimators() {
		b.Run(e.Name(), func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := ScoreAll(ctx, e, groups); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAllRewards scores a 64x8 batch of 512-token rollouts with every
// certainty estimator and majority voting: the per-step reward cost without
// grader calls (integer answers take the key fast path). Target < 1 ms.
func BenchmarkAllRewards(b *testing.B) {
	groups := benchBatch(64, 8, 512)
	ctx := context.Background()
	es := benchEstimators()
	defer reportCPU(b)()
	for b.Loop() {
		for _, e := range es {
			if _, err := ScoreAll(ctx, e, groups); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMajorityVotingGrader votes on answers that need the grader
// (fractions and decimals), for comparison with the fast path.
func BenchmarkMajorityVotingGrader(b *testing.B) {
	groups := benchBatch(64, 8, 1)
	forms := []string{"0.5", `\frac{1}{2}`, "1/3", "0.25"}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, g := range groups {
		for i := range g.Rollouts {
			g.Rollouts[i].Answer = forms[rng.IntN(len(forms))]
		}
	}
	ctx := context.Background()
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := ScoreAll(ctx, MajorityVoting{}, groups); err != nil {
			b.Fatal(err)
		}
	}
}
