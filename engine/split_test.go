package engine

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// splitBatch is a padded batch of uneven sequences, some of them with no
// scored token (so they contribute no rows).
func splitBatch(t *testing.T, rng *rand.Rand, cfg Config, B, maxT int) Batch {
	t.Helper()
	seqs := make([][]int, B)
	from := make([]int, B)
	for i := range seqs {
		n := 2 + rng.IntN(maxT-1)
		seqs[i] = randomTokens(rng, cfg.VocabSize, n)
		from[i] = 1 + rng.IntN(n-1)
		if i%5 == 3 {
			from[i] = n // nothing scored
		}
	}
	b, err := NewBatch(seqs, from)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSplitHalvesTheRows: on two cores the batch splits between whole
// sequences near its middle row, and each half is a view of the
// workspace's own memory from its first row on; on one core, or for a
// batch too small, it does not split.
func TestSplitHalvesTheRows(t *testing.T) {
	cfg := goldenConfig("gqa")
	C := cfg.HiddenSize
	rng := rand.New(rand.NewPCG(3, 5))
	a := newActivations(cfg, 16*40, 40, true)
	b := splitBatch(t, rng, cfg, 16, 40)
	if err := a.setBatch(b.Tokens, b.Mask, b.B, b.T, 1); err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	halves, ok := a.split()
	if !ok {
		t.Fatalf("a batch of %d rows did not split", a.n)
	}
	h0, h1 := halves[0], halves[1]
	if h0.n+h1.n != a.n || h0.B+h1.B != a.B {
		t.Fatalf("halves of %d+%d rows, %d+%d sequences; the batch has %d, %d", h0.n, h1.n, h0.B, h1.B, a.n, a.B)
	}
	// No cut between whole sequences is nearer the middle.
	rows := 0
	for s := 0; s < a.B; s++ {
		if d := abs(2*rows - a.n); d < abs(2*h0.n-a.n) {
			t.Errorf("cut before sequence %d gives %d rows against %d in the first half, nearer %d/2", s, rows, h0.n, a.n)
		}
		rows += int(a.span[s])
	}
	if &h1.layers[1].xn2[0] != &a.layers[1].xn2[h0.n*C] || &h1.dres[0] != &a.dres[h0.n*C] || &h0.final[0] != &a.final[0] {
		t.Error("a half's buffers are not the workspace's rows")
	}
	if h1.off[0] != 0 || int(h1.off[h1.B-1]+h1.span[h1.B-1]) != h1.n {
		t.Errorf("second half's rows start at %d and end at %d, want 0 and %d", h1.off[0], h1.off[h1.B-1]+h1.span[h1.B-1], h1.n)
	}
	if h0.workers.Count() != 1 || h1.workers.Count() != 1 {
		t.Errorf("halves on %d and %d workers, want one core each", h0.workers.Count(), h1.workers.Count())
	}

	runtime.GOMAXPROCS(1)
	if _, ok := a.split(); ok {
		t.Error("split on one core")
	}
	runtime.GOMAXPROCS(2)
	small := splitBatch(t, rng, cfg, 3, 10)
	if err := a.setBatch(small.Tokens, small.Mask, small.B, small.T, 1); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.split(); ok {
		t.Errorf("a batch of %d rows split", a.n)
	}
}

// TestSplitKeepsEveryBit: a forward and backward over a batch split between
// two cores give the same bits as over the whole batch on one core: the
// log-probs, entropies and every parameter gradient, for each model shape.
func TestSplitKeepsEveryBit(t *testing.T) {
	for _, kind := range []string{"lab", "gqa", "qwen2"} {
		cfg := goldenConfig(kind)
		m, err := New(cfg, 9)
		if err != nil {
			t.Fatal(err)
		}
		run := func(procs int) (logp, ent, grads []float32, split bool) {
			prev := runtime.GOMAXPROCS(procs)
			defer runtime.GOMAXPROCS(prev)
			rng := rand.New(rand.NewPCG(7, 8))
			tr, err := NewLearner(m, LearnerOptions{MaxBatch: 20, MaxSeqLen: 70})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				b := splitBatch(t, rng, cfg, 20, 70)
				out, err := tr.Forward(b, ForwardOptions{Temperature: 0.7, Entropy: true})
				if err != nil {
					t.Fatal(err)
				}
				_, split = tr.act.split()
				logp = append(logp, out.LogProbs...)
				ent = append(ent, out.Entropies...)
				dlogp := make([]float32, len(out.LogProbs))
				dent := make([]float32, len(out.LogProbs))
				for i := range dlogp {
					dlogp[i] = float32(rng.NormFloat64())
					dent[i] = float32(rng.NormFloat64()) * 0.1
				}
				if err := tr.Backward(dlogp, dent); err != nil {
					t.Fatal(err)
				}
			}
			return logp, ent, slices.Clone(tr.grads), split
		}
		wantLogp, wantEnt, wantGrads, _ := run(1)
		logp, ent, grads, split := run(2)
		if !split {
			t.Fatalf("%s: the batch did not split on two cores", kind)
		}
		for name, pair := range map[string][2][]float32{"log-prob": {logp, wantLogp}, "entropy": {ent, wantEnt}, "gradient": {grads, wantGrads}} {
			got, want := pair[0], pair[1]
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Errorf("%s: %s %d is %v split, %v whole", kind, name, i, got[i], want[i])
					break
				}
			}
		}
	}
}
