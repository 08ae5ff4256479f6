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
