package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/basemodel"
)

func init() {
	models := &cobra.Command{
		Use:   "models",
		Short: "The shipped base models: list them and measure them",
		Long: `models lists and evaluates the base models shipped in the checkout's
models directory (or $URLVR_MODELS), which urlvr pretrain made. The default
base model, which recipes call "base", is ` + basemodel.Default + `.`,
	}
	models.AddCommand(modelsListCmd(), modelsEvalCmd())
	rootCmd.AddCommand(models)
}

// modelsRoot returns --dir, or the checkout's models directory, or outside
// a checkout the models embedded in the binary.
func modelsRoot(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return basemodel.Root()
}

func modelsListCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the shipped base models and their axes of prior",
		Long: `list shows each shipped base model with its place on the suite's axes:
scale (width x layers, parameters), training stage (base, or aligned by a
clean fine-tuning stage), pretraining budget (optimiser steps, and the
fraction of its run for a checkpoint) and the misconceptions its corpora
carry.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := modelsRoot(dir)
			if err != nil {
				return err
			}
			names, err := basemodel.List(root)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 8, 2, ' ', 0)
			fmt.Fprintln(w, "name\tworld\tscale\tstage\tbudget\tmisconceptions\tweights\tfinal loss\tdescription")
			for _, name := range names {
				mdir := filepath.Join(root, name)
				mf, err := basemodel.ReadManifest(mdir)
				if err != nil {
					fmt.Fprintf(w, "%s\t?\t?\t?\t?\t?\t?\t?\t(no manifest: %v)\n", name, err)
					continue
				}
				size := "?"
				if st, err := os.Stat(filepath.Join(mdir, "model.safetensors")); err == nil {
					size = fmt.Sprintf("%.1f MB", float64(st.Size())/1e6)
				}
				label := name
				if name == basemodel.Default {
					label += " (default, \"" + basemodel.DefaultAlias + "\")"
				}
				a := mf.Axes()
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.3f\t%s\n", label, a.World, a.Scale, a.Stage, a.Budget, a.Misconceptions,
					size, mf.FinalLoss, mf.Description)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "models directory (default: the checkout's models/ or $URLVR_MODELS)")
	return cmd
}

func modelsEvalCmd() *cobra.Command {
	var (
		dir          string
		fromManifest bool
		record       bool
		o            = basemodel.DefaultEvalOptions()
	)
	cmd := &cobra.Command{
		Use:   "eval [NAME...]",
		Short: "Measure the base models on the held-out and probe sets (Markdown table)",
		Long: `eval measures each base model (all of them when no name is given):
greedy accuracy, maj@n and pass@n, each with a 95% confidence interval (a
percentile bootstrap over the set's problems, 2,000 resamples), and mean
response length on each large held-out set (200 problems per tier; with
--paper-sets, the 40/30/30-problem validation sets instead),
and maj@n per problem family on the probe set, printed as Markdown tables.
Samples are drawn at --temperature from --seed, so the numbers are
reproducible; --from-manifest prints the numbers recorded when the models were
built instead of measuring again.`,
		Example: `  urlvr models eval
  urlvr models eval --n 16 mild carry-wrong`,
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := modelsRoot(dir)
			if err != nil {
				return err
			}
			names := args
			if len(names) == 0 {
				if names, err = basemodel.List(root); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			var reports []*basemodel.Report
			var cdReports []*basemodel.CountdownReport
			for _, name := range names {
				if fromManifest {
					mf, err := basemodel.ReadManifest(filepath.Join(root, basemodel.Resolve(name)))
					if err != nil {
						return err
					}
					if mf.Prior.IsCountdown() {
						if mf.Countdown == nil {
							return fmt.Errorf("%s: the manifest has no Countdown eval numbers", name)
						}
						cdReports = append(cdReports, mf.Countdown)
						continue
					}
					if mf.Eval == nil {
						return fmt.Errorf("%s: the manifest has no eval numbers", name)
					}
					reports = append(reports, mf.Eval)
					continue
				}
				m, err := basemodel.OpenIn(root, name)
				if err != nil {
					return err
				}
				if m.Manifest != nil && m.Manifest.Prior.IsCountdown() {
					rep, err := evalCountdownModel(ctx, cmd, m, o, record)
					if err != nil {
						return err
					}
					cdReports = append(cdReports, rep)
					continue
				}
				rep, err := basemodel.Evaluate(ctx, m, o)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "[%s] evaluated in %.1fs\n", m.Name, rep.Seconds)
				if record {
					if m.Manifest == nil {
						return fmt.Errorf("%s: no manifest to record the evaluation in", name)
					}
					if o != basemodel.DefaultEvalOptions() {
						return fmt.Errorf("--record keeps only evaluations with the default options in manifests")
					}
					m.Manifest.Eval = rep
					if err := basemodel.WriteManifest(m.Dir, m.Manifest); err != nil {
						return err
					}
				}
				reports = append(reports, rep)
			}
			if err := basemodel.WriteMarkdown(cmd.OutOrStdout(), reports); err != nil {
				return err
			}
			if len(reports) > 0 && len(cdReports) > 0 {
				fmt.Fprintln(cmd.OutOrStdout())
			}
			return basemodel.WriteCountdownMarkdown(cmd.OutOrStdout(), cdReports)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "models directory (default: the checkout's models/ or $URLVR_MODELS)")
	f.IntVar(&o.N, "n", o.N, "samples per problem for maj@n and pass@n")
	f.Float64Var(&o.Temperature, "temperature", o.Temperature, "sampling temperature")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "sampling seed")
	f.BoolVar(&o.SkipProbe, "no-probe", false, "skip the per-family table")
	f.BoolVar(&o.PaperSets, "paper-sets", false, "measure on the paper-sized validation sets (40/30/30 problems) instead of the large held-out sets")
	f.BoolVar(&fromManifest, "from-manifest", false, "print the numbers recorded in each manifest")
	f.BoolVar(&record, "record", false, "write each evaluation into the model's manifest (default options only)")
	return cmd
}
