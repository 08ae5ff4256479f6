package rl

import (
	"fmt"
	"math"
	"strings"
)

// Float is the element type of per-token buffers: the engine works in
// float32, tests and offline analysis in float64. Arithmetic inside is
// float64 either way.
type Float interface{ ~float32 | ~float64 }

// logRatioClamp bounds log(pi/pi_old) before exponentiation, as veRL does,
// so that a stale token cannot overflow the ratio.
const logRatioClamp = 20

// ClipConfig holds the PPO clipping parameters.
type ClipConfig struct {
	// Low and High clip the ratio to [1-Low, 1+High] (paper default 0.2 each).
	Low, High float64
	// DualClip is the dual-clip constant c > 1: for A < 0 the token loss is
	// capped at -A*c. 0 disables it.
	DualClip float64
}

// Validate checks the clip ranges.
func (c ClipConfig) Validate() error {
	if !(c.Low >= 0 && c.Low < 1) || !(c.High >= 0) || math.IsInf(c.High, 0) {
		return fmt.Errorf("clip range [1-%v, 1+%v] is not a valid ratio interval", c.Low, c.High)
	}
	if c.DualClip != 0 && !(c.DualClip > 1) {
		return fmt.Errorf("dual-clip constant %v must exceed 1 (or be 0 to disable)", c.DualClip)
	}
	return nil
}

// PPOToken is the clipped surrogate of one token: with
// ratio = exp(clamp(logp - oldLogp, -20, 20)),
//
//	loss = max(-A*ratio, -A*clip(ratio, 1-Low, 1+High)),
//
// then, when DualClip = c is set and A < 0, loss = min(loss, -A*c). It
// returns the loss, its derivative with respect to logp, and whether the
// ratio clip or the dual clip decided the value (veRL's pg_clipfrac and
// pg_clipfrac_lower indicators). The derivative is -A*ratio where the
// unclipped branch is active and 0 where a clip or the log-ratio clamp is.
func PPOToken(logp, oldLogp, adv float64, c ClipConfig) (loss, dLogp float64, clipped, dualClipped bool) {
	x := logp - oldLogp
	inClamp := x >= -logRatioClamp && x <= logRatioClamp
	x = math.Max(-logRatioClamp, math.Min(logRatioClamp, x))
	ratio := math.Exp(x)
	return ppoFromRatio(ratio, inClamp, adv, c)
}

func ppoFromRatio(ratio float64, inClamp bool, adv float64, c ClipConfig) (loss, dLogp float64, clipped, dualClipped bool) {
	bounded := ratio
	if bounded < 1-c.Low {
		bounded = 1 - c.Low
	} else if bounded > 1+c.High {
		bounded = 1 + c.High
	}
	unclipped, clippedLoss := -adv*ratio, -adv*bounded
	if clippedLoss > unclipped {
		loss, clipped = clippedLoss, true
	} else {
		loss = unclipped
		if inClamp {
			dLogp = unclipped
		}
	}
	if c.DualClip != 0 && adv < 0 {
		if capped := -adv * c.DualClip; loss > capped {
			return capped, 0, clipped, true
		}
	}
	return loss, dLogp, clipped, false
}

// KLKind names a per-token estimator of KL(pi || pi_ref) from the sampled
// token's log-probabilities, with veRL's names.
type KLKind string

// The KL estimators.
const (
	// KLK1 is logp - ref ("kl", k1).
	KLK1 KLKind = "kl"
	// KLAbs is |logp - ref|.
	KLAbs KLKind = "abs"
	// KLK2 is (logp - ref)^2 / 2 ("mse", k2).
	KLK2 KLKind = "mse"
	// KLK3 is exp(ref - logp) - (ref - logp) - 1 ("low_var_kl", k3), with
	// ref - logp clamped to [-20, 20] and the result to [-10, 10].
	KLK3 KLKind = "low_var_kl"
)

// KLKinds lists the KL estimators.
var KLKinds = []KLKind{KLK1, KLAbs, KLK2, KLK3}

// ParseKLKind maps a name to a KLKind; "k1", "k2", "k3" are accepted too.
func ParseKLKind(name string) (KLKind, error) {
	switch n := strings.ToLower(strings.TrimSpace(name)); n {
	case "k1", "kl":
		return KLK1, nil
	case "abs":
		return KLAbs, nil
	case "k2", "mse":
		return KLK2, nil
	case "k3", "low_var_kl":
		return KLK3, nil
	}
	return "", fmt.Errorf("unknown KL estimator %q (have %v or k1, k2, k3)", name, KLKinds)
}

// k3 clamps, from veRL's low_var_kl.
const (
	k3LogClamp   = 20
	k3ValueClamp = 10
)

// KLToken returns the per-token KL estimate of kind and its derivative with
// respect to logp (ref is fixed). Where a clamp binds, the derivative is 0.
func KLToken(kind KLKind, logp, ref float64) (kl, dLogp float64, err error) {
	d := logp - ref
	switch kind {
	case KLK1:
		return d, 1, nil
	case KLAbs:
		switch {
		case d > 0:
			return d, 1, nil
		case d < 0:
			return -d, -1, nil
		}
		return 0, 0, nil
	case KLK2:
		return 0.5 * d * d, d, nil
	case KLK3:
		kl, dLogp = k3Token(-d)
		return kl, dLogp, nil
	}
	return 0, 0, fmt.Errorf("unknown KL estimator %q", kind)
}

// k3Token evaluates low_var_kl at u = ref - logp.
func k3Token(u float64) (kl, dLogp float64) {
	inClamp := u >= -k3LogClamp && u <= k3LogClamp
	u = math.Max(-k3LogClamp, math.Min(k3LogClamp, u))
	e := math.Exp(u)
	kl = e - u - 1
	if kl > k3ValueClamp {
		return k3ValueClamp, 0
	}
	if kl < -k3ValueClamp { // unreachable (kl >= 0) but mirrors the reference clamp
		return -k3ValueClamp, 0
	}
	if !inClamp {
		return kl, 0
	}
	// d/dlogp [e^u - u - 1] with du/dlogp = -1.
	return kl, 1 - e
}
