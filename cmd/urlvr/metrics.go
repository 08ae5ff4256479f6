package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/runlog"
)

func init() {
	metricsCmd := &cobra.Command{
		Use:   "metrics",
		Short: "Compute run metrics: Model Collapse Step, pass@k",
	}

	var (
		file             string
		cfg              metrics.CollapseConfig
		opt              metrics.CollapseFileOptions
		requireCollapsed bool
		format           string
	)
	collapse := &cobra.Command{
		Use:   "collapse --file metrics.jsonl",
		Short: "Report the Model Collapse Step of a run (first step with reward accuracy < 1%)",
		Long: `Reads a run's metrics.jsonl and reports the Model Collapse Step (paper Sec. 6):
the first training step at which reward accuracy falls below the threshold,
optionally after a trailing moving average (--window) and confirmed by
--patience consecutive steps. Lines without the reward-accuracy field are
skipped; a step logged twice (after a resume) keeps its last value. Prints one
JSON object. A veRL console log, veRL file-logger JSONL or TRL trainer_state.json
(detected, or named with --format) is read with its metric names mapped to
urlvr's, and the object also says where proxy and ground-truth reward diverge
and which metrics were found and missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if done, err := foreignCollapse(cmd, file, format, cfg, requireCollapsed); done {
				return err
			}
			in, err := openInput(file)
			if err != nil {
				return err
			}
			defer in.Close()
			res, st, err := metrics.DetectCollapseJSONL(in, cfg, opt)
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			if st.Skipped > 0 {
				name := file
				if name == "" || name == "-" {
					name = "stdin"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: skipped %d lines that are not JSON objects (the first is line %d)\n", name, st.Skipped, st.FirstSkipped)
			}
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			if requireCollapsed && !res.Collapsed {
				return fmt.Errorf("no collapse in %d steps (last step %d)", res.Observations, res.LastStep)
			}
			return nil
		},
	}
	f := collapse.Flags()
	f.StringVar(&file, "file", "", "metrics JSONL file (\"-\" or empty for stdin)")
	f.Float64Var(&cfg.Threshold, "threshold", metrics.DefaultCollapseThreshold, "reward accuracy below which a step counts as collapsed")
	f.IntVar(&cfg.Window, "window", 1, "trailing moving-average window over steps (1 = none)")
	f.IntVar(&cfg.Patience, "patience", 1, "consecutive collapsed steps needed to confirm")
	f.StringVar(&opt.ValueKey, "key", "", "reward-accuracy field, dotted path for nested objects (default: reward_accuracy, else "+runlog.KeyRewardAccuracy+")")
	f.StringVar(&opt.StepKey, "step-key", runlog.KeyStep, "step field")
	f.BoolVar(&requireCollapsed, "require-collapse", false, "exit non-zero when the run did not collapse")
	f.StringVar(&format, "format", "auto", "log layout: auto, urlvr, verl-console, verl-file or trl")

	var n, c, k int
	passk := &cobra.Command{
		Use:   "passk --n N --c C [--k K]",
		Short: "Unbiased pass@k from n samples with c correct (all k when --k is 0)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if k > 0 {
				v, err := metrics.PassAtK(n, c, k)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "{\"n\":%d,\"c\":%d,\"k\":%d,\"pass_at_k\":%.10g}\n", n, c, k, v)
				return nil
			}
			series, err := metrics.PassAtKSeries(n, c)
			if err != nil {
				return err
			}
			for i, v := range series {
				fmt.Fprintf(cmd.OutOrStdout(), "{\"n\":%d,\"c\":%d,\"k\":%d,\"pass_at_k\":%.10g}\n", n, c, i+1, v)
			}
			return nil
		},
	}
	passk.Flags().IntVar(&n, "n", 0, "samples drawn")
	passk.Flags().IntVar(&c, "c", 0, "correct samples")
	passk.Flags().IntVar(&k, "k", 0, "k (0 prints k = 1..n)")

	metricsCmd.AddCommand(collapse, passk)
	rootCmd.AddCommand(metricsCmd)
}
