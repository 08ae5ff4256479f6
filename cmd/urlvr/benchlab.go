package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/engine/kernels"
	"github.com/urlvr/urlvr/engine/labbench"
)

func init() {
	var opts labbench.Options
	var peakRounds int
	lab := &cobra.Command{
		Use:   "lab",
		Short: "Time the default model's RL step and pre-training beside the reference step",
		Long: `Measures, in one run, the lab's own workload on the default base model:
  - the main job's RL step: 32 prompts x 8 rollouts sampled (new problems of
    the training set each step, temperature 1, the base models' response
    budget), then the update (reference-policy scores,
    forward and backward in micro-batches of 64, AdamW), split into the two;
  - pre-training: cross-entropy steps on 32 documents of 40-70 tokens;
  - study-scale throughput: rollouts per second of whole RL steps;
and then the reference step of 'urlvr bench engine'. GFLOP/s count the FLOPs of
'urlvr bench engine' (matrix products and attention, real tokens only), and
each is printed with its ratio to the reference step's GFLOP/s and as a
fraction of the machine's peak, measured just before and just after. Times
are medians.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var res labbench.Result
			peak, err := aroundPeak(cmd, peakRounds, func() (err error) {
				res, err = labbench.Run(cmd.Context(), opts)
				return err
			})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			printHost(w)
			c, o := res.Config, res.Options
			refG := res.Reference.StepGFLOPS
			ratio := func(g float64) string { return fmt.Sprintf("%.2fx reference%s", g/refG, peak.of(g)) }
			ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", d.Seconds()*1e3) }
			fmt.Fprintf(w, "lab model %s: d_model %d, %d layers, %d heads, MLP %d, vocab %d (%d parameters); GOMAXPROCS %d\n",
				o.Model, c.HiddenSize, c.NumLayers, c.NumHeads, c.IntermediateSize, c.VocabSize, res.Params, runtime.GOMAXPROCS(0))
			printPeak(w, peak)
			fmt.Fprintf(w, "RL step (%d prompts x %d rollouts, %d tokens): median %s = sample %s + update %s over %d steps\n",
				o.Prompts, o.Rollouts, res.Tokens, ms(res.Step), ms(res.Sample), ms(res.Update), o.Steps)
			fmt.Fprintf(w, "  CPU time (all threads): sample %s, update %s\n", ms(res.SampleCPU), ms(res.UpdateCPU))
			fmt.Fprintf(w, "  sample  %6.2f GFLOP  %6.1f GFLOP/s  %s\n", res.SampleFLOPs/1e9, res.SampleGFLOPS, ratio(res.SampleGFLOPS))
			fmt.Fprintf(w, "  update  %6.2f GFLOP  %6.1f GFLOP/s  %s\n", res.UpdateFLOPs/1e9, res.UpdateGFLOPS, ratio(res.UpdateGFLOPS))
			fmt.Fprintf(w, "  step    %6.2f GFLOP  %6.1f GFLOP/s  %s\n", (res.SampleFLOPs+res.UpdateFLOPs)/1e9, res.StepGFLOPS, ratio(res.StepGFLOPS))
			fmt.Fprintf(w, "study throughput: %.0f rollouts/s\n", res.RolloutsPerSec)
			fmt.Fprintf(w, "pre-training (%d documents, %d tokens a step): median %s, %.0f tokens/s, %.1f GFLOP/s  %s\n",
				o.PretrainBatch, res.PretrainTokens, ms(res.PretrainStep), res.PretrainTokensSec, res.PretrainGFLOPS, ratio(res.PretrainGFLOPS))
			r := res.Reference
			fmt.Fprintf(w, "reference step (d_model %d, %d layers, %dx%d tokens): median %s, %.1f GFLOP/s%s\n",
				r.Options.Config.HiddenSize, r.Options.Config.NumLayers, r.Options.Batch, r.Options.SeqLen, ms(r.StepMedian), refG, peak.of(refG))
			return nil
		},
	}
	lab.Flags().IntVar(&opts.Steps, "steps", 5, "timed RL steps")
	lab.Flags().IntVar(&opts.PretrainSteps, "pretrain-steps", 10, "timed pre-training steps")
	addPeakFlag(lab, &peakRounds)
	benchCmd.AddCommand(lab)

	var rounds int
	peak := &cobra.Command{
		Use:   "peak",
		Short: "Measure the machine's peak single-precision FLOP/s with an FMA loop",
		Long: `Runs a loop of independent vector FMAs on registers only (AVX-512 where the CPU
has it, else AVX2), on one core and on every core at once, and prints the best
round: the ceiling that kernel and step GFLOP/s are fractions of.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, ok, err := kernels.MeasurePeak(cmd.Context(), rounds, 20*time.Millisecond)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("no FMA loop for this architecture")
			}
			printHost(cmd.OutOrStdout())
			fmt.Fprintf(cmd.OutOrStdout(), "peak (%s FMA loop, best of %d rounds): %.1f GFLOP/s on one core, %.1f GFLOP/s on %d cores\n",
				p.ISA, p.Rounds, p.CoreGFLOPS, p.AllGFLOPS, p.Cores)
			return nil
		},
	}
	peak.Flags().IntVar(&rounds, "rounds", 50, "measurement rounds of about 20 ms (short rounds: on a busy machine some run undisturbed)")
	benchCmd.AddCommand(peak)
}
