package engine

import (
	"errors"
	"math"
)

// Finite reports whether every parameter of the model is a finite number.
// An update with a far too large learning rate can leave NaN or infinite
// weights, after which every forward pass is meaningless.
func (m *Model) Finite() bool {
	for _, x := range m.params {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// LearnerSnapshot is a copy of a Learner's parameters and optimiser state,
// taken before an update so that an update that breaks the model can be
// undone exactly. Its buffers are reused from one snapshot to the next.
type LearnerSnapshot struct {
	params, m, v []float32
	steps        int
}

// Snapshot copies the model's parameters and the optimiser state into s.
func (tr *Learner) Snapshot(s *LearnerSnapshot) {
	s.params = append(s.params[:0], tr.m.params...)
	s.m = append(s.m[:0], tr.opt.m...)
	s.v = append(s.v[:0], tr.opt.v...)
	s.steps = tr.opt.steps
}

// Restore puts back the parameters and optimiser state of a snapshot taken
// from this trainer, and discards accumulated gradients.
func (tr *Learner) Restore(s *LearnerSnapshot) error {
	if len(s.params) != len(tr.m.params) || len(s.m) != len(tr.opt.m) {
		return errors.New("restoring a snapshot of another model or none")
	}
	copy(tr.m.params, s.params)
	copy(tr.opt.m, s.m)
	copy(tr.opt.v, s.v)
	tr.opt.steps = s.steps
	tr.ZeroGrad()
	return nil
}
