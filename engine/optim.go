package engine

import (
	"fmt"
	"math"

	"github.com/urlvr/urlvr/engine/kernels"
)

// AdamWConfig holds AdamW's hyper-parameters. Weight decay is decoupled from
// the gradient (p -= lr·wd·p beside the Adam update) and applies to weight
// matrices and embeddings only, never to norm weights or biases.
type AdamWConfig struct {
	Beta1, Beta2 float64
	Eps          float64
	WeightDecay  float64
}

// DefaultAdamW returns β1 0.9, β2 0.999, ε 1e-8 and weight decay 0.01, the
// actor defaults of common RL trainers.
func DefaultAdamW() AdamWConfig {
	return AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
}

// Validate reports the first out-of-range hyper-parameter.
func (c AdamWConfig) Validate() error {
	switch {
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("adamw beta1 = %v: must be in [0, 1)", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("adamw beta2 = %v: must be in [0, 1)", c.Beta2)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("adamw eps = %v: must be positive and finite", c.Eps)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("adamw weight decay = %v: must be non-negative and finite", c.WeightDecay)
	}
	return nil
}

// AdamW is the optimiser state of one model: the first and second moment of
// every parameter and the number of updates made.
type AdamW struct {
	Config AdamWConfig
	steps  int
	m, v   []float32
	specs  []tensorSpec
	spans  []kernels.AdamWSpan // specs as AdamWSpans takes them, rebuilt each update (Config may change)
}

// newAdamW returns zeroed AdamW state for a model laid out by specs.
func newAdamW(c AdamWConfig, specs []tensorSpec) *AdamW {
	n := numParams(specs)
	return &AdamW{Config: c, m: make([]float32, n), v: make([]float32, n), specs: specs}
}

// Steps returns the number of updates applied so far.
func (o *AdamW) Steps() int { return o.steps }

// update applies one AdamW step with learning rate lr to the gradients
// times gradScale, tensor by tensor so that weight decay skips norms and
// biases (every tensor in one parallel pass), and leaves grads zero.
func (o *AdamW) update(params, grads []float32, lr float64, gradScale float32) {
	o.steps++
	c := o.Config
	o.spans = o.spans[:0]
	for _, s := range o.specs {
		span := kernels.AdamWSpan{Offset: s.offset, Size: s.size}
		if s.decay {
			span.WeightDecay = float32(c.WeightDecay)
		}
		o.spans = append(o.spans, span)
	}
	kernels.AdamWSpansConsume(params, grads, o.m, o.v, o.spans, gradScale, float32(lr), float32(c.Beta1), float32(c.Beta2), float32(c.Eps), o.steps)
}

// normChunks is the fixed number of partial sums of the gradient norm; it
// does not depend on the core count, so the norm is the same everywhere.
const normChunks = 64

// normLanes is how many chunks' sums globalNorm runs side by side: each
// chunk is one chain of dependent float64 additions, which alone would wait
// on the adder's latency at every element.
const normLanes = 8

// globalNorm returns the Euclidean norm of g, summed in float64 over a fixed
// chunking in a fixed order. partial holds normChunks floats.
func globalNorm(g []float32, partial []float64) float64 {
	bound := func(c int) int { return c * len(g) / normChunks }
	parallelFor(normChunks/normLanes, maxWorkersNow(), func(_, lo, hi int) {
		for set := lo; set < hi; set++ {
			// Chunks c0..c0+7 advance together over their common length,
			// then each finishes alone; every chunk still adds its
			// elements in order, so its sum is the same bits.
			c0 := set * normLanes
			var x [normLanes][]float32
			common := len(g)
			for k := range x {
				x[k] = g[bound(c0+k):bound(c0+k+1)]
				common = min(common, len(x[k]))
			}
			var s [normLanes]float64
			for i := range common {
				s[0] += float64(x[0][i]) * float64(x[0][i])
				s[1] += float64(x[1][i]) * float64(x[1][i])
				s[2] += float64(x[2][i]) * float64(x[2][i])
				s[3] += float64(x[3][i]) * float64(x[3][i])
				s[4] += float64(x[4][i]) * float64(x[4][i])
				s[5] += float64(x[5][i]) * float64(x[5][i])
				s[6] += float64(x[6][i]) * float64(x[6][i])
				s[7] += float64(x[7][i]) * float64(x[7][i])
			}
			for k := range x {
				for _, v := range x[k][common:] {
					s[k] += float64(v) * float64(v)
				}
				partial[c0+k] = s[k]
			}
		}
	})
	var s float64
	for _, p := range partial {
		s += p
	}
	return math.Sqrt(s)
}

// clipScale is the factor that scales a gradient of global norm norm down
// to maxNorm when it is larger (and maxNorm > 0), else 1. A non-finite norm
// gives 1.
func clipScale(norm, maxNorm float64) float32 {
	if maxNorm > 0 && norm > maxNorm && !math.IsInf(norm, 0) {
		return float32(maxNorm / (norm + 1e-6))
	}
	return 1
}

// Schedule gives the learning rate of each optimiser step: a linear warm-up
// from PeakLR/WarmupSteps to PeakLR over the first WarmupSteps steps, then
// PeakLR held ("constant") or decayed to MinLR at TotalSteps along a half
// cosine ("cosine") or a straight line ("linear").
type Schedule struct {
	Kind        string
	PeakLR      float64
	MinLR       float64
	WarmupSteps int
	TotalSteps  int
}

// Validate reports the first inconsistent field.
func (s Schedule) Validate() error {
	switch s.Kind {
	case "constant", "cosine", "linear":
	default:
		return fmt.Errorf("schedule kind %q: want constant, cosine or linear", s.Kind)
	}
	switch {
	case !(s.PeakLR >= 0) || math.IsInf(s.PeakLR, 0):
		return fmt.Errorf("schedule peak lr %v: must be non-negative and finite", s.PeakLR)
	case !(s.MinLR >= 0) || s.MinLR > s.PeakLR:
		return fmt.Errorf("schedule min lr %v: must be in [0, peak lr %v]", s.MinLR, s.PeakLR)
	case s.WarmupSteps < 0:
		return fmt.Errorf("schedule warm-up %d steps: must be non-negative", s.WarmupSteps)
	case s.Kind != "constant" && s.TotalSteps <= s.WarmupSteps:
		return fmt.Errorf("schedule of %d steps with %d warm-up steps: a decaying schedule needs steps after the warm-up", s.TotalSteps, s.WarmupSteps)
	}
	return nil
}

// LR returns the learning rate of step (counted from 0).
func (s Schedule) LR(step int) float64 {
	if step < s.WarmupSteps {
		return s.PeakLR * float64(step+1) / float64(s.WarmupSteps)
	}
	if s.Kind == "constant" {
		return s.PeakLR
	}
	progress := math.Min(1, float64(step-s.WarmupSteps)/float64(s.TotalSteps-s.WarmupSteps))
	frac := 1 - progress
	if s.Kind == "cosine" {
		frac = 0.5 * (1 + math.Cos(math.Pi*progress))
	}
	return s.MinLR + (s.PeakLR-s.MinLR)*frac
}
