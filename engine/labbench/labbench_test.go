package labbench

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/internal/cputime"
	"github.com/urlvr/urlvr/task/arith"
)

// BenchmarkRLUpdate times the update half of the lab's RL step (reference
// scores, forward and backward in micro-batches of 64, AdamW) on one set of
// rollouts of the default base model, reporting GFLOP/s as `urlvr bench
// lab` counts them and the CPU time of all threads.
func BenchmarkRLUpdate(b *testing.B) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	o, base, prompts := benchStep(b, rng)
	m := base.Engine
	cfg := m.Config()
	ref := m.Clone()
	maxNew, maxLen := responseBudget(cfg, prompts)
	gens, err := sampleRollouts(ctx, base, prompts, maxNew, 100)
	if err != nil {
		b.Fatal(err)
	}
	seqs, from := sequences(prompts, gens)
	var flops float64
	for _, s := range seqs {
		flops += 4 * engine.SequenceFLOPs(cfg, len(s))
	}
	tr, err := engine.NewLearner(m, engine.LearnerOptions{MaxBatch: o.MicroBatch, MaxSeqLen: maxLen, AdamW: engine.DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		b.Fatal(err)
	}
	c0 := cputime.Process()
	for b.Loop() {
		if err := rlUpdate(ctx, ref, tr, seqs, from, o.MicroBatch, rng); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
	b.ReportMetric((cputime.Process()-c0).Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

// BenchmarkRLSample times the sampling half of the lab's RL step: one
// response for each of 32 training prompts × 8 rollouts from the default
// base model at temperature 1, reporting GFLOP/s as `urlvr bench lab`
// counts them and the CPU time of all threads.
func BenchmarkRLSample(b *testing.B) {
	ctx := context.Background()
	_, base, prompts := benchStep(b, rand.New(rand.NewPCG(5, 6)))
	cfg := base.Engine.Config()
	maxNew, _ := responseBudget(cfg, prompts)
	var flops float64
	seed := uint64(100)
	c0 := cputime.Process()
	for b.Loop() {
		gens, err := sampleRollouts(ctx, base, prompts, maxNew, seed)
		if err != nil {
			b.Fatal(err)
		}
		for i, g := range gens {
			flops += engine.GenerationFLOPs(cfg, len(prompts[i]), len(g.Tokens))
		}
		seed++
	}
	b.ReportMetric(flops/1e9/b.Elapsed().Seconds(), "GFLOP/s")
	b.ReportMetric((cputime.Process()-c0).Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

// benchStep opens the default base model and draws one RL step's prompts
// (the main job's training problems, each repeated once per rollout) with
// rng, as `urlvr bench lab` does.
func benchStep(b *testing.B, rng *rand.Rand) (Options, *basemodel.Model, [][]int) {
	o := Options{}.withDefaults()
	base, err := basemodel.Open(o.Model)
	if err != nil {
		b.Fatal(err)
	}
	train, err := arith.Split("train")
	if err != nil {
		b.Fatal(err)
	}
	return o, base, trainingPrompts(base, train, o.Prompts, o.Rollouts, rng)
}
