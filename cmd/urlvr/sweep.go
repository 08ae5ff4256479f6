package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/experiment"
)

func init() {
	var (
		sf      studyFlags
		grid    []string
		metrics []string
	)
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Train one run per point of a grid over recipe keys and plot chosen metrics (paper B.3)",
		Long: `sweep trains the recipe once for every combination of the --grid values
(each --grid key=v1,v2,... is one axis; values are YAML, split at commas
outside brackets) and writes a study directory: study.json (the plan),
runs/<point>/ (one run directory per grid point, e.g. runs/lr=1e-4,n=8),
results.jsonl and results.md (each metric's start, peak and final value),
and plots/<metric>.png/.svg, faceted by the first grid key with one line
per combination of the others. Running the same command again skips
finished runs and resumes interrupted ones from their last checkpoint.
Unknown keys, empty grids and bad values are reported before any training.`,
		Example: `  urlvr sweep --grid optim.lr=1e-4,5e-4 --grid rollout.n=4,8,16 --jobs 2
  urlvr sweep --grid rollout.temperature=0.6,1.0,1.2 --grid seed=1,2 --set trainer.steps=60
  urlvr sweep --grid algorithm.kl_coef=0,0.01 --metrics val/mean/avg,actor/kl --out studies/kl
  urlvr sweep --out studies/kl --grid algorithm.kl_coef=0,0.01 --report-only --metrics actor/entropy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var axes []experiment.GridAxis
			for _, g := range grid {
				a, err := experiment.ParseGridAxis(g)
				if err != nil {
					return err
				}
				axes = append(axes, a)
			}
			o := experiment.SweepOptions{Options: sf.options(cmd.ErrOrStderr()), Grid: axes, Metrics: metrics}
			var (
				rep *experiment.SweepReport
				err error
			)
			if sf.reportOnly {
				rep, err = experiment.ReportSweep(sf.out, metrics)
			} else {
				plan, perr := experiment.PlanSweep(o)
				if perr != nil {
					return perr
				}
				o.Progress = studyBar(cmd.ErrOrStderr(), plan, sf.quiet)
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				rep, err = experiment.RunSweep(ctx, o)
			}
			if err != nil {
				return err
			}
			return printStudy(cmd.OutOrStdout(), rep.Dir, rep.Files)
		},
	}
	sf.register(cmd, filepath.Join("studies", "sweep"))
	f := cmd.Flags()
	f.StringArrayVar(&grid, "grid", nil, "a grid axis key=v1,v2,... over any recipe key (repeatable; every combination is one run)")
	f.StringSliceVar(&metrics, "metrics", experiment.DefaultSweepMetrics, "run-log keys to tabulate and plot (val/... keys may omit @k)")
	rootCmd.AddCommand(cmd)
}

// studyBar shows one progress bar over all training steps of a study's
// plan, with the ETA from the pace of the steps trained in this
// invocation (skipped and resumed steps do not count towards the pace),
// and prints a line above it when a run starts, resumes, is skipped or
// ends. quiet keeps only those lines.
func studyBar(w io.Writer, plan *experiment.Plan, quiet bool) func(experiment.Event) {
	planned := map[string]int{}
	for _, r := range plan.Runs {
		planned[r.Name] = r.Steps
	}
	total := plan.TotalSteps()
	var (
		bar     *progressbar.ProgressBar
		done    = map[string]int{} // steps each run has completed
		trained int                // steps trained in this invocation
		start   = time.Now()
	)
	if !quiet {
		bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(false),
		)
	}
	sum := func() int {
		n := 0
		for _, d := range done {
			n += d
		}
		return n
	}
	return func(e experiment.Event) {
		switch e.Kind {
		case experiment.RunStep:
			if _, seen := done[e.Run]; !seen || e.Step.Step == e.Step.StartStep+1 {
				done[e.Run] = e.Step.StartStep
			}
			trained += e.Step.Step - done[e.Run]
			done[e.Run] = e.Step.Step
		case experiment.RunSkipped:
			done[e.Run] = planned[e.Run]
		case experiment.RunFinished:
			// An early stop ends a run before its planned steps.
			done[e.Run] = planned[e.Run]
		}
		if e.Kind != experiment.RunStep {
			if bar != nil {
				bar.Clear()
			}
			fmt.Fprintf(w, "[%d/%d] %s: %s\n", e.Index, e.Total, e.Run, e.Kind)
		}
		if bar == nil {
			return
		}
		eta := "-"
		if trained > 0 {
			rate := time.Since(start) / time.Duration(trained)
			eta = (rate * time.Duration(max(0, total-sum()))).Round(time.Second).String()
		}
		bar.Describe(fmt.Sprintf("steps of %d runs | ETA %s", len(planned), eta))
		bar.Set(sum())
	}
}

func experimentIntrinsicCmd() *cobra.Command {
	var (
		sf        studyFlags
		model     string
		rewards   []string
		seeds     []uint
		evalEvery int
		evalN     int
	)
	cmd := &cobra.Command{
		Use:   "intrinsic",
		Short: "Majority voting, the five certainty rewards and ground truth side by side, with failure modes (paper Sec. 4.1)",
		Long: `intrinsic trains one base model with each reward of --rewards (default:
majority voting, the five certainty rewards and ground truth as the
reference) for each seed, all on the same budget, and validates every run
per problem, so that validation accuracy carries a bootstrap confidence
interval over problems. It reports per reward the start, peak and end of
validation and whether it rose and then fell beyond the intervals (paper
Fig. 2), names each run's failure mode by a stated rule (length collapse,
repetition, format hack, constant answer, confident-wrong sharpening, none
within budget) with example rollouts from its first and last sample dumps
(Fig. 3), and draws the panels overlaid: validation with intervals,
ground-truth vs proxy reward, label and reward accuracy, actor entropy and
response length.`,
		Example: `  urlvr experiment intrinsic --jobs 2
  urlvr experiment intrinsic --rewards majority_voting,probability --seeds 1,2,3,4,5
  urlvr experiment intrinsic --model clean --set trainer.steps=120 --out studies/intrinsic-clean`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				rep *experiment.IntrinsicReport
				err error
			)
			if sf.reportOnly {
				rep, err = experiment.ReportIntrinsic(sf.out)
			} else {
				o := experiment.IntrinsicOptions{Options: sf.options(cmd.ErrOrStderr()), Model: model, Rewards: rewards,
					EvalEvery: evalEvery, EvalN: evalN}
				for _, s := range seeds {
					o.Seeds = append(o.Seeds, uint64(s))
				}
				plan, perr := experiment.PlanIntrinsic(o)
				if perr != nil {
					return perr
				}
				o.Progress = studyBar(cmd.ErrOrStderr(), plan, sf.quiet)
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				rep, err = experiment.RunIntrinsic(ctx, o)
			}
			if err != nil {
				return err
			}
			return printStudy(cmd.OutOrStdout(), rep.Dir, rep.Files)
		},
	}
	sf.register(cmd, filepath.Join("studies", "intrinsic"))
	f := cmd.Flags()
	f.StringVar(&model, "model", "mild", "base model every run starts from (a suite name or a model directory)")
	f.StringSliceVar(&rewards, "rewards", experiment.DefaultIntrinsicRewards, "reward estimators to compare")
	defSeeds := make([]uint, len(experiment.DefaultIntrinsicSeeds))
	for i, s := range experiment.DefaultIntrinsicSeeds {
		defSeeds[i] = uint(s)
	}
	f.UintSliceVar(&seeds, "seeds", defSeeds, "seeds of every reward")
	f.IntVar(&evalEvery, "eval-every", 10, "validate every this many steps (and before the first, after the last)")
	f.IntVar(&evalN, "eval-n", 4, "validation samples per problem (avg@n)")
	return cmd
}

func experimentPerProblemCmd() *cobra.Command {
	var (
		sf        studyFlags
		o         experiment.PerProblemOptions
		ids       []string
		pmajSteps []int
		seed      uint
	)
	cmd := &cobra.Command{
		Use:   "per-problem",
		Short: "Train on single problems and watch greedy correctness, confidence and p_maj sharpen (paper Sec. 4.2)",
		Long: `per-problem trains a fresh copy of the base model on each of --problems
problems alone (batch 1, 8 rollouts, --epochs epochs, trajectory entropy by
default), chosen half with a correct and half with a wrong initial majority.
After every epoch it records greedy correctness and the confidence in the
greedy answer, whether the epoch's highest-reward rollout was correct (the
green wave), the greedy correctness of held-out problems (cross-problem
generalisation, Fig. 5), and for the first --pmaj-problems problems p_maj
from --pmaj-samples samples (Tables 4-5). It classifies each problem as
amplifying success, amplifying failure, wrong->correct or correct->wrong by
a stated rule, and draws the heatmaps with the green wave (Figs. 4, 15).`,
		Example: `  urlvr experiment per-problem --jobs 2
  urlvr experiment per-problem --estimator majority_voting --out studies/per-problem-mv
  urlvr experiment per-problem --ids arith-probe/3,arith-probe/17 --epochs 50`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				rep *experiment.PerProblemReport
				err error
			)
			if sf.reportOnly {
				rep, err = experiment.ReportPerProblem(sf.out)
			} else {
				o.Options = sf.options(cmd.ErrOrStderr())
				o.IDs, o.PMajSteps, o.Seed = ids, pmajSteps, uint64(seed)
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				plan, _, perr := experiment.PlanPerProblem(ctx, o)
				if perr != nil {
					return perr
				}
				o.Progress = studyBar(cmd.ErrOrStderr(), plan, sf.quiet)
				rep, err = experiment.RunPerProblem(ctx, o, plan)
			}
			if err != nil {
				return err
			}
			return printStudy(cmd.OutOrStdout(), rep.Dir, rep.Files)
		},
	}
	sf.register(cmd, filepath.Join("studies", "per-problem"))
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "mild", "base model (a suite name or a model directory)")
	f.StringVar(&o.Estimator, "estimator", "trajectory_entropy", "reward estimator (see urlvr reward --list)")
	f.IntVar(&o.Epochs, "epochs", 100, "epochs (= steps) on each problem")
	f.StringVar(&o.Set, "set-from", "world:probe", "dataset the problems are chosen from")
	f.IntVar(&o.Problems, "problems", 26, "problems to train on, half with a wrong initial majority")
	f.StringSliceVar(&ids, "ids", nil, "train on these problem ids instead of choosing")
	f.IntVar(&o.SelectSamples, "select-samples", 32, "samples (T=1) that decide a problem's initial majority")
	f.IntVar(&o.Confidence, "confidence", 8, "samples (T=1) per epoch that measure the confidence in the greedy answer")
	f.StringVar(&o.HeldoutSet, "heldout-set", "world:val-easy", "dataset of the held-out problems")
	f.IntVar(&o.Heldout, "heldout", 10, "held-out problems decoded greedily (0: none)")
	f.IntVar(&o.HeldoutEvery, "heldout-every", 10, "decode the held-out problems every this many epochs")
	f.IntVar(&o.PMajProblems, "pmaj-problems", 2, "problems (the first chosen) with p_maj measured")
	f.IntVar(&o.PMajSamples, "pmaj-samples", 1024, "samples (T=1) per p_maj measurement")
	f.IntSliceVar(&pmajSteps, "pmaj-steps", experiment.DefaultPMajSteps, "epochs at which p_maj is measured")
	f.UintVar(&seed, "seed", 1, "seed of the problem choice and of every run")
	return cmd
}
