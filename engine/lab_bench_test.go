package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/urlvr/urlvr/internal/cputime"
)

// labModel is a model of the lab's size (the shape of the default models).
func labModel(b *testing.B) (Config, *Model) {
	cfg := goldenConfig("lab")
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	return cfg, m
}

// labRollouts draws n rollouts of the main job's shape, 20-100 tokens with
// prompts of 16, and returns them with their score starts and the FLOPs of
// one forward pass over them.
func labRollouts(rng *rand.Rand, cfg Config, n int) (seqs [][]int, from []int, flops float64) {
	seqs, from = make([][]int, n), make([]int, n)
	for i := range seqs {
		seqs[i] = randomTokens(rng, cfg.VocabSize, 20+rng.IntN(81))
		from[i] = 16
		flops += SequenceFLOPs(cfg, len(seqs[i]))
	}
	return seqs, from, flops
}

// labGrad is a log-prob gradient of 1e-3 at every scored position of batch.
func labGrad(batch Batch) []float32 {
	d := make([]float32, batch.B*batch.T)
	for i, mk := range batch.Mask {
		if mk {
			d[i] = 1e-3
		}
	}
	return d
}

// BenchmarkLabMicroBatch: forward and backward of one micro-batch of the
// main job's shape on a model of the lab's size: 64 rollouts of 20-100
// tokens (prompts of about 16), padded to the longest.
func BenchmarkLabMicroBatch(b *testing.B) {
	cfg, m := labModel(b)
	seqs, from, fwd := labRollouts(rand.New(rand.NewPCG(1, 2)), cfg, 64)
	tokens := 0
	for _, s := range seqs {
		tokens += len(s)
	}
	batch, err := NewBatch(seqs, from)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 64, MaxSeqLen: cfg.MaxPositions, AdamW: DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		b.Fatal(err)
	}
	d := labGrad(batch)
	flops := 3 * fwd
	pass := func() {
		if _, err := tr.Forward(batch, ForwardOptions{Temperature: 1}); err != nil {
			b.Fatal(err)
		}
		if err := tr.Backward(d, nil); err != nil {
			b.Fatal(err)
		}
	}
	pass() // touches the buffers' pages, untimed
	c0 := cputime.Process()
	for b.Loop() {
		pass()
	}
	b.ReportMetric(flops/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
	b.ReportMetric(float64(tokens), "tokens")
	b.ReportMetric((cputime.Process()-c0).Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

// BenchmarkAttentionSoftmax: the softmax rows of one head's causal [L × L]
// score block at L = 64 (rows of 1 to 64 positions).
func BenchmarkAttentionSoftmax(b *testing.B) {
	const L = 64
	rng := rand.New(rand.NewPCG(3, 4))
	s := make([]float32, L*L)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	p := make([]float32, L*L)
	var exp []float64
	for b.Loop() {
		copy(p, s)
		causalSoftmax(p, L, 0.25, &exp)
	}
}

// BenchmarkLabAttention: one layer's attention, forward and backward, over
// 64 sequences of 56 positions with the lab's heads (4 of 16 dimensions),
// on the calling goroutine: at this size the softmax and its backward cost
// as much as the products.
func BenchmarkLabAttention(b *testing.B) {
	const B, T, H, D = 64, 56, 4, 16
	s := attentionShape{B: B, T: T, H: H, G: H, D: D}
	rng := rand.New(rand.NewPCG(1, 2))
	normal := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	N := B * T * H * D
	q, k, v, dout := normal(N), normal(N), normal(N), normal(N)
	out, dq, dk, dv := make([]float32, N), make([]float32, N), make([]float32, N), make([]float32, N)
	att := make([]float32, B*H*T*T)
	scratch := newAttentionScratch(1, T, D)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			attentionForward(out, att, q, k, v, s, scratch)
		}
	})
	attentionForward(out, att, q, k, v, s, scratch)
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			attentionBackward(dq, dk, dv, dout, att, q, k, v, s, scratch)
		}
	})
}

// BenchmarkLabMicroBatches: the lab's RL update over four micro-batches of
// the shape above, each backward run beside the next one's forward
// (BackwardForward), as the trainer runs them.
func BenchmarkLabMicroBatches(b *testing.B) {
	cfg, m := labModel(b)
	rng := rand.New(rand.NewPCG(1, 2))
	var micro []Batch
	var flops float64
	for range 4 {
		seqs, from, fwd := labRollouts(rng, cfg, 64)
		flops += 3 * fwd
		batch, err := NewBatch(seqs, from)
		if err != nil {
			b.Fatal(err)
		}
		micro = append(micro, batch)
	}
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 64, MaxSeqLen: cfg.MaxPositions, AdamW: DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		b.Fatal(err)
	}
	update := func() {
		if _, err := tr.Forward(micro[0], ForwardOptions{Temperature: 1}); err != nil {
			b.Fatal(err)
		}
		for k := 1; k < len(micro); k++ {
			if _, err := tr.BackwardForward(labGrad(micro[k-1]), nil, micro[k], ForwardOptions{Temperature: 1}); err != nil {
				b.Fatal(err)
			}
		}
		if err := tr.Backward(labGrad(micro[len(micro)-1]), nil); err != nil {
			b.Fatal(err)
		}
		tr.ZeroGrad()
	}
	update() // allocates the second set of activations, untimed
	c0 := cputime.Process()
	for b.Loop() {
		update()
	}
	b.ReportMetric(flops/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
	b.ReportMetric((cputime.Process()-c0).Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

// BenchmarkLabLogProbs: the log-probs of 256 rollouts of the lab's shape
// under a model of its size (what the update's reference-policy scores
// cost), after one untimed call that allocates the scoring memory.
func BenchmarkLabLogProbs(b *testing.B) {
	cfg, m := labModel(b)
	seqs, from, flops := labRollouts(rand.New(rand.NewPCG(1, 2)), cfg, 256)
	score := func() {
		if _, err := m.LogProbs(context.Background(), seqs, ScoreOptions{Temperature: 1, ScoreFrom: from}); err != nil {
			b.Fatal(err)
		}
	}
	score()
	for b.Loop() {
		score()
	}
	b.ReportMetric(flops/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}

// BenchmarkLabDecodeAttention: one decoding step's attention on a model of
// the lab's size (4 heads of 16 dimensions, both layers), for 8 sequences
// (their caches in L1/L2) and 256 (the lab's rollouts, caches beyond L2),
// at positions 20, 40 and 80; ns/pair is per (token, head).
func BenchmarkLabDecodeAttention(b *testing.B) {
	cfg, m := labModel(b)
	for _, S := range []int{8, 256} {
		for _, pos := range []int{20, 40, 80} {
			b.Run(fmt.Sprintf("seqs=%d/pos=%d", S, pos), func(b *testing.B) {
				d := filledDecoder(m, S, cfg.MaxPositions-1, pos)
				for b.Loop() {
					for l := range d.kc {
						d.attend(&d.work[0], l, 0, S, false)
					}
				}
				pairs := S * len(d.kc) * cfg.NumHeads
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(pairs), "ns/pair")
			})
		}
	}
}
