package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/urlvr/urlvr/engine/kernels"
)

// The golden hashes pin the exact bits the engine produces: a seeded model
// trained for a few steps (cross-entropy and policy-gradient updates on
// padded batches of uneven sequences, AdamW), then scored and sampled. They
// were recorded with the engine before any of its speed work and must never
// change: runs of the lab, and the models pre-trained with earlier versions,
// reproduce bit for bit only while they hold. A change that alters any of
// them changes summation order somewhere; it is not a speed-up but a
// different engine. Run with URLVR_GOLDEN_PRINT=1 to print the hashes.
var goldenHashes = map[string]string{
	"lab/weights":   "a17e847f0a323a71",
	"lab/scores":    "c52162061cb56d91",
	"lab/samples":   "5f945881d20a08ae",
	"gqa/weights":   "76716eb8a9ab16be",
	"gqa/scores":    "52c4de7a827fae30",
	"gqa/samples":   "05a311dacc339b64",
	"qwen2/weights": "faef5f9c86bf0a5c",
	"qwen2/scores":  "b475c55ba4c14cef",
	"qwen2/samples": "899500d3c513310e",
}

// goldenConfig is a model of each shape the golden hashes cover: "lab" is
// the shape of the lab's small models (d=64, 2 layers, 4 heads of 16),
// "gqa" has grouped queries and QK norm, "qwen2" biases and an untied head.
func goldenConfig(kind string) Config {
	c := Config{
		ModelType: "llama", VocabSize: 34, HiddenSize: 64, IntermediateSize: 256,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 4, HeadDim: 16, MaxPositions: 128,
		RMSNormEps: 1e-5, RopeTheta: 10000, TieWordEmbeddings: true, BOSTokenID: -1,
	}
	switch kind {
	case "gqa":
		c = midConfig("qwen3")
	case "qwen2":
		c = midConfig("qwen2")
	}
	return c
}

func hashFloats(h hash.Hash, xs []float32) {
	var b [4]byte
	for _, x := range xs {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
		h.Write(b[:])
	}
}

func hashInts(h hash.Hash, xs []int) {
	var b [8]byte
	for _, x := range xs {
		binary.LittleEndian.PutUint64(b[:], uint64(x))
		h.Write(b[:])
	}
}

// goldenRun trains, scores and samples a seeded model and returns the
// hashes of its weights, scores and samples.
func goldenRun(t *testing.T, kind string) map[string]string {
	t.Helper()
	cfg := goldenConfig(kind)
	m, err := New(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 13))
	const B = 12
	maxT := min(cfg.MaxPositions, 90)
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: B, MaxSeqLen: maxT, AdamW: DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Uneven sequences, so batches are padded and span several K blocks of
	// the weight-gradient products (B·T > 256 rows).
	batch := func() ([][]int, []int) {
		seqs := make([][]int, B)
		from := make([]int, B)
		for i := range seqs {
			n := 3 + rng.IntN(maxT-3)
			if i == 0 {
				n = maxT
			}
			seqs[i] = randomTokens(rng, cfg.VocabSize, n)
			from[i] = 1 + rng.IntN(n-1)
		}
		return seqs, from
	}
	for step := 0; step < 4; step++ {
		seqs, from := batch()
		b, err := NewBatch(seqs, from)
		if err != nil {
			t.Fatal(err)
		}
		if step%2 == 0 {
			if _, err := tr.CrossEntropy(b, 1); err != nil {
				t.Fatal(err)
			}
		} else {
			out, err := tr.Forward(b, ForwardOptions{Temperature: 0.9, Entropy: true})
			if err != nil {
				t.Fatal(err)
			}
			dlogp := make([]float32, len(out.LogProbs))
			dent := make([]float32, len(out.LogProbs))
			for i, mk := range b.Mask {
				if mk {
					dlogp[i] = float32(rng.NormFloat64()) * 0.01
					dent[i] = float32(rng.NormFloat64()) * 0.001
				}
			}
			if err := tr.Backward(dlogp, dent); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tr.Step(3e-3); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]string{}
	h := sha256.New()
	hashFloats(h, m.params)
	out[kind+"/weights"] = hex.EncodeToString(h.Sum(nil))[:16]

	seqs, from := batch()
	sc, err := m.LogProbs(context.Background(), seqs, ScoreOptions{Temperature: 0.8, Entropy: true, ScoreFrom: from})
	if err != nil {
		t.Fatal(err)
	}
	h = sha256.New()
	for _, s := range sc {
		hashFloats(h, s.LogProbs)
		hashFloats(h, s.Entropies)
	}
	out[kind+"/scores"] = hex.EncodeToString(h.Sum(nil))[:16]

	prompts := make([][]int, 40)
	for i := range prompts {
		prompts[i] = randomTokens(rng, cfg.VocabSize, 2+rng.IntN(20))
	}
	gens, err := m.Sample(context.Background(), prompts, SampleOptions{MaxNewTokens: 40, Temperature: 1, TopP: 0.95, StopTokens: []int{2}, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	h = sha256.New()
	for _, g := range gens {
		hashInts(h, g.Tokens)
		hashFloats(h, g.LogProbs)
		hashFloats(h, g.Entropies)
		hashFloats(h, g.SelfCertainty)
		hashFloats(h, g.TopGaps)
	}
	out[kind+"/samples"] = hex.EncodeToString(h.Sum(nil))[:16]
	return out
}

// TestGoldenBits: training, scoring and sampling give the recorded bits, on
// one core and on all of them.
func TestGoldenBits(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three models")
	}
	if kernels.Backends()[0].Name != "avx512" {
		// The hashes were recorded with the AVX-512 micro-kernels, which
		// run first only where the CPU has them and the build has assembly;
		// other kernels (AVX2, or the portable Go of a purego or non-amd64
		// build) may round differently.
		t.Skip("golden hashes are recorded for AVX-512 kernels")
	}
	print := os.Getenv("URLVR_GOLDEN_PRINT") != ""
	for _, procs := range []int{1, runtime.GOMAXPROCS(0), 3} {
		prev := runtime.GOMAXPROCS(procs)
		for _, kind := range []string{"lab", "gqa", "qwen2"} {
			for k, got := range goldenRun(t, kind) {
				if print {
					t.Logf("GOMAXPROCS %d: %q: %q,", procs, k, got)
				}
				if want := goldenHashes[k]; got != want {
					t.Errorf("GOMAXPROCS %d: %s hash %s, want %s", procs, k, got, want)
				}
			}
		}
		runtime.GOMAXPROCS(prev)
	}
}
