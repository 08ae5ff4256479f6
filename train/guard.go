package train

import (
	"context"
	"errors"
	"fmt"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/runlog"
)

// ErrDiverged is wrapped by the error that stops a run whose update made
// the policy numerically broken (NaN or infinite weights or outputs).
var ErrDiverged = errors.New("the policy diverged")

// errUpdateUndone marks an update that was applied but could not be
// checked, and was therefore undone: the step counts it as skipped.
var errUpdateUndone = errors.New("update undone")

// DivergedError describes an optimiser update that broke the policy. The
// trainer has undone it (weights and optimiser state are those from before
// the update) and stopped; the message names the settings to look at.
type DivergedError struct {
	Dir           string  // run directory
	OptimizerStep int     // the update that diverged
	LR            float64 // its learning rate
	GradNorm      float64 // the gradient norm before clipping
	Cfg           OptimConfig
}

func (e *DivergedError) Error() string {
	return fmt.Sprintf("optimiser update %d (learning rate %g, gradient norm %.4g) made the policy's weights or outputs non-finite; "+
		"the weights and optimiser state from before it are restored. Look at optim.lr (%g) first, then optim.grad_clip (%g; 0 is off) "+
		"and optim.warmup_steps (%d); continue from the last checkpoint with --resume %s --set optim.lr=...",
		e.OptimizerStep, e.LR, e.GradNorm, e.Cfg.LR, e.Cfg.GradClip, e.Cfg.WarmupSteps, e.Dir)
}

func (e *DivergedError) Unwrap() error { return ErrDiverged }

// optimStep applies one optimiser update with learning rate lr and checks
// that it left a usable policy: finite weights, and finite log-probs for
// probe, one sequence of the mini-batch just trained on (scored from
// position from at temperature temp), so that weights that are finite but
// so large that the logits overflow are caught too. A broken update is
// undone, logged as an event and returned as a *DivergedError. Other errors
// mean the update was not applied: the engine's Step refused it (a
// non-finite gradient), or it could not be checked and was undone.
func (t *Trainer) optimStep(ctx context.Context, lr float64, probe []int, from int, temp float64) (float64, error) {
	if t.snapshot == nil {
		t.snapshot = new(engine.LearnerSnapshot)
	}
	t.et.Snapshot(t.snapshot)
	update := t.et.Optimizer().Steps() + 1
	norm, err := t.et.Step(lr)
	if err != nil {
		return norm, err
	}
	ok := t.policy.Engine.Finite()
	if ok {
		scores, err := t.policy.Engine.LogProbs(ctx, [][]int{probe}, engine.ScoreOptions{Temperature: temp, ScoreFrom: []int{from}})
		if err != nil {
			// An update that cannot be checked is undone, and so is
			// reported (by the caller) as skipped, which it then is.
			return norm, errors.Join(fmt.Errorf("checking the update: %w", err), errUpdateUndone, t.et.Restore(t.snapshot))
		}
		ok = finite32(scores[0].LogProbs)
	}
	if ok {
		return norm, nil
	}
	if err := t.et.Restore(t.snapshot); err != nil {
		return norm, err
	}
	restored := true
	if err := t.event(runlog.EventRow{Event: runlog.EventDiverged, OptimizerStep: &update, LR: &lr, GradNorm: &norm, Restored: &restored}); err != nil {
		return norm, err
	}
	return norm, &DivergedError{Dir: t.run.dir, OptimizerStep: update, LR: lr, GradNorm: norm, Cfg: t.cfg.Optim}
}

// finite32 reports whether every value is a finite number.
func finite32(xs []float32) bool {
	for _, x := range xs {
		if x != x || x > maxFloat32 || x < -maxFloat32 {
			return false
		}
	}
	return true
}

const maxFloat32 = 3.4028234663852886e38
