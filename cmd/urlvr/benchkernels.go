package main

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/engine/kernels"
	"github.com/urlvr/urlvr/engine/kernels/openblas"
)

func init() {
	var (
		shapes  string
		layouts string
		rounds  int
		threads int
		minRun  time.Duration
		only    string
		peakRds int
	)
	cmd := &cobra.Command{
		Use:   "kernels",
		Short: "Matrix-multiplication GFLOP/s of each kernel backend, side by side",
		Long: `Times MatMul (AB), MatMulBT (ABT) and MatMulAT (ATB) on each shape MxKxN for
every backend this machine can run: the default (fastest) one, the portable
pure-Go one, and OpenBLAS when the binary is built with -tags openblas. The
backends take turns round after round and every call is timed; the best call
(on a busy machine, the closest to the unloaded speed) and the median call are
printed in GFLOP/s, with the ratio of each backend's best to OpenBLAS's best
when OpenBLAS is present, and as a fraction of the machine's peak on the
run's threads, measured just before and just after.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			sh, err := parseShapes(shapes)
			if err != nil {
				return err
			}
			if threads > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
			}
			backends := kernels.Backends()
			if ob, ok := openblas.Backend(); ok {
				backends = append(backends, ob)
			}
			if only != "" {
				keep := strings.Split(only, ",")
				backends = slices.DeleteFunc(backends, func(b kernels.Backend) bool { return !slices.Contains(keep, b.Name) })
				if len(backends) == 0 {
					return fmt.Errorf("--backends %q matches none of this build's backends", only)
				}
			}
			var res []kernels.GemmTiming
			peak, err := aroundPeak(cmd, peakRds, func() (err error) {
				res, err = kernels.MeasureGemm(cmd.Context(), backends, sh, strings.Split(layouts, ","), rounds, minRun)
				return err
			})
			if err != nil {
				return err
			}
			printHost(cmd.OutOrStdout())
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(w, "shape\tlayout\t")
			for _, be := range backends {
				fmt.Fprintf(w, "%s best\tmedian\t", be.Name)
			}
			ratioTo := ""
			if len(backends) > 1 && backends[len(backends)-1].Name == "openblas" {
				ratioTo = "openblas"
				for _, be := range backends[:len(backends)-1] {
					fmt.Fprintf(w, "%s/openblas\t", be.Name)
				}
			}
			if peak.measured() {
				for _, be := range backends {
					fmt.Fprintf(w, "%s/peak\t", be.Name)
				}
			}
			fmt.Fprintln(w)
			for i := 0; i < len(res); i += len(backends) {
				row := res[i : i+len(backends)]
				fmt.Fprintf(w, "%v\t%s\t", row[0].Shape, row[0].Layout)
				for _, r := range row {
					fmt.Fprintf(w, "%.1f\t%.1f\t", r.Best, r.Median)
				}
				if ratioTo != "" {
					ref := row[len(row)-1].Best
					for _, r := range row[:len(row)-1] {
						fmt.Fprintf(w, "%.0f%%\t", 100*r.Best/ref)
					}
				}
				if peak.measured() {
					for _, r := range row {
						fmt.Fprintf(w, "%.0f%%\t", 100*peak.Fraction(r.Best))
					}
				}
				fmt.Fprintln(w)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "GFLOP/s per call (best and median), %d threads, %d rounds of >= %v per backend; openblas linked: %v\n",
				runtime.GOMAXPROCS(0), rounds, minRun, openblas.Available)
			printPeak(cmd.OutOrStdout(), peak)
			return nil
		},
	}
	cmd.Flags().StringVar(&shapes, "shapes", "512x256x256,1024x256x1024,2048x384x1536,2048x256x256,2048x256x1024,2048x1024x256,256x2048x256,64x256x1024",
		"comma-separated MxKxN shapes")
	cmd.Flags().StringVar(&layouts, "layouts", "AB,ABT,ATB", "comma-separated layouts: AB (MatMul), ABT (MatMulBT), ATB (MatMulAT)")
	cmd.Flags().IntVar(&rounds, "rounds", 7, "timed runs per backend, shape and layout")
	cmd.Flags().IntVar(&threads, "threads", 0, "GOMAXPROCS for the run (0: leave as is)")
	cmd.Flags().StringVar(&only, "backends", "", "comma-separated backend names to run (default: all in this build)")
	cmd.Flags().DurationVar(&minRun, "min-run", 150*time.Millisecond, "minimum duration of one timed run")
	addPeakFlag(cmd, &peakRds)
	benchCmd.AddCommand(cmd)
}

// parseShapes reads "MxKxN,MxKxN,...".
func parseShapes(s string) ([]kernels.GemmShape, error) {
	var out []kernels.GemmShape
	for _, f := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(f), "x")
		if len(parts) != 3 {
			return nil, fmt.Errorf("shape %q: want MxKxN", f)
		}
		var d [3]int
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil || v <= 0 {
				return nil, fmt.Errorf("shape %q: %q is not a positive integer", f, p)
			}
			d[i] = v
		}
		out = append(out, kernels.GemmShape{M: d[0], K: d[1], N: d[2]})
	}
	return out, nil
}
