package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/urlvr/urlvr/train"
)

// observer measures a sub-run's policy where the training logs cannot: the
// intrinsic-reward study's per-problem validation (for confidence
// intervals over problems) and the per-problem study's greedy decoding and
// p_maj. Its measurements go to files of its own in the run directory,
// appended one line per step; a reader keeps the last line of each step, so
// the steps a resumed run repeats simply overwrite their first attempt.
type observer interface {
	// start is called before training; fresh says whether the policy is
	// still the base model (a new run, or one resumed without a
	// checkpoint), in which case step 0 is to be measured.
	start(ctx context.Context, t *train.Trainer, fresh bool) error
	// step is called after every training step.
	step(ctx context.Context, t *train.Trainer, p train.Progress) error
}

// runObserved trains a sub-run with its observer. An observer error stops
// the run at the end of the step under way (with a checkpoint, so the study
// can be resumed) and is returned.
func runObserved(ctx context.Context, t *train.Trainer, r subRun, ev Event, emit func(Event)) error {
	fresh := ev.Kind == RunStarted || !hasCheckpoint(r.dir())
	if err := r.observe.start(ctx, t, fresh); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	_, err := t.Run(ctx, func(p train.Progress) {
		if ctx.Err() != nil {
			return
		}
		if err := r.observe.step(context.WithoutCancel(ctx), t, p); err != nil {
			cancel(err)
			return
		}
		emit(Event{Run: ev.Run, Index: ev.Index, Total: ev.Total, Kind: RunStep, Step: p})
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return err
	}
	ev.Kind = RunFinished
	emit(ev)
	return nil
}

// hasCheckpoint reports whether the run in dir has saved a resumable
// checkpoint (a checkpoints/step-* directory).
func hasCheckpoint(dir string) bool {
	entries, err := os.ReadDir(filepath.Join(dir, train.CheckpointDir))
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "step-") {
			return true
		}
	}
	return false
}
