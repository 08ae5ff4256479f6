package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/export"
)

func init() {
	var out, formats string
	cmd := &cobra.Command{
		Use:   "export RUN",
		Short: "Write a run's metrics as TensorBoard event files and CSV",
		Long: `export reads RUN (a run directory's metrics.jsonl and validation.jsonl, or a
veRL or TRL log file) and writes, into --out (default RUN/export, or beside a
log file), a TensorBoard event file (events.out.tfevents.*: every metric as a
scalar at its step; open with tensorboard --logdir) and metrics.csv (one row
per step). Lines that are not JSON are skipped and counted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tb, csv bool
			for _, f := range strings.Split(formats, ",") {
				switch strings.TrimSpace(f) {
				case "tensorboard":
					tb = true
				case "csv":
					csv = true
				default:
					return fmt.Errorf("--format %q: want tensorboard, csv or both (comma-separated)", f)
				}
			}
			lg, err := export.Read(args[0])
			if err != nil {
				return err
			}
			if len(lg.Rows) == 0 {
				return fmt.Errorf("%s has no logged steps", args[0])
			}
			dir := out
			if dir == "" {
				if st, err := os.Stat(args[0]); err == nil && st.IsDir() {
					dir = filepath.Join(args[0], "export")
				} else {
					dir = filepath.Join(filepath.Dir(args[0]), "export")
				}
			}
			files, err := export.Write(lg, dir, float64(time.Now().Unix()), tb, csv)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d steps from %s", len(lg.Rows), lg.Source)
			if lg.Skipped > 0 {
				fmt.Fprintf(w, " (%d unreadable lines skipped)", lg.Skipped)
			}
			fmt.Fprintln(w)
			for _, p := range []string{files.TFEvents, files.CSV} {
				if p != "" {
					fmt.Fprintln(w, p)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output directory (default RUN/export)")
	cmd.Flags().StringVar(&formats, "format", "tensorboard,csv", "tensorboard, csv, or both")
	rootCmd.AddCommand(cmd)
}
