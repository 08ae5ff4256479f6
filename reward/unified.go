package reward

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/urlvr/urlvr/rollout"
)

// The unified reward framework of paper Appendix A.3 (eq. 26):
//
//	r = psi( sigma/|I| * sum_{i in I} H(q_i, pi_i) )
//
// a cross-entropy H between an anchor distribution q and the model's
// distribution pi, aggregated over a granularity I (the response's token
// positions, or the single answer-level distribution), signed by sigma and
// reshaped by a monotone psi. Table 6 lists which choices give which
// published reward; Table6 returns them.

// Granularity is the set I the cross-entropies are aggregated over.
type Granularity int

const (
	// TokenLevel: I = the response positions 1..|y|, pi_t the next-token
	// distribution.
	TokenLevel Granularity = iota
	// AnswerLevel: I = {A}, pi^A the distribution over complete answers,
	// estimated by the answers' frequencies among the group's N rollouts.
	AnswerLevel
)

// Anchor is the reference distribution q.
type Anchor int

const (
	// AnchorUniform is U_V: H(U_V, pi_t) = logsumexp(z_t) - mean(z_t), the
	// rollout's self-certainty term.
	AnchorUniform Anchor = iota
	// AnchorPolicy is pi_t itself: H(pi_t, pi_t) = H(pi_t), the entropy.
	AnchorPolicy
	// AnchorSampledToken is the one-hot delta_t on the sampled token:
	// H(delta_t, pi_t) = -log pi_t(y_t).
	AnchorSampledToken
	// AnchorAnswer is the one-hot delta_A on the rollout's answer:
	// H(delta_A, pi^A) = -log pi^A(ans(y)) (answer level only).
	AnchorAnswer
)

// Transform is the monotone psi.
type Transform int

const (
	// Identity: psi(z) = z.
	Identity Transform = iota
	// Exp: psi(z) = exp(z).
	Exp
	// ExpScaled: psi(z) = exp(|I| z), which turns a mean back into a sum.
	ExpScaled
)

var (
	granularityNames = []string{"token", "answer"}
	anchorNames      = []string{"uniform", "policy", "token", "answer"}
	transformNames   = []string{"identity", "exp", "exp_scaled"}
)

func (g Granularity) String() string { return enumName(granularityNames, int(g)) }
func (a Anchor) String() string      { return enumName(anchorNames, int(a)) }
func (t Transform) String() string   { return enumName(transformNames, int(t)) }

func enumName(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("invalid(%d)", i)
}

// Unified declares an estimator by the components of eq. 26.
type Unified struct {
	Granularity Granularity
	Anchor      Anchor
	// Sign is sigma, +1 or -1.
	Sign      int
	Transform Transform
	// Tempered replaces pi^A by the tempered answer distribution
	// pi~^A(a) = exp(pi^A(a)/Tau) / sum_b exp(pi^A(b)/Tau), b over the
	// group's distinct answers (answer level only). Tau = 0 is the limit
	// Tau -> 0+: uniform over the most frequent answers, so with a unique
	// majority the reward is exactly majority voting's (with k tied answers
	// each gets 1/k, where majority voting picks the first seen).
	Tempered bool
	Tau      float64
	// Voting says which answers are one answer (answer level only).
	Voting
}

// Name is "unified"; the registry builds it from its components.
func (Unified) Name() string { return "unified" }

// Validate reports a combination outside the framework.
func (u Unified) Validate() error {
	if u.Sign != 1 && u.Sign != -1 {
		return fmt.Errorf("unified: sign %d, want +1 or -1", u.Sign)
	}
	if u.Transform < Identity || u.Transform > ExpScaled {
		return fmt.Errorf("unified: transform %v", u.Transform)
	}
	switch u.Granularity {
	case TokenLevel:
		if u.Anchor < AnchorUniform || u.Anchor > AnchorSampledToken {
			return fmt.Errorf("unified: anchor %v is not a token-level anchor (uniform, policy, token)", u.Anchor)
		}
		if u.Tempered {
			return errors.New("unified: tempering applies to the answer-level distribution only")
		}
	case AnswerLevel:
		if u.Anchor != AnchorAnswer {
			return fmt.Errorf("unified: anchor %v at answer level; the answer-level anchor is answer (delta_A)", u.Anchor)
		}
		if u.Tempered && (u.Tau < 0 || math.IsNaN(u.Tau) || math.IsInf(u.Tau, 0)) {
			return fmt.Errorf("unified: tau %v, want a finite tau >= 0", u.Tau)
		}
	default:
		return fmt.Errorf("unified: granularity %v", u.Granularity)
	}
	return nil
}

// Score computes eq. 26 for every rollout.
func (u Unified) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := u.Validate(); err != nil {
		return Scores{}, err
	}
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	if u.Granularity == AnswerLevel {
		return u.scoreAnswers(g)
	}
	rewards := make([]float64, len(g.Rollouts))
	for i := range g.Rollouts {
		r := &g.Rollouts[i]
		var xs []float32
		var field string
		sign := float64(u.Sign)
		switch u.Anchor {
		case AnchorUniform:
			xs, field = r.SelfCertainty, rollout.FieldSelfCertainty
		case AnchorPolicy:
			xs, field = r.Entropies, rollout.FieldEntropies
		case AnchorSampledToken:
			// H(delta_t, pi_t) = -log pi_t(y_t).
			xs, field = r.LogProbs, rollout.FieldLogProbs
			sign = -sign
		}
		if xs == nil {
			return Scores{}, missing(g, i, field, "unified ("+u.Anchor.String()+" anchor)")
		}
		if len(xs) == 0 {
			return Scores{}, rolloutErr(g, i, fmt.Errorf("unified: %w", ErrNoTokens))
		}
		size := float64(len(xs))
		z := sign * sum32(xs) / size
		rewards[i] = u.psi(z, size)
	}
	return Scores{Rewards: rewards}, nil
}

func (u Unified) psi(z, size float64) float64 {
	switch u.Transform {
	case Exp:
		return math.Exp(z)
	case ExpScaled:
		return math.Exp(size * z)
	}
	return z
}

// scoreAnswers computes the answer-level case, |I| = 1.
func (u Unified) scoreAnswers(g *rollout.Group) (Scores, error) {
	p := u.Partition(g.Answers())
	n := float64(len(g.Rollouts))
	dist := make([]float64, len(p.Size)) // pi^A (or pi~^A) per class
	for c, size := range p.Size {
		dist[c] = float64(size) / n
	}
	if u.Tempered {
		temper(dist, u.Tau)
	}
	rewards := make([]float64, len(g.Rollouts))
	for i, c := range p.Class {
		h := math.Inf(1) // no answer: pi^A(ans(y)) = 0
		if c >= 0 {
			h = -math.Log(dist[c])
		}
		z := float64(u.Sign) * h
		if math.IsInf(z, 1) || (math.IsInf(z, -1) && u.Transform == Identity) {
			return Scores{}, rolloutErr(g, i, fmt.Errorf("unified: the answer has probability 0 and sign %+d with transform %v makes the reward infinite", u.Sign, u.Transform))
		}
		rewards[i] = u.psi(z, 1)
	}
	winner, _, top := tally(p, nil, nil)
	return Scores{Rewards: rewards, Partition: p,
		Votes: []Vote{u.newVote(p, "", winner, top, len(g.Rollouts), nil)}}, nil
}

// temper replaces dist by softmax(dist/tau) in place; tau = 0 is the limit
// tau -> 0+, uniform over the maxima.
func temper(dist []float64, tau float64) {
	if len(dist) == 0 {
		return
	}
	hi := dist[0]
	for _, d := range dist {
		hi = math.Max(hi, d)
	}
	if tau == 0 {
		k := 0
		for _, d := range dist {
			if d == hi {
				k++
			}
		}
		for c, d := range dist {
			dist[c] = 0
			if d == hi {
				dist[c] = 1 / float64(k)
			}
		}
		return
	}
	var sum float64
	for c, d := range dist {
		dist[c] = math.Exp((d - hi) / tau)
		sum += dist[c]
	}
	for c := range dist {
		dist[c] /= sum
	}
}

// Table6 returns the paper's Table 6 instantiations of the framework, keyed
// by the registry name of the estimator each one equals (EMPO's is
// "semantic_entropy": it equals |C(y)|/G except that the empo estimator also
// zeroes groups whose answers all differ).
//
// Table 6 writes Self-Certainty's offset as "+ log|V|"; since
// KL(U_V || pi) = H(U_V, pi) - log|V| the offset is - log|V|. The framework
// instance leaves the constant out, as the self_certainty estimator does by
// default.
func Table6() map[string]Unified {
	return map[string]Unified{
		"self_certainty":     {Granularity: TokenLevel, Anchor: AnchorUniform, Sign: +1, Transform: Identity},
		"token_entropy":      {Granularity: TokenLevel, Anchor: AnchorPolicy, Sign: -1, Transform: Identity},
		"trajectory_entropy": {Granularity: TokenLevel, Anchor: AnchorSampledToken, Sign: -1, Transform: Identity},
		"probability":        {Granularity: TokenLevel, Anchor: AnchorSampledToken, Sign: -1, Transform: ExpScaled},
		"semantic_entropy":   {Granularity: AnswerLevel, Anchor: AnchorAnswer, Sign: -1, Transform: Exp},
		"majority_voting":    {Granularity: AnswerLevel, Anchor: AnchorAnswer, Sign: -1, Transform: Exp, Tempered: true, Tau: 0},
	}
}
