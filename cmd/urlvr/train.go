package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/train"
)

func init() {
	var (
		config, resume, saveDType string
		sets                      []string
		quiet                     bool
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a policy with an unsupervised reward (the main job)",
		Long: `train runs a URLVR recipe: each step samples N rollouts per prompt, scores them
with the recipe's reward estimator (majority voting by default), grades them
for monitoring, and updates the policy with GRPO. Without --config it runs
the default recipe on the default base model.

The run directory (runs/<name>) holds config.yaml, metrics.jsonl,
validation.jsonl, events.jsonl, samples/, checkpoints/ and plots/. Ctrl-C
saves a checkpoint; --resume DIR continues a run with identical results.`,
		Example: `  urlvr train
  urlvr train --config ground_truth --set trainer.steps=100
  urlvr train --config my-recipe.yaml
  urlvr train --resume runs/default`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			finished := make(chan struct{})
			defer close(finished)
			go func() {
				select {
				case <-finished:
				case <-ctx.Done():
					stop() // a second Ctrl-C ends the process at once
					fmt.Fprintln(os.Stderr, "\nstopping after the current step to save a checkpoint (Ctrl-C again to quit now)")
				}
			}()
			var (
				t   *train.Trainer
				err error
			)
			if resume != "" {
				if config != "" {
					return fmt.Errorf("--resume takes the recipe from the run directory; drop --config")
				}
				t, err = train.Resume(resume, sets)
			} else {
				var cfg train.Config
				if cfg, err = train.LoadConfig(config, sets); err == nil {
					t, err = train.New(cfg)
				}
			}
			if err != nil {
				return err
			}
			dt, err := engine.ParseDType(saveDType)
			if err != nil {
				return fmt.Errorf("--save-dtype: %w", err)
			}
			t.SetSaveDType(dt)
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "run %s: reward %s, base model %s\n", t.Dir(), t.Config().Reward.Estimator, t.BaseModel())
			summary, err := t.Run(ctx, progressReporter(quiet))
			fmt.Fprintln(os.Stderr)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\nrun directory: %s\n", summary.Dir)
			if len(summary.Plots) > 0 {
				fmt.Fprintf(out, "plots:         %s/%s/*.png (and .svg)\n", summary.Dir, train.PlotsDir)
			}
			fmt.Fprintln(out)
			return summary.WriteTable(out)
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "recipe: a built-in name (urlvr recipes lists them) or a YAML file (default: the default recipe)")
	f.StringArrayVar(&sets, "set", nil, "override a recipe key, e.g. --set rollout.n=16 (repeatable)")
	f.StringVar(&resume, "resume", "", "continue the run in this directory from its last checkpoint")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	f.StringVar(&saveDType, "save-dtype", "f32", "dtype of the best checkpoint's weights: f32, bf16 or f16 (step checkpoints stay f32 for exact resume)")
	rootCmd.AddCommand(cmd)
}

// progressReporter draws a progress bar with the ETA and the key metrics on
// stderr.
func progressReporter(quiet bool) func(train.Progress) {
	if quiet {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(p train.Progress) {
		if bar == nil {
			bar = progressbar.NewOptions(p.Steps,
				progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionShowCount(),
				progressbar.OptionSetWidth(20),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSetPredictTime(false),
			)
			bar.Set(p.StartStep)
		}
		bar.Describe(fmt.Sprintf("proxy %s gt %s acc %s ent %.2f | ETA %s",
			opt2(p.Row.ProxyReward), opt2(p.Row.GroundTruthReward), opt2(p.Row.RewardAccuracy), p.Row.Entropy,
			p.ETA().Round(time.Second)))
		bar.Set(p.Step)
	}
}

// opt2 prints an optional metric with two decimals, "-" when the step did
// not log it.
func opt2(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}
