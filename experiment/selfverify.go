package experiment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/task/countdown"
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
const DefaultSVEvalProblems = 256

// DefaultSVEvalSet is the split the validation problems are taken from.
const DefaultSVEvalSet = "countdown:val"

// DefaultSVEvalEvery and DefaultSVEvalN are how often the study validates
// and with how many samples per problem.
const (
	DefaultSVEvalEvery = 10
	DefaultSVEvalN     = 4
)

// SVDefaults are the study's recipe settings, applied before --set: every
// run trains on the world's Countdown training split for the same budget,
// 60 steps of 16 prompts × 8 rollouts at learning rate 2e-4, without
// early stopping (a collapse stop would give the runs unequal budgets).
// The rate is the one of 1e-3, 5e-4 and 2e-4 at which ground-truth RL on
// countdown-base rose steadily in a 30-step pilot (at 1e-3 even the
// oracle's reward fell to 0). Sized so that the 24 default runs take
// about 20 minutes on two idle cores with --jobs 2 (docs/findings.md F7
// gives the measured step costs).
var SVDefaults = []string{
	"data.train=countdown:train",
	"trainer.steps=60", "trainer.global_batch=16", "trainer.mini_batch=16",
	"rollout.n=8", "optim.lr=2e-4",
	"rollout.max_prompt_length=1024", "rollout.max_response_length=96",
	"trainer.save_every=10", "trainer.sample_every=50",
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
	"eval.every":      "the study validates per problem itself: use --eval-every",
	"eval.n":          "use --eval-n",
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
	// first problems the runs validate on (0: all). The study validates
	// every run itself, per problem, before the first step, every
	// EvalEvery steps and after the last, with EvalN samples per problem
	// (see svObserver), so that accuracy carries a bootstrap interval over
	// problems with the seeds pooled and conditions compare paired on the
	// same problems.
	EvalSet          string
	EvalProblems     int
	EvalEvery, EvalN int
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
	EvalEvery    int      `json:"eval_every"`
	EvalN        int      `json:"eval_n"`
}

const svKind = "self-verify"

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
	if o.EvalEvery < 1 || o.EvalN < 1 {
		return nil, fmt.Errorf("self-verify study: --eval-every %d and --eval-n %d; want both >= 1", o.EvalEvery, o.EvalN)
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
			cfg, err := svConfig(o, rew, perReward[rew], recipeParams, models[role], 1)
			if err != nil {
				return nil, err
			}
			if err := train.CheckSelfVerification(cfg, m); err != nil {
				return nil, fmt.Errorf("--%s %s: %w", role, models[role], err)
			}
		}
	}
	val, err := svValidationProblems(o.EvalSet, o.EvalProblems)
	if err != nil {
		return nil, err
	}
	plan := &Plan{}
	for _, pr := range svPlan(o.Seeds) {
		cfg, err := svConfig(o, pr.Reward, perReward[pr.Reward], recipeParams, models[pr.Model], pr.Seed)
		if err != nil {
			return nil, err
		}
		name := svRunName(pr.Model, pr.Reward, pr.Seed)
		r, err := place(o.Out, cfg, name)
		if err != nil {
			return nil, err
		}
		r.observe = newSVObserver(cfg, o.EvalEvery, o.EvalN, pr.Seed, val)
		plan.runs = append(plan.runs, r)
		plan.Runs = append(plan.Runs, PlannedRun{Name: name, Steps: plannedSteps(cfg)})
	}
	return plan, nil
}

// svConfig resolves one run's recipe: the study's defaults, the user's
// overrides, the reward's own overrides, then what the study sets.
func svConfig(o SelfVerifyOptions, rew string, sets []string, recipeParams map[string]any, model string, seed int) (train.Config, error) {
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
	// The study validates itself (svObserver); the trainer does not.
	cfg.Data.Validation, cfg.Eval.Every = nil, 0
	return cfg, nil
}

// svValidationProblems are the first n problems of set (all when n is
// 0), each a Countdown instance.
func svValidationProblems(set string, n int) ([]train.Problem, error) {
	ps, _, err := train.LoadProblems(set)
	if err != nil {
		return nil, fmt.Errorf("--eval-set: %w", err)
	}
	if n > 0 && n < len(ps) {
		ps = ps[:n]
	}
	for _, p := range ps {
		if p.Countdown == nil {
			return nil, fmt.Errorf("--eval-set %s: problem %q is not a Countdown instance (nums, target)", set, p.ID)
		}
	}
	return ps, nil
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
	if err := runAll(ctx, plan.runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportSelfVerify(o.Out)
}

func svSettingsOf(o SelfVerifyOptions) svSettings {
	return svSettings{Kind: svKind, Recipe: o.Recipe, Defaults: SVDefaults, Overrides: nonNil(o.Overrides),
		OracleSets: nonNil(o.OracleSets), EntropySets: nonNil(o.EntropySets), VerifySets: nonNil(o.VerifySets),
		Base: o.Base, Aligned: o.Aligned, Seeds: o.Seeds, EvalSet: o.EvalSet, EvalProblems: o.EvalProblems,
		EvalEvery: o.EvalEvery, EvalN: o.EvalN}
}

// svObserver validates a run of the study per problem: eval.n samples of
// every validation problem at the recipe's eval temperature and top-p,
// each scored by the exact Countdown verifier, before the first step,
// every `every` steps and after the last. Its draws depend on the seed
// index only, so the runs of one seed start from the same measurement
// whatever their reward.
type svObserver struct {
	every, n int
	opts     engine.SampleOptions
	seed     uint64
	problems []train.Problem
}

// svValidationSet is the name the study's per-problem validation lines
// give their set.
const svValidationSet = "countdown"

func newSVObserver(cfg train.Config, every, n, seed int, problems []train.Problem) *svObserver {
	return &svObserver{every: every, n: n, seed: uint64(seed), problems: problems,
		opts: engine.SampleOptions{MaxNewTokens: cfg.Rollout.MaxResponseLength, Temperature: cfg.Eval.Temperature, TopP: cfg.Eval.TopP}}
}

func (o *svObserver) due(step, last int) bool { return step == 0 || step%o.every == 0 || step == last }

func (o *svObserver) start(ctx context.Context, t *train.Trainer, step int) error {
	if !o.due(step, t.Config().Trainer.Steps) {
		return nil
	}
	if recorded(filepath.Join(t.Dir(), problemValidationFile), step, func(p problemValidation) int { return p.Step }) {
		return nil
	}
	return o.measure(ctx, t, step)
}

func (o *svObserver) step(ctx context.Context, t *train.Trainer, p train.Progress) error {
	if !o.due(p.Step, p.Steps) {
		return nil
	}
	return o.measure(ctx, t, p.Step)
}

func (o *svObserver) measure(ctx context.Context, t *train.Trainer, step int) error {
	m := t.Policy()
	opts := o.opts
	opts.MaxNewTokens = min(opts.MaxNewTokens, m.Engine.Config().MaxPositions-1)
	opts.StopTokens = m.StopTokens()
	opts.Seed = o.seed*0x9e3779b97f4a7c15 ^ 0x5e1f
	ids := make([][]int, 0, len(o.problems)*o.n)
	for _, p := range o.problems {
		enc := m.EncodePrompt(p.Prompt)
		for range o.n {
			ids = append(ids, enc)
		}
	}
	gens, err := m.Engine.SampleChunks(ctx, ids, opts, 512)
	if err != nil {
		return fmt.Errorf("validating at step %d: %w", step, err)
	}
	counts := make([]int, len(o.problems))
	for i, g := range gens {
		p := o.problems[i/o.n]
		if countdown.Verify(m.Response(g.Tokens), p.Countdown.Numbers, p.Countdown.Target).Outcome == countdown.Correct {
			counts[i/o.n]++
		}
	}
	line := problemValidation{Step: step, N: o.n, Sets: map[string][]int{svValidationSet: counts}}
	return appendJSONLine(filepath.Join(t.Dir(), problemValidationFile), line)
}
