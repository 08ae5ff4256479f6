package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/urlvr/urlvr/internal/jsonl"
	"github.com/urlvr/urlvr/task/arith"
	"github.com/urlvr/urlvr/task/countdown"
)

func init() {
	world := &cobra.Command{
		Use:   "world",
		Short: "The synthetic arithmetic world: datasets, corpora and base-model priors",
		Long: `world generates urlvr's synthetic reasoning world (package task/arith):
arithmetic problems of 2-5 steps in six families and three tiers, a training
set in the place of DAPO-17k, three validation sets in the places of AMC23,
AIME24 and AIME25, and pretraining corpora whose solutions carry systematic
misconceptions, as the suite of base-model priors describes.`,
	}
	world.AddCommand(worldGenCmd(), worldCountdownCmd(), worldStatsCmd(), worldPriorsCmd(), worldCorpusCmd(), worldSolveCmd())
	rootCmd.AddCommand(world)
}

func worldGenCmd() *cobra.Command {
	var (
		dir  string
		spec = arith.TrainSpec
	)
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Write the training, validation and held-out sets as JSONL",
		Long: `gen writes <dir>/arith-train.jsonl, the three paper-sized validation sets
(arith-val-easy, arith-val-mid, arith-val-hard), the three large held-out sets
that studies decide on (arith-large-easy, arith-large-mid, arith-large-hard:
200 problems of each tier) and the per-family probe set (arith-probe), one
problem per line with the fields prompt, answer, data_source, family and
tier, plus manifest.json saying how they were made. Every file is written
atomically. The output depends only on the flags; training problems never
repeat and never equal a held-out problem, and the large sets also leave out
every problem of the built-in suite's pretraining corpora (which takes some
seconds to check).`,
		Example: `  urlvr world gen
  urlvr world gen --dir /tmp/arith --train-size 2048 --train-seed 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			mf, err := arith.WriteDatasets(dir, spec, "urlvr world gen "+strings.Join(flagArgs(cmd), " "))
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 8, 2, ' ', 0)
			fmt.Fprintln(w, "file\tproblems\tprompt chars p50/max\tresponse chars p50/p90/max")
			for _, e := range mf.Sets {
				st := e.Stats
				fmt.Fprintf(w, "%s\t%d\t%d/%d\t%d/%d/%d\n", filepath.Join(dir, e.File), st.Size, st.Prompts.P50, st.Prompts.Max, st.Responses.P50, st.Responses.P90, st.Responses.Max)
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", filepath.Join("datasets", "arith"), "directory to write into")
	f.IntVar(&spec.Size, "train-size", spec.Size, "training problems")
	f.Uint64Var(&spec.Seed, "train-seed", spec.Seed, "training set seed")
	return cmd
}

// flagArgs lists the flags the user set, for the manifest.
func flagArgs(cmd *cobra.Command) []string {
	var out []string
	cmd.Flags().Visit(func(f *pflag.Flag) { out = append(out, "--"+f.Name+"="+f.Value.String()) })
	return out
}

func worldStatsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Describe the datasets: sizes, families, tiers, steps, lengths",
		Long: `stats generates the training and validation sets in memory and prints,
per set, its families, tiers and step counts and the distribution of prompt
and correct-response lengths in characters, and the world's alphabet.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			specs, sets, err := arith.AllSets(arith.TrainSpec, false)
			if err != nil {
				return err
			}
			var all []arith.SetStats
			for i, set := range sets {
				st, err := arith.Describe(specs[i].Name, set)
				if err != nil {
					return err
				}
				all = append(all, st)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"alphabet": arith.Alphabet, "sets": all})
			}
			fmt.Fprintf(out, "alphabet (%d characters): %q\n\n", len(arith.Alphabet), arith.Alphabet)
			w := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
			fmt.Fprintln(w, "set\trole\tsize\ttiers\tsteps 2/3/4/5\tprompt chars\tresponse chars")
			for i, st := range all {
				fmt.Fprintf(w, "%s\t%s\t%d\t%v\t%d/%d/%d/%d\t%s\t%s\n", st.Name, specs[i].Role, st.Size, specs[i].Tiers,
					st.Steps[2], st.Steps[3], st.Steps[4], st.Steps[5], st.Prompts, st.Responses)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// loadPriors reads the suite from file, or the built-in one when file is "".
func loadPriors(file string) ([]arith.Prior, error) {
	if file == "" {
		return arith.Priors()
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ps, err := arith.LoadPriors(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return ps, nil
}

func worldPriorsCmd() *cobra.Command {
	var file string
	var asYAML bool
	cmd := &cobra.Command{
		Use:   "priors",
		Short: "List the suite of base-model priors",
		Long: `priors lists the base-model priors the pretrain command builds: each
model's size, its training stages (corpus size, epochs, misconception rules)
and the families where it is meant to be confidently wrong. --yaml prints the
suite in the layout --file reads.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := loadPriors(file)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asYAML {
				enc := yaml.NewEncoder(out)
				defer enc.Close()
				return enc.Encode(map[string]any{"priors": ps})
			}
			w := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
			fmt.Fprintln(w, "name\tmodel (d x layers)\tstages\twrong on")
			for _, p := range ps {
				var stages []string
				for _, s := range p.Stages {
					desc := fmt.Sprintf("%s %dx%g", s.Name, s.Corpus.Examples, s.Epochs)
					if c := s.Countdown; c != nil {
						desc = fmt.Sprintf("%s countdown %s x%g", s.Name, c.Summary(), s.Epochs)
					}
					for _, r := range s.Corpus.Misconceptions {
						fam := string(r.Family)
						if fam == "" {
							fam = "all"
						}
						desc += fmt.Sprintf(" %s:%s@%g", fam, r.Kind, r.Rate)
					}
					stages = append(stages, desc)
				}
				fmt.Fprintf(w, "%s\t%dx%d\t%s\t%v\n", p.Name, p.Model.HiddenSize, p.Model.NumLayers, strings.Join(stages, "; "), p.WrongOn)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "priors YAML file (default: the built-in suite)")
	cmd.Flags().BoolVar(&asYAML, "yaml", false, "print the suite as YAML")
	return cmd
}

func worldCorpusCmd() *cobra.Command {
	var (
		file, prior, config, out string
		stage, examples          int
		text                     bool
	)
	cmd := &cobra.Command{
		Use:   "corpus",
		Short: "Write a pretraining corpus of worked problems",
		Long: `corpus writes the documents of one training stage of a prior (--prior,
--stage) or of a corpus config file (--config, YAML with the fields families,
tiers, tier_weights, examples, seed, misconceptions), as JSONL lines
{prompt, response, answer, family, tier, misconceptions} or, with --text,
as the plain text a model reads (documents separated by a blank line).`,
		Example: `  urlvr world corpus --prior carry-wrong --examples 5
  urlvr world corpus --prior two-wrong-sft --stage 1 --text --out sft.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var cfg arith.CorpusConfig
			switch {
			case (prior == "") == (config == ""):
				return fmt.Errorf("give exactly one of --prior and --config")
			case config != "":
				b, err := os.ReadFile(config)
				if err != nil {
					return err
				}
				dec := yaml.NewDecoder(strings.NewReader(string(b)))
				dec.KnownFields(true)
				if err := dec.Decode(&cfg); err != nil {
					return fmt.Errorf("%s: %w", config, err)
				}
			default:
				ps, err := loadPriors(file)
				if err != nil {
					return err
				}
				var found *arith.Prior
				for i := range ps {
					if ps[i].Name == prior {
						found = &ps[i]
					}
				}
				if found == nil {
					return fmt.Errorf("no prior named %q; see urlvr world priors", prior)
				}
				if stage < 0 || stage >= len(found.Stages) {
					return fmt.Errorf("prior %s has stages 0..%d, not %d", prior, len(found.Stages)-1, stage)
				}
				cfg = found.Stages[stage].Corpus
			}
			if cmd.Flags().Changed("examples") {
				cfg.Examples = examples
			}
			docs, err := arith.BuildCorpus(cfg)
			if err != nil {
				return err
			}
			var w io.Writer = cmd.OutOrStdout()
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if text {
				for _, d := range docs {
					if _, err := io.WriteString(w, d.Text()+"\n\n"); err != nil {
						return err
					}
				}
				return nil
			}
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			for _, d := range docs {
				if err := enc.Encode(d); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&prior, "prior", "", "prior whose corpus to write (see urlvr world priors)")
	f.IntVar(&stage, "stage", 0, "training stage of the prior (0-based)")
	f.StringVar(&file, "file", "", "priors YAML file (default: the built-in suite)")
	f.StringVar(&config, "config", "", "corpus config YAML file instead of a prior")
	f.IntVar(&examples, "examples", 0, "override the number of documents")
	f.BoolVar(&text, "text", false, "write plain text instead of JSONL")
	f.StringVar(&out, "out", "", "output file (default stdout)")
	return cmd
}

func worldSolveCmd() *cobra.Command {
	var inPath string
	cmd := &cobra.Command{
		Use:   "solve",
		Short: "Write worked solutions (JSONL in, JSONL out)",
		Long: `solve reads JSONL lines with "prompt" (Q: <expression>=?) or "expr" and an
optional "misconceptions" list of kinds (drop-carry, smaller-from-larger,
mul-drop-carry, ignore-precedence, drop-parens, sign-slip, double-negative,
drop-remainder), and adds "response" (the worked solution a writer with
those misconceptions gives), "answer" (the correct answer) and "fired" (the
misconceptions that changed it).`,
		Example: `  echo '{"expr": "5+3*4", "misconceptions": ["ignore-precedence"]}' | urlvr world solve`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJSONL(cmd, inPath, func(r jsonl.Record) error {
				var expr string
				if r.Has("expr") {
					if err := r.Get("expr", &expr); err != nil {
						return err
					}
				} else {
					var prompt string
					if err := r.Get("prompt", &prompt); err != nil {
						return err
					}
					e, err := arith.ExpressionOf(prompt)
					if err != nil {
						return err
					}
					expr = e
				}
				var kinds []arith.Kind
				if r.Has("misconceptions") {
					if err := r.Get("misconceptions", &kinds); err != nil {
						return err
					}
				}
				clean, err := arith.Solve(expr)
				if err != nil {
					return err
				}
				sol, err := arith.SolveWith(expr, kinds)
				if err != nil {
					return err
				}
				fired := sol.Misconceptions
				if fired == nil {
					fired = []arith.Kind{}
				}
				if err := r.Set("response", sol.Text()); err != nil {
					return err
				}
				if err := r.Set("answer", clean.Answer); err != nil {
					return err
				}
				return r.Set("fired", fired)
			})
		},
	}
	cmd.Flags().StringVar(&inPath, "in", "", "input JSONL file (default stdin)")
	return cmd
}

func worldCountdownCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "countdown",
		Short: "Write the Countdown world's training and validation splits as JSONL",
		Long: `countdown writes <dir>/countdown-train.jsonl (4,096 instances) and
countdown-val.jsonl (1,024), drawn from the Countdown-Tasks-3to4 distribution
(3 or 4 numbers in 1..99, a reachable target in 10..100) with fixed seeds;
no validation instance is a training one. Each line holds the paper's base
prompt, the {"numbers", "target"} ground truth as the answer, data_source,
the numbers, the target and one known solution. Files are written atomically.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			counts, err := countdown.WriteSplits(dir)
			if err != nil {
				return err
			}
			for _, s := range []countdown.SplitSpec{countdown.TrainSplit, countdown.ValidationSplit} {
				c := counts[s.Name]
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d instances (%d with 3 numbers, %d with 4)\n",
					filepath.Join(dir, s.Name+".jsonl"), c[0]+c[1], c[0], c[1])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", filepath.Join("datasets", "countdown"), "directory to write into")
	return cmd
}
