package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/report"
)

func init() {
	var runDir string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Draw a run's panels (reward, accuracy, validation, entropy, length, KL) as PNG and SVG",
		Long: `report reads DIR/metrics.jsonl and DIR/validation.jsonl and writes the paper's
panels into DIR/plots. Any trainer's run can be plotted if it writes those files
with urlvr's metric names (train/proxy_reward, train/reward_accuracy, val/<set>/avg@k, ...).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := report.WriteRunPlots(runDir)
			if err != nil {
				return err
			}
			if len(paths) == 0 {
				return fmt.Errorf("no plottable metrics in %s", runDir)
			}
			for _, p := range paths {
				fmt.Fprintln(cmd.OutOrStdout(), p)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&runDir, "run", "", "run directory (required)")
	cmd.MarkFlagRequired("run")
	rootCmd.AddCommand(cmd)
}
