package engine

import (
	"context"
	"fmt"
	"math"
)

// scoreRows bounds the rows (sequences × padded length) of one scoring
// forward pass; longer inputs are scored in several passes. A pass's
// buffers grow with its rows, and passes of a few thousand rows keep them
// nearer the caches: on the lab's model, 2048 rows score about 5% faster
// than 8192 (a sequence's scores do not depend on the others in its pass).
const scoreRows = 2048

// ScoreOptions configure Score.
type ScoreOptions struct {
	// Temperature divides the logits before the softmax; 0 means 1.
	Temperature float64
	// Entropy asks for the entropy of each scored position's distribution.
	Entropy bool
	// ScoreFrom[i] is the first position of sequence i to score (for a
	// prompt and its response, the prompt's length); earlier positions are
	// left at zero and the LM head skips them. Nil scores every position
	// after the first.
	ScoreFrom []int
}

// SequenceScores are per-position results for one scored sequence.
type SequenceScores struct {
	// LogProbs[t] = log π(seq[t] | seq[:t]) under the temperature-scaled
	// distribution; zero at position 0 and before ScoreFrom.
	LogProbs []float32 `json:"logprobs"`
	// Entropies[t] is the entropy of that distribution; nil unless requested.
	Entropies []float32 `json:"entropies,omitempty"`
}

// LogProbs computes the log-probs (and entropies) of given token sequences with
// the training forward pass, without keeping activations for a backward: the
// old policy's or a reference policy's view of rollouts. Scores of a sequence
// do not depend on the other sequences in the call.
func (m *Model) LogProbs(ctx context.Context, seqs [][]int, o ScoreOptions) ([]SequenceScores, error) {
	if o.ScoreFrom != nil && len(o.ScoreFrom) != len(seqs) {
		return nil, fmt.Errorf("%d ScoreFrom entries for %d sequences", len(o.ScoreFrom), len(seqs))
	}
	temp := o.Temperature
	if temp == 0 {
		temp = 1
	}
	if !(temp > 0) || math.IsInf(temp, 0) {
		return nil, fmt.Errorf("temperature %v: must be positive and finite", temp)
	}
	longest := 0
	for i, s := range seqs {
		if len(s) == 0 {
			return nil, fmt.Errorf("sequence %d is empty", i)
		}
		if len(s) > m.cfg.MaxPositions {
			return nil, fmt.Errorf("sequence %d has %d tokens: the model accepts at most %d", i, len(s), m.cfg.MaxPositions)
		}
		longest = max(longest, len(s))
	}
	if len(seqs) == 0 {
		return nil, nil
	}
	// len(seqs)·longest bounds the padded rows of the whole call.
	act := m.getScorer(max(min(scoreRows, len(seqs)*longest), longest), longest)
	defer m.scorers.put(act)
	out := make([]SequenceScores, len(seqs))
	for lo := 0; lo < len(seqs); {
		// Take sequences while the padded batch fits.
		hi, T := lo, 0
		for hi < len(seqs) && (hi-lo+1)*max(T, len(seqs[hi])) <= act.maxRows {
			T = max(T, len(seqs[hi]))
			hi++
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var from []int
		if o.ScoreFrom != nil {
			from = o.ScoreFrom[lo:hi]
		}
		b, err := NewBatch(seqs[lo:hi], from)
		if err != nil {
			return nil, err
		}
		if err := act.setBatch(b.Tokens, b.Mask, b.B, b.T, float32(temp)); err != nil {
			return nil, fmt.Errorf("sequences %d to %d: %w", lo, hi-1, err)
		}
		act.forward(m, o.Entropy)
		for i := lo; i < hi; i++ {
			row := (i - lo) * b.T
			n := len(seqs[i])
			out[i].LogProbs = append([]float32(nil), act.logp[row:row+n]...)
			if o.Entropy {
				out[i].Entropies = append([]float32(nil), act.ent[row:row+n]...)
			}
		}
		lo = hi
	}
	return out, nil
}

// getScorer returns the kept forward memory (without gradients) if it holds
// batches of rows rows and maxT positions, or allocates it.
func (m *Model) getScorer(rows, maxT int) *activations {
	if a, ok := m.scorers.take(); ok && a.maxRows >= rows && a.maxT >= maxT && len(a.attScratch) >= maxWorkersNow() {
		return a
	}
	return newActivations(m.cfg, rows, maxT, false)
}
