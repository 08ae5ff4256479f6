package theory

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/rl"
)

// AnswerReward names an answer-level reward for the tabular policy.
type AnswerReward string

// The built-in answer-level rewards.
const (
	// MajorityReward is 1 for rollouts whose answer is the sample majority
	// (ties: the answer seen first), else 0 (TTRL, paper Theorem 1).
	MajorityReward AnswerReward = "majority"
	// GroundTruthReward is 1 for the gold answer, else 0 (supervised RLVR).
	GroundTruthReward AnswerReward = "ground_truth"
	// FrequencyReward is the sample frequency of the rollout's answer (SRT
	// soft voting, EMPO's cluster probability).
	FrequencyReward AnswerReward = "frequency"
	// ProbabilityReward is the policy's own probability of the answer, the
	// certainty-based reward of a one-token response (RLSC).
	ProbabilityReward AnswerReward = "probability"
)

// AnswerRewards lists the built-in rewards.
var AnswerRewards = []AnswerReward{MajorityReward, GroundTruthReward, FrequencyReward, ProbabilityReward}

// ParseAnswerReward maps a name to an AnswerReward.
func ParseAnswerReward(name string) (AnswerReward, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, r := range AnswerRewards {
		if string(r) == n {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown answer reward %q (have %v)", name, AnswerRewards)
}

// RewardFunc scores one step's sampled answers: samples[i] is rollout i's
// answer index, probs the current policy, gold the correct answer (-1 if
// none); it writes one reward per rollout into rewards.
type RewardFunc func(samples []int, probs []float64, gold int, rewards []float64)

// TabularConfig sets up a tabular policy: a softmax over a finite set of
// answers, one logit per answer, trained as a one-token language model.
type TabularConfig struct {
	// Probs is the initial answer distribution (normalised here); Logits is
	// the alternative. Exactly one must be given.
	Probs  []float64
	Logits []float64
	// Gold is the index of the correct answer, or -1 for none.
	Gold int
	// Reward picks a built-in reward; Custom, when set, replaces it.
	Reward AnswerReward
	Custom RewardFunc
	// Estimator computes advantages from the N rewards of a step (GRPO,
	// Dr.GRPO, RLOO, REINFORCE; default GRPO).
	Estimator rl.Estimator
	// N rollouts per step, Steps updates.
	N, Steps int
	// LR is the learning rate of the ascent on the logits.
	LR float64
	// Optimizer is "sgd" (plain gradient ascent, the default) or "adam"
	// (Adam with beta1 0.9, beta2 0.999, eps 1e-8, as LLM training uses;
	// its normalised steps raise the majority's log-odds by a near-constant
	// amount per step, the geometric regime of Theorem 1).
	Optimizer string
	// KLCoef weights the exact KL(pi || pi_0) to the initial policy.
	KLCoef float64
	// Temperature scales the logits for sampling and training (veRL uses
	// the rollout temperature in both); 0 means 1.
	Temperature float64
	// Seed seeds the sampling generator.
	Seed uint64
}

// Validate checks the configuration.
func (c TabularConfig) Validate() error {
	k := len(c.Probs)
	switch {
	case (c.Probs == nil) == (c.Logits == nil):
		return fmt.Errorf("give exactly one of the initial probabilities and logits")
	case c.Logits != nil:
		k = len(c.Logits)
		for i, z := range c.Logits {
			if math.IsNaN(z) || math.IsInf(z, 0) {
				return fmt.Errorf("logit %d is %v", i, z)
			}
		}
	default:
		var sum float64
		for i, p := range c.Probs {
			if !(p > 0) || math.IsInf(p, 0) {
				return fmt.Errorf("probability %d is %v; every answer needs positive mass", i, p)
			}
			sum += p
		}
		if math.Abs(sum-1) > 1e-6 {
			return fmt.Errorf("probabilities sum to %v, not 1", sum)
		}
	}
	switch {
	case k < 2:
		return fmt.Errorf("%d answers; need at least 2", k)
	case c.Gold < -1 || c.Gold >= k:
		return fmt.Errorf("gold answer %d outside [-1, %d)", c.Gold, k)
	case c.N < 2:
		return fmt.Errorf("%d rollouts per step; need at least 2", c.N)
	case c.Steps < 0:
		return fmt.Errorf("steps %d is negative", c.Steps)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("learning rate %v must be positive", c.LR)
	case c.KLCoef < 0 || math.IsNaN(c.KLCoef) || math.IsInf(c.KLCoef, 0):
		return fmt.Errorf("KL coefficient %v must be non-negative", c.KLCoef)
	case c.Temperature < 0 || math.IsNaN(c.Temperature) || math.IsInf(c.Temperature, 0):
		return fmt.Errorf("temperature %v must be positive", c.Temperature)
	}
	if c.Optimizer != "" && c.Optimizer != "sgd" && c.Optimizer != "adam" {
		return fmt.Errorf("optimizer %q: want sgd or adam", c.Optimizer)
	}
	if c.Custom == nil {
		if _, err := ParseAnswerReward(string(c.Reward)); err != nil {
			return err
		}
		if c.Reward == GroundTruthReward && c.Gold < 0 {
			return fmt.Errorf("the ground-truth reward needs a gold answer")
		}
	}
	if c.Estimator != "" && c.Estimator != rl.GRPO && c.Estimator != rl.DrGRPO && c.Estimator != rl.RLOO && c.Estimator != rl.REINFORCE {
		return fmt.Errorf("estimator %q not available for the tabular policy (grpo, dr_grpo, rloo, reinforce)", c.Estimator)
	}
	return nil
}

// TabularStep records one iteration: the policy before its update, the
// rollouts drawn from it and their rewards.
type TabularStep struct {
	Step int `json:"step"`
	// Majority is the sample majority answer maj_k(Y_k) (-1 if none).
	Majority int `json:"majority"`
	// PMaj is the policy's mass on Majority: the paper's p_maj.
	PMaj float64 `json:"p_maj"`
	// PInitialMajority is the mass on the step-0 sample majority maj_0(Y_0),
	// the answer Theorem 1 says the policy converges to.
	PInitialMajority float64 `json:"p_initial_majority"`
	// PGold is the mass on the gold answer (0 without one).
	PGold float64 `json:"p_gold"`
	// Entropy of the answer distribution, in nats.
	Entropy float64 `json:"entropy"`
	// MeanReward is the mean reward of the N rollouts; GroundTruth the
	// fraction of rollouts with the gold answer.
	MeanReward  float64 `json:"mean_reward"`
	GroundTruth float64 `json:"ground_truth_reward"`
	// RewardAccuracy is the fraction of rollouts whose reward equals their
	// 0/1 correctness (reported for 0/1 rewards only, else -1).
	RewardAccuracy float64 `json:"reward_accuracy"`
	// LabelCorrect says whether the sample majority is the gold answer.
	LabelCorrect bool `json:"label_correct"`
	// KL is KL(pi || pi_0) in nats.
	KL float64 `json:"kl"`
	// ErrorRatio is (1 - PInitialMajority) over its value one step
	// earlier: the measured contraction that Theorem 1 predicts to be
	// e^(-1/beta) (0 at step 0).
	ErrorRatio float64 `json:"error_ratio"`
	// Probs is the full answer distribution.
	Probs []float64 `json:"probs"`
}

// softmaxT writes softmax(z/temp) to p.
func softmaxT(z []float64, temp float64, p []float64) {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v/temp)
	}
	var sum float64
	for i, v := range z {
		p[i] = math.Exp(v/temp - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

// sampleCategorical draws an index from p by inversion.
func sampleCategorical(rng *rand.Rand, p []float64) int {
	u := rng.Float64()
	var c float64
	for i, v := range p {
		c += v
		if u < c {
			return i
		}
	}
	return len(p) - 1 // u landed in the rounding slack of the last bin
}

func builtinReward(kind AnswerReward) RewardFunc {
	return func(samples []int, probs []float64, gold int, rewards []float64) {
		switch kind {
		case MajorityReward:
			maj, _, _ := metrics.MajorityClass(samples)
			for i, a := range samples {
				rewards[i] = b2f(a == maj)
			}
		case GroundTruthReward:
			for i, a := range samples {
				rewards[i] = b2f(a == gold)
			}
		case FrequencyReward:
			counts := make(map[int]int, len(samples))
			for _, a := range samples {
				counts[a]++
			}
			for i, a := range samples {
				rewards[i] = float64(counts[a]) / float64(len(samples))
			}
		case ProbabilityReward:
			for i, a := range samples {
				rewards[i] = probs[a]
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// SimulateTabular trains the tabular policy for Steps updates and returns
// Steps+1 records: record k describes the policy after k updates and the
// rollouts drawn from it (the last record's rollouts are drawn but not used
// for an update). Each update ascends
//
//	J(z) = (1/N) sum_i A_i log pi(a_i) - KLCoef KL(pi || pi_0)
//
// with the exact gradients d log pi(a)/dz = (e_a - pi)/T and
// d KL/dz_j = pi_j (log pi_j/pi0_j - KL)/T.
func SimulateTabular(cfg TabularConfig) ([]TabularStep, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	temp := cfg.Temperature
	if temp == 0 {
		temp = 1
	}
	est := cfg.Estimator
	if est == "" {
		est = rl.GRPO
	}
	reward := cfg.Custom
	if reward == nil {
		reward = builtinReward(cfg.Reward)
	}

	var z []float64
	if cfg.Logits != nil {
		z = append([]float64(nil), cfg.Logits...)
	} else {
		// Logits T*log p reproduce p at temperature T.
		z = make([]float64, len(cfg.Probs))
		var sum float64
		for _, p := range cfg.Probs {
			sum += p
		}
		for i, p := range cfg.Probs {
			z[i] = temp * math.Log(p/sum)
		}
	}
	k := len(z)
	probs := make([]float64, k)
	softmaxT(z, temp, probs)
	logP0 := make([]float64, k)
	for i, p := range probs {
		logP0[i] = math.Log(p)
	}

	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7ab1e))
	samples := make([]int, cfg.N)
	rewards := make([]float64, cfg.N)
	adv := make([]float64, cfg.N)
	grad := make([]float64, k)
	m1, m2 := make([]float64, k), make([]float64, k) // Adam moments
	binary := cfg.Custom == nil && (cfg.Reward == MajorityReward || cfg.Reward == GroundTruthReward)
	initialMaj := -1
	out := make([]TabularStep, 0, cfg.Steps+1)

	for step := 0; step <= cfg.Steps; step++ {
		for i := range samples {
			samples[i] = sampleCategorical(rng, probs)
		}
		reward(samples, probs, cfg.Gold, rewards)
		maj, _, _ := metrics.MajorityClass(samples)
		if step == 0 {
			initialMaj = maj
		}
		rec := TabularStep{Step: step, Majority: maj, PMaj: probs[maj], PInitialMajority: probs[initialMaj],
			LabelCorrect: maj == cfg.Gold, RewardAccuracy: -1, Probs: append([]float64(nil), probs...)}
		if cfg.Gold >= 0 {
			rec.PGold = probs[cfg.Gold]
		}
		var match float64
		for i, a := range samples {
			if math.IsNaN(rewards[i]) || math.IsInf(rewards[i], 0) {
				return out, fmt.Errorf("step %d: reward of rollout %d is %v", step, i, rewards[i])
			}
			rec.MeanReward += rewards[i]
			gt := b2f(a == cfg.Gold)
			rec.GroundTruth += gt
			if rewards[i] == gt {
				match++
			}
		}
		rec.MeanReward /= float64(cfg.N)
		rec.GroundTruth /= float64(cfg.N)
		if binary && cfg.Gold >= 0 {
			rec.RewardAccuracy = match / float64(cfg.N)
		}
		for i, p := range probs {
			if p > 0 {
				rec.Entropy -= p * math.Log(p)
				rec.KL += p * (math.Log(p) - logP0[i])
			}
		}
		if step > 0 {
			if prev := 1 - out[step-1].PInitialMajority; prev > 0 {
				rec.ErrorRatio = (1 - rec.PInitialMajority) / prev
			}
		}
		out = append(out, rec)
		if step == cfg.Steps {
			break
		}

		if _, err := rl.Advantages(rl.AdvantageConfig{Estimator: est}, rewards, cfg.N, adv); err != nil {
			return out, fmt.Errorf("step %d: %w", step, err)
		}
		tabularGradient(probs, temp, samples, adv, cfg.KLCoef, logP0, grad)
		if cfg.Optimizer == "adam" {
			adamAscent(z, grad, m1, m2, step+1, cfg.LR)
		} else {
			for j := range z {
				z[j] += cfg.LR * grad[j]
			}
		}
		softmaxT(z, temp, probs)
		for i, p := range probs {
			if math.IsNaN(p) {
				return out, fmt.Errorf("step %d: probability of answer %d became NaN (learning rate too large?)", step, i)
			}
		}
	}
	return out, nil
}

// tabularObjective is J(z) = (1/N) sum_i A_i log pi(a_i) - klCoef
// KL(pi || pi_0), pi = softmax(z/temp), the function whose gradient
// tabularGradient returns; tests differentiate it numerically.
func tabularObjective(z []float64, temp float64, samples []int, adv []float64, klCoef float64, logP0 []float64) float64 {
	p := make([]float64, len(z))
	softmaxT(z, temp, p)
	var j float64
	for i, a := range samples {
		j += adv[i] * math.Log(p[a])
	}
	j /= float64(len(samples))
	for i, pi := range p {
		if pi > 0 {
			j -= klCoef * pi * (math.Log(pi) - logP0[i])
		}
	}
	return j
}

// tabularGradient writes dJ/dz for the current policy probs = softmax(z/T):
// the policy-gradient term (1/N) sum_i A_i (e_{a_i} - pi)/T and the KL term
// -klCoef pi_j (log pi_j/pi0_j - KL)/T.
func tabularGradient(probs []float64, temp float64, samples []int, adv []float64, klCoef float64, logP0, grad []float64) {
	clear(grad)
	var sumAdv float64
	for i, a := range samples {
		grad[a] += adv[i]
		sumAdv += adv[i]
	}
	var kl float64
	if klCoef != 0 {
		for j, p := range probs {
			if p > 0 {
				kl += p * (math.Log(p) - logP0[j])
			}
		}
	}
	n := float64(len(samples))
	for j, p := range probs {
		grad[j] = (grad[j] - sumAdv*p) / (n * temp)
		if klCoef != 0 && p > 0 { // p log p -> 0: an underflowed answer adds nothing
			grad[j] -= klCoef * p * (math.Log(p) - logP0[j] - kl) / temp
		}
	}
}

// Adam constants, the common defaults of LLM training.
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// adamAscent takes one Adam step (the t-th, 1-based) up the gradient g.
func adamAscent(z, g, m1, m2 []float64, t int, lr float64) {
	c1 := 1 - math.Pow(adamBeta1, float64(t))
	c2 := 1 - math.Pow(adamBeta2, float64(t))
	for j := range z {
		m1[j] = adamBeta1*m1[j] + (1-adamBeta1)*g[j]
		m2[j] = adamBeta2*m2[j] + (1-adamBeta2)*g[j]*g[j]
		z[j] += lr * (m1[j] / c1) / (math.Sqrt(m2[j]/c2) + adamEps)
	}
}
