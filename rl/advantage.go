package rl

import (
	"fmt"
	"math"
	"strings"
)

// Estimator names an advantage estimator.
type Estimator string

// The advantage estimators. Names follow veRL's adv_estimator values where
// veRL has one.
const (
	// GRPO: A_i = (r_i - mean) / (std + eps), std unbiased (N-1).
	GRPO Estimator = "grpo"
	// DrGRPO: A_i = r_i - mean, no std normalisation (pair it with
	// SeqMeanTokenSumNorm aggregation as Dr.GRPO does).
	DrGRPO Estimator = "dr_grpo"
	// RLOO: A_i = r_i - mean_{j != i} r_j = N/(N-1) (r_i - mean).
	RLOO Estimator = "rloo"
	// REINFORCE with the group mean as baseline: A_i = r_i - mean (the
	// paper's per-problem study, Sec. 4.2).
	REINFORCE Estimator = "reinforce"
	// REINFORCEPlusPlusBaseline: A_i = r_i - mean, then whitened over the
	// whole batch with token weights, as veRL's reinforce_plus_plus_baseline.
	REINFORCEPlusPlusBaseline Estimator = "reinforce_plus_plus_baseline"
)

// Estimators lists every estimator, for help texts and validation.
var Estimators = []Estimator{GRPO, DrGRPO, RLOO, REINFORCE, REINFORCEPlusPlusBaseline}

// ParseEstimator maps a name to an Estimator; "dr.grpo" and "drgrpo" are
// accepted for Dr.GRPO.
func ParseEstimator(name string) (Estimator, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "dr.grpo", "drgrpo":
		return DrGRPO, nil
	case "reinforce++-baseline", "reinforce_pp_baseline":
		return REINFORCEPlusPlusBaseline, nil
	}
	for _, e := range Estimators {
		if string(e) == n {
			return e, nil
		}
	}
	return "", fmt.Errorf("unknown advantage estimator %q (have %v)", name, Estimators)
}

// DefaultEpsilon is added to the group standard deviation by GRPO.
const DefaultEpsilon = 1e-6

// whitenEpsilon is added to the batch variance by REINFORCE++-baseline
// whitening (veRL's masked_whiten).
const whitenEpsilon = 1e-8

// AdvantageConfig selects and parameterises an advantage estimator.
type AdvantageConfig struct {
	Estimator Estimator
	// Epsilon is GRPO's std offset; 0 means DefaultEpsilon.
	Epsilon float64
	// TokenCounts holds each sequence's number of response tokens; it
	// weights the batch whitening of REINFORCE++-baseline, where a sequence
	// counts once per token as in veRL. Nil weights every sequence equally.
	TokenCounts []int
}

// AdvantageStats describes the groups an advantage call saw.
type AdvantageStats struct {
	Groups int
	// ZeroVarianceGroups counts groups whose rewards are all equal (a single
	// rollout included); they receive advantage 0 and give no gradient.
	ZeroVarianceGroups   int
	ZeroVarianceFraction float64
	// Mean and Std of the advantages over sequences (unweighted, Std
	// population).
	Mean, Std float64
}

// Advantages computes one advantage per sequence from one reward per
// sequence, the sequences of a prompt being consecutive groups of
// groupSize. It writes into dst, which must have len(rewards) elements, and
// returns statistics. A group whose rewards are all equal (a single rollout
// included) gets advantage 0 under every estimator; REINFORCE++-baseline's
// batch whitening then shifts it with everything else.
func Advantages(cfg AdvantageConfig, rewards []float64, groupSize int, dst []float64) (AdvantageStats, error) {
	if groupSize < 1 {
		return AdvantageStats{}, fmt.Errorf("group size %d, need at least 1", groupSize)
	}
	if len(rewards)%groupSize != 0 {
		return AdvantageStats{}, fmt.Errorf("%d rewards do not split into groups of %d", len(rewards), groupSize)
	}
	return advantages(cfg, rewards, len(rewards)/groupSize, func(g int) (int, int) {
		return g * groupSize, (g + 1) * groupSize
	}, dst)
}

// AdvantagesVar is Advantages for groups of varying size: group g holds the
// sequences offsets[g] up to offsets[g+1]; offsets starts at 0 and ends at
// len(rewards).
func AdvantagesVar(cfg AdvantageConfig, rewards []float64, offsets []int, dst []float64) (AdvantageStats, error) {
	if len(offsets) < 2 || offsets[0] != 0 || offsets[len(offsets)-1] != len(rewards) {
		return AdvantageStats{}, fmt.Errorf("offsets must run from 0 to %d with at least one group", len(rewards))
	}
	for g := 1; g < len(offsets); g++ {
		if offsets[g] <= offsets[g-1] {
			return AdvantageStats{}, fmt.Errorf("group %d is empty or offsets decrease (%d, %d)", g-1, offsets[g-1], offsets[g])
		}
	}
	return advantages(cfg, rewards, len(offsets)-1, func(g int) (int, int) {
		return offsets[g], offsets[g+1]
	}, dst)
}

func advantages(cfg AdvantageConfig, rewards []float64, groups int, bounds func(int) (int, int), dst []float64) (AdvantageStats, error) {
	st := AdvantageStats{Groups: groups}
	if len(dst) != len(rewards) {
		return st, fmt.Errorf("advantage buffer has %d elements for %d rewards", len(dst), len(rewards))
	}
	eps := cfg.Epsilon
	if eps == 0 {
		eps = DefaultEpsilon
	}
	if eps < 0 || math.IsNaN(eps) {
		return st, fmt.Errorf("epsilon %v is negative", eps)
	}
	switch cfg.Estimator {
	case GRPO, DrGRPO, RLOO, REINFORCE, REINFORCEPlusPlusBaseline:
	default:
		return st, fmt.Errorf("unknown advantage estimator %q (have %v)", cfg.Estimator, Estimators)
	}
	if cfg.TokenCounts != nil && len(cfg.TokenCounts) != len(rewards) {
		return st, fmt.Errorf("%d token counts for %d sequences", len(cfg.TokenCounts), len(rewards))
	}
	for i, r := range rewards {
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return st, fmt.Errorf("sequence %d: reward %v is not finite", i, r)
		}
	}

	for g := range groups {
		lo, hi := bounds(g)
		group, out := rewards[lo:hi], dst[lo:hi]
		if allEqual(group) {
			st.ZeroVarianceGroups++
			clear(out)
			continue
		}
		n := float64(len(group))
		var sum float64
		for _, r := range group {
			sum += r
		}
		m := sum / n
		switch cfg.Estimator {
		case GRPO:
			var ss float64
			for _, r := range group {
				ss += (r - m) * (r - m)
			}
			scale := 1 / (math.Sqrt(ss/(n-1)) + eps)
			for i, r := range group {
				out[i] = (r - m) * scale
			}
		case RLOO:
			// r_i minus the mean of the other N-1 rewards.
			scale := n / (n - 1)
			for i, r := range group {
				out[i] = (r - m) * scale
			}
		default: // DrGRPO, REINFORCE, REINFORCEPlusPlusBaseline
			for i, r := range group {
				out[i] = r - m
			}
		}
	}
	if groups > 0 {
		st.ZeroVarianceFraction = float64(st.ZeroVarianceGroups) / float64(groups)
	}
	if cfg.Estimator == REINFORCEPlusPlusBaseline {
		if err := whiten(dst, cfg.TokenCounts); err != nil {
			return st, err
		}
	}
	if len(dst) > 0 {
		var sum, ss float64
		for _, a := range dst {
			sum += a
		}
		st.Mean = sum / float64(len(dst))
		for _, a := range dst {
			ss += (a - st.Mean) * (a - st.Mean)
		}
		st.Std = math.Sqrt(ss / float64(len(dst)))
	}
	return st, nil
}

func allEqual(x []float64) bool {
	for _, v := range x[1:] {
		if v != x[0] {
			return false
		}
	}
	return true
}

// whiten shifts and scales a to weighted mean 0 and unit weighted variance,
// weights being the token counts (or 1 each): a sequence of L tokens counts
// L times, as when veRL whitens the token-level advantage tensor. The
// variance is unbiased over the total weight (W-1), and 1e-8 is added before
// the square root. With a total weight of at most 1, or zero variance, the
// advantages are only centred.
func whiten(a []float64, counts []int) error {
	var w, sum float64
	for i, v := range a {
		wi := 1.0
		if counts != nil {
			if counts[i] < 0 {
				return fmt.Errorf("sequence %d: negative token count %d", i, counts[i])
			}
			wi = float64(counts[i])
		}
		w += wi
		sum += wi * v
	}
	if w == 0 {
		clear(a)
		return nil
	}
	m := sum / w
	var ss float64
	for i, v := range a {
		wi := 1.0
		if counts != nil {
			wi = float64(counts[i])
		}
		ss += wi * (v - m) * (v - m)
	}
	scale := 1.0
	if w > 1 {
		scale = 1 / math.Sqrt(ss/(w-1)+whitenEpsilon)
	}
	for i := range a {
		a[i] = (a[i] - m) * scale
	}
	return nil
}

// ExpandToTokens writes each sequence's advantage to every token of its row
// in the [len(seqAdv) x tokens] layout, and 0 where mask is 0. Loss also
// takes the per-sequence advantages directly (LossBatch.SeqAdvantage), which
// avoids this buffer.
func ExpandToTokens[F Float](seqAdv []float64, tokens int, mask []F, dst []F) error {
	n := len(seqAdv) * tokens
	if len(mask) != n || len(dst) != n {
		return fmt.Errorf("mask has %d and dst %d elements, want %d x %d = %d", len(mask), len(dst), len(seqAdv), tokens, n)
	}
	for s, a := range seqAdv {
		fillMasked(dst[s*tokens:(s+1)*tokens], mask[s*tokens:(s+1)*tokens], a)
	}
	return nil
}
