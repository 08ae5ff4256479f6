package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/runlog"
)

// The files of a run directory, named by the run-log schema.
const (
	ConfigFile     = runlog.ConfigFile
	MetricsFile    = runlog.MetricsFile
	ValidationFile = runlog.ValidationFile
	// ValidationProblemsFile is the per-problem record of each validation.
	ValidationProblemsFile = runlog.ValidationProblemsFile
	EventsFile             = runlog.EventsFile
	SummaryFile            = runlog.SummaryFile
	BestFile               = runlog.BestFile
	CheckpointDir          = runlog.CheckpointDir
	SamplesDir             = runlog.SamplesDir
	PlotsDir               = runlog.PlotsDir
	stateFile              = "trainer_state.json" // inside each checkpoint
)

// run is an open run directory, locked for its one writer.
type run struct {
	dir                      string
	lock                     *runLock
	metrics, validate, event *os.File
	problems                 *os.File // validation_problems.jsonl
}

// createRun makes a new run directory for cfg, takes its lock and writes
// the config. An existing run is never overwritten, and of two processes
// creating the same run at the same instant exactly one succeeds: the
// directory is made with a single mkdir, and whoever holds the lock writes
// the config, which the other then finds.
func createRun(cfg Config) (*run, error) {
	dir := filepath.Join(cfg.Trainer.OutDir, cfg.Name)
	if err := os.MkdirAll(cfg.Trainer.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating run directory: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("creating run directory: %w", err)
	}
	lock, err := lockRun(dir)
	if err != nil {
		if errors.Is(err, ErrRunInUse) {
			return nil, fmt.Errorf("%w; choose another name with --set name=...", err)
		}
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
		lock.release()
		return nil, fmt.Errorf("run directory %s already holds a run: continue it with --resume %s, or choose another name with --set name=...", dir, dir)
	}
	y, err := cfg.YAML()
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(dir, ConfigFile), y, 0o644)
	}
	if err != nil {
		lock.release()
		return nil, err
	}
	return openRun(dir, lock)
}

// openRun opens the append-only logs of a run directory whose lock the
// caller holds; the run owns the lock from then on, also on error.
func openRun(dir string, lock *runLock) (*run, error) {
	r := &run{dir: dir, lock: lock}
	var err error
	open := func(name string) *os.File {
		if err != nil {
			return nil
		}
		var f *os.File
		f, err = os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		return f
	}
	r.metrics, r.validate, r.event = open(MetricsFile), open(ValidationFile), open(EventsFile)
	r.problems = open(ValidationProblemsFile)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("opening run logs: %w", err)
	}
	return r, nil
}

// Close closes the logs and releases the lock.
func (r *run) Close() error {
	var errs []error
	for _, f := range []*os.File{r.metrics, r.validate, r.event, r.problems} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	r.metrics, r.validate, r.event, r.problems = nil, nil, nil, nil
	errs = append(errs, r.lock.release())
	return errors.Join(errs...)
}

// checkpointName is the directory of the checkpoint after step.
func checkpointName(step int) string { return runlog.CheckpointName(step) }

// checkpoints lists the steps of the complete checkpoints of a run, in
// order. The engine writes a checkpoint into a fresh directory and renames
// it into place, so a listed one is whole.
func checkpoints(dir string) ([]int, error) {
	entries, err := os.ReadDir(filepath.Join(dir, CheckpointDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var steps []int
	for _, e := range entries {
		s, ok := strings.CutPrefix(e.Name(), "step-")
		if !ok || !e.IsDir() {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, CheckpointDir, e.Name(), stateFile)); err == nil {
			steps = append(steps, n)
		}
	}
	sort.Ints(steps)
	return steps, nil
}

// truncateLog rewrites a JSONL log keeping only the lines whose step is at
// most maxStep, so that a resumed run appends exactly what the interrupted
// one would have. A torn last line (the run was killed mid-write) is dropped.
func truncateLog(path string, maxStep int) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		var row map[string]json.RawMessage
		var step *int
		line := sc.Bytes()
		if json.Unmarshal(line, &row) != nil || json.Unmarshal(row[runlog.KeyStep], &step) != nil || step == nil || *step > maxStep {
			continue
		}
		keep.Write(line)
		keep.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if bytes.Equal(keep.Bytes(), data) {
		return nil
	}
	return atomicfile.WriteFile(path, keep.Bytes(), 0o644)
}

// removeSamplesAfter deletes sample files of steps after maxStep.
func removeSamplesAfter(dir string, maxStep int) error {
	entries, err := os.ReadDir(filepath.Join(dir, SamplesDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		s, ok := strings.CutPrefix(strings.TrimSuffix(e.Name(), ".jsonl"), "step-")
		if n, err := strconv.Atoi(s); ok && err == nil && n > maxStep {
			if err := os.Remove(filepath.Join(dir, SamplesDir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// pruneCheckpoints removes all but the newest keep step checkpoints.
func pruneCheckpoints(dir string, keep int) error {
	if keep <= 0 {
		return nil
	}
	steps, err := checkpoints(dir)
	if err != nil || len(steps) <= keep {
		return err
	}
	for _, s := range steps[:len(steps)-keep] {
		if err := os.RemoveAll(filepath.Join(dir, CheckpointDir, checkpointName(s))); err != nil {
			return err
		}
	}
	return nil
}
