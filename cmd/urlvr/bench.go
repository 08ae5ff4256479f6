package main

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/kernels"
	"github.com/urlvr/urlvr/internal/hostinfo"
)

// benchCmd groups the performance measurements; each measured component adds
// its own subcommand (bench engine, bench kernels).
var benchCmd = &cobra.Command{
	Use:   "bench",
	Short: "Measure the speed of the embedded engine and its kernels on this machine",
}

func init() {
	rootCmd.AddCommand(benchCmd)

	var opts engine.BenchOptions
	var peakRounds int
	engineCmd := &cobra.Command{
		Use:   "engine",
		Short: "Time a training step and batched generation of the reference model",
		Long: `Times, on a randomly initialised reference model (vocabulary 64, context 64,
d_model 256, 4 layers, 4 heads, MLP 1024):
  - a training step: forward, backward and AdamW on a batch of 32 x 64 tokens;
  - generation with a key/value cache: 64 prompts of 16 tokens, 48 new tokens each.
Times are medians over the repeats; GFLOP/s counts matrix multiplications and
attention. The machine's peak is measured just before and just after (see
'urlvr bench peak'), and each GFLOP/s is printed as a fraction of it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var res engine.BenchResult
			peak, err := aroundPeak(cmd, peakRounds, func() (err error) {
				res, err = engine.RunBenchmark(cmd.Context(), opts)
				return err
			})
			if err != nil {
				return err
			}
			o, c := res.Options, res.Options.Config
			w := cmd.OutOrStdout()
			printHost(w)
			fmt.Fprintf(w, "model: vocab %d, context %d, d_model %d, %d layers, %d heads, MLP %d (%d parameters); GOMAXPROCS %d\n",
				c.VocabSize, c.MaxPositions, c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize, res.Params, runtime.GOMAXPROCS(0))
			printPeak(w, peak)
			fmt.Fprintf(w, "train step (%dx%d tokens, fwd+bwd+AdamW): median %v, min %v over %d steps; %.1f GFLOP per step, %.1f GFLOP/s%s\n",
				o.Batch, o.SeqLen, res.StepMedian.Round(100_000), res.StepMin.Round(100_000), o.Steps, res.StepFLOPs/1e9, res.StepGFLOPS, peak.of(res.StepGFLOPS))
			fmt.Fprintf(w, "generation (batch %d, %d-token prompts, %d new tokens): median %v, min %v over %d runs; %.0f tokens/s, %.1f GFLOP/s%s\n",
				o.GenBatch, o.PromptLen, o.NewTokens, res.GenMedian.Round(100_000), res.GenMin.Round(100_000), o.GenRepeats, res.GenTokensPerSec, res.GenGFLOPS, peak.of(res.GenGFLOPS))
			return nil
		},
	}
	engineCmd.Flags().IntVar(&opts.Steps, "steps", 5, "timed training steps")
	engineCmd.Flags().IntVar(&opts.GenRepeats, "gen-repeats", 3, "timed generation runs")
	addPeakFlag(engineCmd, &peakRounds)
	benchCmd.AddCommand(engineCmd)
}

// benchPeak is the machine's peak measured around one bench command's timed
// work, for printing its GFLOP/s as fractions of peak; the zero value (no
// measurement: --peak-rounds 0, or no FMA loop for this CPU) prints nothing.
type benchPeak struct {
	kernels.PeakBracket
}

// measured reports whether a peak was measured.
func (p benchPeak) measured() bool { return p.GFLOPS() > 0 }

// peakRound is the length of one round of the peak's FMA loop: short, so
// that on a busy machine some rounds run undisturbed.
const peakRound = 20 * time.Millisecond

// addPeakFlag registers --peak-rounds on a bench command.
func addPeakFlag(c *cobra.Command, rounds *int) {
	c.Flags().IntVar(rounds, "peak-rounds", 25, "rounds of the peak FMA loop before and after the timing (0: no peak, no fractions)")
}

// aroundPeak runs run between two measurements of the machine's peak
// (none with rounds 0).
func aroundPeak(cmd *cobra.Command, rounds int, run func() error) (benchPeak, error) {
	if rounds <= 0 {
		return benchPeak{}, run()
	}
	b, _, err := kernels.MeasurePeakAround(cmd.Context(), rounds, peakRound, run)
	return benchPeak{b}, err
}

// of is ", N% of peak" for a rate of gflops, or "" without a peak.
func (p benchPeak) of(gflops float64) string {
	if !p.measured() {
		return ""
	}
	return fmt.Sprintf(", %.0f%% of peak", 100*p.Fraction(gflops))
}

// printHost names the machine the figures were measured on: they depend on
// it as much as on the code.
func printHost(w io.Writer) {
	fmt.Fprintf(w, "host: %s\n", hostinfo.Describe())
}

// printPeak says what the fractions of peak are fractions of.
func printPeak(w io.Writer, p benchPeak) {
	if !p.measured() {
		return
	}
	fmt.Fprintf(w, "peak (%s FMA loop on %d cores, best of %d rounds): %.1f GFLOP/s just before the timing, %.1f just after; fractions of peak are of %.1f\n",
		p.Before.ISA, p.Before.Cores, p.Before.Rounds, p.Before.AllGFLOPS, p.After.AllGFLOPS, p.GFLOPS())
}
