package reward

import (
	"context"
	"errors"
	"fmt"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/rollout"
)

// MetricsGroups prepares scored groups for metrics.ComputeDynamics (paper
// B.2), pairing each group's proxy rewards with its ground truth (Truth).
// Groups without ground truth are left out; skipped counts them.
//
// A voting estimator's group becomes one metrics.Group per vote, over the
// rollouts that vote rewards (Co-Reward: the question's rollouts and the
// rephrasing's), with the vote's label and whether that label is correct:
// correct by the group's verifier (equivalent to the gold answer, a
// Countdown expression that reaches the target). Other estimators give one metrics.Group without a label, so
// their label accuracy is that of the highest-reward rollout (eq. 43).
// Response lengths and mean token entropies are included when every
// rollout of the group has token statistics.
func MetricsGroups(ctx context.Context, groups []*rollout.Group, scores []Scores, gr *grade.Grader) (out []metrics.Group, skipped int, err error) {
	if len(scores) != len(groups) {
		return nil, 0, fmt.Errorf("%d scores for %d groups", len(scores), len(groups))
	}
	if gr == nil {
		gr = grade.Default()
	}
	for k, g := range groups {
		truth, err := Truth(ctx, g, gr)
		if errors.Is(err, ErrNoGroundTruth) {
			skipped++
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("group %d (prompt %q): %w", k, g.PromptID, err)
		}
		s := scores[k]
		if len(s.Rewards) != len(g.Rollouts) {
			return nil, 0, fmt.Errorf("group %d (prompt %q): %d rewards for %d rollouts", k, g.PromptID, len(s.Rewards), len(g.Rollouts))
		}
		p := s.Partition
		if p.Class == nil {
			p = Voting{Grader: gr}.Partition(g.Answers())
		}
		if len(s.Votes) == 0 {
			out = append(out, metricsGroup(g, s.Rewards, truth, p, nil))
			continue
		}
		for _, v := range s.Votes {
			mg := metricsGroup(g, s.Rewards, truth, p, v.Rewarded)
			mg.Label = v.Label
			correct := v.HasLabel && labelCorrect(g, v.Label, gr)
			mg.LabelCorrect = &correct
			if v.Rewarded == nil {
				mg.TopCount = v.TopCount
			}
			out = append(out, mg)
		}
	}
	return out, skipped, nil
}

// metricsGroup gathers the rollouts in members (nil: all) of g. TopCount is
// the size of the largest answer class among them.
func metricsGroup(g *rollout.Group, rewards, truth []float64, p grade.Partition, members []int) metrics.Group {
	if members == nil {
		members = make([]int, len(g.Rollouts))
		for i := range members {
			members[i] = i
		}
	}
	mg := metrics.Group{
		Proxy:   make([]float64, len(members)),
		GT:      make([]float64, len(members)),
		Answers: make([]string, len(members)),
	}
	withTokens, withEntropy := true, true
	counts := make([]int, len(p.Size))
	for j, i := range members {
		r := &g.Rollouts[i]
		mg.Proxy[j], mg.GT[j], mg.Answers[j] = rewards[i], truth[i], r.Answer
		if c := p.Class[i]; c >= 0 {
			counts[c]++
			mg.TopCount = max(mg.TopCount, counts[c])
		}
		withTokens = withTokens && (r.Tokens != nil || r.LogProbs != nil || r.Entropies != nil || r.SelfCertainty != nil || r.Top2Gap != nil)
		withEntropy = withEntropy && len(r.Entropies) > 0
	}
	if withTokens {
		mg.Lengths = make([]int, len(members))
		for j, i := range members {
			mg.Lengths[j] = g.Rollouts[i].Len()
		}
	}
	if withEntropy {
		mg.Entropies = make([]float64, len(members))
		for j, i := range members {
			h := g.Rollouts[i].Entropies
			mg.Entropies[j] = sum32(h) / float64(len(h))
		}
	}
	return mg
}

// labelCorrect says whether a pseudo-label solves the problem, by the
// group's verifier: equivalent to the gold answer for a math problem, an
// expression that reaches the target for Countdown.
func labelCorrect(g *rollout.Group, label string, gr *grade.Grader) bool {
	v := verifierOf(g, gr)
	return v != nil && v.Check(label).Correct
}
