package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/engine"
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
	engineCmd := &cobra.Command{
		Use:   "engine",
		Short: "Time a training step and batched generation of the reference model",
		Long: `Times, on a randomly initialised reference model (vocabulary 64, context 64,
d_model 256, 4 layers, 4 heads, MLP 1024):
  - a training step: forward, backward and AdamW on a batch of 32 x 64 tokens;
  - generation with a key/value cache: 64 prompts of 16 tokens, 48 new tokens each.
Times are medians over the repeats; GFLOP/s counts matrix multiplications and
attention.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := engine.RunBenchmark(cmd.Context(), opts)
			if err != nil {
				return err
			}
			o, c := res.Options, res.Options.Config
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "model: vocab %d, context %d, d_model %d, %d layers, %d heads, MLP %d (%d parameters); GOMAXPROCS %d\n",
				c.VocabSize, c.MaxPositions, c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize, res.Params, runtime.GOMAXPROCS(0))
			fmt.Fprintf(w, "train step (%dx%d tokens, fwd+bwd+AdamW): median %v, min %v over %d steps; %.1f GFLOP per step, %.1f GFLOP/s\n",
				o.Batch, o.SeqLen, res.StepMedian.Round(100_000), res.StepMin.Round(100_000), o.Steps, res.StepFLOPs/1e9, res.StepGFLOPS)
			fmt.Fprintf(w, "generation (batch %d, %d-token prompts, %d new tokens): median %v, min %v over %d runs; %.0f tokens/s, %.1f GFLOP/s\n",
				o.GenBatch, o.PromptLen, o.NewTokens, res.GenMedian.Round(100_000), res.GenMin.Round(100_000), o.GenRepeats, res.GenTokensPerSec, res.GenGFLOPS)
			return nil
		},
	}
	engineCmd.Flags().IntVar(&opts.Steps, "steps", 5, "timed training steps")
	engineCmd.Flags().IntVar(&opts.GenRepeats, "gen-repeats", 3, "timed generation runs")
	benchCmd.AddCommand(engineCmd)
}
