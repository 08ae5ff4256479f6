package reward

import (
	"context"
	"fmt"

	"github.com/urlvr/urlvr/rollout"
)

// Votes across several sets of rollouts of one prompt. The sets are told
// apart by Rollout.Source; answers are partitioned jointly, so an answer of
// one set matches an equivalent label of another.

// CoReward is Co-Reward's cross-referenced majority voting. A group holds
// the rollouts of a question x and of its rephrasing x', with two distinct
// Source labels (the first seen is taken as the question). Each rollout of
// x is rewarded by the majority answer of the rollouts of x', and each
// rollout of x' by the majority of x: r(y) = 1[ans(y) = maj(other)].
//
// With SelfVote the rollout's own majority indicator is added as well,
// r(y) = 1[ans(y) = maj(own)] + 1[ans(y) = maj(other)], which is the sum
// paper Table 2 writes (rewards in {0, 1, 2}).
//
// Votes[0] is the label of the question's rollouts (rewarding the
// rephrasing's), Votes[1] the label of the rephrasing's.
type CoReward struct {
	Voting
	SelfVote bool
}

func (CoReward) Name() string { return "co_reward" }

func (e CoReward) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	names, of := g.Sources()
	if len(names) != 2 {
		return Scores{}, fmt.Errorf("co_reward needs the rollouts of a question and of its rephrasing, told apart by source; prompt %q has %d source(s) %q", g.PromptID, len(names), names)
	}
	members := [2][]int{}
	for i, s := range of {
		members[s] = append(members[s], i)
	}
	p := e.Partition(g.Answers())
	var winners [2]int
	var votes []Vote
	for s := range 2 {
		w, _, top := tally(p, members[s], nil)
		winners[s] = w
		votes = append(votes, e.newVote(p, names[s], w, top, len(members[s]), members[1-s]))
	}
	rewards := make([]float64, len(g.Rollouts))
	for i, c := range p.Class {
		if c < 0 {
			continue
		}
		s := of[i]
		if c == winners[1-s] {
			rewards[i]++
		}
		if e.SelfVote && c == winners[s] {
			rewards[i]++
		}
	}
	return Scores{Rewards: rewards, Partition: p, Votes: votes}, nil
}

// RLCCF is RLCCF's self-consistency weighted voting across models. A group
// holds K rollouts from each of several models, told apart by Source. Model
// n's weight is its self-consistency s_n = max_a sum_k 1[o_{n,k} = a] (the
// size of its own largest answer class); the label is
// argmax_a sum_n s_n sum_k 1[o_{n,k} = a] (first seen on ties) and every
// rollout is rewarded r = 1[ans(y) = label]. With a single model it is
// majority voting. Stats["weight/<source>"] holds each s_n.
//
// Peers names the other models' directories; the estimator scores the
// rollouts it is given, and the trainer samples the peers' (only the
// policy is trained).
type RLCCF struct {
	Voting
	Peers []string
}

func (RLCCF) Name() string { return "rlccf" }

func (e RLCCF) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	names, of := g.Sources()
	members := make([][]int, len(names))
	for i, s := range of {
		members[s] = append(members[s], i)
	}
	p := e.Partition(g.Answers())
	weights := make([]float64, len(names))
	stats := make(map[string]float64, len(names))
	for s := range names {
		_, _, top := tally(p, members[s], nil)
		weights[s] = float64(top)
		stats["weight/"+names[s]] = weights[s]
	}
	winner, _, top := tally(p, nil, func(i int) float64 { return weights[of[i]] })
	rewards := make([]float64, len(g.Rollouts))
	for i, c := range p.Class {
		if c >= 0 && c == winner {
			rewards[i] = 1
		}
	}
	n := len(g.Rollouts)
	return Scores{Rewards: rewards, Partition: p, Stats: stats,
		Votes: []Vote{e.newVote(p, "", winner, top, n, nil)}}, nil
}
