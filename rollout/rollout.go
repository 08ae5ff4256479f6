package rollout

import (
	"errors"
	"fmt"
	"math"
)

// Rollout is one sampled response y to a prompt x.
//
// The per-token slices run over the response positions t = 1..|y| and are
// nil when the producer did not supply that statistic; a present slice of
// length 0 is an empty response. All present slices have the same length.
// Values are float32 because they come from fp32 logits; reductions over
// them accumulate in float64.
type Rollout struct {
	// Tokens are the response token IDs (optional).
	Tokens []int32
	// Text is the decoded response.
	Text string
	// Answer is ans(y), the answer extracted from Text; "" means the response
	// has no answer. Group.ExtractAnswers fills it.
	Answer string

	// LogProbs[t] = log pi_t(y_t), the sampled token's log-probability.
	LogProbs []float32
	// Entropies[t] = H(pi_t) = logsumexp(z_t) - sum_v pi_t(v) z_t,v.
	Entropies []float32
	// SelfCertainty[t] = logsumexp(z_t) - mean_v z_t,v = H(U_V, pi_t);
	// KL(U_V || pi_t) is this minus log|V|.
	SelfCertainty []float32
	// Top2Gap[t] = p_top1 - p_top2 of pi_t.
	Top2Gap []float32
	// AnswerMask[t] is true at the tokens that spell the answer (for
	// Probability Disparity); nil when unknown.
	AnswerMask []bool

	// Source names where the rollout came from when a group mixes several:
	// the model for RLCCF, the question variant ("original", "rephrased")
	// for Co-Reward. "" for a plain group.
	Source string
	// StateDistances[i][k] is CoVo's d(s_i, y_k): the mean negative
	// log-likelihood of the group's k-th distinct answer continuing the
	// i-th intermediate state (prefix) of this response; nil unless the
	// producer computed it for the covo reward.
	StateDistances [][]float64
	// Verdict is the policy's own verification of this rollout's answer
	// (self-verification, paper Sec. 7), e.g. "... \boxed{True}".
	Verdict string
}

// Group is the N rollouts of one prompt, with what is known about the
// prompt's ground truth. Ground truth never feeds an unsupervised reward; it
// is there for the oracle reward and for monitoring (paper B.2).
type Group struct {
	PromptID string
	// Gold is the ground-truth answer a*, valid when HasGold.
	Gold    string
	HasGold bool
	// Countdown holds the problem data of a Countdown instance as the JSONL
	// and reward-service formats carry it ("numbers", "target"); the
	// Countdown task turns it into the group's Verifier.
	Countdown *Countdown
	// Verifier checks responses against the problem. nil means a math
	// problem: answers are graded against Gold.
	Verifier Verifier
	Rollouts []Rollout
}

// Countdown is the data of a Countdown problem: reach Target using each of
// Numbers once.
type Countdown struct {
	Numbers []int
	Target  int
}

// Len is the number of response tokens |y|: the length of any present
// per-token slice, else of Tokens, else 0.
func (r *Rollout) Len() int {
	switch {
	case r.LogProbs != nil:
		return len(r.LogProbs)
	case r.Entropies != nil:
		return len(r.Entropies)
	case r.SelfCertainty != nil:
		return len(r.SelfCertainty)
	case r.Top2Gap != nil:
		return len(r.Top2Gap)
	case r.AnswerMask != nil:
		return len(r.AnswerMask)
	}
	return len(r.Tokens)
}

// The names of the per-token fields, as they appear in the JSONL encoding
// and in error messages.
const (
	FieldTokens        = "token_ids"
	FieldLogProbs      = "token_logprobs"
	FieldEntropies     = "token_entropies"
	FieldSelfCertainty = "token_self_certainty"
	FieldTop2Gap       = "token_top2_gap"
	FieldAnswerMask    = "answer_token_mask"
)

// statTolerance absorbs fp32 rounding in statistics that are bounded in
// exact arithmetic (a log-probability computed as z - logsumexp(z) can come
// out as +1e-7).
const statTolerance = 1e-4

// Validate checks that the present per-token slices agree in length (with
// each other and with Tokens), that every value is finite, and that each
// statistic lies in its mathematical range: log-probabilities <= 0,
// entropies and self-certainty terms >= 0, top-2 gaps in [0, 1], all within
// a small fp32 tolerance.
func (r *Rollout) Validate() error {
	n := -1
	var first string
	check := func(name string, length int, present bool) error {
		if !present {
			return nil
		}
		if n < 0 {
			n, first = length, name
			return nil
		}
		if length != n {
			return fmt.Errorf("%s has %d entries but %s has %d", name, length, first, n)
		}
		return nil
	}
	for _, c := range []struct {
		name    string
		length  int
		present bool
	}{
		{FieldTokens, len(r.Tokens), r.Tokens != nil},
		{FieldLogProbs, len(r.LogProbs), r.LogProbs != nil},
		{FieldEntropies, len(r.Entropies), r.Entropies != nil},
		{FieldSelfCertainty, len(r.SelfCertainty), r.SelfCertainty != nil},
		{FieldTop2Gap, len(r.Top2Gap), r.Top2Gap != nil},
		{FieldAnswerMask, len(r.AnswerMask), r.AnswerMask != nil},
	} {
		if err := check(c.name, c.length, c.present); err != nil {
			return err
		}
	}
	if err := checkRange(FieldLogProbs, r.LogProbs, math.Inf(-1), 0); err != nil {
		return err
	}
	if err := checkRange(FieldEntropies, r.Entropies, 0, math.Inf(1)); err != nil {
		return err
	}
	if err := checkRange(FieldSelfCertainty, r.SelfCertainty, 0, math.Inf(1)); err != nil {
		return err
	}
	return checkRange(FieldTop2Gap, r.Top2Gap, 0, 1)
}

// checkRange reports the first value of xs that is not finite or lies
// outside [lo, hi] by more than statTolerance.
func checkRange(name string, xs []float32, lo, hi float64) error {
	for t, x := range xs {
		v := float64(x)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s[%d] = %v is not finite", name, t, v)
		}
		if v < lo-statTolerance || v > hi+statTolerance {
			return fmt.Errorf("%s[%d] = %v is outside [%v, %v]", name, t, v, lo, hi)
		}
	}
	return nil
}

// ErrEmptyGroup is returned for a group without rollouts.
var ErrEmptyGroup = errors.New("group has no rollouts")

// Validate checks that the group has rollouts and that each is valid; the
// error names the prompt and the rollout's index.
func (g *Group) Validate() error {
	if len(g.Rollouts) == 0 {
		return fmt.Errorf("prompt %q: %w", g.PromptID, ErrEmptyGroup)
	}
	for i := range g.Rollouts {
		if err := g.Rollouts[i].Validate(); err != nil {
			return &Error{PromptID: g.PromptID, Index: i, Err: err}
		}
	}
	if c := g.Countdown; c != nil && len(c.Numbers) == 0 {
		return fmt.Errorf("prompt %q: countdown problem has no numbers", g.PromptID)
	}
	return nil
}

// Error is a problem with one rollout of a group. Index is the rollout's
// position in Group.Rollouts, so callers can point at the input it came from.
type Error struct {
	PromptID string
	Index    int
	Err      error
}

func (e *Error) Error() string {
	return fmt.Sprintf("prompt %q rollout %d: %v", e.PromptID, e.Index, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Answers returns ans(y) of every rollout, in order ("" for no answer).
func (g *Group) Answers() []string {
	out := make([]string, len(g.Rollouts))
	for i := range g.Rollouts {
		out[i] = g.Rollouts[i].Answer
	}
	return out
}

// ExtractAnswers sets Answer from Text for every rollout whose Answer is
// empty, using extract (for example grade.ExtractBoxed). A rollout whose
// extraction fails keeps Answer == "" (no answer); that is not an error.
func (g *Group) ExtractAnswers(extract func(text string) (string, error)) {
	for i := range g.Rollouts {
		r := &g.Rollouts[i]
		if r.Answer != "" {
			continue
		}
		if a, err := extract(r.Text); err == nil {
			r.Answer = a
		}
	}
}

// Sources returns the distinct Source labels of the group's rollouts in
// order of first appearance, and for each rollout the index of its source.
func (g *Group) Sources() (names []string, of []int) {
	of = make([]int, len(g.Rollouts))
	seen := map[string]int{}
	for i := range g.Rollouts {
		s := g.Rollouts[i].Source
		k, ok := seen[s]
		if !ok {
			k = len(names)
			seen[s] = k
			names = append(names, s)
		}
		of[i] = k
	}
	return names, of
}
