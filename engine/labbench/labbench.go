// Package labbench measures the engine on the lab's own workload, beside
// the reference step of `urlvr bench engine`: the default base model's RL
// step as the main job runs it (sampling the rollouts, then the update:
// the reference policy's scores, forward and backward in micro-batches,
// AdamW), its pre-training throughput, and the rollouts per second a study
// of many such runs gets. It reports each in GFLOP/s, counting FLOPs as the
// engine benchmark does (engine.SequenceFLOPs, engine.GenerationFLOPs: real
// tokens only, padding excluded), and as a ratio to the reference step's
// GFLOP/s, the figure of what the engine reaches on large matrices.
package labbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/internal/cputime"
	"github.com/urlvr/urlvr/task/arith"
)

// Options size the lab benchmark; the zero value is the main job's shape.
type Options struct {
	Model         string // base model name (basemodel.Default)
	Prompts       int    // prompts per RL step (32)
	Rollouts      int    // samples per prompt (8)
	MicroBatch    int    // sequences per forward/backward (64, as the trainer)
	Steps         int    // timed RL steps (5)
	PretrainSteps int    // timed pre-training steps (10)
	PretrainBatch int    // documents per pre-training step (32)
	RefSteps      int    // timed steps of the reference workload (5)
}

func (o Options) withDefaults() Options {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Model == "" {
		o.Model = basemodel.Default
	}
	set(&o.Prompts, 32)
	set(&o.Rollouts, 8)
	set(&o.MicroBatch, 64)
	set(&o.Steps, 5)
	set(&o.PretrainSteps, 10)
	set(&o.PretrainBatch, 32)
	set(&o.RefSteps, 5)
	return o
}

// Result is what the lab benchmark measured; durations are medians.
type Result struct {
	Options Options
	Config  engine.Config
	Params  int

	Sample, Update, Step time.Duration // one RL step and its two halves
	// SampleCPU and UpdateCPU are the CPU time (all threads) of the two
	// halves: on a busy machine a steadier measure of their cost than the
	// wall time.
	SampleCPU, UpdateCPU                   time.Duration
	SampleFLOPs, UpdateFLOPs               float64 // per step
	Tokens                                 int     // sequence tokens per step (prompts and responses)
	SampleGFLOPS, UpdateGFLOPS, StepGFLOPS float64
	RolloutsPerSec                         float64

	PretrainStep      time.Duration
	PretrainTokens    int // document tokens per step
	PretrainTokensSec float64
	PretrainGFLOPS    float64

	Reference engine.BenchResult // the reference step, measured in the same run
}

// Run measures the lab workload and then the reference step.
func Run(ctx context.Context, o Options) (Result, error) {
	o = o.withDefaults()
	base, err := basemodel.Open(o.Model)
	if err != nil {
		return Result{}, fmt.Errorf("lab benchmark: %w", err)
	}
	m := base.Engine
	cfg := m.Config()
	res := Result{Options: o, Config: cfg, Params: m.NumParams()}
	// The reference policy is a frozen copy, as in the trainer.
	ref := m.Clone()
	rng := rand.New(rand.NewPCG(5, 6))
	// Each step's prompts are new problems of the training set, as the
	// main job draws them: their answers' lengths, not a simpler stand-in's,
	// decide the step's cost.
	train, err := arith.Split("train")
	if err != nil {
		return Result{}, fmt.Errorf("lab benchmark: %w", err)
	}
	stepPrompts := make([][][]int, o.Steps+1)
	var all [][]int
	for s := range stepPrompts {
		stepPrompts[s] = trainingPrompts(base, train, o.Prompts, o.Rollouts, rng)
		all = append(all, stepPrompts[s]...)
	}
	maxNew, maxLen := responseBudget(cfg, all)
	tr, err := engine.NewLearner(m, engine.LearnerOptions{MaxBatch: o.MicroBatch, MaxSeqLen: maxLen, AdamW: engine.DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		return Result{}, err
	}
	var samples, updates, steps, sampleCPU, updateCPU []time.Duration
	for s := 0; s <= o.Steps; s++ { // step 0 warms up
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		prompts := stepPrompts[s]
		t0, c0 := time.Now(), cputime.Process()
		gens, err := sampleRollouts(ctx, base, prompts, maxNew, uint64(100+s))
		if err != nil {
			return Result{}, err
		}
		t1, c1 := time.Now(), cputime.Process()
		seqs, from := sequences(prompts, gens)
		var sampleF, updateF float64
		tokens := 0
		for i, g := range gens {
			sampleF += engine.GenerationFLOPs(cfg, len(prompts[i]), len(g.Tokens))
			updateF += 4 * engine.SequenceFLOPs(cfg, len(seqs[i])) // reference scores + forward and backward
			tokens += len(seqs[i])
		}
		if err := rlUpdate(ctx, ref, tr, seqs, from, o.MicroBatch, rng); err != nil {
			return Result{}, err
		}
		t2, c2 := time.Now(), cputime.Process()
		if s > 0 {
			sampleCPU = append(sampleCPU, c1-c0)
			updateCPU = append(updateCPU, c2-c1)
			samples = append(samples, t1.Sub(t0))
			updates = append(updates, t2.Sub(t1))
			steps = append(steps, t2.Sub(t0))
			res.SampleFLOPs, res.UpdateFLOPs, res.Tokens = sampleF, updateF, tokens
		}
	}
	res.Sample, res.Update, res.Step = median(samples), median(updates), median(steps)
	res.SampleCPU, res.UpdateCPU = median(sampleCPU), median(updateCPU)
	res.SampleGFLOPS = res.SampleFLOPs / res.Sample.Seconds() / 1e9
	res.UpdateGFLOPS = res.UpdateFLOPs / res.Update.Seconds() / 1e9
	res.StepGFLOPS = (res.SampleFLOPs + res.UpdateFLOPs) / res.Step.Seconds() / 1e9
	res.RolloutsPerSec = float64(o.Prompts*o.Rollouts) / res.Step.Seconds()

	if err := pretrain(ctx, m, o, rng, &res); err != nil {
		return Result{}, err
	}
	ref2, err := engine.RunBenchmark(ctx, engine.BenchOptions{Steps: o.RefSteps})
	if err != nil {
		return Result{}, err
	}
	res.Reference = ref2
	return res, nil
}

// rlUpdate is the update half of an RL step: the reference policy's scores
// of the rollouts, forward and backward in micro-batches of a
// policy-gradient loss with a per-token advantage, and one AdamW step. As
// in the trainer's update, the reference is scored on another goroutine
// while the micro-batches run, and waited for before the optimiser step.
func rlUpdate(ctx context.Context, ref *engine.Model, tr *engine.Learner, seqs [][]int, from []int, micro int, rng *rand.Rand) error {
	refDone := make(chan error, 1)
	go func() {
		_, err := ref.LogProbs(ctx, seqs, engine.ScoreOptions{Temperature: 1, ScoreFrom: from})
		refDone <- err
	}()
	if err := microBatches(tr, seqs, from, micro, rng); err != nil {
		<-refDone
		return err
	}
	if err := <-refDone; err != nil {
		return err
	}
	_, err := tr.Step(1e-6)
	return err
}

// microBatches runs forward and backward over seqs in micro-batches of
// micro sequences, accumulating the gradients, each forward beside the
// previous micro-batch's backward as in the trainer's update.
func microBatches(tr *engine.Learner, seqs [][]int, from []int, micro int, rng *rand.Rand) error {
	batch := func(lo int) (engine.Batch, error) {
		hi := min(len(seqs), lo+micro)
		return engine.NewBatch(seqs[lo:hi], from[lo:hi])
	}
	b, err := batch(0)
	if err != nil {
		return err
	}
	o := engine.ForwardOptions{Temperature: 1}
	out, err := tr.Forward(b, o)
	if err != nil {
		return err
	}
	for lo := 0; lo < len(seqs); lo += micro {
		d := make([]float32, len(out.LogProbs))
		for i, mk := range b.Mask {
			if mk {
				d[i] = float32(rng.NormFloat64()) * 1e-3
			}
		}
		if lo+micro >= len(seqs) {
			return tr.Backward(d, nil)
		}
		if b, err = batch(lo + micro); err != nil {
			return err
		}
		if out, err = tr.BackwardForward(d, nil, b, o); err != nil {
			return err
		}
	}
	return nil
}

// pretrain times cross-entropy steps on documents of the pre-training
// corpus's lengths (a prompt and its worked response, about 40-70 tokens).
func pretrain(ctx context.Context, m *engine.Model, o Options, rng *rand.Rand, res *Result) error {
	cfg := m.Config()
	docs := make([][]int, o.PretrainBatch)
	maxT := 0
	for i := range docs {
		n := min(cfg.MaxPositions, 40+rng.IntN(31))
		docs[i] = make([]int, n)
		for j := range docs[i] {
			docs[i][j] = rng.IntN(cfg.VocabSize)
		}
		maxT = max(maxT, n)
	}
	tr, err := engine.NewLearner(m, engine.LearnerOptions{MaxBatch: o.PretrainBatch, MaxSeqLen: maxT, AdamW: engine.DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		return err
	}
	b, err := engine.NewBatch(docs, nil)
	if err != nil {
		return err
	}
	var times []time.Duration
	var flops float64
	tokens := 0
	for _, d := range docs {
		flops += 3 * engine.SequenceFLOPs(cfg, len(d))
		tokens += len(d)
	}
	for s := 0; s <= o.PretrainSteps; s++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := time.Now()
		if _, err := tr.CrossEntropy(b, 1); err != nil {
			return err
		}
		if _, err := tr.Step(1e-6); err != nil {
			return err
		}
		if s > 0 {
			times = append(times, time.Since(t0))
		}
	}
	res.PretrainStep = median(times)
	res.PretrainTokens = tokens
	res.PretrainTokensSec = float64(tokens) / res.PretrainStep.Seconds()
	res.PretrainGFLOPS = flops / res.PretrainStep.Seconds() / 1e9
	return nil
}

// responseBudget is the response length a step may sample (the base
// models' budget, cut where the longest prompt would pass the model's
// positions) and the longest sequence that makes.
func responseBudget(cfg engine.Config, prompts [][]int) (maxNew, maxLen int) {
	longest := 0
	for _, p := range prompts {
		longest = max(longest, len(p))
	}
	maxLen = min(longest+basemodel.MaxNewTokens, cfg.MaxPositions)
	return maxLen - longest, maxLen
}

// sampleRollouts samples one response per prompt at temperature 1, as the
// main job samples its rollouts.
func sampleRollouts(ctx context.Context, base *basemodel.Model, prompts [][]int, maxNew int, seed uint64) ([]engine.Generation, error) {
	return base.Engine.Sample(ctx, prompts, engine.SampleOptions{
		MaxNewTokens: maxNew, Temperature: 1, StopTokens: base.StopTokens(), Seed: seed,
	})
}

// sequences joins each prompt and its response, and gives the prompt
// lengths from which the update scores.
func sequences(prompts [][]int, gens []engine.Generation) (seqs [][]int, from []int) {
	seqs, from = make([][]int, len(gens)), make([]int, len(gens))
	for i, g := range gens {
		seqs[i] = append(slices.Clone(prompts[i]), g.Tokens...)
		from[i] = len(prompts[i])
	}
	return seqs, from
}

// trainingPrompts encodes n problems drawn from the training set, each
// repeated once per rollout.
func trainingPrompts(base *basemodel.Model, train []arith.Problem, n, rollouts int, rng *rand.Rand) [][]int {
	prompts := make([][]int, 0, n*rollouts)
	for range n {
		p := base.EncodePrompt(train[rng.IntN(len(train))].Prompt)
		for range rollouts {
			prompts = append(prompts, p)
		}
	}
	return prompts
}

func median(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2]
}
