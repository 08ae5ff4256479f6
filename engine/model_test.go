package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// tinyConfig returns small models of each supported shape.
func tinyConfig(kind string) Config {
	c := Config{
		ModelType: "llama", VocabSize: 11, HiddenSize: 8, IntermediateSize: 12,
		NumLayers: 2, NumHeads: 2, NumKVHeads: 2, HeadDim: 4, MaxPositions: 32,
		RMSNormEps: 1e-5, RopeTheta: 10000, TieWordEmbeddings: true, BOSTokenID: -1,
	}
	switch kind {
	case "llama":
	case "llama-untied":
		c.TieWordEmbeddings = false
	case "llama-gqa-bias": // grouped-query, biases on q/k/v/o, untied head
		c.NumHeads, c.NumKVHeads, c.AttentionBias, c.TieWordEmbeddings = 4, 2, true, false
	case "qwen2": // multi-query, q/k/v biases
		c.ModelType, c.NumHeads, c.NumKVHeads, c.TieWordEmbeddings = "qwen2", 2, 1, false
	case "qwen3": // grouped-query, QK norm, head_dim ≠ hidden/heads
		c.ModelType, c.NumHeads, c.NumKVHeads, c.HeadDim = "qwen3", 4, 2, 6
		c.RopeTheta = 1e6
	default:
		panic("unknown tiny config " + kind)
	}
	return c
}

var tinyKinds = []string{"llama", "llama-untied", "llama-gqa-bias", "qwen2", "qwen3"}

// randomModel is a model with every parameter random, norms around 1 and
// biases non-zero, so that every term of every layer matters.
func randomModel(t testing.TB, cfg Config, seed uint64) *Model {
	t.Helper()
	m, err := New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	for _, s := range m.specs {
		x := m.params[s.offset : s.offset+s.size]
		for i := range x {
			if len(s.shape) == 1 && !isBias(s.name) {
				x[i] = float32(1 + 0.3*rng.NormFloat64())
			} else {
				x[i] = float32(0.4 * rng.NormFloat64())
			}
		}
	}
	return m
}

func isBias(name string) bool { return len(name) > 5 && name[len(name)-5:] == ".bias" }

// randomBatch draws tokens and a mask that scores about two thirds of the
// positions after the first.
func randomBatch(rng *rand.Rand, V, B, T int) Batch {
	b := Batch{B: B, T: T, Tokens: make([]int, B*T), Mask: make([]bool, B*T)}
	for i := range b.Tokens {
		b.Tokens[i] = rng.IntN(V)
		b.Mask[i] = i%T != 0 && rng.IntN(3) != 0
	}
	b.Mask[1] = true
	return b
}

func TestParamLayoutNames(t *testing.T) {
	cases := []struct {
		kind       string
		count      int
		has, hasNo []string
	}{
		{"llama", 1 + 2*9 + 1, []string{"model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight"},
			[]string{"lm_head.weight", "model.layers.0.self_attn.q_proj.bias"}},
		{"llama-gqa-bias", 1 + 2*13 + 2, []string{"lm_head.weight", "model.layers.0.self_attn.o_proj.bias"}, nil},
		{"qwen2", 1 + 2*12 + 2, []string{"model.layers.0.self_attn.k_proj.bias"}, []string{"model.layers.0.self_attn.o_proj.bias"}},
		{"qwen3", 1 + 2*11 + 1, []string{"model.layers.1.self_attn.q_norm.weight", "model.layers.1.self_attn.k_norm.weight"},
			[]string{"model.layers.0.self_attn.q_proj.bias"}},
	}
	for _, c := range cases {
		m, err := New(tinyConfig(c.kind), 1)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(m.TensorNames()); n != c.count {
			t.Errorf("%s: %d tensors, want %d", c.kind, n, c.count)
		}
		for _, name := range c.has {
			if _, _, ok := m.Tensor(name); !ok {
				t.Errorf("%s: no tensor %s", c.kind, name)
			}
		}
		for _, name := range c.hasNo {
			if _, _, ok := m.Tensor(name); ok {
				t.Errorf("%s: unexpected tensor %s", c.kind, name)
			}
		}
	}
	// Qwen3's q_proj is [H·D × C] with H·D = 24 ≠ C = 8.
	m, _ := New(tinyConfig("qwen3"), 1)
	if _, shape, _ := m.Tensor("model.layers.0.self_attn.q_proj.weight"); shape[0] != 24 || shape[1] != 8 {
		t.Errorf("qwen3 q_proj shape %v, want [24 8]", shape)
	}
	// Parameter count of the reference model: V·C + L·(2C + 4C² + 3CF) + C.
	b, _ := New(BenchConfig(), 1)
	if want := 64*256 + 4*(2*256+4*256*256+3*256*1024) + 256; b.NumParams() != want {
		t.Errorf("bench model has %d parameters, want %d", b.NumParams(), want)
	}
}

func TestNewIsDeterministic(t *testing.T) {
	a, _ := New(tinyConfig("qwen3"), 42)
	b, _ := New(tinyConfig("qwen3"), 42)
	c, _ := New(tinyConfig("qwen3"), 43)
	if !equalFloats(a.params, b.params) {
		t.Error("same seed gave different weights")
	}
	if equalFloats(a.params, c.params) {
		t.Error("different seeds gave the same weights")
	}
	norm, _, _ := a.Tensor("model.layers.0.input_layernorm.weight")
	for _, v := range norm {
		if v != 1 {
			t.Fatalf("norm weight initialised to %v, want 1", v)
		}
	}
	emb, _, _ := a.Tensor("model.embed_tokens.weight")
	var ss float64
	for _, v := range emb {
		ss += float64(v) * float64(v)
	}
	if std := math.Sqrt(ss / float64(len(emb))); std < 0.01 || std > 0.03 {
		t.Errorf("embedding std %v, want about 0.02", std)
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestForwardMatchesReference holds the engine's batched forward to the
// float64 reference on every model shape, at temperature 1 and 0.6.
func TestForwardMatchesReference(t *testing.T) {
	for _, kind := range tinyKinds {
		cfg := tinyConfig(kind)
		m := randomModel(t, cfg, 5)
		ref := refFromModel(m)
		rng := rand.New(rand.NewPCG(6, 7))
		batch := randomBatch(rng, cfg.VocabSize, 3, 7)
		tr, err := NewLearner(m, LearnerOptions{MaxBatch: 3, MaxSeqLen: 7, AdamW: DefaultAdamW()})
		if err != nil {
			t.Fatal(err)
		}
		for _, temp := range []float64{1, 0.6} {
			out, err := tr.Forward(batch, ForwardOptions{Temperature: temp, Entropy: true})
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < batch.B; s++ {
				toks := batch.Tokens[s*batch.T : (s+1)*batch.T]
				lg := ref.logits(toks)
				for p := 1; p < batch.T; p++ {
					i := s*batch.T + p
					if !batch.Mask[i] {
						if out.LogProbs[i] != 0 || out.Entropies[i] != 0 {
							t.Errorf("%s: unscored position %d has outputs", kind, i)
						}
						continue
					}
					lp, ent := refTokenStats(lg[p-1], toks[p], temp)
					if math.Abs(float64(out.LogProbs[i])-lp) > 2e-5 || math.Abs(float64(out.Entropies[i])-ent) > 2e-5 {
						t.Errorf("%s T=%v seq %d pos %d: logp %v entropy %v, want %v %v", kind, temp, s, p, out.LogProbs[i], out.Entropies[i], lp, ent)
					}
				}
			}
		}
	}
}

// TestModelGradients checks the gradient of Σ a·logp + c·entropy with
// respect to every parameter of every model shape against float64 central
// differences of the reference.
func TestModelGradients(t *testing.T) {
	for _, kind := range tinyKinds {
		t.Run(kind, func(t *testing.T) {
			cfg := tinyConfig(kind)
			m := randomModel(t, cfg, 21)
			rng := rand.New(rand.NewPCG(22, 23))
			const B, T, temp = 2, 5, 0.8
			batch := randomBatch(rng, cfg.VocabSize, B, T)
			wl, we := randVec(rng, B*T, 1), randVec(rng, B*T, 0.5)
			tr, err := NewLearner(m, LearnerOptions{MaxBatch: B, MaxSeqLen: T, AdamW: DefaultAdamW()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Forward(batch, ForwardOptions{Temperature: temp, Entropy: true}); err != nil {
				t.Fatal(err)
			}
			if err := tr.Backward(to32(wl), to32(we)); err != nil {
				t.Fatal(err)
			}
			// Every tensor, at up to 24 entries each (all of the small ones):
			// the reference forward is slow, and a wrong backward shows up
			// in every entry it touches.
			ref := refFromModel(m)
			for _, s := range m.specs {
				x := ref.p[s.name]
				idx := rng.Perm(len(x))[:min(24, len(x))]
				sub := make([]float64, len(idx))
				got := make([]float32, len(idx))
				for j, i := range idx {
					sub[j] = x[i]
					got[j] = tr.grads[s.offset+i]
				}
				num := centralDiff(sub, 1e-5, func() float64 {
					for j, i := range idx {
						x[i] = sub[j]
					}
					return ref.batchObjective(batch, temp, wl, we)
				})
				for j, i := range idx {
					x[i] = sub[j]
				}
				expectGrad(t, s.name, got, num)
			}
		})
	}
}
