package rl

import (
	"fmt"
	"math"
)

// Aggregation says how per-token losses become one scalar; names are
// veRL's loss_agg_mode values.
type Aggregation string

// The aggregation modes. With m the mask, L_s = sum_t m[s,t] and S' the
// number of sequences with at least one response token, the token weights
// are:
const (
	// TokenMean: 1 / sum_s L_s (DAPO, veRL's default, the paper's runs).
	TokenMean Aggregation = "token-mean"
	// SeqMeanTokenMean: 1 / (L_s S'), each sequence's token mean averaged
	// (the original GRPO).
	SeqMeanTokenMean Aggregation = "seq-mean-token-mean"
	// SeqMeanTokenSum: 1 / S', token sums averaged over sequences.
	SeqMeanTokenSum Aggregation = "seq-mean-token-sum"
	// SeqMeanTokenSumNorm: 1 / H for a constant horizon H, the sum over the
	// whole batch divided by H (Dr.GRPO as veRL implements it; the batch
	// size is not divided out, the learning rate absorbs it).
	SeqMeanTokenSumNorm Aggregation = "seq-mean-token-sum-norm"
)

// Aggregations lists the aggregation modes.
var Aggregations = []Aggregation{TokenMean, SeqMeanTokenMean, SeqMeanTokenSum, SeqMeanTokenSumNorm}

// ParseAggregation maps a name to an Aggregation.
func ParseAggregation(name string) (Aggregation, error) {
	for _, a := range Aggregations {
		if string(a) == name {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown loss aggregation %q (have %v)", name, Aggregations)
}

// LossConfig configures the policy loss
//
//	L = agg(pg) + KLCoef * agg(kl) - EntropyCoef * agg(entropy),
//
// every term aggregated with the same mode, as in veRL's actor.
type LossConfig struct {
	Clip        ClipConfig
	Aggregation Aggregation
	// Horizon is the constant divisor of SeqMeanTokenSumNorm; 0 means the
	// row width of the batch (its token dimension). Keep it fixed across a
	// run (e.g. the maximum response length).
	Horizon int
	// KLCoef weights the KL penalty to the reference policy (paper: off, or
	// 0.005 in B.3); KL picks its estimator (default k3 when KLCoef != 0).
	KLCoef float64
	KL     KLKind
	// EntropyCoef weights the entropy bonus (paper: off).
	EntropyCoef float64
	// GlobalTokens and GlobalSequences replace the token count and the
	// non-empty sequence count of this call in the aggregation weights.
	// Set them to the mini-batch's counts when the mini-batch is split into
	// micro-batches, so that the micro-batch losses and gradients add up to
	// those of the whole mini-batch. 0 means this call's own counts.
	GlobalTokens, GlobalSequences float64
}

// DefaultLossConfig returns the paper's Table 7 setting on veRL defaults:
// clip 0.2/0.2, dual clip c = 3, token-mean, no KL, no entropy bonus.
func DefaultLossConfig() LossConfig {
	return LossConfig{Clip: ClipConfig{Low: 0.2, High: 0.2, DualClip: 3}, Aggregation: TokenMean}
}

// Validate checks the configuration.
func (c LossConfig) Validate() error {
	if err := c.Clip.Validate(); err != nil {
		return err
	}
	if _, err := ParseAggregation(string(c.Aggregation)); err != nil {
		return err
	}
	if c.Horizon < 0 {
		return fmt.Errorf("horizon %d is negative", c.Horizon)
	}
	for name, v := range map[string]float64{"KL coefficient": c.KLCoef, "entropy coefficient": c.EntropyCoef,
		"global token count": c.GlobalTokens, "global sequence count": c.GlobalSequences} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %v is not finite", name, v)
		}
	}
	if c.GlobalTokens < 0 || c.GlobalSequences < 0 {
		return fmt.Errorf("global counts (%v tokens, %v sequences) are negative", c.GlobalTokens, c.GlobalSequences)
	}
	if c.KLCoef != 0 && c.KL != "" {
		if _, err := ParseKLKind(string(c.KL)); err != nil {
			return err
		}
	}
	return nil
}

// LossBatch is one mini-batch in the flat [Seqs x Tokens] layout: token t of
// sequence s is element s*Tokens + t of every slice.
type LossBatch[F Float] struct {
	Seqs, Tokens int
	// LogProb is log pi_theta of each sampled token under the policy being
	// trained (required).
	LogProb []F
	// OldLogProb is the behaviour policy's log-prob. Nil means on-policy:
	// the old policy is the current one held fixed, so the ratio is exactly
	// 1 and its derivative is 1.
	OldLogProb []F
	// RefLogProb is the reference policy's log-prob, required when
	// KLCoef != 0.
	RefLogProb []F
	// Advantage per token; see ExpandToTokens. Outcome rewards give one
	// advantage per sequence: pass those as SeqAdvantage instead, which
	// saves a [Seqs x Tokens] buffer. Exactly one of the two is required.
	Advantage []F
	// SeqAdvantage holds one advantage per sequence (len Seqs).
	SeqAdvantage []float64
	// Mask is 1 for response tokens and 0 for padding (required).
	Mask []F
	// Entropy is each position's policy entropy, required when
	// EntropyCoef != 0 and reported in the stats when present.
	Entropy []F
}

// LossStats are the diagnostics of one Loss call; fractions and means are
// over response tokens regardless of the aggregation mode, as veRL logs them.
type LossStats struct {
	// PolicyLoss, KL and Entropy are the aggregated terms before their
	// coefficients (KL only when KLCoef != 0, Entropy when given).
	PolicyLoss float64 `json:"pg_loss"`
	KL         float64 `json:"kl_loss"`
	Entropy    float64 `json:"entropy_loss"`
	// ClipFraction is the fraction of tokens whose ratio clip was active;
	// DualClipFraction those capped by the dual clip (A < 0).
	ClipFraction     float64 `json:"pg_clipfrac"`
	DualClipFraction float64 `json:"pg_clipfrac_lower"`
	// ApproxKL is mean(old - logp), the k1 estimate of KL(old || new);
	// ApproxKLK3 the low-variance k3 estimate of the same.
	ApproxKL   float64 `json:"ppo_kl"`
	ApproxKLK3 float64 `json:"ppo_kl_k3"`
	// RatioMax and RatioMin are the extreme importance ratios seen.
	RatioMax float64 `json:"ratio_max"`
	RatioMin float64 `json:"ratio_min"`
	// Tokens and Sequences count response tokens and non-empty sequences.
	Tokens    int `json:"tokens"`
	Sequences int `json:"sequences"`
}

// LossOutput receives the result of Loss. Its slices are reused across
// calls when large enough, so a training loop allocates them once.
type LossOutput[F Float] struct {
	Loss float64
	// DLogProb is dL/dlogp for every token (0 on padding).
	DLogProb []F
	// DEntropy is dL/dentropy for every token (0 on padding). It is empty
	// when EntropyCoef is 0: the entropy does not enter the loss, so the
	// engine can skip its backward pass.
	DEntropy []F
	Stats    LossStats

	rowTokens  []float64 // scratch: response tokens per sequence
	advScratch []F       // scratch: one row of expanded SeqAdvantage
}

func resize[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// Loss evaluates the policy loss of one mini-batch and its derivatives
// with respect to every token's log-prob and entropy, into out. It returns
// an error for inconsistent shapes, a mask value other than 0 and 1, or a
// NaN or non-finite result (naming the first offending token). A batch
// without response tokens has loss 0.
//
// The on-policy case (OldLogProb nil) without KL needs no exponential and
// does not read LogProb: the ratio is 1, inside every clip range, so each
// token's loss and derivative are -A.
func Loss[F Float](cfg LossConfig, b LossBatch[F], out *LossOutput[F]) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("loss config: %w", err)
	}
	if err := b.check(cfg); err != nil {
		return err
	}
	klKind := cfg.KL
	if klKind == "" {
		klKind = KLK3
	}
	useKL, useEnt := cfg.KLCoef != 0, cfg.EntropyCoef != 0
	onPolicy := b.OldLogProb == nil
	n, T := b.Seqs*b.Tokens, b.Tokens

	out.DLogProb = resize(out.DLogProb, n)
	if useEnt {
		out.DEntropy = resize(out.DEntropy, n)
	} else {
		out.DEntropy = out.DEntropy[:0]
	}
	out.rowTokens = resize(out.rowTokens, b.Seqs)
	out.Stats = LossStats{}
	st := &out.Stats

	// Pass 1: response tokens per sequence, for the aggregation weights.
	var tokens, seqs float64
	for s := range b.Seqs {
		l, bad := countMask(b.Mask[s*T : (s+1)*T])
		if bad >= 0 {
			return fmt.Errorf("mask[%d, %d] = %v, want 0 or 1", s, bad, b.Mask[s*T+bad])
		}
		out.rowTokens[s] = float64(l)
		tokens += float64(l)
		if l > 0 {
			seqs++
		}
	}
	st.Tokens, st.Sequences = int(tokens), int(seqs)
	if tokens == 0 {
		clear(out.DLogProb)
		clear(out.DEntropy)
		out.Loss = 0
		return nil
	}
	if cfg.GlobalTokens != 0 {
		tokens = cfg.GlobalTokens
	}
	if cfg.GlobalSequences != 0 {
		seqs = cfg.GlobalSequences
	}
	horizon := float64(cfg.Horizon)
	if horizon == 0 {
		horizon = float64(T)
	}

	// Pass 2: per-token terms. Sums are kept per row, unweighted, and
	// weighted once per row.
	var (
		pgSum, klSum, entSum        float64
		clipped, dual, approx, apK3 float64
		ratioMax, ratioMin          = 1.0, 1.0
	)
	if !onPolicy {
		ratioMax, ratioMin = math.Inf(-1), math.Inf(1)
	}
	clipLo, clipHi, dualClip := 1-cfg.Clip.Low, 1+cfg.Clip.High, cfg.Clip.DualClip
	if b.SeqAdvantage != nil && (!onPolicy || useKL) {
		// The general path reads per-token advantages: expand into scratch.
		out.advScratch = resize(out.advScratch, T)
	}
	for s := range b.Seqs {
		lo, hi := s*T, (s+1)*T
		l := out.rowTokens[s]
		dlp := out.DLogProb[lo:hi]
		if l == 0 {
			clear(dlp)
			if useEnt {
				clear(out.DEntropy[lo:hi])
			}
			continue
		}
		var w float64 // this row's token weight
		switch cfg.Aggregation {
		case TokenMean:
			w = 1 / tokens
		case SeqMeanTokenMean:
			w = 1 / (l * seqs)
		case SeqMeanTokenSum:
			w = 1 / seqs
		case SeqMeanTokenSumNorm:
			w = 1 / horizon
		}
		mask := b.Mask[lo:hi]
		var rowPG, rowKL, rowEnt float64
		if b.Entropy != nil {
			rowEnt = maskedSum(b.Entropy[lo:hi], mask)
			if useEnt {
				fillMasked(out.DEntropy[lo:hi], mask, -cfg.EntropyCoef*w)
			}
		}

		switch {
		case onPolicy && !useKL && b.SeqAdvantage != nil:
			// Ratio 1 and one advantage: every response token has loss and
			// derivative -A.
			a := b.SeqAdvantage[s]
			rowPG = -a * l
			fillMasked(dlp, mask, -a*w)
		case onPolicy && !useKL:
			rowPG = onPolicyRow(b.Advantage[lo:hi], mask, dlp, w)
		default:
			var adv []F
			if b.SeqAdvantage != nil {
				adv = out.advScratch
				fillMasked(adv, mask, b.SeqAdvantage[s])
			} else {
				adv = b.Advantage[lo:hi]
			}
			logp := b.LogProb[lo:hi]
			var ref, old []F
			if useKL {
				ref = b.RefLogProb[lo:hi]
			}
			if !onPolicy {
				old = b.OldLogProb[lo:hi]
			}
			for t, m := range mask {
				if m == 0 {
					dlp[t] = 0
					continue
				}
				a, lp := float64(adv[t]), float64(logp[t])
				if a != a || lp != lp {
					return fmt.Errorf("loss input is NaN: %w", firstNonFinite(b))
				}
				pg, g := -a, -a
				if !onPolicy {
					x := lp - float64(old[t])
					inClamp := true
					if x > logRatioClamp {
						x, inClamp = logRatioClamp, false
					} else if x < -logRatioClamp {
						x, inClamp = -logRatioClamp, false
					}
					ratio := 1.0 // identical log-probs (a recomputed on-policy batch) skip the exp
					if x != 0 {
						ratio = math.Exp(x)
					}
					if ratio > ratioMax {
						ratioMax = ratio
					}
					if ratio < ratioMin {
						ratioMin = ratio
					}
					approx -= x
					apK3 += ratio - 1 - x // k3 estimate of KL(old || new)
					// PPOToken's clipped surrogate, inlined for speed;
					// TestLossMatchesPPOToken holds the two together.
					bounded := ratio
					if bounded < clipLo {
						bounded = clipLo
					} else if bounded > clipHi {
						bounded = clipHi
					}
					pg, g = -a*ratio, 0
					if cl := -a * bounded; cl > pg {
						pg = cl
						clipped++
					} else if inClamp {
						g = pg
					}
					if a < 0 && dualClip != 0 && pg > -a*dualClip {
						pg, g = -a*dualClip, 0
						dual++
					}
				}
				rowPG += pg
				if useKL {
					kl, dkl, err := KLToken(klKind, lp, float64(ref[t]))
					if err != nil {
						return err
					}
					rowKL += kl
					g += cfg.KLCoef * dkl
				}
				dlp[t] = F(g * w)
			}
		}
		if rowPG != rowPG || rowEnt != rowEnt {
			return fmt.Errorf("loss input is NaN: %w", firstNonFinite(b))
		}
		pgSum += w * rowPG
		klSum += w * rowKL
		entSum += w * rowEnt
	}
	own := float64(st.Tokens)
	st.PolicyLoss, st.KL, st.Entropy = pgSum, klSum, entSum
	st.ClipFraction, st.DualClipFraction = clipped/own, dual/own
	st.ApproxKL, st.ApproxKLK3 = approx/own, apK3/own
	st.RatioMax, st.RatioMin = ratioMax, ratioMin
	out.Loss = pgSum + cfg.KLCoef*klSum - cfg.EntropyCoef*entSum
	if math.IsNaN(out.Loss) || math.IsInf(out.Loss, 0) {
		return fmt.Errorf("loss is %v: %w", out.Loss, firstNonFinite(b))
	}
	return nil
}

// check validates the batch's shape against cfg.
func (b LossBatch[F]) check(cfg LossConfig) error {
	if b.Seqs < 0 || b.Tokens < 0 {
		return fmt.Errorf("batch shape %d x %d is negative", b.Seqs, b.Tokens)
	}
	n := b.Seqs * b.Tokens
	fields := []struct {
		name     string
		l        int
		required bool
	}{
		{"log_prob", len(b.LogProb), true},
		{"advantage", len(b.Advantage), b.SeqAdvantage == nil},
		{"mask", len(b.Mask), true},
		{"old_log_prob", len(b.OldLogProb), b.OldLogProb != nil},
		{"ref_log_prob", len(b.RefLogProb), cfg.KLCoef != 0 || b.RefLogProb != nil},
		{"entropy", len(b.Entropy), cfg.EntropyCoef != 0 || b.Entropy != nil},
	}
	for _, f := range fields {
		if f.required && f.l != n {
			return fmt.Errorf("%s has %d elements, want %d x %d = %d", f.name, f.l, b.Seqs, b.Tokens, n)
		}
	}
	if b.SeqAdvantage != nil {
		if b.Advantage != nil {
			return fmt.Errorf("both per-token and per-sequence advantages given")
		}
		if len(b.SeqAdvantage) != b.Seqs {
			return fmt.Errorf("seq_advantage has %d elements for %d sequences", len(b.SeqAdvantage), b.Seqs)
		}
		for s, a := range b.SeqAdvantage {
			if math.IsNaN(a) || math.IsInf(a, 0) {
				return fmt.Errorf("seq_advantage[%d] = %v is not finite", s, a)
			}
		}
	}
	return nil
}

// firstNonFinite names the first non-finite input value of b on a response
// token.
func firstNonFinite[F Float](b LossBatch[F]) error {
	inputs := []struct {
		name string
		xs   []F
	}{{"log_prob", b.LogProb}, {"old_log_prob", b.OldLogProb}, {"ref_log_prob", b.RefLogProb},
		{"advantage", b.Advantage}, {"entropy", b.Entropy}}
	for _, in := range inputs {
		for i, x := range in.xs {
			if v := float64(x); (math.IsNaN(v) || math.IsInf(v, 0)) && b.Mask[i] != 0 {
				return nonFinite("%s[%d, %d] = %v", in.name, i/b.Tokens, i%b.Tokens, v)
			}
		}
	}
	return nonFinite("inputs are finite; the sum overflowed")
}
