package engine

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

// The benchmarks time the reference workload of `urlvr bench engine` (see
// BenchOptions) part by part; the kernels have their own benchmarks.

func benchLearner(b *testing.B) (*Learner, Batch) {
	cfg := BenchConfig()
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 32, MaxSeqLen: 64, AdamW: DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seqs := make([][]int, 32)
	for i := range seqs {
		seqs[i] = randomTokens(rng, cfg.VocabSize, 64)
	}
	batch, err := NewBatch(seqs, nil)
	if err != nil {
		b.Fatal(err)
	}
	// One untimed step touches every buffer: the first touch of the
	// activations' and moments' pages costs several steps' time, which
	// no later step pays.
	if _, err := tr.CrossEntropy(batch, 1); err != nil {
		b.Fatal(err)
	}
	if _, err := tr.Step(1e-4); err != nil {
		b.Fatal(err)
	}
	return tr, batch
}

// BenchmarkTrainStep: forward, backward and AdamW on 32 × 64 tokens.
func BenchmarkTrainStep(b *testing.B) {
	tr, batch := benchLearner(b)
	flops := 3 * forwardFLOPs(BenchConfig(), 32, 64)
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.CrossEntropy(batch, 1); err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Step(1e-4); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkOptimizerStep: Learner.Step alone (gradient norm, clipping,
// AdamW and clearing) on the reference model's gradients of one batch,
// restored before each step; reports the bytes of parameter state it
// reads and writes per second.
func BenchmarkOptimizerStep(b *testing.B) {
	tr, batch := benchLearner(b)
	if _, err := tr.CrossEntropy(batch, 1); err != nil {
		b.Fatal(err)
	}
	grads := slices.Clone(tr.grads)
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		copy(tr.grads, grads)
		b.StartTimer()
		if _, err := tr.Step(1e-4); err != nil {
			b.Fatal(err)
		}
	}
	// The norm reads g; AdamW reads g, p, m, v and writes them all.
	bytes := float64(len(grads)) * 4 * 9
	b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// BenchmarkForward: the training forward alone (also what LogProbs runs).
func BenchmarkForward(b *testing.B) {
	tr, batch := benchLearner(b)
	flops := forwardFLOPs(BenchConfig(), 32, 64)
	b.ResetTimer()
	for b.Loop() {
		if _, err := tr.Forward(batch, ForwardOptions{Entropy: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkBackward: the backward pass alone, after one forward.
func BenchmarkBackward(b *testing.B) {
	tr, batch := benchLearner(b)
	out, err := tr.Forward(batch, ForwardOptions{Entropy: true})
	if err != nil {
		b.Fatal(err)
	}
	dlogp := make([]float32, len(out.LogProbs))
	for i := range dlogp {
		dlogp[i] = -1.0 / float32(len(dlogp))
	}
	flops := 2 * forwardFLOPs(BenchConfig(), 32, 64)
	b.ResetTimer()
	for b.Loop() {
		if err := tr.Backward(dlogp, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSample: 64 prompts of 16 tokens, 48 new tokens each.
func BenchmarkSample(b *testing.B) {
	cfg := BenchConfig()
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	prompts := make([][]int, 64)
	for i := range prompts {
		prompts[i] = randomTokens(rng, cfg.VocabSize, 16)
	}
	opts := SampleOptions{MaxNewTokens: 48, Temperature: 1, Seed: 5}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Sample(context.Background(), prompts, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(64*48*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkDecodeAttention: the attention of one decoding step of the
// reference generation (64 sequences at position 40 of 64, every layer),
// reading key/value caches of the reference batch's size from memory.
func BenchmarkDecodeAttention(b *testing.B) {
	cfg := BenchConfig()
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	const S, maxLen, pos = 64, 63, 40
	d := filledDecoder(m, S, maxLen, pos)
	for b.Loop() {
		for l := range d.kc {
			d.attend(&d.work[0], l, 0, S, false)
		}
	}
	flops := attentionFLOPs(cfg, pos) * S
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// filledDecoder is a decoder for S sequences of up to maxLen positions
// whose caches and queries hold normal noise, row r being sequence r at
// position pos: the state of one decoding step's attention.
func filledDecoder(m *Model, S, maxLen, pos int) *decoder {
	d := newDecoder(m, S, maxLen, S)
	rng := rand.New(rand.NewPCG(5, 6))
	for l := range d.kc {
		for i := range d.kc[l] {
			d.kc[l][i] = float32(rng.NormFloat64())
		}
		for i := range d.vc[l] {
			d.vc[l][i] = float32(rng.NormFloat64())
		}
	}
	for i := range d.qkv {
		d.qkv[i] = float32(rng.NormFloat64())
	}
	for r := range S {
		d.seq[r], d.pos[r] = int32(r), int32(pos)
	}
	return d
}
