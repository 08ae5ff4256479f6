package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

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
			manifests, err := basemodel.BuildSuite(ctx, ps, basemodel.SuiteOptions{
				Out: out, Single: !all, Jobs: jobs,
				Build: basemodel.BuildOptions{Command: command, Train: train, Eval: eval, SkipEval: noEval,
					Foundations: &basemodel.Foundations{Dir: foundDir}},
				Log: func(format string, args ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format, args...) },
			})
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
