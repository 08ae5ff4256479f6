package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/rl"
	"github.com/urlvr/urlvr/theory"
)

func init() {
	simulateCmd := &cobra.Command{
		Use:   "simulate",
		Short: "Sharpening theory: the Theorem 1 recursion and an exact tabular policy",
	}

	var rc theory.RecursionConfig
	var recCSV bool
	recursion := &cobra.Command{
		Use:   "recursion --beta B --eta E --p0 P --steps K",
		Short: "Iterate p* = alpha p/(1+(alpha-1)p), alpha = e^(1/beta), with step efficiency eta",
		Long: `Iterates the majority mass of paper Theorem 1: each step moves p_maj a fraction
eta of the way to the KL-regularised optimum p* = alpha p/(1 + (alpha-1) p),
alpha = e^(1/beta). Prints p_maj, the error 1 - p_maj, p* and the measured
error ratio per step, then the measured rate against e^(-1/beta) (the rate at
eta = 1) and 1 - eta (alpha-1)/alpha (the asymptotic rate for any eta).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := theory.Recursion(rc)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			header := []string{"step", "p_maj", "error", "p_star", "rate"}
			rows := make([][]string, len(res.Steps))
			for i, s := range res.Steps {
				rows[i] = []string{strconv.Itoa(s.Step), g(s.PMaj), g(s.Error), g(s.PStar), g(s.Rate)}
			}
			if err := writeTable(w, recCSV, header, rows); err != nil {
				return err
			}
			if !recCSV {
				fmt.Fprintf(w, "measured rate %.12g; e^(-1/beta) = %.12g (|diff| %.3g); asymptotic rate for eta=%g: %.12g (|diff| %.3g)\n",
					res.MeasuredRate, res.TheoreticalRate, math.Abs(res.MeasuredRate-res.TheoreticalRate),
					rc.Eta, res.AsymptoticRate, math.Abs(res.MeasuredRate-res.AsymptoticRate))
			}
			return nil
		},
	}
	rf := recursion.Flags()
	rf.Float64Var(&rc.Beta, "beta", 1, "KL coefficient beta (alpha = e^(1/beta))")
	rf.Float64Var(&rc.Eta, "eta", 1, "step efficiency in (0, 1]")
	rf.Float64Var(&rc.P0, "p0", 0.3, "initial majority mass")
	rf.IntVar(&rc.Steps, "steps", 30, "iterations")
	rf.BoolVar(&recCSV, "csv", false, "write CSV (no summary line)")

	var (
		tc                 theory.TabularConfig
		probsFlag, logits  string
		reward, estimator  string
		tabCSV, printProbs bool
	)
	tabular := &cobra.Command{
		Use:   "tabular --probs 0.4,0.35,0.25 --gold 1 --reward majority",
		Short: "Train an exact softmax policy over a finite answer set with sampled rollouts",
		Long: `Trains a tabular policy - one logit per answer, a one-token language model -
with N sampled rollouts per step, an answer-level reward (majority,
ground_truth, frequency, probability) and GRPO/Dr.GRPO/RLOO/REINFORCE updates,
optionally with KL to the initial policy. Prints per step the sample
majority, its mass p_maj, the mass of the step-0 majority and of the gold
answer, entropy, rewards and KL. With a majority reward the policy collapses
onto the initial majority, correct or not (paper Theorem 1, Tables 4-5).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if tc.Probs, err = parseFloats(probsFlag); err != nil {
				return fmt.Errorf("--probs: %w", err)
			}
			if cmd.Flags().Changed("logits") && !cmd.Flags().Changed("probs") {
				tc.Probs = nil // --logits replaces the default distribution
			}
			if tc.Logits, err = parseFloats(logits); err != nil {
				return fmt.Errorf("--logits: %w", err)
			}
			if tc.Reward, err = theory.ParseAnswerReward(reward); err != nil {
				return err
			}
			if tc.Estimator, err = rl.ParseEstimator(estimator); err != nil {
				return err
			}
			steps, err := theory.SimulateTabular(tc)
			if err != nil {
				return err
			}
			header := []string{"step", "majority", "p_maj", "p_initial_majority", "p_gold", "entropy",
				"mean_reward", "ground_truth_reward", "reward_accuracy", "label_correct", "kl", "error_ratio"}
			if printProbs {
				for i := range steps[0].Probs {
					header = append(header, fmt.Sprintf("p%d", i))
				}
			}
			rows := make([][]string, len(steps))
			for i, s := range steps {
				ra := "-"
				if s.RewardAccuracy >= 0 {
					ra = g(s.RewardAccuracy)
				}
				rows[i] = []string{strconv.Itoa(s.Step), strconv.Itoa(s.Majority), g(s.PMaj), g(s.PInitialMajority),
					g(s.PGold), g(s.Entropy), g(s.MeanReward), g(s.GroundTruth), ra, strconv.FormatBool(s.LabelCorrect), g(s.KL), g(s.ErrorRatio)}
				if printProbs {
					for _, p := range s.Probs {
						rows[i] = append(rows[i], g(p))
					}
				}
			}
			return writeTable(cmd.OutOrStdout(), tabCSV, header, rows)
		},
	}
	tf := tabular.Flags()
	tf.StringVar(&probsFlag, "probs", "0.4,0.35,0.25", "initial answer probabilities, comma separated")
	tf.StringVar(&logits, "logits", "", "initial logits instead of --probs")
	tf.IntVar(&tc.Gold, "gold", 1, "index of the correct answer (-1: none)")
	tf.StringVar(&reward, "reward", string(theory.MajorityReward), "answer-level reward: majority, ground_truth, frequency, probability")
	tf.StringVar(&estimator, "estimator", string(rl.GRPO), "advantage estimator: grpo, dr_grpo, rloo, reinforce")
	tf.IntVar(&tc.N, "n", 64, "rollouts per step (large N keeps the majority stable, assumption A1)")
	tf.IntVar(&tc.Steps, "steps", 100, "updates")
	tf.Float64Var(&tc.LR, "lr", 0.5, "learning rate on the logits")
	tf.StringVar(&tc.Optimizer, "optimizer", "sgd", "sgd or adam")
	tf.Float64Var(&tc.KLCoef, "kl", 0, "KL coefficient to the initial policy")
	tf.Float64Var(&tc.Temperature, "temperature", 1, "sampling and training temperature")
	tf.Uint64Var(&tc.Seed, "seed", 1, "sampling seed")
	tf.BoolVar(&tabCSV, "csv", false, "write CSV")
	tf.BoolVar(&printProbs, "print-probs", false, "add the full answer distribution to every row")

	simulateCmd.AddCommand(recursion, tabular)
	rootCmd.AddCommand(simulateCmd)
}

// g formats a float compactly and exactly enough to compare runs.
func g(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }

// parseFloats parses "0.4,0.35,0.25"; "" gives nil.
func parseFloats(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]float64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

// writeTable writes rows as CSV or as an aligned text table.
func writeTable(w io.Writer, asCSV bool, header []string, rows [][]string) error {
	if asCSV {
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
