package reward

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/urlvr/urlvr/rollout"
)

// Certainty-based rewards (paper Table 1): each rollout is scored from the
// per-token statistics of its own sampling distribution. They read only the
// statistics named below; answers and ground truth play no part.

// ErrNoTokens is returned for a response without tokens when the reward is
// a mean over its tokens (the mean of nothing is undefined, and 0 would be
// the best possible entropy reward).
var ErrNoTokens = errors.New("response has no tokens; the reward is a mean over response tokens")

// SelfCertainty is RLIF's reward: the mean over response tokens of
// KL(U_V || pi_t) = logsumexp(z_t) - mean_v z_t,v - log|V|.
//
// The constant log|V| does not change rankings or advantages, and producers
// rarely report |V|, so it is dropped unless VocabSize is set: the reward is
// then the mean self-certainty term, H(U_V, pi_t) averaged over t.
type SelfCertainty struct {
	// VocabSize, when > 0, subtracts log(VocabSize) so that the reward is the
	// KL divergence itself.
	VocabSize int
}

func (SelfCertainty) Name() string { return "self_certainty" }

func (e SelfCertainty) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	offset := 0.0
	if e.VocabSize > 0 {
		offset = -math.Log(float64(e.VocabSize))
	}
	return tokenMean(ctx, g, e.Name(), rollout.FieldSelfCertainty,
		func(r *rollout.Rollout) []float32 { return r.SelfCertainty }, 1, offset)
}

// TokenEntropy is the negative mean token entropy (EM-RL, RENT):
// r = -(1/|y|) sum_t H(pi_t).
type TokenEntropy struct{}

func (TokenEntropy) Name() string { return "token_entropy" }

func (e TokenEntropy) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	return tokenMean(ctx, g, e.Name(), rollout.FieldEntropies,
		func(r *rollout.Rollout) []float32 { return r.Entropies }, -1, 0)
}

// TrajectoryEntropy is EM-RL's trajectory-level reward, the mean log-prob of
// the sampled tokens: r = (1/|y|) sum_t log pi_t(y_t).
type TrajectoryEntropy struct{}

func (TrajectoryEntropy) Name() string { return "trajectory_entropy" }

func (e TrajectoryEntropy) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	return tokenMean(ctx, g, e.Name(), rollout.FieldLogProbs,
		func(r *rollout.Rollout) []float32 { return r.LogProbs }, 1, 0)
}

// tokenMean scores each rollout with sign * mean_t stat(r)[t] + offset.
func tokenMean(ctx context.Context, g *rollout.Group, name, field string, stat func(*rollout.Rollout) []float32, sign, offset float64) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	rewards := make([]float64, len(g.Rollouts))
	for i := range g.Rollouts {
		xs := stat(&g.Rollouts[i])
		if xs == nil {
			return Scores{}, missing(g, i, field, name)
		}
		if len(xs) == 0 {
			return Scores{}, rolloutErr(g, i, fmt.Errorf("%s: %w", name, ErrNoTokens))
		}
		rewards[i] = sign*sum32(xs)/float64(len(xs)) + offset
	}
	return Scores{Rewards: rewards}, nil
}

// Probability is RLSC's reward, the probability of the whole response:
// r = prod_t pi_t(y_t) = exp(sum_t log pi_t(y_t)).
//
// The sum is taken in float64 log space, so it is exact; only the final exp
// can underflow. Below log-probability -708.4 the reward is a subnormal
// float64, and below -745.13 it is exactly 0: such rollouts tie at 0 and
// lose their ordering. Stats["underflow"] counts them (absent when none). With LogSpace the
// reward is the log-probability itself (the exponent, never underflowing);
// it orders rollouts the same way.
type Probability struct {
	LogSpace bool
}

func (Probability) Name() string { return "probability" }

func (e Probability) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	rewards := make([]float64, len(g.Rollouts))
	underflow := 0
	for i := range g.Rollouts {
		lp := g.Rollouts[i].LogProbs
		if lp == nil {
			return Scores{}, missing(g, i, rollout.FieldLogProbs, e.Name())
		}
		logp := sum32(lp)
		if e.LogSpace {
			rewards[i] = logp
			continue
		}
		rewards[i] = math.Exp(logp)
		if rewards[i] == 0 && !math.IsInf(logp, -1) {
			underflow++
		}
	}
	s := Scores{Rewards: rewards}
	if underflow > 0 {
		s.Stats = map[string]float64{"underflow": float64(underflow)}
	}
	return s, nil
}

// ProbabilityDisparity is RLSF's reward: the mean top-1/top-2 probability
// gap over the M answer tokens, r = (1/M) sum_{t in answer} (p_top1 - p_top2).
//
// The answer tokens are those set in AnswerMask. A response whose mask
// marks no token (it has no answer) gets 0, the smallest possible gap;
// Stats["no_answer_tokens"] counts them (absent when none). With
// AllTokens the mean runs over every response token and no mask is needed.
type ProbabilityDisparity struct {
	AllTokens bool
}

func (ProbabilityDisparity) Name() string { return "probability_disparity" }

func (e ProbabilityDisparity) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if e.AllTokens {
		return tokenMean(ctx, g, e.Name(), rollout.FieldTop2Gap,
			func(r *rollout.Rollout) []float32 { return r.Top2Gap }, 1, 0)
	}
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	rewards := make([]float64, len(g.Rollouts))
	noAnswer := 0
	for i := range g.Rollouts {
		r := &g.Rollouts[i]
		if r.Top2Gap == nil {
			return Scores{}, missing(g, i, rollout.FieldTop2Gap, e.Name())
		}
		if r.AnswerMask == nil {
			return Scores{}, rolloutErr(g, i, fmt.Errorf("%w: %s has no %q marking the answer tokens (or set all_tokens=true)",
				ErrMissingInput, e.Name(), rollout.FieldAnswerMask))
		}
		if len(r.AnswerMask) != len(r.Top2Gap) {
			return Scores{}, rolloutErr(g, i, fmt.Errorf("%s has %d entries but %s has %d",
				rollout.FieldAnswerMask, len(r.AnswerMask), rollout.FieldTop2Gap, len(r.Top2Gap)))
		}
		sum, m := maskedSum(r.Top2Gap, r.AnswerMask)
		if m == 0 {
			noAnswer++
			continue
		}
		rewards[i] = sum / float64(m)
	}
	s := Scores{Rewards: rewards}
	if noAnswer > 0 {
		s.Stats = map[string]float64{"no_answer_tokens": float64(noAnswer)}
	}
	return s, nil
}

// sum32 adds float32 values: eight float32 lanes add a block of 64 values
// (eight each), and each block's total is carried in float64. Independent
// lanes keep the adder busy (one accumulator's dependency chain, not
// memory, bounds a plain loop), and adding float32 to float32 spares a
// conversion per value; a lane's float32 error over eight addends stays
// near 1e-6 relative, below what the fp32 statistics themselves carry.
// Fixed-size chunks let the compiler drop the bounds checks.
func sum32(xs []float32) float64 {
	var total float64
	for len(xs) >= 8 {
		n := min(len(xs), 64) &^ 7
		var s0, s1, s2, s3, s4, s5, s6, s7 float32
		for block := xs[:n]; len(block) >= 8; block = block[8:] {
			c := (*[8]float32)(block)
			s0 += c[0]
			s1 += c[1]
			s2 += c[2]
			s3 += c[3]
			s4 += c[4]
			s5 += c[5]
			s6 += c[6]
			s7 += c[7]
		}
		total += float64(s0) + float64(s1) + float64(s2) + float64(s3) +
			float64(s4) + float64(s5) + float64(s6) + float64(s7)
		xs = xs[n:]
	}
	for _, x := range xs {
		total += float64(x)
	}
	return total
}

// maskedSum adds gaps[t] where mask[t] is set and counts those positions;
// len(gaps) == len(mask). Answer tokens form a short run at the end of most
// responses, so the loop skips unmasked positions eight at a time.
func maskedSum(gaps []float32, mask []bool) (sum float64, m int) {
	gaps = gaps[:len(mask)]
	for len(mask) >= 8 {
		c := (*[8]bool)(mask)
		// One test for eight positions: OR of their 0/1 values.
		if b2u(c[0])|b2u(c[1])|b2u(c[2])|b2u(c[3])|b2u(c[4])|b2u(c[5])|b2u(c[6])|b2u(c[7]) != 0 {
			g := (*[8]float32)(gaps)
			for k, in := range c {
				if in {
					sum += float64(g[k])
					m++
				}
			}
		}
		mask, gaps = mask[8:], gaps[8:]
	}
	for k, in := range mask {
		if in {
			sum += float64(gaps[k])
			m++
		}
	}
	return sum, m
}

// b2u is 1 for true and 0 for false (compiled to a zero extension).
func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
