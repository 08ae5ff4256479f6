package reward

import (
	"context"
	"errors"
	"fmt"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/rollout"
)

// Estimator turns a prompt's group of rollouts into one reward per rollout.
//
// Implementations are pure functions of the group and their configuration:
// no sampling, no engine, no state kept between calls, so one Estimator is
// safe for concurrent use. Score does not modify the group. It checks that
// the data it reads is present but trusts its values (rollout.Validate and
// the JSONL decoder check ranges), so a NaN statistic gives a NaN reward.
type Estimator interface {
	// Name is the estimator's registry name (snake case).
	Name() string
	// Score returns one reward per rollout, in the group's order, with the
	// estimator's diagnostics. An error that concerns one rollout is a
	// *rollout.Error naming its index.
	Score(ctx context.Context, g *rollout.Group) (Scores, error)
}

// Scores is what an estimator says about one group.
type Scores struct {
	// Rewards holds one reward per rollout of the group, in order.
	Rewards []float64
	// Votes are the pseudo-labels behind the rewards of voting estimators,
	// one per vote (Co-Reward holds two); empty for certainty and external
	// estimators.
	Votes []Vote
	// Partition is the grouping of the rollouts' answers into equivalence
	// classes that votes were counted over (Class[i] = -1 for a rollout
	// without an answer); zero for estimators that do not look at answers.
	Partition grade.Partition
	// Stats holds further per-group numbers whose keys each estimator
	// documents (for example "underflow" for probability).
	Stats map[string]float64
}

// Vote is the outcome of one vote over answers.
type Vote struct {
	// Source is the Source label of the rollouts that voted ("" when the
	// whole group voted).
	Source string
	// Label is the winning answer (its class's first member). When no voter
	// has an answer, Label is "" and HasLabel false; in string-equivalence
	// mode it is then "None", as the reference implementation writes it.
	Label    string
	HasLabel bool
	// TopCount is the number of voters whose answer is in the winning class;
	// Voters counts every rollout that took part, with an answer or without.
	TopCount, Voters int
	// Rewarded lists the indices of the rollouts that this label rewards;
	// nil means every rollout of the group.
	Rewarded []int
}

// Label returns the first vote's label; ok is false when the estimator did
// not vote or no rollout had an answer.
func (s Scores) Label() (label string, ok bool) {
	if len(s.Votes) == 0 {
		return "", false
	}
	return s.Votes[0].Label, s.Votes[0].HasLabel
}

// ScoreAll scores every group with e. The error names the group by index
// and prompt; the scores of the groups before it are returned with it.
func ScoreAll(ctx context.Context, e Estimator, groups []*rollout.Group) ([]Scores, error) {
	out := make([]Scores, 0, len(groups))
	for k, g := range groups {
		s, err := e.Score(ctx, g)
		if err != nil {
			return out, fmt.Errorf("%s: group %d (prompt %q): %w", e.Name(), k, g.PromptID, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// ErrMissingInput reports that a rollout lacks data the estimator reads.
var ErrMissingInput = errors.New("missing input")

// rolloutErr wraps err as the error of rollout i of g.
func rolloutErr(g *rollout.Group, i int, err error) error {
	return &rollout.Error{PromptID: g.PromptID, Index: i, Err: err}
}

// missing reports that rollout i lacks the per-token field name.
func missing(g *rollout.Group, i int, name, estimator string) error {
	return rolloutErr(g, i, fmt.Errorf("%w: %s has no %q (per-token statistics over the response)", ErrMissingInput, estimator, name))
}

// checkGroup rejects a group without rollouts and a cancelled context.
func checkGroup(ctx context.Context, g *rollout.Group) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if g == nil || len(g.Rollouts) == 0 {
		return rollout.ErrEmptyGroup
	}
	return nil
}
