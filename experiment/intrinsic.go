package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/train"
)

// The intrinsic-reward study (paper Sec. 4.1, Figs. 2-3) trains one base
// model with majority voting and each certainty reward, and with ground
// truth as the reference, for the same budget and several seeds. It
// validates every run per problem, so that validation accuracy carries a
// bootstrap confidence interval over problems, and names each run's
// failure mode by a fixed rule from its logs.

// DefaultIntrinsicRewards are the estimators the study compares: majority
// voting, the five certainty rewards of paper Table 1, and ground truth.
var DefaultIntrinsicRewards = []string{
	"majority_voting", "self_certainty", "token_entropy", "trajectory_entropy",
	"probability", "probability_disparity", "ground_truth",
}

// DefaultIntrinsicSeeds are the seeds every reward trains with.
var DefaultIntrinsicSeeds = []uint64{1, 2, 3}

// IntrinsicDefaults are the study's recipe settings, sized so that the 21
// default runs (7 rewards × 3 seeds) take about 5 CPU-minutes: 40 steps of
// 8 prompts × 8 rollouts at three times the default learning rate (at the
// default rate, 100 steps barely move the policy), checkpoints and sample
// dumps every 10 steps, no early stop. Validation is the study's own (see
// IntrinsicOptions.EvalEvery).
var IntrinsicDefaults = []string{
	"trainer.steps=40", "trainer.global_batch=8", "trainer.mini_batch=8",
	"optim.lr=3e-4", "trainer.save_every=10", "trainer.sample_every=10",
	"early_stop.enabled=false",
}

// problemValidationFile holds a run's per-problem validation: one line per
// validation, {"step", "n", "sets": {"<set>": [correct samples per problem]}}.
const problemValidationFile = "problem-validation.jsonl"

// IntrinsicOptions configure the intrinsic-reward study.
type IntrinsicOptions struct {
	Options
	// Model is the base model every run starts from (a suite name or a
	// model directory).
	Model   string
	Rewards []string
	Seeds   []uint64
	// EvalEvery is how often (in steps) the study validates, besides
	// before the first step and after the last; EvalN is the samples per
	// problem (at eval.temperature and eval.top_p of the recipe).
	EvalEvery, EvalN int
}

type intrinsicSettings struct {
	Kind      string   `json:"kind"`
	Recipe    string   `json:"recipe"`
	Defaults  []string `json:"defaults"`
	Overrides []string `json:"overrides"`
	Model     string   `json:"model"`
	Rewards   []string `json:"rewards"`
	Seeds     []uint64 `json:"seeds"`
	EvalEvery int      `json:"eval_every"`
	EvalN     int      `json:"eval_n"`
}

var intrinsicOwned = map[string]string{
	"reward.estimator": "choose rewards with --rewards",
	"seed":             "choose seeds with --seeds",
	"model.base":       "choose the model with --model",
	"eval.every":       "the study validates per problem itself: use --eval-every",
	"eval.n":           "use --eval-n",
	"name":             "runs are named <reward>/seed-<n>",
	"trainer.out_dir":  "runs live in <out>/runs",
}

func intrinsicRunName(est string, seed uint64) string {
	return fmt.Sprintf("%s/seed-%d", est, seed)
}

// PlanIntrinsic checks the options and resolves every run's recipe.
func PlanIntrinsic(o IntrinsicOptions) (*Plan, error) {
	if o.Out == "" {
		return nil, errors.New("intrinsic study: no output directory")
	}
	if o.Model == "" {
		return nil, errors.New("intrinsic study: no base model")
	}
	if len(o.Rewards) == 0 || len(o.Seeds) == 0 {
		return nil, errors.New("intrinsic study: give at least one reward and one seed")
	}
	if o.EvalEvery < 1 || o.EvalN < 1 {
		return nil, fmt.Errorf("intrinsic study: --eval-every %d and --eval-n %d must be >= 1", o.EvalEvery, o.EvalN)
	}
	base, err := baseConfig(o.Options, append(slices.Clone(IntrinsicDefaults), "eval.every=0", "model.base="+o.Model), intrinsicOwned)
	if err != nil {
		return nil, err
	}
	if len(base.Data.Validation) == 0 {
		return nil, errors.New("intrinsic study: the recipe has no data.validation sets")
	}
	if _, err := openModel(o.Model); err != nil {
		return nil, fmt.Errorf("--model %s: %w", o.Model, err)
	}
	seen := map[string]bool{}
	for _, est := range o.Rewards {
		if seen[est] {
			return nil, fmt.Errorf("reward %s given twice", est)
		}
		seen[est] = true
		if _, err := reward.New(est, nil); err != nil {
			return nil, fmt.Errorf("--rewards %s: %w", est, err)
		}
	}
	seenSeed := map[uint64]bool{}
	for _, seed := range o.Seeds {
		if seenSeed[seed] {
			return nil, fmt.Errorf("seed %d given twice", seed)
		}
		seenSeed[seed] = true
	}
	// Seed-major order: a study stopped early has every reward with its
	// first seeds rather than the first rewards with every seed.
	plan := &Plan{}
	for _, seed := range o.Seeds {
		for _, est := range o.Rewards {
			cfg := base
			cfg.Reward = train.RewardConfig{Estimator: est}
			cfg.Seed = seed
			name := intrinsicRunName(est, seed)
			r, err := place(o.Out, cfg, name)
			if err != nil {
				return nil, err
			}
			obs, err := newValObserver(cfg, o.EvalEvery, o.EvalN)
			if err != nil {
				return nil, err
			}
			r.observe = obs
			plan.runs = append(plan.runs, r)
			plan.Runs = append(plan.Runs, PlannedRun{Name: name, Steps: plannedSteps(cfg)})
		}
	}
	return plan, nil
}

// RunIntrinsic trains the study's runs (skipping finished ones, resuming
// interrupted ones) and writes its results.
func RunIntrinsic(ctx context.Context, o IntrinsicOptions) (*IntrinsicReport, error) {
	plan, err := PlanIntrinsic(o)
	if err != nil {
		return nil, err
	}
	st := intrinsicSettings{Kind: "intrinsic", Recipe: o.Recipe, Defaults: IntrinsicDefaults, Overrides: nonNil(o.Overrides), Model: o.Model,
		Rewards: o.Rewards, Seeds: o.Seeds, EvalEvery: o.EvalEvery, EvalN: o.EvalN}
	if err := claimStudy(o.Out, st); err != nil {
		return nil, err
	}
	if err := runAll(ctx, plan.runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportIntrinsic(o.Out)
}

// valObserver validates a run per problem before training, every `every`
// steps and after the last step.
type valObserver struct {
	every int
	n     int
	opts  engine.SampleOptions
	seed  uint64
	sets  []valSet
}

type valSet struct {
	name           string
	prompts, golds []string
}

func newValObserver(cfg train.Config, every, n int) (*valObserver, error) {
	o := &valObserver{every: every, n: n, seed: cfg.Seed,
		opts: engine.SampleOptions{MaxNewTokens: cfg.Rollout.MaxResponseLength, Temperature: cfg.Eval.Temperature, TopP: cfg.Eval.TopP}}
	for _, spec := range cfg.Data.Validation {
		ps, name, err := train.LoadProblems(spec)
		if err != nil {
			return nil, err
		}
		s := valSet{name: name}
		for _, p := range ps {
			s.prompts = append(s.prompts, p.Prompt)
			s.golds = append(s.golds, p.Answer)
		}
		o.sets = append(o.sets, s)
	}
	return o, nil
}

func (o *valObserver) start(ctx context.Context, t *train.Trainer, step int) error {
	if step != 0 && step%o.every != 0 && step != t.Config().Trainer.Steps {
		return nil
	}
	if recorded(filepath.Join(t.Dir(), problemValidationFile), step, func(p problemValidation) int { return p.Step }) && step != 0 {
		return nil
	}
	return o.measure(ctx, t, step)
}

func (o *valObserver) step(ctx context.Context, t *train.Trainer, p train.Progress) error {
	if p.Step%o.every == 0 || p.Step == p.Steps {
		return o.measure(ctx, t, p.Step)
	}
	return nil
}

// problemValidation is one line of problem-validation.jsonl.
type problemValidation struct {
	Step int              `json:"step"`
	N    int              `json:"n"`
	Sets map[string][]int `json:"sets"` // correct samples of each problem
}

func (o *valObserver) measure(ctx context.Context, t *train.Trainer, step int) error {
	m := t.Policy()
	opts := o.opts
	opts.MaxNewTokens = min(opts.MaxNewTokens, m.Engine.Config().MaxPositions-1)
	line := problemValidation{Step: step, N: o.n, Sets: map[string][]int{}}
	g := grade.Default()
	for _, s := range o.sets {
		h := fnv.New64a()
		h.Write([]byte(s.name))
		res, err := sampleGraded(ctx, m, s.prompts, s.golds, o.n, opts, o.seed*0x9e3779b97f4a7c15^h.Sum64(), g)
		if err != nil {
			return fmt.Errorf("validating %s at step %d: %w", s.name, step, err)
		}
		counts := make([]int, len(s.prompts))
		for i, r := range res {
			if r.Correct {
				counts[i/o.n]++
			}
		}
		line.Sets[s.name] = counts
	}
	return appendJSONLine(filepath.Join(t.Dir(), problemValidationFile), line)
}

// appendJSONLine appends one JSON line to path and syncs it, so that a
// killed study loses at most the line being written (which the reader
// then skips).
func appendJSONLine(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("appending to %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readLastPerStep reads a JSONL file of objects with a "step" and keeps the
// last line of each step, in step order; a torn last line is skipped.
func readLastPerStep[T any](path string, stepOf func(T) int) ([]T, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	byStep := map[int]T{}
	lines := splitLines(raw)
	for i, l := range lines {
		var v T
		if err := json.Unmarshal(l, &v); err != nil {
			if i == len(lines)-1 {
				break
			}
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		byStep[stepOf(v)] = v
	}
	steps := make([]int, 0, len(byStep))
	for s := range byStep {
		steps = append(steps, s)
	}
	slices.Sort(steps)
	out := make([]T, len(steps))
	for i, s := range steps {
		out[i] = byStep[s]
	}
	return out, nil
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := slices.Index(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		if i > 0 {
			out = append(out, b[:i])
		}
		b = b[i+1:]
	}
	return out
}

// readSamples reads a run's sample dump of one step.
func readSamples(dir string, step int) ([]sampleRecord, error) {
	path := filepath.Join(dir, train.SamplesDir, "step-"+fmt.Sprintf("%06d", step)+".jsonl")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []sampleRecord
	for i, l := range splitLines(raw) {
		var r sampleRecord
		if err := json.Unmarshal(l, &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// sampleRecord is one rollout of a run's samples/step-N.jsonl.
type sampleRecord struct {
	Step     int     `json:"step"`
	PromptID string  `json:"prompt_id"`
	Prompt   string  `json:"prompt"`
	Gold     string  `json:"gold"`
	Response string  `json:"response"`
	Answer   string  `json:"answer"`
	Reward   float64 `json:"reward"`
	Correct  bool    `json:"correct"`
}

// sampleSteps lists the steps of a run's sample dumps, in order.
func sampleSteps(dir string) []int {
	entries, _ := os.ReadDir(filepath.Join(dir, train.SamplesDir))
	var steps []int
	for _, e := range entries {
		var s int
		if _, err := fmt.Sscanf(e.Name(), "step-%d.jsonl", &s); err == nil {
			steps = append(steps, s)
		}
	}
	slices.Sort(steps)
	return steps
}
