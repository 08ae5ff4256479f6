package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/train"
)

// The per-problem study (paper Sec. 4.2, Figs. 4, 5, 15, Tables 4-5)
// trains a fresh copy of the base model on one problem at a time (batch 1,
// N rollouts, many epochs) and records, after every epoch, the greedy
// answer's correctness and the policy's confidence in it, whether the
// highest-reward rollout was correct (the "green wave"), the greedy
// correctness of held-out problems (cross-problem generalisation), and for
// a few problems p_maj, the probability of the majority answer, from many
// samples (the sharpening recursion of Theorem 1).

// PerProblemDefaults are the study's recipe settings: batch 1 with 8
// rollouts (paper Sec. 4.2), the default learning rate (at 5e-4 a single
// update moves this small model from one whole answer to another, and
// most problems flip from correct to wrong), a checkpoint every 10 epochs
// and every rollout dumped (the green wave reads them).
var PerProblemDefaults = []string{
	"trainer.global_batch=1", "trainer.mini_batch=1", "rollout.n=8",
	"optim.lr=1e-4", "trainer.save_every=10", "trainer.sample_every=1",
	"trainer.keep_last=1", "early_stop.enabled=false", "eval.every=0",
}

// PerProblemOptions configure the per-problem study.
type PerProblemOptions struct {
	Options
	Model     string
	Estimator string
	Epochs    int
	// Set is the dataset the problems come from; Problems of them are
	// chosen, half with a correct and half with a wrong initial majority
	// (over SelectSamples samples at T=1), unless IDs names them.
	Set           string
	Problems      int
	IDs           []string
	SelectSamples int
	// Confidence is the number of samples (T=1) whose agreement with the
	// greedy answer measures the policy's confidence in it, every epoch.
	Confidence int
	// Heldout problems of HeldoutSet, not trained on, are decoded greedily
	// every HeldoutEvery epochs (the cross-problem study of Fig. 5).
	HeldoutSet   string
	Heldout      int
	HeldoutEvery int
	// PMajProblems of the chosen problems (the first ones) get p_maj
	// estimated from PMajSamples samples at the PMajSteps epochs.
	PMajProblems int
	PMajSamples  int
	PMajSteps    []int
	// Seed picks the problems and seeds every run.
	Seed uint64
}

// DefaultPMajSteps are the epochs p_maj is measured at: every one of the
// first ten (paper Table 4), every fifth to 50 (Table 5), then sparser.
var DefaultPMajSteps = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 100}

type perProblemSettings struct {
	Kind          string   `json:"kind"`
	Recipe        string   `json:"recipe"`
	Defaults      []string `json:"defaults"`
	Overrides     []string `json:"overrides"`
	Model         string   `json:"model"`
	Estimator     string   `json:"estimator"`
	Epochs        int      `json:"epochs"`
	Set           string   `json:"set"`
	Problems      int      `json:"problems"`
	IDs           []string `json:"ids"`
	SelectSamples int      `json:"select_samples"`
	Confidence    int      `json:"confidence"`
	HeldoutSet    string   `json:"heldout_set"`
	Heldout       int      `json:"heldout"`
	HeldoutEvery  int      `json:"heldout_every"`
	PMajProblems  int      `json:"pmaj_problems"`
	PMajSamples   int      `json:"pmaj_samples"`
	PMajSteps     []int    `json:"pmaj_steps"`
	Seed          uint64   `json:"seed"`
}

var perProblemOwned = map[string]string{
	"reward.estimator":     "use --estimator",
	"model.base":           "use --model",
	"data.train":           "each run trains on its one problem",
	"data.subset":          "each run trains on its one problem",
	"trainer.steps":        "use --epochs",
	"trainer.epochs":       "use --epochs",
	"trainer.global_batch": "batch 1: one problem",
	"seed":                 "use --seed",
	"name":                 "runs are named after their problem",
	"trainer.out_dir":      "runs live in <out>/runs",
}

// SelectedProblem is one problem of the study with its initial majority.
type SelectedProblem struct {
	ID       string  `json:"id"`
	Run      string  `json:"run"` // run directory name under runs/
	Prompt   string  `json:"prompt"`
	Answer   string  `json:"answer"`
	Family   string  `json:"family"`
	Majority string  `json:"majority"`  // initial majority answer
	MajShare float64 `json:"maj_share"` // its share of the samples
	MajRight bool    `json:"maj_right"`
}

// perProblemFile holds a run's per-epoch observations.
const perProblemFile = "per-problem.jsonl"

// epochObservation is one line of per-problem.jsonl: the policy after
// Step epochs.
type epochObservation struct {
	Step          int    `json:"step"`
	GreedyAnswer  string `json:"greedy_answer"`
	GreedyCorrect bool   `json:"greedy_correct"`
	// Confidence is the share of the confidence samples whose answer is
	// equivalent to the greedy answer.
	Confidence float64 `json:"confidence"`
	// Heldout is the greedy correctness of each held-out problem, when
	// measured at this epoch.
	Heldout []bool `json:"heldout,omitempty"`
	// PMaj, when measured: the share of the majority answer among the
	// p_maj samples, the majority answer, and whether it is correct.
	PMaj        *float64 `json:"pmaj,omitempty"`
	PMajAnswer  string   `json:"pmaj_answer,omitempty"`
	PMajCorrect bool     `json:"pmaj_correct,omitempty"`
}

func (o *PerProblemOptions) check() error {
	if o.Out == "" {
		return errors.New("per-problem study: no output directory")
	}
	switch {
	case o.Model == "":
		return errors.New("per-problem study: no base model")
	case o.Epochs < 1:
		return fmt.Errorf("per-problem study: --epochs %d must be >= 1", o.Epochs)
	case o.Problems < 1 && len(o.IDs) == 0:
		return fmt.Errorf("per-problem study: --problems %d must be >= 1", o.Problems)
	case o.SelectSamples < 1 || o.Confidence < 1:
		return errors.New("per-problem study: --select-samples and --confidence must be >= 1")
	case o.Heldout < 0 || (o.Heldout > 0 && o.HeldoutEvery < 1):
		return errors.New("per-problem study: --heldout must be >= 0 and --heldout-every >= 1")
	case o.PMajProblems < 0 || (o.PMajProblems > 0 && o.PMajSamples < 1):
		return errors.New("per-problem study: --pmaj-problems must be >= 0 and --pmaj-samples >= 1")
	}
	if _, err := reward.New(o.Estimator, nil); err != nil {
		return fmt.Errorf("--estimator: %w", err)
	}
	for _, s := range o.PMajSteps {
		if s < 0 || s > o.Epochs {
			return fmt.Errorf("--pmaj-steps %d: must be in [0, --epochs %d]", s, o.Epochs)
		}
	}
	return nil
}

// PlanPerProblem checks the options, chooses the problems (sampling the
// base model when IDs does not name them) and resolves every run's recipe.
// It returns the plan and the problems.
func PlanPerProblem(ctx context.Context, o PerProblemOptions) (*Plan, []SelectedProblem, error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	base, err := baseConfig(o.Options, append(slices.Clone(PerProblemDefaults), "model.base="+o.Model,
		"reward.estimator="+o.Estimator, fmt.Sprintf("trainer.steps=%d", o.Epochs), fmt.Sprintf("seed=%d", o.Seed)), perProblemOwned)
	if err != nil {
		return nil, nil, err
	}
	pool, _, err := train.LoadProblems(o.Set)
	if err != nil {
		return nil, nil, err
	}
	m, err := openModel(o.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("--model %s: %w", o.Model, err)
	}
	chosen, err := loadOrSelect(ctx, o, m, pool, base)
	if err != nil {
		return nil, nil, err
	}
	heldout, err := heldoutProblems(o, chosen)
	if err != nil {
		return nil, nil, err
	}
	plan := &Plan{}
	for i, p := range chosen {
		cfg := base
		cfg.Data.Train = filepath.Join(o.Out, "problems", p.Run+".jsonl")
		cfg.Data.Validation = nil
		r, err := place(o.Out, cfg, p.Run)
		if err != nil {
			return nil, nil, err
		}
		r.observe = &problemObserver{problem: p, cfg: cfg, opts: o, heldout: heldout, pmaj: i < o.PMajProblems}
		plan.runs = append(plan.runs, r)
		plan.Runs = append(plan.Runs, PlannedRun{Name: p.Run, Steps: o.Epochs})
	}
	plan.problems = chosen
	return plan, chosen, nil
}

// selectionFile records the chosen problems in the study directory, so
// that a resumed study does not sample the base model again.
const selectionFile = "problems.json"

func loadOrSelect(ctx context.Context, o PerProblemOptions, m *basemodel.Model, pool []train.Problem, cfg train.Config) ([]SelectedProblem, error) {
	if raw, err := os.ReadFile(filepath.Join(o.Out, selectionFile)); err == nil {
		var chosen []SelectedProblem
		if err := json.Unmarshal(raw, &chosen); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(o.Out, selectionFile), err)
		}
		return chosen, nil
	}
	var cands []train.Problem
	if len(o.IDs) > 0 {
		for _, id := range o.IDs {
			i := slices.IndexFunc(pool, func(p train.Problem) bool { return p.ID == id })
			if i < 0 {
				return nil, fmt.Errorf("problem %q is not in %s (its ids look like %q)", id, o.Set, pool[0].ID)
			}
			if slices.ContainsFunc(cands, func(p train.Problem) bool { return p.ID == id }) {
				return nil, fmt.Errorf("problem %q given twice", id)
			}
			cands = append(cands, pool[i])
		}
	} else {
		cands = slices.Clone(pool)
	}
	maj, err := initialMajorities(ctx, m, cands, o.SelectSamples, cfg.Rollout.MaxResponseLength, o.Seed)
	if err != nil {
		return nil, err
	}
	var right, wrong []SelectedProblem
	for i, p := range cands {
		sp := SelectedProblem{ID: p.ID, Run: runName(p.ID), Prompt: p.Prompt, Answer: p.Answer, Family: p.Source,
			Majority: maj[i].answer, MajShare: maj[i].share, MajRight: maj[i].right}
		if sp.MajRight {
			right = append(right, sp)
		} else {
			wrong = append(wrong, sp)
		}
	}
	if len(o.IDs) > 0 {
		return interleave(right, wrong, len(cands)), nil
	}
	// Half of each kind, drawn at random (seeded), or as many as there are.
	rng := rand.New(rand.NewPCG(o.Seed, 0x5e1ec7))
	rng.Shuffle(len(right), func(i, j int) { right[i], right[j] = right[j], right[i] })
	rng.Shuffle(len(wrong), func(i, j int) { wrong[i], wrong[j] = wrong[j], wrong[i] })
	nw := min(len(wrong), o.Problems/2)
	nr := min(len(right), o.Problems-nw)
	nw = min(len(wrong), o.Problems-nr)
	if nr+nw < o.Problems {
		return nil, fmt.Errorf("%s has only %d problems; --problems %d", o.Set, nr+nw, o.Problems)
	}
	return interleave(right[:nr], wrong[:nw], o.Problems), nil
}

// interleave alternates wrong- and right-majority problems, so that the
// first few (those with p_maj measured) include both kinds.
func interleave(right, wrong []SelectedProblem, n int) []SelectedProblem {
	var out []SelectedProblem
	for i := 0; len(out) < n && (i < len(right) || i < len(wrong)); i++ {
		if i < len(wrong) {
			out = append(out, wrong[i])
		}
		if i < len(right) && len(out) < n {
			out = append(out, right[i])
		}
	}
	return out
}

func runName(id string) string {
	return strings.Trim(unsafeName.ReplaceAllString(id, "_"), "_")
}

type majority struct {
	answer string
	share  float64
	right  bool
}

// initialMajorities samples n responses (T=1) to each problem and returns
// each problem's majority answer over the grader's equivalence classes.
func initialMajorities(ctx context.Context, m *basemodel.Model, ps []train.Problem, n, maxNew int, seed uint64) ([]majority, error) {
	var prompts, golds []string
	for _, p := range ps {
		prompts = append(prompts, p.Prompt)
		golds = append(golds, p.Answer)
	}
	g := grade.Default()
	res, err := sampleGraded(ctx, m, prompts, golds, n, engine.SampleOptions{MaxNewTokens: min(maxNew, m.Engine.Config().MaxPositions-1), Temperature: 1}, seed^0x1417, g)
	if err != nil {
		return nil, fmt.Errorf("initial majorities: %w", err)
	}
	out := make([]majority, len(ps))
	for i := range ps {
		out[i] = majorityOf(res[i*n:(i+1)*n], golds[i], g)
	}
	return out, nil
}

// majorityOf finds the largest class of equivalent answers among samples;
// samples without an answer count in the denominator only.
func majorityOf(samples []sampled, gold string, g *grade.Grader) majority {
	answers := make([]string, len(samples))
	for i, s := range samples {
		answers[i] = s.Answer
	}
	part := g.Classes(answers)
	best := -1
	for c, size := range part.Size {
		if best < 0 || size > part.Size[best] {
			best = c
		}
	}
	if best < 0 || len(samples) == 0 {
		return majority{}
	}
	rep := part.Rep[best]
	return majority{answer: rep, share: float64(part.Size[best]) / float64(len(samples)), right: g.Equivalent(rep, gold)}
}

// heldoutProblems are the first o.Heldout problems of o.HeldoutSet that
// are not trained on.
func heldoutProblems(o PerProblemOptions, chosen []SelectedProblem) ([]train.Problem, error) {
	if o.Heldout == 0 {
		return nil, nil
	}
	ps, _, err := train.LoadProblems(o.HeldoutSet)
	if err != nil {
		return nil, err
	}
	var out []train.Problem
	for _, p := range ps {
		if len(out) == o.Heldout {
			break
		}
		if !slices.ContainsFunc(chosen, func(c SelectedProblem) bool { return c.Prompt == p.Prompt }) {
			out = append(out, p)
		}
	}
	if len(out) < o.Heldout {
		return nil, fmt.Errorf("--heldout %d: %s has only %d problems outside the trained ones", o.Heldout, o.HeldoutSet, len(out))
	}
	return out, nil
}

// writeProblemFiles writes each chosen problem as a one-line JSONL dataset
// and the selection itself.
func writeProblemFiles(out string, chosen []SelectedProblem) error {
	dir := filepath.Join(out, "problems")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range chosen {
		line, err := json.Marshal(map[string]string{"id": p.ID, "prompt": p.Prompt, "answer": p.Answer, "data_source": p.Family})
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, p.Run+".jsonl"), append(line, '\n'), 0o644); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(out, selectionFile), chosen)
}

// RunPerProblem trains one run per chosen problem (skipping finished ones,
// resuming interrupted ones) and writes the study's results. plan is what
// PlanPerProblem returned for o, or nil to make it (choosing the problems
// samples the base model, so a caller that planned already passes it).
func RunPerProblem(ctx context.Context, o PerProblemOptions, plan *Plan) (*PerProblemReport, error) {
	if plan == nil {
		var err error
		if plan, _, err = PlanPerProblem(ctx, o); err != nil {
			return nil, err
		}
	}
	chosen := plan.problems
	st := perProblemSettingsOf(o)
	if err := claimStudy(o.Out, st); err != nil {
		return nil, err
	}
	if err := writeProblemFiles(o.Out, chosen); err != nil {
		return nil, err
	}
	if err := runAll(ctx, plan.runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportPerProblem(o.Out)
}

func perProblemSettingsOf(o PerProblemOptions) perProblemSettings {
	return perProblemSettings{Kind: "per-problem", Recipe: o.Recipe, Defaults: PerProblemDefaults, Overrides: nonNil(o.Overrides), Model: o.Model,
		Estimator: o.Estimator, Epochs: o.Epochs, Set: o.Set, Problems: o.Problems, IDs: nonNil(o.IDs),
		SelectSamples: o.SelectSamples, Confidence: o.Confidence, HeldoutSet: o.HeldoutSet, Heldout: o.Heldout,
		HeldoutEvery: o.HeldoutEvery, PMajProblems: o.PMajProblems, PMajSamples: o.PMajSamples,
		PMajSteps: o.PMajSteps, Seed: o.Seed}
}

// problemObserver measures one per-problem run after every epoch.
type problemObserver struct {
	problem SelectedProblem
	cfg     train.Config
	opts    PerProblemOptions
	heldout []train.Problem
	pmaj    bool
}

func (o *problemObserver) start(ctx context.Context, t *train.Trainer, step int) error {
	if step != 0 && recorded(filepath.Join(t.Dir(), perProblemFile), step, func(e epochObservation) int { return e.Step }) {
		return nil
	}
	return o.measure(ctx, t, step)
}

func (o *problemObserver) step(ctx context.Context, t *train.Trainer, p train.Progress) error {
	return o.measure(ctx, t, p.Step)
}

func (o *problemObserver) measure(ctx context.Context, t *train.Trainer, step int) error {
	m := t.Policy()
	g := grade.Default()
	maxNew := min(o.cfg.Rollout.MaxResponseLength, m.Engine.Config().MaxPositions-1)
	prompt, gold := []string{o.problem.Prompt}, []string{o.problem.Answer}
	seed := o.cfg.Seed*0x9e3779b97f4a7c15 ^ uint64(step+1)*0xbf58476d1ce4e5b9
	greedy, err := sampleGraded(ctx, m, prompt, gold, 1, engine.SampleOptions{MaxNewTokens: maxNew}, seed, g)
	if err != nil {
		return err
	}
	obs := epochObservation{Step: step, GreedyAnswer: greedy[0].Answer, GreedyCorrect: greedy[0].Correct}
	conf, err := sampleGraded(ctx, m, prompt, gold, o.opts.Confidence, engine.SampleOptions{MaxNewTokens: maxNew, Temperature: 1}, seed+1, g)
	if err != nil {
		return err
	}
	if obs.GreedyAnswer != "" {
		agree := 0
		for _, s := range conf {
			if s.Answer != "" && g.Equivalent(s.Answer, obs.GreedyAnswer) {
				agree++
			}
		}
		obs.Confidence = float64(agree) / float64(len(conf))
	}
	if len(o.heldout) > 0 && (step%o.opts.HeldoutEvery == 0 || step == o.opts.Epochs) {
		var ps, gs []string
		for _, h := range o.heldout {
			ps, gs = append(ps, h.Prompt), append(gs, h.Answer)
		}
		res, err := sampleGraded(ctx, m, ps, gs, 1, engine.SampleOptions{MaxNewTokens: maxNew}, seed, g)
		if err != nil {
			return err
		}
		obs.Heldout = make([]bool, len(res))
		for i, r := range res {
			obs.Heldout[i] = r.Correct
		}
	}
	if o.pmaj && slices.Contains(o.opts.PMajSteps, step) {
		res, err := sampleGraded(ctx, m, prompt, gold, o.opts.PMajSamples, engine.SampleOptions{MaxNewTokens: maxNew, Temperature: 1}, seed+2, g)
		if err != nil {
			return err
		}
		maj := majorityOf(res, o.problem.Answer, g)
		obs.PMaj, obs.PMajAnswer, obs.PMajCorrect = &maj.share, maj.answer, maj.right
	}
	return appendJSONLine(filepath.Join(t.Dir(), perProblemFile), obs)
}
