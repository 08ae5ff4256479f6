package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/task/arith"
)

func init() {
	var (
		prior, out, priorsFile string
		foundDir               string
		all, noEval            bool
		jobs                   int
		train                  = basemodel.DefaultTrainOptions()
		eval                   = basemodel.DefaultEvalOptions()
	)
	cmd := &cobra.Command{
		Use:   "pretrain",
		Short: "Pretrain base models from scratch on the arithmetic world",
		Long: `pretrain trains a base model from scratch for a prior of the suite
(urlvr world priors): a small character-level Llama-layout model, trained on
worked problems whose solutions carry the prior's misconceptions, through the
prior's stages. It writes the model directory (config.json, model.safetensors,
tokenizer.json), evaluates the saved model and writes manifest.json: the
command, seed, prior, corpus sizes, steps, losses, wall time, eval numbers and
the SHA-256 of each file. The same flags always give the same files.

--all builds every prior into --out (default: the checkout's models
directory) and prints the suite's table; --jobs trains several at once.`,
		Example: `  urlvr pretrain --prior mild --out /tmp/mild
  urlvr pretrain --all --jobs 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (prior != "") {
				return errors.New("give either --prior NAME or --all")
			}
			ps, err := loadPriors(priorsFile)
			if err != nil {
				return err
			}
			if !all {
				p, err := findPrior(ps, prior)
				if err != nil {
					return err
				}
				ps = []arith.Prior{p}
			}
			if out == "" {
				if all {
					if out, err = basemodel.ModelsDir(); err != nil {
						return err
					}
				} else {
					out = prior
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			command := "urlvr pretrain " + strings.Join(flagArgs(cmd), " ")
			if foundDir == "" {
				if cache, err := os.UserCacheDir(); err == nil {
					foundDir = filepath.Join(cache, "urlvr", "foundations")
				}
			}
			manifests, err := pretrainAll(ctx, ps, all, out, jobs, &basemodel.Foundations{Dir: foundDir}, command, train, eval, noEval, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			var reports []*basemodel.Report
			for _, mf := range manifests {
				if mf.Eval != nil {
					reports = append(reports, mf.Eval)
				}
			}
			return basemodel.WriteMarkdown(cmd.OutOrStdout(), reports)
		},
	}
	f := cmd.Flags()
	f.StringVar(&prior, "prior", "", "the prior to build (see urlvr world priors)")
	f.BoolVar(&all, "all", false, "build every prior of the suite")
	f.StringVar(&out, "out", "", "model directory (--prior; default ./NAME) or the directory of all models (--all; default the checkout's models/)")
	f.StringVar(&priorsFile, "priors", "", "priors YAML file (default: the built-in suite)")
	f.StringVar(&foundDir, "foundations", "", "where trained foundations are kept for reuse (default: the user cache, urlvr/foundations)")
	f.IntVar(&jobs, "jobs", 1, "priors trained at once with --all")
	f.BoolVar(&noEval, "no-eval", false, "skip the evaluation (the manifest then has no eval numbers)")
	f.IntVar(&train.BatchSize, "batch", train.BatchSize, "documents per optimiser step")
	f.Float64Var(&train.PeakLR, "lr", train.PeakLR, "peak learning rate (a stage's own lr overrides it)")
	f.IntVar(&train.WarmupSteps, "warmup", train.WarmupSteps, "warm-up steps of each stage")
	f.IntVar(&train.MaxSteps, "max-steps", 0, "stop each stage after this many steps (0: the prior's full budget)")
	f.IntVar(&eval.N, "n", eval.N, "samples per problem for maj@n and pass@n")
	f.Float64Var(&eval.Temperature, "temperature", eval.Temperature, "sampling temperature of the evaluation")
	rootCmd.AddCommand(cmd)
}

func findPrior(ps []arith.Prior, name string) (arith.Prior, error) {
	var names []string
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return arith.Prior{}, fmt.Errorf("no prior named %q (known: %s)", name, strings.Join(names, ", "))
}

// pretrainAll builds the priors, jobs at a time, into out (or, for a
// single prior without --all, into out itself).
func pretrainAll(ctx context.Context, ps []arith.Prior, all bool, out string, jobs int, store *basemodel.Foundations, command string,
	train basemodel.TrainOptions, eval basemodel.EvalOptions, noEval bool, logw io.Writer) ([]*basemodel.Manifest, error) {
	jobs = max(1, min(jobs, len(ps)))
	manifests := make([]*basemodel.Manifest, len(ps))
	errs := make([]error, len(ps))
	var logMu sync.Mutex
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(logw, format, args...)
	}
	progressLine := func() func(basemodel.Progress) {
		var last time.Time
		return func(pr basemodel.Progress) {
			if time.Since(last) < 10*time.Second && pr.Done != pr.Total {
				return
			}
			last = time.Now()
			logf("[%s] %s %d/%d  step %d/%d  loss %.3f  lr %.2g  %.0f tok/s  elapsed %s  ETA %s\n",
				pr.Prior, pr.Stage, pr.StageIndex+1, pr.Stages, pr.Done, pr.Total, pr.Loss, pr.LR,
				pr.TokensPerSec, pr.Elapsed.Round(time.Second), pr.ETA.Round(time.Second))
		}
	}
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	// The foundations first, each once and side by side, so that no job
	// waits idle for another's foundation.
	seen := map[string]bool{}
	var ferrs []error
	var ferrMu sync.Mutex
	for _, p := range ps {
		f := basemodel.FoundationOf(p)
		if key := f.Key(train); !seen[key] {
			seen[key] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if _, _, err := store.Get(ctx, f, train, progressLine()); err != nil {
					ferrMu.Lock()
					ferrs = append(ferrs, fmt.Errorf("%s: %w", f.Name(), err))
					ferrMu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if err := errors.Join(ferrs...); err != nil {
		return nil, err
	}
	for i, p := range ps {
		dir := out
		if all {
			dir = filepath.Join(out, p.Name)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			logf("[%s] building into %s\n", p.Name, dir)
			mf, err := basemodel.Build(ctx, p, basemodel.BuildOptions{
				Dir: dir, Command: command, Train: train, Eval: eval, SkipEval: noEval,
				Foundations: store, Progress: progressLine(),
			})
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", p.Name, err)
				logf("[%s] failed: %v\n", p.Name, err)
				return
			}
			manifests[i] = mf
			logf("[%s] done: final loss %.3f, %s training, %d parameters, in %s\n", p.Name, mf.FinalLoss,
				time.Duration(mf.TrainSeconds*float64(time.Second)).Round(time.Second), mf.Params, dir)
		}()
	}
	wg.Wait()
	var done []*basemodel.Manifest
	for _, mf := range manifests {
		if mf != nil {
			done = append(done, mf)
		}
	}
	return done, errors.Join(errs...)
}
