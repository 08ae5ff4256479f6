package train

import (
	"fmt"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/task/arith"
)

// Co-Reward in the trainer (paper Table 2): every training problem is
// asked twice, as written and rephrased by the world (arith.Rephrase:
// commutative operands swapped, an exact rephrasing), N rollouts each. The
// two sets of rollouts form one group for the reward, which rewards each
// with the other's majority answer; for the advantages and the update
// they stay two groups of N, so the policy learns from both questions.

// The Source labels of Co-Reward's two halves of a group.
const (
	sourceOriginal  = "original"
	sourceRephrased = "rephrased"
)

// rephrasing is a training problem's rephrased prompt, tokenised.
type rephrasing struct {
	prompt string
	ids    []int
}

func (t *Trainer) coReward() bool {
	_, ok := t.est.(reward.CoReward)
	return ok
}

// prepareRephrasings rephrases every training problem before training; a
// problem the world cannot rephrase, or whose rephrasing does not fit
// rollout.max_prompt_length, is an error naming it.
func (t *Trainer) prepareRephrasings() error {
	if !t.coReward() {
		return nil
	}
	t.rephrased = make(map[string]rephrasing, len(t.train))
	for _, p := range t.train {
		r, err := arith.Rephrase(p.Prompt)
		if err != nil {
			return fmt.Errorf("reward co_reward: training problem %q of %s has no rephrasing (the arithmetic world's problems do): %w", p.ID, t.cfg.Data.Train, err)
		}
		ids := t.policy.EncodePrompt(r)
		if len(ids) > t.cfg.Rollout.MaxPromptLength || len(ids) >= t.policy.Engine.Config().MaxPositions {
			return fmt.Errorf("reward co_reward: the rephrasing of training problem %q is %d tokens, longer than rollout.max_prompt_length %d or the context", p.ID, len(ids), t.cfg.Rollout.MaxPromptLength)
		}
		t.rephrased[p.ID] = rephrasing{prompt: r, ids: ids}
	}
	return nil
}

// withRephrasings interleaves each problem with its rephrasing (same ID),
// the order collect samples them in.
func (t *Trainer) withRephrasings(problems []Problem, ids [][]int) ([]Problem, [][]int) {
	outP := make([]Problem, 0, 2*len(problems))
	outI := make([][]int, 0, 2*len(ids))
	for j, p := range problems {
		r := t.rephrased[p.ID]
		q := p
		q.Prompt = r.prompt
		outP = append(outP, p, q)
		outI = append(outI, ids[j], r.ids)
	}
	return outP, outI
}

// coRewardGroups labels the rollouts of each (question, rephrasing) pair
// of collected groups and joins each pair into one group for the reward.
func coRewardGroups(groups []*rollout.Group) []*rollout.Group {
	out := make([]*rollout.Group, 0, len(groups)/2)
	for j := 0; j+1 < len(groups); j += 2 {
		a, b := groups[j], groups[j+1]
		g := *a
		g.Rollouts = make([]rollout.Rollout, 0, len(a.Rollouts)+len(b.Rollouts))
		for _, r := range a.Rollouts {
			r.Source = sourceOriginal
			g.Rollouts = append(g.Rollouts, r)
		}
		for _, r := range b.Rollouts {
			r.Source = sourceRephrased
			g.Rollouts = append(g.Rollouts, r)
		}
		out = append(out, &g)
	}
	return out
}

// splitScores gives each collected group its share of a joined group's
// rewards; the votes and statistics are the pair's.
func splitScores(joined []reward.Scores, n int) []reward.Scores {
	out := make([]reward.Scores, 0, 2*len(joined))
	for _, s := range joined {
		a, b := s, s
		a.Rewards, b.Rewards = s.Rewards[:n], s.Rewards[n:]
		a.Partition, b.Partition = grade.Partition{}, grade.Partition{}
		out = append(out, a, b)
	}
	return out
}
