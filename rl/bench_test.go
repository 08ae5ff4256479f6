package rl_test

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/rl"
)

// The paper's step: 64 prompts x 8 rollouts of up to 512 response tokens.
const (
	benchPrompts = 64
	benchN       = 8
	benchTokens  = 512
	benchSeqs    = benchPrompts * benchN
)

type benchStep struct {
	groups  []metrics.Group
	rewards []float64
	seqAdv  []float64
	counts  []int
	batch   rl.LossBatch[float32]
	out     rl.LossOutput[float32]
}

func newBenchStep(offPolicy bool) *benchStep {
	rng := rand.New(rand.NewPCG(1, 1))
	n := benchSeqs * benchTokens
	s := &benchStep{
		groups:  make([]metrics.Group, benchPrompts),
		rewards: make([]float64, benchSeqs),
		seqAdv:  make([]float64, benchSeqs),
		counts:  make([]int, benchSeqs),
		batch: rl.LossBatch[float32]{
			Seqs: benchSeqs, Tokens: benchTokens,
			LogProb: make([]float32, n), Advantage: make([]float32, n), Mask: make([]float32, n),
			Entropy: make([]float32, n),
		},
	}
	if offPolicy {
		s.batch.OldLogProb = make([]float32, n)
	}
	for i := range n {
		s.batch.LogProb[i] = -rng.Float32() * 3
		s.batch.Entropy[i] = rng.Float32()
		if offPolicy {
			s.batch.OldLogProb[i] = s.batch.LogProb[i] + (rng.Float32()-0.5)*0.4
		}
	}
	for p := range s.groups {
		g := metrics.Group{Proxy: make([]float64, benchN), GT: make([]float64, benchN), TopCount: 1 + rng.IntN(benchN)}
		correct := rng.IntN(2) == 1
		g.LabelCorrect = &correct
		for j := range benchN {
			g.Proxy[j] = float64(rng.IntN(2))
			g.GT[j] = float64(rng.IntN(2))
			s.rewards[p*benchN+j] = g.Proxy[j]
			s.counts[p*benchN+j] = 256 + rng.IntN(benchTokens-256+1)
		}
		s.groups[p] = g
	}
	for q, l := range s.counts {
		for t := range l {
			s.batch.Mask[q*benchTokens+t] = 1
		}
	}
	return s
}

// run is everything a training step computes outside the model and the
// grader: B.2 metrics, GRPO advantages, their expansion to tokens, and the
// loss with its per-token gradients.
func (s *benchStep) run(b *testing.B, cfg rl.LossConfig) {
	if _, err := metrics.ComputeDynamics(s.groups); err != nil {
		b.Fatal(err)
	}
	if _, err := rl.Advantages(rl.AdvantageConfig{Estimator: rl.GRPO}, s.rewards, benchN, s.seqAdv); err != nil {
		b.Fatal(err)
	}
	if s.batch.SeqAdvantage != nil {
		s.batch.SeqAdvantage = s.seqAdv
	} else if err := rl.ExpandToTokens(s.seqAdv, benchTokens, s.batch.Mask, s.batch.Advantage); err != nil {
		b.Fatal(err)
	}
	if err := rl.Loss(cfg, s.batch, &s.out); err != nil {
		b.Fatal(err)
	}
}

// cpuTime returns the process's user+system CPU time. Benchmarks report it
// per operation ("cpu-ns/op") next to wall time because the build machine
// is shared and wall time there mostly measures waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loopWithCPU(b *testing.B, body func()) {
	start := cpuTime()
	n := 0
	for b.Loop() {
		body()
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

// BenchmarkStepOnPolicy is the paper default (mini-batch = global batch).
func BenchmarkStepOnPolicy(b *testing.B) {
	s := newBenchStep(false)
	cfg := rl.DefaultLossConfig()
	loopWithCPU(b, func() { s.run(b, cfg) })
}

// BenchmarkStepOnPolicySeqAdv passes one advantage per sequence instead of
// expanding them to tokens.
func BenchmarkStepOnPolicySeqAdv(b *testing.B) {
	s := newBenchStep(false)
	s.batch.Advantage, s.batch.SeqAdvantage = nil, s.seqAdv
	cfg := rl.DefaultLossConfig()
	loopWithCPU(b, func() { s.run(b, cfg) })
}

// BenchmarkStepOffPolicy adds the importance ratio (mini-batch < batch).
func BenchmarkStepOffPolicy(b *testing.B) {
	s := newBenchStep(true)
	cfg := rl.DefaultLossConfig()
	loopWithCPU(b, func() { s.run(b, cfg) })
}

func BenchmarkDynamics(b *testing.B) {
	s := newBenchStep(false)
	loopWithCPU(b, func() {
		if _, err := metrics.ComputeDynamics(s.groups); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkAdvantagesGRPO(b *testing.B) {
	s := newBenchStep(false)
	loopWithCPU(b, func() {
		if _, err := rl.Advantages(rl.AdvantageConfig{Estimator: rl.GRPO}, s.rewards, benchN, s.seqAdv); err != nil {
			b.Fatal(err)
		}
	})
}
