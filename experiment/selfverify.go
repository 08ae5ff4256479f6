package experiment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urlvr/urlvr/train"
)

// The self-verification study (paper Sec. 7, Figs. 13-14) trains two
// Countdown models, a base and an aligned one, with four rewards for the
// same budget and several seeds: the oracle (the exact Countdown
// verifier), trajectory entropy (an intrinsic reward), and
// self-verification with the verification prompts P1 and P2 of Appendix
// C.1, where the current policy judges its own solutions and its parsed
// verdict is the reward. It asks whether the verifier's reward keeps
// improving where the intrinsic one does not (Fig. 13), whether its
// reward accuracy dips when the policy first exploits its verifier and
// then recovers, and whether the aligned model is robust to the prompt
// while the base model needs P2 (Fig. 14).

// The rewards of the study, as its run names spell them.
const (
	SVOracle  = "oracle"
	SVEntropy = "entropy"
	SVP1      = "verify-p1"
	SVP2      = "verify-p2"
)

// SVRewards are the study's rewards in the order tables and plots list
// them.
var SVRewards = []string{SVOracle, SVEntropy, SVP1, SVP2}

// The two model roles of the study.
const (
	SVBase    = "base"
	SVAligned = "aligned"
)

// svEstimator is each reward's estimator and, for self-verification, its
// prompt.
var svEstimator = map[string]struct{ estimator, prompt string }{
	SVOracle:  {"ground_truth", ""},
	SVEntropy: {"trajectory_entropy", ""},
	SVP1:      {"self_verification", "P1"},
	SVP2:      {"self_verification", "P2"},
}

// DefaultSVBase and DefaultSVAligned are the Countdown models of the
// world the study trains by default.
var (
	DefaultSVBase    = "countdown-base"
	DefaultSVAligned = "countdown-aligned"
)

// DefaultSVSeeds is how many seeds each condition trains with.
const DefaultSVSeeds = 3

// DefaultSVEvalProblems is how many problems of the validation split the
// runs validate on: the first of the split, which is itself a random draw
// from the Countdown distribution.
const DefaultSVEvalProblems = 128

// DefaultSVEvalSet is the split the validation problems are taken from.
const DefaultSVEvalSet = "countdown:val"

// SVDefaults are the study's recipe settings, applied before --set: every
// run trains on the world's Countdown training split for the same budget,
// without early stopping (a collapse stop would give the runs unequal
// budgets), validating every few steps. They are sized so that the 24
// default runs finish within 45 minutes on two idle cores with --jobs 2
// (docs/findings.md F7 gives the measured step costs).
var SVDefaults = []string{
	"data.train=countdown:train",
	"trainer.steps=24", "trainer.global_batch=8", "trainer.mini_batch=8",
	"rollout.n=4", "optim.lr=3e-4",
	"rollout.max_prompt_length=1024", "rollout.max_response_length=64",
	"eval.every=6", "eval.n=2",
	"trainer.save_every=6", "trainer.sample_every=0",
	"early_stop.enabled=false",
}

// svBudgetKeys are the keys that make the budget every condition shares;
// a per-condition override may not change them.
var svBudgetKeys = []string{"trainer.steps", "trainer.epochs", "trainer.global_batch", "trainer.mini_batch", "trainer.ppo_epochs", "rollout.n", "optim.lr"}

var svOwned = map[string]string{
	"model.base":      "choose the models with --base and --aligned",
	"reward":          "the study sets each run's reward; set verification parameters with --verify-set reward.params.<key>=<value>",
	"seed":            "choose the number of seeds with --seeds",
	"data.validation": "the study validates on the first --eval-problems problems of --eval-set",
	"name":            "runs are named <model>/<reward>/seed-<n>",
	"trainer.out_dir": "runs live in <out>/runs",
}

// SelfVerifyOptions configure the study.
type SelfVerifyOptions struct {
	Options
	// Base and Aligned are the two models (suite names or model
	// directories).
	Base, Aligned string
	// Seeds is how many seeds each condition trains with: seed s shifts
	// the recipe's seed by s-1, the same shift in every condition, so the
	// conditions of one seed start from the same draws.
	Seeds int
	// EvalSet is the validation split and EvalProblems how many of its
	// first problems the runs validate on (0: all).
	EvalSet      string
	EvalProblems int
	// Per-reward overrides, applied after Overrides to that reward's runs
	// only; VerifySets go to both self-verification rewards. They may not
	// change the budget (svBudgetKeys).
	OracleSets, EntropySets, VerifySets []string
}

// svSettings is what study.json records.
type svSettings struct {
	Kind         string   `json:"kind"`
	Recipe       string   `json:"recipe"`
	Defaults     []string `json:"defaults"`
	Overrides    []string `json:"overrides"`
	OracleSets   []string `json:"oracle_sets"`
	EntropySets  []string `json:"entropy_sets"`
	VerifySets   []string `json:"verify_sets"`
	Base         string   `json:"base"`
	Aligned      string   `json:"aligned"`
	Seeds        int      `json:"seeds"`
	EvalSet      string   `json:"eval_set"`
	EvalProblems int      `json:"eval_problems"`
}

const svKind = "self-verify"

// svValidationFile is the study's validation set, written into the study
// directory so that every run validates on the same problems.
func svValidationFile(out string) string { return filepath.Join(out, "validation.jsonl") }

// svRunName names a run: <model>/<reward>/seed-<s>.
func svRunName(model, rew string, seed int) string {
	return fmt.Sprintf("%s/%s/seed-%d", model, rew, seed)
}

// svPlanned is one run of the study with its condition.
type svPlanned struct {
	Model, Reward string
	Seed          int
}

// svPlan lists the runs seed-major, so that a study stopped early has
// every condition with its first seeds rather than the first conditions
// with every seed.
func svPlan(seeds int) []svPlanned {
	var out []svPlanned
	for s := 1; s <= seeds; s++ {
		for _, m := range []string{SVBase, SVAligned} {
			for _, r := range SVRewards {
				out = append(out, svPlanned{Model: m, Reward: r, Seed: s})
			}
		}
	}
	return out
}

// PlanSelfVerify checks the options and resolves every run's recipe, so
// that bad input is refused before any run trains: a model that cannot be
// opened or whose context cannot hold the verification prompt, fewer than
// one seed, a key the study sets itself, a per-reward override of the
// budget.
func PlanSelfVerify(o SelfVerifyOptions) (*Plan, error) {
	if o.Out == "" {
		return nil, errors.New("self-verify study: no output directory")
	}
	if o.Seeds < 1 {
		return nil, fmt.Errorf("self-verify study: %d seeds; want at least 1", o.Seeds)
	}
	if o.EvalProblems < 0 {
		return nil, fmt.Errorf("self-verify study: --eval-problems %d; want >= 0 (0: the whole set)", o.EvalProblems)
	}
	if o.EvalSet == "" {
		return nil, errors.New("self-verify study: no validation set (--eval-set)")
	}
	if o.Base == "" || o.Aligned == "" {
		return nil, fmt.Errorf("self-verify study: base model %q, aligned model %q; want both", o.Base, o.Aligned)
	}
	if o.Base == o.Aligned {
		return nil, fmt.Errorf("self-verify study: the base and the aligned model are both %q", o.Base)
	}
	perReward := map[string][]string{SVOracle: o.OracleSets, SVEntropy: o.EntropySets, SVP1: o.VerifySets, SVP2: o.VerifySets}
	flags := map[string]string{SVOracle: "--oracle-set", SVEntropy: "--entropy-set", SVP1: "--verify-set"}
	for _, rew := range []string{SVOracle, SVEntropy, SVP1} {
		for _, ov := range perReward[rew] {
			key, _, _ := strings.Cut(ov, "=")
			key = strings.TrimSpace(key)
			for _, b := range svBudgetKeys {
				if key == b || strings.HasPrefix(b, key+".") {
					return nil, fmt.Errorf("%s %s: every condition trains on the same budget; change %s for all of them with --set", flags[rew], ov, b)
				}
			}
			if rew == SVP1 && key != "reward" && strings.HasPrefix(key, "reward.params.") {
				if p := strings.TrimPrefix(key, "reward.params."); p == "prompt" || p == "template" {
					return nil, fmt.Errorf("--verify-set %s: the study compares the prompts P1 and P2 itself", ov)
				}
				continue
			}
			for k, why := range svOwned {
				if key == k || strings.HasPrefix(k, key+".") || strings.HasPrefix(key, k+".") {
					return nil, fmt.Errorf("%s %s: the study sets %s itself (%s)", flags[rew], ov, k, why)
				}
			}
		}
	}
	// The global overrides may not set what the study sets.
	if _, err := baseConfig(o.Options, SVDefaults, svOwned); err != nil {
		return nil, err
	}
	// The recipe's own self-verification parameters (no_verdict_reward)
	// carry over to the verification runs; its prompt does not.
	recipe, err := train.LoadConfig(o.Recipe, nil)
	if err != nil {
		return nil, err
	}
	var recipeParams map[string]any
	if recipe.Reward.Estimator == "self_verification" {
		recipeParams = maps.Clone(recipe.Reward.Params)
		delete(recipeParams, "prompt")
		delete(recipeParams, "template")
	}
	models := map[string]string{SVBase: o.Base, SVAligned: o.Aligned}
	for _, role := range []string{SVBase, SVAligned} {
		m, err := openModel(models[role])
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", role, err)
		}
		// Every self-verification run of this model must fit the
		// verification prompt; the trainer would only find out when the
		// run starts, after other runs trained.
		for _, rew := range []string{SVP1, SVP2} {
			cfg, err := svConfig(o, rew, perReward[rew], recipeParams, models[role], 1, "")
			if err != nil {
				return nil, err
			}
			if err := train.CheckSelfVerification(cfg, m); err != nil {
				return nil, fmt.Errorf("--%s %s: %w", role, models[role], err)
			}
		}
	}
	val, err := filepath.Abs(svValidationFile(o.Out))
	if err != nil {
		return nil, err
	}
	plan := &Plan{}
	for _, pr := range svPlan(o.Seeds) {
		cfg, err := svConfig(o, pr.Reward, perReward[pr.Reward], recipeParams, models[pr.Model], pr.Seed, val)
		if err != nil {
			return nil, err
		}
		name := svRunName(pr.Model, pr.Reward, pr.Seed)
		r, err := place(o.Out, cfg, name)
		if err != nil {
			return nil, err
		}
		plan.runs = append(plan.runs, r)
		plan.Runs = append(plan.Runs, PlannedRun{Name: name, Steps: plannedSteps(cfg)})
	}
	return plan, nil
}

// svConfig resolves one run's recipe: the study's defaults, the user's
// overrides, the reward's own overrides, then what the study sets.
func svConfig(o SelfVerifyOptions, rew string, sets []string, recipeParams map[string]any, model string, seed int, validation string) (train.Config, error) {
	cfg, err := train.LoadConfig(o.Recipe, append(append(slices.Clone(SVDefaults), o.Overrides...), sets...))
	if err != nil {
		return cfg, fmt.Errorf("%s runs: %w", rew, err)
	}
	est := svEstimator[rew]
	params := map[string]any{}
	if est.estimator == "self_verification" {
		maps.Copy(params, recipeParams)
		// The reward's own parameters are the reward.params keys of its
		// overrides, read over an empty recipe so the recipe's do not
		// leak in.
		own, err := train.LoadConfig("", sets)
		if err != nil {
			return cfg, fmt.Errorf("%s runs: %w", rew, err)
		}
		maps.Copy(params, own.Reward.Params)
		params["prompt"] = est.prompt
	}
	cfg.Reward.Estimator, cfg.Reward.Params = est.estimator, params
	if len(params) == 0 {
		cfg.Reward.Params = nil
	}
	cfg.Model.Base = model
	cfg.Seed += uint64(seed - 1)
	if validation != "" {
		cfg.Data.Validation = []string{validation}
	}
	if cfg.Eval.Every < 1 {
		return cfg, errors.New("self-verify study: the runs must validate (eval.every >= 1) to draw the accuracy curves")
	}
	return cfg, nil
}

// writeSVValidation writes the study's validation set once: the first n
// problems of set (all when n is 0), with their prompts, in the layout the
// data loader reads.
func writeSVValidation(out, set string, n int) error {
	path := svValidationFile(out)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	ps, _, err := train.LoadProblems(set)
	if err != nil {
		return fmt.Errorf("--eval-set: %w", err)
	}
	if n > 0 && n < len(ps) {
		ps = ps[:n]
	}
	var lines []any
	for _, p := range ps {
		if p.Countdown == nil {
			return fmt.Errorf("--eval-set %s: problem %q is not a Countdown instance (nums, target)", set, p.ID)
		}
		lines = append(lines, map[string]any{"id": p.ID, "nums": p.Countdown.Numbers, "target": p.Countdown.Target, "prompt": p.Prompt})
	}
	return writeJSONL(path, lines)
}

// RunSelfVerify trains the study's runs (skipping finished ones, resuming
// interrupted ones) and writes its results.
func RunSelfVerify(ctx context.Context, o SelfVerifyOptions) (*SelfVerifyReport, error) {
	plan, err := PlanSelfVerify(o)
	if err != nil {
		return nil, err
	}
	return RunSelfVerifyPlan(ctx, o, plan)
}

// RunSelfVerifyPlan is RunSelfVerify with the plan PlanSelfVerify made of
// o beforehand (a progress bar is sized to it).
func RunSelfVerifyPlan(ctx context.Context, o SelfVerifyOptions, plan *Plan) (*SelfVerifyReport, error) {
	if err := claimStudy(o.Out, svSettingsOf(o)); err != nil {
		return nil, err
	}
	if err := writeSVValidation(o.Out, o.EvalSet, o.EvalProblems); err != nil {
		return nil, err
	}
	if err := runAll(ctx, plan.runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportSelfVerify(o.Out)
}

func svSettingsOf(o SelfVerifyOptions) svSettings {
	return svSettings{Kind: svKind, Recipe: o.Recipe, Defaults: SVDefaults, Overrides: nonNil(o.Overrides),
		OracleSets: nonNil(o.OracleSets), EntropySets: nonNil(o.EntropySets), VerifySets: nonNil(o.VerifySets),
		Base: o.Base, Aligned: o.Aligned, Seeds: o.Seeds, EvalSet: o.EvalSet, EvalProblems: o.EvalProblems}
}
