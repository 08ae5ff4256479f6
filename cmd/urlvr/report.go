package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/report"
)

func init() {
	var runDir, html, htmlOut string
	cmd := &cobra.Command{
		Use:   "report --run DIR | --html RUN|STUDY",
		Short: "Draw a run's panels (reward, accuracy, validation, entropy, length, KL) as PNG and SVG",
		Long: `report reads DIR/metrics.jsonl and DIR/validation.jsonl and writes the paper's
panels into DIR/plots. Any trainer's run can be plotted if it writes those files
with urlvr's metric names (train/proxy_reward, train/reward_accuracy, val/<set>/avg@k, ...).
With --html it writes instead one self-contained HTML file (the dashboard's charts,
data and scripts inline) for a run or a study that opens from disk, offline.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if html != "" {
				out := htmlOut
				if out == "" {
					out = filepath.Join(html, "report.html")
				}
				if err := report.WriteHTML(html, out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			}
			if runDir == "" {
				return fmt.Errorf("give --run DIR (PNG/SVG plots) or --html DIR (one HTML file)")
			}
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
	cmd.Flags().StringVar(&runDir, "run", "", "run directory to plot as PNG and SVG")
	cmd.Flags().StringVar(&html, "html", "", "run or study directory to write as one self-contained HTML file")
	cmd.Flags().StringVar(&htmlOut, "out", "", "HTML file to write (default DIR/report.html)")
	rootCmd.AddCommand(cmd)
}
