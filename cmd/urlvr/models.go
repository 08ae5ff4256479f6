package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"text/tabwriter"
	"time"

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
		Short: "List the shipped base models",
		Args:  cobra.NoArgs,
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
			fmt.Fprintln(w, "name\tparams\tweights\tshape (d x layers)\tfoundation docs\tstage docs\tsteps\tfinal loss\tstage time\tdescription")
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
				docs, steps, foundDocs := 0, 0, 0
				for _, s := range mf.Stages {
					// Documents read, repeats counted: the stage's tokens
					// over the tokens of a document (its characters and
					// end-of-sequence token).
					docs += int(float64(s.Tokens) / float64(max(1, s.Characters+s.Documents)) * float64(s.Documents))
					steps += s.Steps
				}
				if mf.Foundation != nil {
					foundDocs = mf.Foundation.Stage.Documents
					steps += mf.Foundation.Stage.Steps
				}
				label := name
				if name == basemodel.Default {
					label += " (default, \"" + basemodel.DefaultAlias + "\")"
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%dx%d\t%d\t%d\t%d\t%.3f\t%s\t%s\n", label, mf.Params, size,
					mf.Prior.Model.HiddenSize, mf.Prior.Model.NumLayers, foundDocs, docs, steps, mf.FinalLoss,
					time.Duration(mf.TrainSeconds*float64(time.Second)).Round(time.Second), mf.Description)
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
		o            = basemodel.DefaultEvalOptions()
	)
	cmd := &cobra.Command{
		Use:   "eval [NAME...]",
		Short: "Measure the base models on the validation and probe sets (Markdown table)",
		Long: `eval measures each base model (all of them when no name is given):
greedy accuracy, maj@n, pass@n and mean response length on each validation set,
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
			for _, name := range names {
				if fromManifest {
					mf, err := basemodel.ReadManifest(filepath.Join(root, basemodel.Resolve(name)))
					if err != nil {
						return err
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
				rep, err := basemodel.Evaluate(ctx, m, o)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "[%s] evaluated in %.1fs\n", m.Name, rep.Seconds)
				reports = append(reports, rep)
			}
			return basemodel.WriteMarkdown(cmd.OutOrStdout(), reports)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "models directory (default: the checkout's models/ or $URLVR_MODELS)")
	f.IntVar(&o.N, "n", o.N, "samples per problem for maj@n and pass@n")
	f.Float64Var(&o.Temperature, "temperature", o.Temperature, "sampling temperature")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "sampling seed")
	f.BoolVar(&o.SkipProbe, "no-probe", false, "skip the per-family table")
	f.BoolVar(&fromManifest, "from-manifest", false, "print the numbers recorded in each manifest")
	return cmd
}
