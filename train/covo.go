package train

import (
	"context"
	"fmt"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/reward"
)

// stateDistances attaches CoVo's distance matrix to every answered rollout
// (Rollout.StateDistances; Zhang et al. 2025, arXiv:2506.08745, the
// distance d(s_i, y) of its method): the intermediate
// states are cv.States evenly spaced prefixes of the response (the first
// is the prompt alone), and d(s_i, y_k) is the current policy's mean
// negative log-likelihood of the k-th distinct answer's tokens written
// right after the prefix. The original splits responses at reasoning
// steps (lines); the world's responses are a line or two, so prefixes
// spaced by tokens give the states. A state whose longest continuation
// does not fit in the context is left out of the rollout's matrix.
func (t *Trainer) stateDistances(ctx context.Context, rb *rolloutBatch, cv reward.CoVo) error {
	maxLen := t.policy.Engine.Config().MaxPositions
	type cell struct{ rollout, group, state, answer int }
	var seqs [][]int
	var from []int
	var cells []cell
	N := t.cfg.Rollout.N
	answerIDs := make([][][]int, len(rb.groups))
	for j, g := range rb.groups {
		p := cv.Partition(g.Answers())
		for _, rep := range p.Rep {
			answerIDs[j] = append(answerIDs[j], t.policy.Tokenizer.Encode(rep))
		}
		longest := 0
		for _, a := range answerIDs[j] {
			longest = max(longest, len(a))
		}
		for k := range g.Rollouts {
			r := &g.Rollouts[k]
			r.StateDistances = nil
			if p.Class[k] < 0 {
				continue
			}
			i := j*N + k
			prompt := rb.seqs[i][:rb.scoreFrom[i]]
			resp := rb.gens[i].Tokens
			states := min(cv.States, len(resp)+1)
			r.StateDistances = [][]float64{}
			for s := range states {
				cut := s * len(resp) / states
				if len(prompt)+cut+longest > maxLen {
					break
				}
				row := make([]float64, len(answerIDs[j]))
				r.StateDistances = append(r.StateDistances, row)
				for a, ans := range answerIDs[j] {
					seq := make([]int, 0, len(prompt)+cut+len(ans))
					seq = append(append(append(seq, prompt...), resp[:cut]...), ans...)
					seqs = append(seqs, seq)
					from = append(from, len(prompt)+cut)
					cells = append(cells, cell{rollout: k, group: j, state: len(r.StateDistances) - 1, answer: a})
				}
			}
		}
	}
	if len(seqs) == 0 {
		return nil
	}
	scores, err := t.policy.Engine.LogProbs(ctx, seqs, engine.ScoreOptions{Temperature: 1, ScoreFrom: from})
	if err != nil {
		return fmt.Errorf("covo state distances: %w", err)
	}
	for x, c := range cells {
		lp := scores[x].LogProbs[from[x]:]
		var nll float64
		for _, v := range lp {
			nll -= float64(v)
		}
		d := 0.0
		if len(lp) > 0 {
			d = nll / float64(len(lp))
		}
		rb.groups[c.group].Rollouts[c.rollout].StateDistances[c.state][c.answer] = d
	}
	return nil
}
