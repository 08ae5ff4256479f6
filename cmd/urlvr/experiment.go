package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/experiment"
)

func init() {
	cmd := &cobra.Command{
		Use:   "experiment",
		Short: "Multi-run studies: Model Collapse Step across models, dataset size and test-time training",
		Long: `experiment runs the paper's multi-run studies. Each study is a directory of
independent training runs (runs/...), a study.json with the settings, and
results.jsonl, results.md and plots/. Running the same command again skips
finished runs and resumes interrupted ones from their last checkpoint.`,
	}
	cmd.AddCommand(experimentMCSCmd(), experimentTTTCmd(), experimentWrongMajorityCmd(), experimentMajKCmd(), experimentIntrinsicCmd(), experimentPerProblemCmd(), experimentSelfVerifyCmd())
	rootCmd.AddCommand(cmd)
}

// studyFlags are the flags both studies share.
type studyFlags struct {
	out, config string
	sets        []string
	jobs        int
	quiet       bool
	reportOnly  bool
}

func (s *studyFlags) register(cmd *cobra.Command, defaultOut string) {
	f := cmd.Flags()
	f.StringVar(&s.out, "out", defaultOut, "study directory (rerun to continue an interrupted study)")
	f.StringVar(&s.config, "config", "", "recipe YAML every run starts from (default: the built-in default recipe)")
	f.StringArrayVar(&s.sets, "set", nil, "override a recipe key in every run, e.g. --set trainer.steps=100 (repeatable)")
	f.IntVar(&s.jobs, "jobs", 1, "runs trained at once")
	f.BoolVar(&s.quiet, "quiet", false, "report only the start and end of each run")
	f.BoolVar(&s.reportOnly, "report-only", false, "write the results of the finished runs in --out without training")
}

func (s *studyFlags) options(errOut io.Writer) experiment.Options {
	return experiment.Options{
		Out: s.out, Recipe: s.config, Overrides: s.sets, Jobs: s.jobs,
		Progress: studyProgress(errOut, s.quiet),
	}
}

func experimentMCSCmd() *cobra.Command {
	var (
		sf             studyFlags
		models         []string
		mvSets, gtSets []string
		gain           string
		robustness     bool
	)
	cmd := &cobra.Command{
		Use:   "mcs",
		Short: "Model Collapse Step of every base model vs its ground-truth RLVR gain (paper Sec. 6)",
		Long: `mcs trains each base model (at least 3) twice: with majority voting until
its reward accuracy falls below 1% (the Model Collapse Step; early_stop on
collapse, at most trainer.steps steps) under the paper's aggressive settings
(one prompt per mini-batch, so global_batch updates per step; 8 rollouts;
the recipe's learning rate), and with ground-truth reward for one epoch of
the training set (--gt-set trainer.steps=S for another budget). It reports
per model the Model Collapse Step (or "none within N"), the token cost of
both runs by the paper's Table 3 accounting (response tokens x rollouts x
steps x batch, with the response length measured at every step), the GT gain
(validation avg@k at the end, or the best, minus the start), the pass@k gain
(pass@256 - pass@1 at the first validation of the majority-voting run, which
validates with 256 samples), and the Spearman and Kendall rank correlations
of each with the GT gain across models, with 95% bootstrap intervals over
models. --robustness adds the paper's Fig. 12: the majority-voting run again
with 16 and 32 rollouts and with mini-batches of 8 prompts and of the whole
batch, and each ranking's agreement with the default. An interrupted study
continues where it stopped when rerun with the same flags.`,
		Example: `  urlvr experiment mcs --set trainer.steps=120 --set optim.lr=1e-3 --set eval.n=8
  urlvr experiment mcs --models mild,clean,undertrained --out studies/mcs-3
  urlvr experiment mcs --mv-set trainer.mini_batch=4 --gt-set optim.lr=1e-4
  urlvr experiment mcs --robustness --mv-set trainer.steps=60
  urlvr experiment mcs --report-only --gain best`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			basis, err := experiment.ParseGainBasis(gain)
			if err != nil {
				return err
			}
			var rep *experiment.MCSReport
			if sf.reportOnly {
				rep, err = experiment.ReportMCS(sf.out, basis)
			} else {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				rep, err = experiment.RunMCS(ctx, experiment.MCSOptions{
					Options: sf.options(cmd.ErrOrStderr()), Models: models,
					MVOverrides: mvSets, GTOverrides: gtSets, Gain: basis, Robustness: robustness,
				})
			}
			if err != nil {
				return err
			}
			return printStudy(cmd.OutOrStdout(), rep.Dir, rep.Files)
		},
	}
	sf.register(cmd, filepath.Join("studies", "mcs"))
	f := cmd.Flags()
	f.StringSliceVar(&models, "models", nil, "base models (suite names or model directories; default: every shipped model)")
	f.StringArrayVar(&mvSets, "mv-set", nil, "override a recipe key in the majority-voting runs only (repeatable)")
	f.StringArrayVar(&gtSets, "gt-set", nil, "override a recipe key in the ground-truth runs only (repeatable)")
	f.StringVar(&gain, "gain", string(experiment.GainFinal), "GT gain to correlate with: final or best validation minus start")
	f.BoolVar(&robustness, "robustness", false, "also rank the models' collapse with 16 and 32 rollouts and mini-batches of 8 and the whole batch (paper Fig. 12)")
	return cmd
}

func experimentTTTCmd() *cobra.Command {
	var (
		sf       studyFlags
		sizes    []int
		seeds    int
		testSets []string
	)
	cmd := &cobra.Command{
		Use:   "ttt",
		Short: "Majority voting on training subsets of growing size and at test time (paper Sec. 5)",
		Long: `ttt trains majority voting on subsets of the recipe's training set (data.subset)
of each size in --sizes (0: the whole set), each size up to 512 with --seeds
seeds (other problems and other rollouts), and on each of --test-sets itself
(test-time training), all for the same number of steps and without early
stopping. Every run validates on the test sets too. It records whether and
when each run collapses (reward accuracy below 1%), its validation trajectory
with bootstrap intervals, its training dynamics (ground-truth and
majority-voting reward, reward accuracy, KL to the start), a summary per size
over the seeds (paper Fig. 6-7), and test-time training against training-set
RL of the same budget on each test set (Fig. 8).`,
		Example: `  urlvr experiment ttt --set trainer.steps=150 --set optim.lr=5e-4
  urlvr experiment ttt --sizes 32,512 --test-sets world:val-easy,world:val-mid
  urlvr experiment ttt --test-sets "" --sizes 16,64,256`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				rep *experiment.TTTReport
				err error
			)
			if sf.reportOnly {
				rep, err = experiment.ReportTTT(sf.out)
			} else {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				var sets []string
				for _, s := range testSets {
					if s != "" {
						sets = append(sets, s)
					}
				}
				rep, err = experiment.RunTTT(ctx, experiment.TTTOptions{
					Options: sf.options(cmd.ErrOrStderr()), Sizes: sizes, Seeds: seeds, TestSets: sets,
				})
			}
			if err != nil {
				return err
			}
			return printStudy(cmd.OutOrStdout(), rep.Dir, rep.Files)
		},
	}
	sf.register(cmd, filepath.Join("studies", "ttt"))
	f := cmd.Flags()
	f.IntSliceVar(&sizes, "sizes", experiment.DefaultSizes, "training subset sizes (0: the whole training set)")
	f.IntVar(&seeds, "seeds", experiment.DefaultSeeds, "runs of each size up to 512, with other seeds")
	f.StringSliceVar(&testSets, "test-sets", experiment.DefaultTestSets, `datasets to train on at test time ("" for none)`)
	return cmd
}

func experimentWrongMajorityCmd() *cobra.Command {
	var (
		sf                  studyFlags
		samples, size, scan int
	)
	cmd := &cobra.Command{
		Use:   "wrong-majority",
		Short: "Majority voting on problems whose base-model majority is wrong (paper Fig. 9)",
		Long: `wrong-majority samples the recipe's base model (model.base) --samples times on
the first --scan problems of the recipe's training set, keeps the --size
problems whose majority answer is wrong (the most confidently wrong first),
and trains majority voting on them for trainer.steps steps without early
stopping, reporting its validation, rewards, reward accuracy and KL over
steps. The selection is made once; rerunning continues the run.`,
		Example: `  urlvr experiment wrong-majority --set model.base=mild --size 32 --samples 64 --scan 2048
  urlvr experiment wrong-majority --report-only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				rep *experiment.WrongMajorityReport
				err error
			)
			if sf.reportOnly {
				rep, err = experiment.ReportWrongMajority(sf.out)
			} else {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				rep, err = experiment.RunWrongMajority(ctx, experiment.WrongMajorityOptions{
					Options: sf.options(cmd.ErrOrStderr()), Samples: samples, Size: size, Scan: scan,
				})
			}
			if err != nil {
				return err
			}
			return printStudy(cmd.OutOrStdout(), rep.Dir, rep.Files)
		},
	}
	sf.register(cmd, filepath.Join("studies", "wrong-majority"))
	f := cmd.Flags()
	f.IntVar(&samples, "samples", 64, "base-model samples per problem the majority is taken over")
	f.IntVar(&size, "size", 32, "wrong-majority problems to train on")
	f.IntVar(&scan, "scan", 2048, "training problems sampled to find them (0: all)")
	return cmd
}

func experimentMajKCmd() *cobra.Command {
	var o experiment.MajKOptions
	cmd := &cobra.Command{
		Use:   "maj-k",
		Short: "A test-time-trained model's avg@k against its base model's maj@k for k up to n (paper Table 9)",
		Long: `maj-k samples --samples responses per problem of every --sets set from the
base model and from the trained one (a model directory, e.g. a test-time
training run's last checkpoint, checkpoints/step-000100 after 100 steps), and tabulates per set and k (powers of two
up to n, or --ks) the base model's maj@k, estimated as the mean over
k-subsets of its samples, against the trained model's avg@k, each with a 95%
bootstrap interval over problems. Samples are saved under --out/samples, so
an interrupted comparison resumes.`,
		Example: `  urlvr experiment maj-k --base mild --trained studies/ttt/runs/test-time-val-easy/checkpoints/step-000100 --sets world:val-easy --samples 1024`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := experiment.RunMajK(ctx, o)
			if err != nil {
				return err
			}
			return printStudy(cmd.OutOrStdout(), rep.Dir, rep.Files)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Out, "out", filepath.Join("studies", "maj-k"), "output directory (rerun to continue)")
	f.StringVar(&o.Base, "base", "base", "base model (suite name or directory)")
	f.StringVar(&o.Trained, "trained", "", "trained model or checkpoint directory")
	f.StringSliceVar(&o.Sets, "sets", experiment.DefaultTestSets, "held-out sets")
	f.IntVar(&o.Samples, "samples", 1024, "samples per problem of each model")
	f.IntSliceVar(&o.Ks, "ks", nil, "k of maj@k (default: powers of two up to --samples)")
	f.IntVar(&o.Draws, "draws", 2000, "random k-subsets per maj@k estimate where there are more")
	f.Float64Var(&o.Temperature, "temperature", 1, "sampling temperature")
	f.IntVar(&o.MaxNew, "max-new-tokens", 96, "response tokens")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the samples and the estimates")
	return cmd
}

func experimentSelfVerifyCmd() *cobra.Command {
	var (
		sf                               studyFlags
		o                                experiment.SelfVerifyOptions
		oracleSets, entropySets, verSets []string
	)
	cmd := &cobra.Command{
		Use:   "self-verify",
		Short: "Self-verification vs trajectory entropy vs the oracle on Countdown, base vs aligned model, P1 vs P2 (paper Sec. 7, Figs. 13-14)",
		Long: `self-verify trains the --base and the --aligned Countdown model with four
rewards: the oracle (the exact Countdown verifier), trajectory entropy, and
self-verification, where after each rollout the current policy is asked
with the verification prompt P1 or P2 (Appendix C.1) whether its expression
is correct and its parsed verdict is the reward. Every condition trains
--seeds seeds on the same budget (steps, batch, rollouts, learning rate)
and is validated by the study per problem (--eval-n samples of each of the
first --eval-problems problems of --eval-set, every --eval-every steps),
scored by the exact Countdown verifier.

It reports per condition the validation accuracy at the start, the best and
the end with the seeds pooled (95% bootstrap intervals over problems), the
mean and spread over seeds, paired differences between the rewards on the
same problems, the ground-truth reward of the rollouts, and for the
self-verification runs the reward accuracy over steps (its minimum and
where: the paper's dip when the policy first exploits its verifier, then
the recovery), the verdict parse rate, the verifier's true and false
positive rates and the verification cost (tokens, seconds, share of the
step time), and draws validation accuracy with its band, ground-truth
reward, reward accuracy and self-verify reward over steps, base and aligned
side by side. Runs are trained seed by seed, so a study stopped early has
every condition's first seeds. Rerun the same command to continue it.`,
		Example: `  nice -n 5 urlvr experiment self-verify --jobs 2
  urlvr experiment self-verify --seeds 1 --set trainer.steps=10 --out studies/sv-quick
  urlvr experiment self-verify --verify-set reward.params.no_verdict_reward=0.5
  urlvr experiment self-verify --report-only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				rep *experiment.SelfVerifyReport
				err error
			)
			if sf.reportOnly {
				rep, err = experiment.ReportSelfVerify(sf.out)
			} else {
				o.Options = sf.options(cmd.ErrOrStderr())
				o.OracleSets, o.EntropySets, o.VerifySets = oracleSets, entropySets, verSets
				plan, perr := experiment.PlanSelfVerify(o)
				if perr != nil {
					return perr
				}
				o.Progress = studyBar(cmd.ErrOrStderr(), plan, sf.quiet)
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				rep, err = experiment.RunSelfVerifyPlan(ctx, o, plan)
			}
			if err != nil {
				return err
			}
			return printStudy(cmd.OutOrStdout(), rep.Dir, rep.Files)
		},
	}
	sf.register(cmd, filepath.Join("studies", "self-verify"))
	f := cmd.Flags()
	f.StringVar(&o.Base, "base", experiment.DefaultSVBase, "base Countdown model (suite name or model directory)")
	f.StringVar(&o.Aligned, "aligned", experiment.DefaultSVAligned, "aligned Countdown model (suite name or model directory)")
	f.IntVar(&o.Seeds, "seeds", experiment.DefaultSVSeeds, "seeds of every condition")
	f.StringVar(&o.EvalSet, "eval-set", experiment.DefaultSVEvalSet, "Countdown set the runs validate on")
	f.IntVar(&o.EvalProblems, "eval-problems", experiment.DefaultSVEvalProblems, "validate on the first this many problems of --eval-set (0: all)")
	f.IntVar(&o.EvalEvery, "eval-every", experiment.DefaultSVEvalEvery, "validate every this many steps (and before the first, after the last)")
	f.IntVar(&o.EvalN, "eval-n", experiment.DefaultSVEvalN, "validation samples per problem (avg@n)")
	f.StringArrayVar(&oracleSets, "oracle-set", nil, "override a recipe key in the oracle runs only (repeatable; not the budget)")
	f.StringArrayVar(&entropySets, "entropy-set", nil, "override a recipe key in the trajectory-entropy runs only (repeatable; not the budget)")
	f.StringArrayVar(&verSets, "verify-set", nil, "override a recipe key in the self-verification runs only, e.g. reward.params.no_verdict_reward=0.5 (repeatable; not the budget)")
	return cmd
}

// printStudy prints the study's results table and the files written.
func printStudy(w io.Writer, dir string, files []string) error {
	table, err := os.ReadFile(filepath.Join(dir, experiment.ResultsTable))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", table)
	fmt.Fprintf(w, "study directory: %s\n", dir)
	for _, f := range files {
		fmt.Fprintf(w, "  %s\n", f)
	}
	return nil
}

// studyProgress prints a line when a run starts, resumes, is skipped or
// ends, and, unless quiet, every tenth step with the key metrics, so that
// the lines of runs trained at once stay readable.
func studyProgress(w io.Writer, quiet bool) func(experiment.Event) {
	return func(e experiment.Event) {
		prefix := fmt.Sprintf("[%d/%d] %s", e.Index, e.Total, e.Run)
		if e.Kind != experiment.RunStep {
			fmt.Fprintf(w, "%s: %s\n", prefix, e.Kind)
			return
		}
		p := e.Step
		if quiet || (p.Step%10 != 0 && p.Step != p.Steps) {
			return
		}
		fmt.Fprintf(w, "%s: step %d/%d  proxy %s  gt %s  reward acc %s  len %.2f  ETA %s\n", prefix, p.Step, p.Steps,
			opt2(p.Row.ProxyReward), opt2(p.Row.GroundTruthReward), opt2(p.Row.RewardAccuracy), p.Row.ResponseLength,
			p.ETA().Round(time.Second))
	}
}
