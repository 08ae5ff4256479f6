package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/runlog"
)

// bestLink is the name, in the checkpoint directory, of the best checkpoint.
// It is a symbolic link to a sibling directory (best-step-NNNNNN) holding
// the checkpoint, so that replacing the best checkpoint is one atomic
// rename of a link: at every instant checkpoints/best is a whole
// checkpoint, the old or the new one, and every reader that opens paths
// under it keeps working.
const bestLink = runlog.BestCheckpoint

// bestTargetPrefix starts the names of the directories bestLink points to.
const bestTargetPrefix = "best-step-"

// unreadableCheckpoint is a checkpoint that a resume could not read.
type unreadableCheckpoint struct {
	step int
	err  error
}

// errUnreadable marks errors of checkpoints whose files are damaged or
// missing, as opposed to whole checkpoints that do not fit the run's
// config: only the former make a resume fall back to an earlier one.
var errUnreadable = errors.New("unreadable checkpoint")

// restoreLatest restores the newest checkpoint of the run in dir that can
// be read, and returns its step (-1 when the run starts over without one)
// and the newer checkpoints that could not be read. It changes nothing on
// disk.
func (t *Trainer) restoreLatest(dir string) (int, []unreadableCheckpoint, error) {
	steps, err := checkpoints(dir)
	if err != nil {
		return 0, nil, fmt.Errorf("listing checkpoints of %s: %w", dir, err)
	}
	// Without a checkpoint the run starts over, and everything it logged
	// (even its step-0 validation) is dropped.
	if len(steps) == 0 {
		return -1, nil, t.initState()
	}
	var bad []unreadableCheckpoint
	for i := len(steps) - 1; i >= 0; i-- {
		err := t.loadCheckpoint(filepath.Join(dir, CheckpointDir, checkpointName(steps[i])))
		if err == nil {
			return steps[i], bad, nil
		}
		if !errors.Is(err, errUnreadable) {
			return 0, nil, err
		}
		bad = append(bad, unreadableCheckpoint{step: steps[i], err: err})
	}
	var msgs []string
	for _, b := range bad {
		msgs = append(msgs, b.err.Error())
	}
	return 0, nil, fmt.Errorf("resuming %s: no checkpoint can be read (%s); delete %s to start the run over",
		dir, strings.Join(msgs, "; "), filepath.Join(dir, CheckpointDir))
}

// loadCheckpoint restores the policy, optimiser, generators and trainer
// state from a checkpoint directory. The trainer is changed only when the
// whole checkpoint has been read and checked.
func (t *Trainer) loadCheckpoint(dir string) error {
	unreadable := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint %s: %w: %s", dir, errUnreadable, fmt.Sprintf(format, args...))
	}
	ck, err := engine.LoadCheckpoint(dir)
	if err != nil {
		return unreadable("%v", err)
	}
	if ck.Optimizer == nil {
		return unreadable("no optimiser state")
	}
	rngData, rngSample := ck.RNG["data"], ck.RNG["sampling"]
	if rngData == nil || rngSample == nil {
		return unreadable("the data or sampling generator is missing")
	}
	raw, ok := ck.Files[stateFile]
	if !ok {
		return unreadable("no %s", stateFile)
	}
	var st trainerState
	if err := json.Unmarshal(raw, &st); err != nil {
		return unreadable("corrupt %s: %v", stateFile, err)
	}
	if ck.Model.Config().VocabSize != t.policy.Engine.Config().VocabSize {
		return fmt.Errorf("resuming from %s: the checkpoint's model does not match base model %s", dir, t.cfg.Model.Base)
	}
	if len(st.Order) != len(t.train) {
		return fmt.Errorf("resuming from %s: the checkpoint ordered %d training problems, the dataset has %d", dir, len(st.Order), len(t.train))
	}
	prev := t.policy.Engine
	t.policy.Engine = ck.Model
	if err := t.newEngineTrainer(ck.Optimizer); err != nil {
		t.policy.Engine = prev
		return fmt.Errorf("resuming from %s: %w", dir, err)
	}
	t.rngData, t.rngSample, t.st = rngData, rngSample, st
	return nil
}

// setAside renames unreadable checkpoints to unreadable-step-NNNNNN, where
// no resume looks and no save overwrites them but a person can still
// inspect them, and returns their new paths relative to the run.
func setAside(dir string, bad []unreadableCheckpoint) ([]string, error) {
	var moved []string
	for _, b := range bad {
		from := filepath.Join(dir, CheckpointDir, checkpointName(b.step))
		rel := filepath.Join(CheckpointDir, "unreadable-"+checkpointName(b.step))
		to := filepath.Join(dir, rel)
		if err := os.RemoveAll(to); err != nil {
			return nil, err
		}
		if err := os.Rename(from, to); err != nil {
			return nil, fmt.Errorf("moving the unreadable checkpoint aside: %w", err)
		}
		moved = append(moved, rel)
	}
	return moved, nil
}

// isNewBest reports whether a mean validation score beats the best so far.
// A score that is not a number never does, so the best checkpoint and
// best.json only ever hold finite scores.
func (t *Trainer) isNewBest(score float64) bool {
	return finite(score) && (t.best.Dir == "" || score > t.best.Score)
}

// writeBestCheckpoint saves the policy as the run's best checkpoint: into a
// new directory first, then bestLink is pointed at it with one rename. The
// directory the link pointed to before is kept until the next replacement,
// so that a reader that resolved the link just before the swap can finish
// reading; older ones are removed.
func (t *Trainer) writeBestCheckpoint() error {
	ckDir := filepath.Join(t.run.dir, CheckpointDir)
	if err := os.MkdirAll(ckDir, 0o755); err != nil {
		return err
	}
	link := filepath.Join(ckDir, bestLink)
	prev, _ := os.Readlink(link)
	target := bestTargetPrefix + fmt.Sprintf("%06d", t.st.Step)
	for i := 2; ; i++ {
		if _, err := os.Lstat(filepath.Join(ckDir, target)); errors.Is(err, os.ErrNotExist) {
			break
		}
		target = fmt.Sprintf("%s%06d-%d", bestTargetPrefix, t.st.Step, i)
	}
	files, err := t.checkpointFiles(nil)
	if err != nil {
		return err
	}
	err = engine.SaveCheckpoint(filepath.Join(ckDir, target), engine.Checkpoint{
		Model: t.policy.Engine, Files: files, DType: t.saveDType,
	})
	if err != nil {
		return err
	}
	if err := pointLink(ckDir, bestLink, target); err != nil {
		os.RemoveAll(filepath.Join(ckDir, target))
		return err
	}
	return removeOldBest(ckDir, target, prev)
}

// pointLink makes ckDir/name a symbolic link to target (a sibling name)
// atomically: a new link is made under a temporary name and renamed over
// the old one. A best checkpoint written by an earlier version as a plain
// directory is first moved aside, once.
func pointLink(ckDir, name, target string) error {
	path := filepath.Join(ckDir, name)
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		if err := os.Rename(path, filepath.Join(ckDir, bestTargetPrefix+"legacy")); err != nil {
			return fmt.Errorf("moving the previous best checkpoint aside: %w", err)
		}
	}
	tmp := filepath.Join(ckDir, "."+name+".link-tmp")
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("linking %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("linking %s: %w", path, err)
	}
	return syncDir(ckDir)
}

// removeOldBest removes the best checkpoints other than the current one
// and the one it replaced, and the half-written ones of a process killed
// while saving (the run's lock rules out a save under way).
func removeOldBest(ckDir, current, prev string) error {
	entries, err := os.ReadDir(ckDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(strings.TrimPrefix(name, "."), bestTargetPrefix) && name != current && name != prev {
			if err := os.RemoveAll(filepath.Join(ckDir, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// syncDir makes renames in dir durable; file systems that cannot sync a
// directory are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	d.Sync()
	return nil
}
