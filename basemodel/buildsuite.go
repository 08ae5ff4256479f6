package basemodel

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/urlvr/urlvr/internal/workpool"
	"github.com/urlvr/urlvr/task/arith"
)

// SuiteOptions configure BuildSuite.
type SuiteOptions struct {
	// Out is the directory of the models (one subdirectory per prior) or,
	// with Single, the model directory of the one prior.
	Out    string
	Single bool
	// Jobs is how many priors train at once.
	Jobs  int
	Build BuildOptions // Dir and Progress are set per prior
	// Log receives progress lines (every 10 s per job) and one line per
	// finished model; nil discards them.
	Log func(format string, args ...any)
}

// BuildSuite builds the priors, o.Jobs at a time. The foundations come
// first, each once and side by side, so that no job waits idle for
// another's foundation; then every prior is built with Build, those that
// continue another prior of the build after it. A failed
// prior does not stop the others; the manifests of those that were built
// are returned with every error.
func BuildSuite(ctx context.Context, priors []arith.Prior, o SuiteOptions) ([]*Manifest, error) {
	if o.Single && len(priors) != 1 {
		return nil, fmt.Errorf("a single model directory for %d priors", len(priors))
	}
	store := o.Build.Foundations
	if store == nil {
		store = &Foundations{}
		o.Build.Foundations = store
	}
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		if o.Log == nil {
			return
		}
		logMu.Lock()
		defer logMu.Unlock()
		o.Log(format, args...)
	}
	progressLine := func() func(Progress) {
		var last time.Time
		return func(pr Progress) {
			if time.Since(last) < 10*time.Second && pr.Done != pr.Total {
				return
			}
			last = time.Now()
			logf("[%s] %s %d/%d  step %d/%d  loss %.3f  lr %.2g  %.0f tok/s  elapsed %s  ETA %s\n",
				pr.Prior, pr.Stage, pr.StageIndex+1, pr.Stages, pr.Done, pr.Total, pr.Loss, pr.LR,
				pr.TokensPerSec, pr.Elapsed.Round(time.Second), pr.ETA.Round(time.Second))
		}
	}

	type foundationJob struct {
		f     Foundation
		train TrainOptions
	}
	var founds []foundationJob
	seen := map[string]bool{}
	for _, p := range priors {
		if p.From != "" || p.IsCountdown() {
			continue // continues a shipped model, or a world without foundations
		}
		ft, _, err := budgetSteps(p, o.Build.Train)
		if err != nil {
			return nil, err
		}
		f := FoundationOf(p)
		if key := f.Key(ft); !seen[key] {
			seen[key] = true
			founds = append(founds, foundationJob{f, ft})
		}
	}
	err := workpool.Run(ctx, len(founds), o.Jobs, true, func(ctx context.Context, i int) error {
		j := founds[i]
		if _, _, err := store.Get(ctx, j.f, j.train, progressLine()); err != nil {
			return fmt.Errorf("%s: %w", j.f.Name(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Priors that continue another prior of this build go second, from
	// the parent just built in Out, so they never read a parent that is
	// being rewritten.
	building := map[string]bool{}
	for _, p := range priors {
		building[p.Name] = true
	}
	var first, second []int
	for i, p := range priors {
		if p.From != "" && building[p.From] && !o.Single {
			second = append(second, i)
		} else {
			first = append(first, i)
		}
	}
	manifests := make([]*Manifest, len(priors))
	var errs []error
	for _, batch := range [][]int{first, second} {
		err := workpool.Run(ctx, len(batch), o.Jobs, false, func(ctx context.Context, k int) error {
			i := batch[k]
			p := priors[i]
			bo := o.Build
			bo.Dir = o.Out
			if !o.Single {
				bo.Dir = filepath.Join(o.Out, p.Name)
				if building[p.From] {
					bo.ModelsRoot = o.Out
				}
			}
			bo.Progress = progressLine()
			logf("[%s] building into %s\n", p.Name, bo.Dir)
			mf, err := Build(ctx, p, bo)
			if err != nil {
				logf("[%s] failed: %v\n", p.Name, err)
				return fmt.Errorf("%s: %w", p.Name, err)
			}
			manifests[i] = mf
			logf("[%s] done: final loss %.3f, %s training, %d parameters, in %s\n", p.Name, mf.FinalLoss,
				time.Duration(mf.TrainSeconds*float64(time.Second)).Round(time.Second), mf.Params, bo.Dir)
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	err = errors.Join(errs...)
	var done []*Manifest
	for _, mf := range manifests {
		if mf != nil {
			done = append(done, mf)
		}
	}
	return done, err
}
