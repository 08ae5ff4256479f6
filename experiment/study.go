package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/internal/workpool"
	"github.com/urlvr/urlvr/train"
)

// The files of a study directory, beside one run directory per sub-run
// under RunsDir.
const (
	StudyFile       = "study.json"       // the settings the sub-runs were made with
	RunsDir         = "runs"             // <model>/<reward>/ or <label>/: train run directories
	ResultsFile     = "results.jsonl"    // one line per model (mcs) or per run (ttt)
	ResultsTable    = "results.md"       // the same as a Markdown table, with the correlations
	CorrelationFile = "correlation.json" // mcs: rank correlations and token totals
	PlotsDir        = "plots"
)

// Options are the settings every study shares.
type Options struct {
	// Out is the study directory. Running a study again in the same
	// directory skips finished sub-runs and resumes interrupted ones.
	Out string
	// Recipe is the recipe YAML every sub-run starts from; "" is the
	// built-in default recipe (train.Default).
	Recipe string
	// Overrides are --set overrides applied to every sub-run, after the
	// study's own defaults and before the keys the study varies.
	Overrides []string
	// Jobs is how many sub-runs train at once; 0 or 1 runs them one after
	// another.
	Jobs int
	// Progress, when non-nil, receives every event of every sub-run. Calls
	// are serialised, so it needs no locking of its own.
	Progress func(Event)
}

// EventKind says what happened to a sub-run.
type EventKind int

const (
	RunStarted  EventKind = iota // a fresh sub-run begins
	RunResumed                   // an interrupted sub-run continues from its last checkpoint
	RunSkipped                   // the sub-run had finished in an earlier invocation
	RunStep                      // a training step finished (Step is set)
	RunFinished                  // the sub-run ended and wrote its summary
)

func (k EventKind) String() string {
	switch k {
	case RunStarted:
		return "started"
	case RunResumed:
		return "resumed"
	case RunSkipped:
		return "skipped"
	case RunStep:
		return "step"
	case RunFinished:
		return "finished"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports progress of one sub-run of a study.
type Event struct {
	Run   string // the sub-run's path under RunsDir, e.g. "mild/majority_voting"
	Index int    // 1-based position among the study's sub-runs
	Total int
	Kind  EventKind
	Step  train.Progress // for RunStep
}

// subRun is one training run of a study: its resolved recipe, whose
// trainer.out_dir and name place it at Out/runs/<name>.
type subRun struct {
	name string // path under RunsDir
	cfg  train.Config
	// observe, when set, measures the policy before training and after
	// every step (see observer).
	observe observer
}

func (s subRun) dir() string { return filepath.Join(s.cfg.Trainer.OutDir, s.cfg.Name) }

// baseConfig resolves the study's recipe with the study's defaults, then
// the user's overrides. Keys the study sets per sub-run may not be
// overridden: the study would silently replace them.
func baseConfig(o Options, defaults []string, owned map[string]string) (train.Config, error) {
	for _, ov := range o.Overrides {
		key, _, _ := strings.Cut(ov, "=")
		key = strings.TrimSpace(key)
		for k, why := range owned {
			if key == k || strings.HasPrefix(k, key+".") || strings.HasPrefix(key, k+".") {
				return train.Config{}, fmt.Errorf("--set %s: the study sets %s itself (%s)", ov, k, why)
			}
		}
	}
	cfg, err := train.LoadConfig(o.Recipe, append(slices.Clone(defaults), o.Overrides...))
	if err != nil {
		return cfg, err
	}
	return cfg, nil
}

// place puts a sub-run at Out/runs/<name>, where name may hold one slash
// (model/reward).
func place(out string, cfg train.Config, name string) (subRun, error) {
	parent, leaf := filepath.Split(filepath.FromSlash(name))
	cfg.Trainer.OutDir = filepath.Join(out, RunsDir, parent)
	cfg.Name = leaf
	if err := cfg.Validate(); err != nil {
		return subRun{}, fmt.Errorf("sub-run %s: %w", name, err)
	}
	return subRun{name: name, cfg: cfg}, nil
}

// claimStudy records the settings that define the study's sub-runs in
// Out/study.json, or checks that an existing study directory was made with
// the same ones, so that a rerun never mixes runs of different recipes.
func claimStudy(out string, settings any) error {
	want, err := json.MarshalIndent(settings, "", "  ")
	if err != nil {
		return err
	}
	want = append(want, '\n')
	path := filepath.Join(out, StudyFile)
	have, err := os.ReadFile(path)
	switch {
	case err == nil:
		// A directory of another kind of study gets its own message: the
		// settings diff below would bury the reason.
		var haveKind, wantKind struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal(have, &haveKind) == nil && json.Unmarshal(want, &wantKind) == nil && haveKind.Kind != wantKind.Kind {
			return fmt.Errorf("study directory %s holds a %q study, not %q; choose another --out", out, haveKind.Kind, wantKind.Kind)
		}
		if !bytes.Equal(bytes.TrimSpace(have), bytes.TrimSpace(want)) {
			return fmt.Errorf("study directory %s was made with other settings:\n%s\nnow:\n%s\nchoose another --out, or repeat the original settings to continue it", out, have, want)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("creating study directory: %w", err)
	}
	return atomicfile.WriteFile(path, want, 0o644)
}

// runAll trains the sub-runs, at most jobs at once. Finished sub-runs
// (with a summary.json) are skipped and interrupted ones (with a
// config.yaml) resumed from their last checkpoint. The first failure
// cancels the sub-runs still training; every failure is returned.
func runAll(ctx context.Context, runs []subRun, jobs int, progress func(Event)) error {
	var mu sync.Mutex
	emit := func(e Event) {
		if progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		progress(e)
	}
	return workpool.Run(ctx, len(runs), jobs, true, func(ctx context.Context, i int) error {
		if err := runOne(ctx, runs[i], i+1, len(runs), emit); err != nil {
			return fmt.Errorf("sub-run %s: %w", runs[i].name, err)
		}
		return nil
	})
}

// runOne trains, resumes or skips one sub-run.
func runOne(ctx context.Context, r subRun, index, total int, emit func(Event)) error {
	dir := r.dir()
	ev := Event{Run: r.name, Index: index, Total: total}
	if _, err := os.Stat(filepath.Join(dir, train.SummaryFile)); err == nil {
		ev.Kind = RunSkipped
		emit(ev)
		return nil
	}
	var (
		t   *train.Trainer
		err error
	)
	if _, statErr := os.Stat(filepath.Join(dir, train.ConfigFile)); statErr == nil {
		t, err = train.Resume(dir, nil)
		ev.Kind = RunResumed
	} else {
		t, err = train.New(r.cfg)
		ev.Kind = RunStarted
	}
	if err != nil {
		return err
	}
	// Run releases the run directory's lock when it ends; a sub-run that
	// fails before or around it must not keep the lock, or resuming it in
	// the same process would find its own run busy. Close is idempotent.
	defer t.Close()
	emit(ev)
	if r.observe != nil {
		return runObserved(ctx, t, r, ev, emit)
	}
	_, err = t.Run(ctx, func(p train.Progress) {
		emit(Event{Run: r.name, Index: index, Total: total, Kind: RunStep, Step: p})
	})
	if err != nil {
		return err
	}
	ev.Kind = RunFinished
	emit(ev)
	return nil
}
