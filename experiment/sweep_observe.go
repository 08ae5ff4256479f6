package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urlvr/urlvr/train"
)

// observer measures a sub-run's policy where the training logs cannot: the
// intrinsic-reward study's per-problem validation (for confidence
// intervals over problems) and the per-problem study's greedy decoding and
// p_maj. Its measurements go to files of its own in the run directory,
// appended one line per step; a reader keeps the last line of each step, so
// the steps a resumed run repeats simply overwrite their first attempt.
type observer interface {
	// start is called before training with the step the policy is at: 0
	// for a new run (or one resumed without a checkpoint), else the step of
	// the checkpoint the run resumes from. The observer measures that step
	// if it is one of its steps and not yet recorded (a hard kill can land
	// between a checkpoint and the measurement of its step).
	start(ctx context.Context, t *train.Trainer, step int) error
	// step is called after every training step, including the last step
	// completed before an interruption (the trainer checkpoints it).
	step(ctx context.Context, t *train.Trainer, p train.Progress) error
}

// runObserved trains a sub-run with its observer. An observer error stops
// the run at the end of the step under way (with a checkpoint, so the study
// can be resumed) and is returned.
func runObserved(ctx context.Context, t *train.Trainer, r subRun, ev Event, emit func(Event)) error {
	at := 0
	if ev.Kind == RunResumed {
		at = lastCheckpoint(r.dir())
	}
	if err := r.observe.start(ctx, t, at); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var obsErr error
	_, err := t.Run(ctx, func(p train.Progress) {
		if obsErr != nil {
			return
		}
		// A completed step is measured even when the study is being
		// interrupted: the trainer checkpoints it and will not repeat it.
		if obsErr = r.observe.step(context.WithoutCancel(ctx), t, p); obsErr != nil {
			cancel()
			return
		}
		emit(Event{Run: ev.Run, Index: ev.Index, Total: ev.Total, Kind: RunStep, Step: p})
	})
	if obsErr != nil {
		return obsErr
	}
	if err != nil {
		return err
	}
	ev.Kind = RunFinished
	emit(ev)
	return nil
}

// lastCheckpoint is the step of the last complete checkpoint of the run in
// dir (a checkpoints/step-NNNNNN directory holding the trainer state, the
// one train.Resume continues from), or 0 when there is none.
func lastCheckpoint(dir string) int {
	entries, err := os.ReadDir(filepath.Join(dir, train.CheckpointDir))
	if err != nil {
		return 0
	}
	last := 0
	for _, e := range entries {
		var step int
		if _, err := fmt.Sscanf(e.Name(), "step-%d", &step); err != nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, train.CheckpointDir, e.Name(), "trainer_state.json")); err == nil {
			last = max(last, step)
		}
	}
	return last
}

// recorded reports whether the observation file at path has a line for
// step.
func recorded[T any](path string, step int, stepOf func(T) int) bool {
	rows, err := readLastPerStep(path, stepOf)
	if err != nil {
		return false
	}
	for _, r := range rows {
		if stepOf(r) == step {
			return true
		}
	}
	return false
}
