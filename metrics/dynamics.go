package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Group is one prompt's rollouts after scoring.
type Group struct {
	Proxy   []float64 // proxy (unsupervised) reward per rollout
	GT      []float64 // ground-truth reward per rollout: 1 correct, 0 wrong
	Answers []string  // extracted answer per rollout ("" = none), optional

	// Label is the pseudo-label of ensemble estimators (the majority answer);
	// "" for certainty estimators.
	Label string
	// LabelCorrect says whether Label is equivalent to the gold answer for
	// ensemble estimators; nil for certainty estimators, whose label is the
	// highest-proxy rollout instead.
	LabelCorrect *bool
	// TopCount is the vote count of the majority class for ensemble
	// estimators (majority ratio = TopCount/N); 0 otherwise.
	TopCount int

	// Lengths is the response length in tokens per rollout, optional.
	Lengths []int
	// Entropies is the mean token entropy of each rollout under the sampling
	// temperature, optional.
	Entropies []float64
}

// Dynamics holds the paper B.2 training-dynamics metrics of one batch.
//
// Some metrics exist only for some inputs; the Has* flags say which were
// computed, and JSON encoding omits the ones that were not, so a metrics
// line never carries a made-up zero:
//   - reward_accuracy needs binary proxy rewards (every value 0 or 1, as
//     majority voting, thresholded voting and ground truth give). For a
//     continuous proxy such as self-certainty, "proxy == gt" has no meaning
//     and the metric is not reported; point_biserial measures the alignment.
//   - majority_ratio and per_problem_p_maj need TopCount or Answers.
//   - actor_entropy needs Entropies, response_length needs Lengths.
type Dynamics struct {
	// LabelAccuracy is the mean over prompts of the pseudo-label's
	// correctness: LabelCorrect for ensemble groups (eq. 39), and the
	// ground truth of the highest-proxy rollout, first on ties, for
	// certainty groups (eq. 43).
	LabelAccuracy float64 `json:"label_accuracy"`
	// RewardAccuracy is the mean over rollouts of 1[proxy == gt] (eq. 40).
	RewardAccuracy float64 `json:"reward_accuracy"`
	// GroundTruthReward is the mean ground-truth reward (eq. 41).
	GroundTruthReward float64 `json:"ground_truth_reward"`
	// ProxyReward is the mean proxy reward; for majority voting it is the
	// Majority Voting Reward of eq. 42.
	ProxyReward float64 `json:"proxy_reward"`
	// MajorityRatio is the mean over prompts of p_maj, the fraction of a
	// prompt's rollouts that carry its majority answer.
	MajorityRatio float64 `json:"majority_ratio"`
	// ZeroVarianceFraction is the fraction of prompts whose proxy rewards are
	// all equal, so that group-normalised advantages give them no gradient.
	ZeroVarianceFraction float64 `json:"zero_variance_fraction"`
	// PointBiserial is the correlation between proxy reward and 0/1 ground
	// truth over all rollouts of the batch; 0 when either is constant.
	PointBiserial float64 `json:"point_biserial"`
	// ActorEntropy is the mean token entropy of the sampled responses,
	// weighted by length when Lengths are given.
	ActorEntropy float64 `json:"actor_entropy"`
	// ResponseLength is the mean response length in tokens.
	ResponseLength float64 `json:"response_length"`
	// PerProblemPMaj lists p_maj for each prompt in input order.
	PerProblemPMaj []float64 `json:"per_problem_p_maj"`
	// PerProblemLabelCorrect lists each prompt's label correctness (the
	// per-problem indicator of paper Figure 4).
	PerProblemLabelCorrect []bool `json:"per_problem_label_correct"`

	Prompts            int `json:"prompts"`
	Rollouts           int `json:"rollouts"`
	ZeroVarianceGroups int `json:"zero_variance_groups"`

	HasRewardAccuracy bool `json:"-"`
	HasMajorityRatio  bool `json:"-"`
	HasActorEntropy   bool `json:"-"`
	HasResponseLength bool `json:"-"`
}

// dynamicsJSON is the wire form of Dynamics: optional metrics are pointers
// so that unreported ones are omitted.
type dynamicsJSON struct {
	LabelAccuracy          float64   `json:"label_accuracy"`
	RewardAccuracy         *float64  `json:"reward_accuracy,omitempty"`
	GroundTruthReward      float64   `json:"ground_truth_reward"`
	ProxyReward            float64   `json:"proxy_reward"`
	MajorityRatio          *float64  `json:"majority_ratio,omitempty"`
	ZeroVarianceFraction   float64   `json:"zero_variance_fraction"`
	PointBiserial          float64   `json:"point_biserial"`
	ActorEntropy           *float64  `json:"actor_entropy,omitempty"`
	ResponseLength         *float64  `json:"response_length,omitempty"`
	PerProblemPMaj         []float64 `json:"per_problem_p_maj,omitempty"`
	PerProblemLabelCorrect []bool    `json:"per_problem_label_correct,omitempty"`
	Prompts                int       `json:"prompts"`
	Rollouts               int       `json:"rollouts"`
	ZeroVarianceGroups     int       `json:"zero_variance_groups"`
}

func optional(v float64, ok bool) *float64 {
	if !ok {
		return nil
	}
	return &v
}

// MarshalJSON encodes d with snake_case keys, omitting metrics that were not
// computed (see the Has* flags).
func (d Dynamics) MarshalJSON() ([]byte, error) {
	w := dynamicsJSON{
		LabelAccuracy:        d.LabelAccuracy,
		RewardAccuracy:       optional(d.RewardAccuracy, d.HasRewardAccuracy),
		GroundTruthReward:    d.GroundTruthReward,
		ProxyReward:          d.ProxyReward,
		MajorityRatio:        optional(d.MajorityRatio, d.HasMajorityRatio),
		ZeroVarianceFraction: d.ZeroVarianceFraction,
		PointBiserial:        d.PointBiserial,
		ActorEntropy:         optional(d.ActorEntropy, d.HasActorEntropy),
		ResponseLength:       optional(d.ResponseLength, d.HasResponseLength),
		Prompts:              d.Prompts,
		Rollouts:             d.Rollouts,
		ZeroVarianceGroups:   d.ZeroVarianceGroups,
	}
	if d.HasMajorityRatio {
		w.PerProblemPMaj = d.PerProblemPMaj
	}
	w.PerProblemLabelCorrect = d.PerProblemLabelCorrect
	return json.Marshal(w)
}

// UnmarshalJSON decodes the form MarshalJSON writes; a missing optional
// metric leaves its Has* flag false.
func (d *Dynamics) UnmarshalJSON(b []byte) error {
	var w dynamicsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*d = Dynamics{
		LabelAccuracy:          w.LabelAccuracy,
		GroundTruthReward:      w.GroundTruthReward,
		ProxyReward:            w.ProxyReward,
		ZeroVarianceFraction:   w.ZeroVarianceFraction,
		PointBiserial:          w.PointBiserial,
		PerProblemPMaj:         w.PerProblemPMaj,
		PerProblemLabelCorrect: w.PerProblemLabelCorrect,
		Prompts:                w.Prompts,
		Rollouts:               w.Rollouts,
		ZeroVarianceGroups:     w.ZeroVarianceGroups,
	}
	if w.RewardAccuracy != nil {
		d.RewardAccuracy, d.HasRewardAccuracy = *w.RewardAccuracy, true
	}
	if w.MajorityRatio != nil {
		d.MajorityRatio, d.HasMajorityRatio = *w.MajorityRatio, true
	}
	if w.ActorEntropy != nil {
		d.ActorEntropy, d.HasActorEntropy = *w.ActorEntropy, true
	}
	if w.ResponseLength != nil {
		d.ResponseLength, d.HasResponseLength = *w.ResponseLength, true
	}
	return nil
}

// ErrNoGroups is returned when a metric is asked of an empty batch.
var ErrNoGroups = errors.New("no groups")

// validate checks one group's shapes and values.
func (g *Group) validate() error {
	n := len(g.Proxy)
	if n == 0 {
		return errors.New("no rollouts")
	}
	if len(g.GT) != n {
		return fmt.Errorf("%d ground-truth rewards for %d proxy rewards", len(g.GT), n)
	}
	if g.Answers != nil && len(g.Answers) != n {
		return fmt.Errorf("%d answers for %d rollouts", len(g.Answers), n)
	}
	if g.Lengths != nil && len(g.Lengths) != n {
		return fmt.Errorf("%d lengths for %d rollouts", len(g.Lengths), n)
	}
	if g.Entropies != nil && len(g.Entropies) != n {
		return fmt.Errorf("%d entropies for %d rollouts", len(g.Entropies), n)
	}
	if g.TopCount < 0 || g.TopCount > n {
		return fmt.Errorf("top count %d outside [0, %d]", g.TopCount, n)
	}
	for j := range n {
		if p := g.Proxy[j]; math.IsNaN(p) || math.IsInf(p, 0) {
			return fmt.Errorf("rollout %d: proxy reward %v is not finite", j, p)
		}
		if gt := g.GT[j]; gt != 0 && gt != 1 {
			return fmt.Errorf("rollout %d: ground-truth reward %v is not 0 or 1", j, gt)
		}
	}
	for j, l := range g.Lengths {
		if l < 0 {
			return fmt.Errorf("rollout %d: negative length %d", j, l)
		}
	}
	for j, h := range g.Entropies {
		if math.IsNaN(h) || math.IsInf(h, 0) || h < 0 {
			return fmt.Errorf("rollout %d: entropy %v is not a finite non-negative number", j, h)
		}
	}
	return nil
}

// pMaj returns the fraction of the group's rollouts that carry its majority
// answer, and whether it is known: from TopCount when set, otherwise by
// counting identical non-empty Answers.
func (g *Group) pMaj() (float64, bool) {
	n := float64(len(g.Proxy))
	if g.TopCount > 0 {
		return float64(g.TopCount) / n, true
	}
	if g.Answers == nil {
		return 0, false
	}
	counts := make(map[string]int, len(g.Answers))
	top := 0
	for _, a := range g.Answers {
		if a == "" {
			continue
		}
		counts[a]++
		if c := counts[a]; c > top {
			top = c
		}
	}
	return float64(top) / n, true
}

// labelCorrect returns the group's label correctness: LabelCorrect for an
// ensemble group, else the ground truth of the highest-proxy rollout (the
// first one on ties).
func (g *Group) labelCorrect() bool {
	if g.LabelCorrect != nil {
		return *g.LabelCorrect
	}
	best := 0
	for j, p := range g.Proxy {
		if p > g.Proxy[best] {
			best = j
		}
	}
	return g.GT[best] == 1
}

// ComputeDynamics computes the B.2 metrics over a batch of prompt groups.
// Groups may differ in size; rollout-level means weight every rollout
// equally and prompt-level means weight every prompt equally. It returns an
// error naming the group for empty or inconsistent input.
func ComputeDynamics(groups []Group) (Dynamics, error) {
	var d Dynamics
	if len(groups) == 0 {
		return d, ErrNoGroups
	}
	d.Prompts = len(groups)
	d.HasRewardAccuracy = true
	d.HasMajorityRatio = true
	d.HasActorEntropy = true
	d.HasResponseLength = true
	d.PerProblemPMaj = make([]float64, len(groups))
	d.PerProblemLabelCorrect = make([]bool, len(groups))

	var (
		sumProxy, sumGT, sumMatch, sumPMaj, labels float64
		sumLen, sumEntLen, sumEnt                  float64
		n1                                         float64 // rollouts with gt = 1
	)
	for i := range groups {
		g := &groups[i]
		if err := g.validate(); err != nil {
			return Dynamics{}, fmt.Errorf("group %d: %w", i, err)
		}
		if g.Lengths == nil {
			d.HasResponseLength = false
		}
		if g.Entropies == nil {
			d.HasActorEntropy = false
		}
		allEqual := true
		for j, p := range g.Proxy {
			gt := g.GT[j]
			sumProxy += p
			sumGT += gt
			n1 += gt
			if p != 0 && p != 1 {
				d.HasRewardAccuracy = false
			} else if p == gt {
				sumMatch++
			}
			if p != g.Proxy[0] {
				allEqual = false
			}
			if g.Lengths != nil {
				sumLen += float64(g.Lengths[j])
				if g.Entropies != nil {
					sumEntLen += g.Entropies[j] * float64(g.Lengths[j])
				}
			}
			if g.Entropies != nil {
				sumEnt += g.Entropies[j]
			}
		}
		d.Rollouts += len(g.Proxy)
		if allEqual {
			d.ZeroVarianceGroups++
		}
		if pm, ok := g.pMaj(); ok {
			d.PerProblemPMaj[i] = pm
			sumPMaj += pm
		} else {
			d.HasMajorityRatio = false
		}
		lc := g.labelCorrect()
		d.PerProblemLabelCorrect[i] = lc
		if lc {
			labels++
		}
	}

	m, n := float64(d.Prompts), float64(d.Rollouts)
	d.LabelAccuracy = labels / m
	d.GroundTruthReward = sumGT / n
	d.ProxyReward = sumProxy / n
	d.ZeroVarianceFraction = float64(d.ZeroVarianceGroups) / m
	d.PointBiserial = groupsPointBiserial(groups, d.ProxyReward, n1, n)
	if d.HasRewardAccuracy {
		d.RewardAccuracy = sumMatch / n
	}
	if d.HasMajorityRatio {
		d.MajorityRatio = sumPMaj / m
	} else {
		d.PerProblemPMaj = nil
	}
	if d.HasResponseLength {
		d.ResponseLength = sumLen / n
	}
	if d.HasActorEntropy {
		if d.HasResponseLength && sumLen > 0 {
			d.ActorEntropy = sumEntLen / sumLen
		} else {
			d.ActorEntropy = sumEnt / n
		}
	}
	return d, nil
}

// groupsPointBiserial is PointBiserial over every rollout of groups, given
// the mean proxy reward and the count of correct rollouts: a second pass over
// deviations from the mean keeps it accurate when rewards share a large
// offset.
func groupsPointBiserial(groups []Group, mean, n1, n float64) float64 {
	n0 := n - n1
	if n1 == 0 || n0 == 0 {
		return 0
	}
	var ss float64
	var d classDifference
	for i := range groups {
		g := &groups[i]
		for j, p := range g.Proxy {
			dev := p - mean
			ss += dev * dev
			d.add(p, g.GT[j] == 1)
		}
	}
	return pointBiserialFromDeviations(d.devCorrect(n1, n0), ss, n1, n0)
}
