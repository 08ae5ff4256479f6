package reward

import (
	"context"
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/urlvr/urlvr/rollout"
)

func TestUnifiedHandValues(t *testing.T) {
	g := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{{
		SelfCertainty: []float32{2, 4},   // H(U, pi_t)
		Entropies:     []float32{1, 3},   // H(pi_t)
		LogProbs:      []float32{-1, -3}, // H(delta_t, pi_t) = 1, 3
	}}}
	for _, tc := range []struct {
		u    Unified
		want float64
	}{
		{Unified{Anchor: AnchorUniform, Sign: 1}, 3},                                  // (2+4)/2
		{Unified{Anchor: AnchorUniform, Sign: -1}, -3},                                // sign flips
		{Unified{Anchor: AnchorPolicy, Sign: -1}, -2},                                 // -(1+3)/2
		{Unified{Anchor: AnchorSampledToken, Sign: -1}, -2},                           // -(1+3)/2
		{Unified{Anchor: AnchorSampledToken, Sign: -1, Transform: Exp}, math.Exp(-2)}, // geometric-mean probability
		{Unified{Anchor: AnchorSampledToken, Sign: -1, Transform: ExpScaled}, math.Exp(-4)},
		{Unified{Anchor: AnchorPolicy, Sign: 1, Transform: ExpScaled}, math.Exp(4)},
	} {
		checkRewards(t, tc.u.Anchor.String()+"/"+tc.u.Transform.String(), score(t, tc.u, g).Rewards, []float64{tc.want}, 1e-12)
	}
}

func TestUnifiedAnswerLevelHand(t *testing.T) {
	g := answered("a", "a", "b", "") // pi^A: a 1/2, b 1/4
	se := Unified{Granularity: AnswerLevel, Anchor: AnchorAnswer, Sign: -1, Transform: Exp}
	checkRewards(t, "semantic entropy", score(t, se, g).Rewards, []float64{0.5, 0.5, 0.25, 0}, 1e-15)

	limit := se
	limit.Tempered = true
	checkRewards(t, "tau -> 0", score(t, limit, g).Rewards, []float64{1, 1, 0, 0}, 0)

	// tau = 0.1: softmax(5, 2.5) = (1/(1+e^-2.5), e^-2.5/(1+e^-2.5)).
	tempered := limit
	tempered.Tau = 0.1
	checkRewards(t, "tau 0.1", score(t, tempered, g).Rewards,
		[]float64{0.9241418199787566, 0.9241418199787566, 0.07585818002124355, 0}, 1e-14)

	// A tie: the limit splits the mass, majority voting picks the first.
	checkRewards(t, "tau -> 0 tie", score(t, limit, answered("a", "b")).Rewards, []float64{0.5, 0.5}, 0)

	// log pi^A with identity: -inf for the rollout without an answer.
	id := Unified{Granularity: AnswerLevel, Anchor: AnchorAnswer, Sign: -1, Transform: Identity}
	if _, err := id.Score(context.Background(), g); err == nil {
		t.Error("identity transform and no answer: no error")
	}
	checkRewards(t, "log pi^A", score(t, id, answered("a", "a", "b", "c")).Rewards,
		[]float64{math.Log(0.5), math.Log(0.5), math.Log(0.25), math.Log(0.25)}, 1e-15)
}

func TestUnifiedValidate(t *testing.T) {
	for _, u := range []Unified{
		{Sign: 0},
		{Sign: 2},
		{Sign: 1, Transform: 7},
		{Sign: 1, Anchor: AnchorAnswer},
		{Sign: 1, Tempered: true},
		{Sign: -1, Granularity: AnswerLevel, Anchor: AnchorUniform},
		{Sign: -1, Granularity: AnswerLevel, Anchor: AnchorAnswer, Tempered: true, Tau: -1},
		{Sign: -1, Granularity: 5},
	} {
		if err := u.Validate(); err == nil {
			t.Errorf("%+v: no error", u)
		}
		if _, err := u.Score(context.Background(), answered("1")); err == nil {
			t.Errorf("%+v: Score without error", u)
		}
	}
}

// randomGroup draws a group with every per-token statistic and an answer.
func randomGroup(t *rapid.T) *rollout.Group {
	n := rapid.IntRange(1, 8).Draw(t, "n")
	g := &rollout.Group{PromptID: "p"}
	for i := range n {
		length := rapid.IntRange(1, 40).Draw(t, "len")
		r := rollout.Rollout{Answer: rapid.SampledFrom([]string{"", "1", "2", "3"}).Draw(t, "answer")}
		for range length {
			r.LogProbs = append(r.LogProbs, float32(-rapid.Float64Range(0, 30).Draw(t, "nll")))
			r.Entropies = append(r.Entropies, float32(rapid.Float64Range(0, 12).Draw(t, "h")))
			r.SelfCertainty = append(r.SelfCertainty, float32(rapid.Float64Range(0, 20).Draw(t, "sc")))
		}
		_ = i
		g.Rollouts = append(g.Rollouts, r)
	}
	return g
}

// Each Table 6 instantiation equals the estimator it claims to be.
func TestTable6EqualsDirectFormulas(t *testing.T) {
	table := Table6()
	direct := map[string]Estimator{
		"self_certainty":     SelfCertainty{},
		"token_entropy":      TokenEntropy{},
		"trajectory_entropy": TrajectoryEntropy{},
		"probability":        Probability{},
		"semantic_entropy":   SoftVoting{}, // |C(y)|/G exactly; EMPO below
		"majority_voting":    MajorityVoting{},
	}
	if len(table) != len(direct) {
		t.Fatalf("Table6 has %d rows, test covers %d", len(table), len(direct))
	}
	rapid.Check(t, func(rt *rapid.T) {
		g := randomGroup(rt)
		for name, u := range table {
			got, err := u.Score(context.Background(), g)
			if err != nil {
				rt.Fatalf("%s: %v", name, err)
			}
			want, err := direct[name].Score(context.Background(), g)
			if err != nil {
				rt.Fatalf("%s direct: %v", name, err)
			}
			mv := want.Votes
			unique := true
			if name == "majority_voting" {
				// The tau -> 0 limit equals majority voting when the majority
				// is unique; with ties it splits 1/k among them.
				n := 0
				for _, size := range want.Partition.Size {
					if size == mv[0].TopCount {
						n++
					}
				}
				unique = n <= 1
			}
			for i := range want.Rewards {
				if unique && !near(got.Rewards[i], want.Rewards[i], 1e-12) {
					rt.Fatalf("%s: rollout %d: unified %.17g, direct %.17g", name, i, got.Rewards[i], want.Rewards[i])
				}
			}
		}
		// EMPO is the semantic-entropy instance with all-different groups zeroed.
		se, _ := table["semantic_entropy"].Score(context.Background(), g)
		empo, _ := EMPO{}.Score(context.Background(), g)
		for i := range se.Rewards {
			want := se.Rewards[i]
			if empo.Votes[0].TopCount <= 1 {
				want = 0
			}
			if !near(empo.Rewards[i], want, 1e-12) {
				rt.Fatalf("empo rollout %d: %v, semantic entropy %v (top %d)", i, empo.Rewards[i], se.Rewards[i], empo.Votes[0].TopCount)
			}
		}
	})
}

// Self-Certainty with the vocabulary size is the framework's value minus log|V|.
func TestSelfCertaintyOffset(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		g := randomGroup(rt)
		v := rapid.IntRange(2, 200000).Draw(rt, "vocab")
		u, _ := Table6()["self_certainty"].Score(context.Background(), g)
		kl, _ := SelfCertainty{VocabSize: v}.Score(context.Background(), g)
		for i := range u.Rewards {
			if !near(kl.Rewards[i], u.Rewards[i]-math.Log(float64(v)), 1e-12) {
				rt.Fatalf("rollout %d: %v vs %v - log %d", i, kl.Rewards[i], u.Rewards[i], v)
			}
		}
	})
}
