package reward_test

import (
	"context"
	"fmt"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
)

// Majority voting on grader equivalence classes: "0.5" and "\frac{1}{2}"
// are one answer with two votes; the rollout without an answer counts among
// the voters but earns nothing.
func ExampleMajorityVoting() {
	g := &rollout.Group{PromptID: "q1", Rollouts: []rollout.Rollout{
		{Answer: "0.5"}, {Answer: `\frac{1}{2}`}, {Answer: "2"}, {Answer: ""},
	}}
	s, err := reward.MajorityVoting{}.Score(context.Background(), g)
	if err != nil {
		panic(err)
	}
	v := s.Votes[0]
	fmt.Println(s.Rewards, v.Label, v.TopCount, v.Voters)
	// Output: [1 1 0 0] 0.5 2 4
}

// Estimators are built by name from a configuration map, as a trainer
// config or the command line gives them.
func ExampleNew() {
	e, err := reward.New("self_certainty", map[string]any{"vocab_size": 2})
	if err != nil {
		panic(err)
	}
	// One token whose distribution is (1/4, 3/4): logsumexp(z) - mean(z)
	// = ln 4 - (ln 3)/2, and KL(U || pi) = (1/2) ln(4/3).
	g := &rollout.Group{PromptID: "q1", Rollouts: []rollout.Rollout{{SelfCertainty: []float32{0.8369882}}}}
	s, err := e.Score(context.Background(), g)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %.6f\n", e.Name(), s.Rewards[0])
	// Output: self_certainty 0.143841
}

// The unified framework declares Probability (RLSC) as the sampled-token
// anchor, sign -1 and psi(z) = exp(|I| z).
func ExampleUnified() {
	u := reward.Unified{Granularity: reward.TokenLevel, Anchor: reward.AnchorSampledToken, Sign: -1, Transform: reward.ExpScaled}
	g := &rollout.Group{PromptID: "q1", Rollouts: []rollout.Rollout{{LogProbs: []float32{-0.5, -0.25}}}}
	s, err := u.Score(context.Background(), g)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.6f\n", s.Rewards[0]) // exp(-0.75)
	// Output: 0.472367
}
