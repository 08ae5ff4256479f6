package engine

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// toyCorpus is four sequences in which every token is determined by the
// sequence's first token and the position, so a model that memorises the
// corpus reaches a loss near zero. (No sequence opens with a run of one
// token: without absolute positions, causal attention cannot tell [6] from
// [6, 6], whose values average to the same vector.)
func toyCorpus() [][]int {
	return [][]int{
		{1, 3, 5, 7, 9, 11, 3, 5, 7, 9, 11, 3, 5, 7, 9, 11},
		{2, 4, 4, 6, 6, 8, 8, 10, 10, 4, 4, 6, 6, 8, 8, 10},
		{0, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 10, 9},
		{5, 6, 6, 1, 1, 1, 6, 6, 6, 1, 1, 1, 6, 6, 6, 1},
	}
}

func toyConfig() Config {
	return Config{
		ModelType: "qwen3", VocabSize: 12, HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 16,
		RMSNormEps: 1e-6, RopeTheta: 10000, TieWordEmbeddings: true, BOSTokenID: -1,
	}
}

// TestOverfitToyCorpus trains a small model with cross-entropy until it has
// memorised the corpus, then checks that greedy sampling reproduces it.
func TestOverfitToyCorpus(t *testing.T) {
	m, err := New(toyConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	corpus := toyCorpus()
	batch, err := NewBatch(corpus, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 4, MaxSeqLen: 16, AdamW: AdamWConfig{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}, ClipNorm: 1})
	if err != nil {
		t.Fatal(err)
	}
	sched := Schedule{Kind: "cosine", PeakLR: 1e-2, MinLR: 1e-3, WarmupSteps: 10, TotalSteps: 200}
	first, loss := 0.0, 0.0
	for step := 0; step < 200; step++ {
		if loss, err = tr.CrossEntropy(batch, 1); err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss
		}
		if _, err := tr.Step(sched.LR(step)); err != nil {
			t.Fatal(err)
		}
	}
	if math.Abs(first-math.Log(12)) > 0.1 {
		t.Errorf("initial loss %.3f, want about ln 12 = %.3f", first, math.Log(12))
	}
	t.Logf("cross-entropy %.3f -> %.5f in 200 steps", first, loss)
	if loss > 0.01 {
		t.Fatalf("loss after 200 steps %.4f, want < 0.01 (started at %.3f)", loss, first)
	}
	gens, err := m.Sample(context.Background(), [][]int{corpus[0][:1], corpus[1][:1], corpus[2][:1], corpus[3][:1]}, SampleOptions{MaxNewTokens: 15})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range gens {
		for j, tok := range g.Tokens {
			if tok != corpus[i][j+1] {
				t.Errorf("sequence %d: greedy continuation %v, want %v", i, g.Tokens, corpus[i][1:])
				break
			}
		}
	}
}

// TestGradientAccumulation: two micro-batches, each weighted by its share of
// the scored tokens, give the gradient of the whole batch.
func TestGradientAccumulation(t *testing.T) {
	cfg := tinyConfig("qwen2")
	m := randomModel(t, cfg, 81)
	rng := rand.New(rand.NewPCG(82, 83))
	full := randomBatch(rng, cfg.VocabSize, 4, 6)
	half := func(i int) Batch {
		return Batch{B: 2, T: 6, Tokens: full.Tokens[i*12 : (i+1)*12], Mask: full.Mask[i*12 : (i+1)*12]}
	}
	count := func(b Batch) (n int) {
		for _, on := range b.Mask {
			if on {
				n++
			}
		}
		return n
	}
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 4, MaxSeqLen: 6, AdamW: DefaultAdamW()})
	if err != nil {
		t.Fatal(err)
	}
	loss, err := tr.CrossEntropy(full, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := to64(tr.grads)
	tr.ZeroGrad()
	var accLoss float64
	for i := range 2 {
		share := float64(count(half(i))) / float64(count(full))
		l, err := tr.CrossEntropy(half(i), share)
		if err != nil {
			t.Fatal(err)
		}
		accLoss += share * l
	}
	if math.Abs(accLoss-loss) > 1e-5 {
		t.Errorf("accumulated loss %v, whole-batch loss %v", accLoss, loss)
	}
	expectClose(t, "accumulated gradient", tr.grads, want, 1e-5)
}

func TestScheduleHandValues(t *testing.T) {
	cases := []struct {
		s    Schedule
		step int
		want float64
	}{
		{Schedule{Kind: "constant", PeakLR: 0.1}, 0, 0.1},
		{Schedule{Kind: "constant", PeakLR: 0.1}, 1000, 0.1},
		{Schedule{Kind: "constant", PeakLR: 0.1, WarmupSteps: 4}, 0, 0.025},
		{Schedule{Kind: "constant", PeakLR: 0.1, WarmupSteps: 4}, 2, 0.075},
		{Schedule{Kind: "constant", PeakLR: 0.1, WarmupSteps: 4}, 4, 0.1},
		// Cosine from 1 to 0 over 10 steps after 2 warm-up steps: half way
		// (step 7) is 0.5, a quarter (step 4.5) is (1+cos(π/4))/2.
		{Schedule{Kind: "cosine", PeakLR: 1, WarmupSteps: 2, TotalSteps: 12}, 2, 1},
		{Schedule{Kind: "cosine", PeakLR: 1, WarmupSteps: 2, TotalSteps: 12}, 7, 0.5},
		{Schedule{Kind: "cosine", PeakLR: 1, WarmupSteps: 2, TotalSteps: 12}, 12, 0},
		{Schedule{Kind: "cosine", PeakLR: 1, WarmupSteps: 2, TotalSteps: 12}, 50, 0},
		{Schedule{Kind: "cosine", PeakLR: 1, MinLR: 0.2, TotalSteps: 4}, 1, 0.2 + 0.8*(1+math.Cos(math.Pi/4))/2},
		{Schedule{Kind: "linear", PeakLR: 1, MinLR: 0.2, TotalSteps: 4}, 1, 0.8},
		{Schedule{Kind: "linear", PeakLR: 1, MinLR: 0.2, TotalSteps: 4}, 4, 0.2},
	}
	for _, c := range cases {
		if err := c.s.Validate(); err != nil {
			t.Errorf("%+v: %v", c.s, err)
		}
		if got := c.s.LR(c.step); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v step %d: lr %v, want %v", c.s, c.step, got, c.want)
		}
	}
	for _, bad := range []Schedule{
		{Kind: "step", PeakLR: 1},
		{Kind: "cosine", PeakLR: 1, WarmupSteps: 5, TotalSteps: 5},
		{Kind: "constant", PeakLR: 1, MinLR: 2},
		{Kind: "constant", PeakLR: math.NaN()},
		{Kind: "constant", PeakLR: 1, WarmupSteps: -1},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

func TestClipScale(t *testing.T) {
	for _, c := range []struct {
		norm, max float64
		want      float32
	}{
		{5, 0, 1},                       // no clipping configured
		{5, 10, 1},                      // norm below the limit
		{5, 5, 1},                       // at the limit
		{5, 1, float32(1 / (5 + 1e-6))}, // scaled to norm 1
		{math.Inf(1), 1, 1},             // non-finite: left for the caller to refuse
	} {
		if got := clipScale(c.norm, c.max); got != c.want {
			t.Errorf("clipScale(%v, %v) = %v, want %v", c.norm, c.max, got, c.want)
		}
	}
}

// TestStepClipsInsideTheUpdate: a step that clips gives the parameters a
// separate scaling pass and then AdamW give, bit for bit, and leaves every
// gradient zero.
func TestStepClipsInsideTheUpdate(t *testing.T) {
	m, err := New(toyConfig(), 7)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := NewBatch(toyCorpus(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := LearnerOptions{MaxBatch: 4, MaxSeqLen: 16, AdamW: DefaultAdamW(), ClipNorm: 0.01}
	fused, err := NewLearner(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	separate, err := NewLearner(m.Clone(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for step := range 3 {
		for _, tr := range []*Learner{fused, separate} {
			if _, err := tr.CrossEntropy(batch, 1); err != nil {
				t.Fatal(err)
			}
		}
		norm, err := fused.Step(1e-2)
		if err != nil {
			t.Fatal(err)
		}
		s := clipScale(globalNorm(separate.grads, separate.partial), opts.ClipNorm)
		if s == 1 {
			t.Fatalf("step %d: norm %v is not clipped to %v; the test needs clipping", step, norm, opts.ClipNorm)
		}
		for i := range separate.grads {
			separate.grads[i] *= s
		}
		separate.opt.update(separate.m.params, separate.grads, 1e-2, 1)
		for i, p := range fused.m.params {
			if math.Float32bits(p) != math.Float32bits(separate.m.params[i]) {
				t.Fatalf("step %d parameter %d: %v clipped in the update, %v clipped before it", step, i, p, separate.m.params[i])
			}
		}
		for i, g := range fused.grads {
			if g != 0 {
				t.Fatalf("step %d: gradient %d is %v after the step, want 0", step, i, g)
			}
		}
	}
}

func TestGlobalNorm(t *testing.T) {
	partial := make([]float64, normChunks)
	// The chunks summed side by side give the bits of summing each chunk
	// alone, in order, for any length.
	if normChunks%normLanes != 0 {
		t.Fatalf("normChunks %d is not a multiple of normLanes %d", normChunks, normLanes)
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for _, n := range []int{0, 5, 64, 1000, 10007, 1 << 17} {
		g := make([]float32, n)
		for i := range g {
			g[i] = float32(rng.NormFloat64()) * float32(1+rng.IntN(1000))
		}
		var want float64
		for c := range normChunks {
			var s float64
			for _, x := range g[c*n/normChunks : (c+1)*n/normChunks] {
				s += float64(x) * float64(x)
			}
			want += s
		}
		want = math.Sqrt(want)
		if got := globalNorm(g, partial); math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("norm of %d elements %v, chunk by chunk %v", n, got, want)
		}
	}
	// The norm is summed in float64 in a fixed order: a long vector of ones
	// has norm exactly √n.
	ones := make([]float32, 10007)
	for i := range ones {
		ones[i] = 1
	}
	if n := globalNorm(ones, partial); n != math.Sqrt(10007) {
		t.Errorf("norm of 10007 ones %v, want %v", n, math.Sqrt(10007))
	}
}

// TestAdamWDecaySkipsNormsAndBiases: with a zero gradient the Adam part of
// the update is zero, so one step scales matrices by 1 − lr·wd and leaves
// norm weights and biases alone.
func TestAdamWDecaySkipsNormsAndBiases(t *testing.T) {
	m := randomModel(t, tinyConfig("qwen2"), 91)
	before := m.Clone()
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 1, MaxSeqLen: 4, AdamW: AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(0.1); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.specs {
		factor := float32(1)
		if s.decay {
			factor = 1 - 0.1*0.5
		}
		for i := s.offset; i < s.offset+s.size; i++ {
			if want := before.params[i] * factor; math.Abs(float64(m.params[i]-want)) > 1e-6 {
				t.Fatalf("%s: %v after a zero-gradient step, want %v", s.name, m.params[i], want)
			}
		}
	}
	if tr.Optimizer().Steps() != 1 {
		t.Errorf("optimizer steps %d, want 1", tr.Optimizer().Steps())
	}
}

func TestStepRejectsNonFiniteGradient(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 92)
	before := m.Clone()
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 1, MaxSeqLen: 4, AdamW: DefaultAdamW()})
	if err != nil {
		t.Fatal(err)
	}
	tr.grads[3] = float32(math.Inf(1))
	if _, err := tr.Step(0.1); !errors.Is(err, ErrNonFinite) || errors.Is(err, ErrInvalidLearningRate) {
		t.Fatalf("infinite gradient: error %v", err)
	}
	for _, lr := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := tr.Step(lr); !errors.Is(err, ErrInvalidLearningRate) || errors.Is(err, ErrNonFinite) {
			t.Fatalf("learning rate %v: error %v", lr, err)
		}
	}
	if !equalFloats(m.params, before.params) {
		t.Error("parameters changed on a rejected step")
	}
	if tr.GradNorm() != 0 {
		t.Error("gradients kept after a rejected step")
	}
}

func TestLearnerRejectsBadInput(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 93)
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 2, MaxSeqLen: 4, AdamW: DefaultAdamW()})
	if err != nil {
		t.Fatal(err)
	}
	good := Batch{B: 1, T: 3, Tokens: []int{1, 2, 3}, Mask: []bool{false, true, true}}
	cases := []struct {
		b    Batch
		want string
	}{
		{Batch{B: 1, T: 5, Tokens: make([]int, 5), Mask: make([]bool, 5)}, "at most 4"},
		{Batch{B: 3, T: 4, Tokens: make([]int, 12), Mask: make([]bool, 12)}, "at most 8"},
		{Batch{B: 1, T: 3, Tokens: []int{1, 2}, Mask: []bool{false, true, true}}, "2 tokens"},
		{Batch{B: 1, T: 3, Tokens: []int{1, 2, 40}, Mask: []bool{false, true, true}}, "token 40"},
		{Batch{B: 1, T: 3, Tokens: []int{1, 2, 3}, Mask: []bool{true, true, true}}, "position 0"},
	}
	for _, c := range cases {
		if _, err := tr.Forward(c.b, ForwardOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want it to mention %q", c.b, err, c.want)
		}
	}
	if err := tr.Backward(make([]float32, 3), nil); err == nil {
		t.Error("backward after a failed forward: no error")
	}
	if _, err := tr.Forward(good, ForwardOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Backward(make([]float32, 4), nil); err == nil {
		t.Error("wrong gradient length: no error")
	}
	if err := tr.Backward(make([]float32, 3), make([]float32, 3)); err == nil {
		t.Error("entropy gradient without entropies: no error")
	}
	if _, err := NewLearner(m, LearnerOptions{MaxBatch: 1, MaxSeqLen: 64, AdamW: DefaultAdamW()}); err == nil {
		t.Error("trainer longer than the context: no error")
	}
	if _, err := NewLearner(m, LearnerOptions{MaxBatch: 1, MaxSeqLen: 4, AdamW: AdamWConfig{Beta1: 0.9, Beta2: 0.999}}); err == nil {
		t.Error("AdamW eps 0: no error")
	}
	if tr, err := NewLearner(m, LearnerOptions{MaxBatch: 1, MaxSeqLen: 4}); err != nil || tr.Optimizer().Config != DefaultAdamW() {
		t.Errorf("zero AdamW config: %v, want the defaults", err)
	}
}

// TestStepAllocatesNoBuffers: after the first step, the engine's own code
// allocates no buffers in a training step, only the small closures and
// goroutines of its parallel loops. Allocations made inside the kernels
// (their packing buffers) are theirs to account for and are not counted.
func TestStepAllocatesNoBuffers(t *testing.T) {
	m := randomModel(t, toyConfig(), 94)
	batch, _ := NewBatch(toyCorpus(), nil)
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 4, MaxSeqLen: 16, AdamW: DefaultAdamW()})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		if _, err := tr.CrossEntropy(batch, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Step(1e-3); err != nil {
			t.Fatal(err)
		}
	}
	step()
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	before := engineAllocBytes()
	const steps = 5
	for range steps {
		step()
	}
	perStep := (engineAllocBytes() - before) / steps
	// The activations alone are over 200 KB.
	if perStep > 16<<10 {
		t.Errorf("a training step allocated %d bytes in the engine", perStep)
	}
}

// engineAllocBytes returns the bytes allocated so far (as of a completed
// garbage collection) by engine code outside the kernels package.
func engineAllocBytes() int64 {
	runtime.GC()
	runtime.GC()
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, true); ok {
			recs = recs[:n]
			break
		}
	}
	var total int64
	for _, r := range recs {
		frames := runtime.CallersFrames(r.Stack())
		engine := false
		for {
			f, more := frames.Next()
			if strings.HasPrefix(f.Function, "github.com/urlvr/urlvr/engine/kernels.") {
				engine = false
				break
			}
			if strings.HasPrefix(f.Function, "github.com/urlvr/urlvr/engine.") && !strings.Contains(f.Function, "_test") &&
				!strings.Contains(f.Function, "engine.Test") && !strings.Contains(f.Function, "engine.engineAllocBytes") {
				engine = true
			}
			if !more {
				break
			}
		}
		if engine {
			total += r.AllocBytes
		}
	}
	return total
}

// TestTrainingIndependentOfGOMAXPROCS: a few training steps give bit-identical
// weights whatever the number of threads.
func TestTrainingIndependentOfGOMAXPROCS(t *testing.T) {
	train := func(procs int) *Model {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		// Large enough that the kernels split their work too.
		m := randomModel(t, toyConfig(), 95)
		tr, err := NewLearner(m, LearnerOptions{MaxBatch: 4, MaxSeqLen: 16, AdamW: DefaultAdamW(), ClipNorm: 1})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(96, 97))
		for range 3 {
			b := randomBatch(rng, 12, 4, 16)
			if _, err := tr.Forward(b, ForwardOptions{Temperature: 0.7, Entropy: true}); err != nil {
				t.Fatal(err)
			}
			dl, de := make([]float32, 64), make([]float32, 64)
			for i := range dl {
				dl[i], de[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			if err := tr.Backward(dl, de); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Step(1e-2); err != nil {
				t.Fatal(err)
			}
		}
		return m
	}
	want := train(1)
	for _, procs := range []int{2, 3, 8} {
		if !equalFloats(train(procs).params, want.params) {
			t.Errorf("GOMAXPROCS=%d changed the trained weights", procs)
		}
	}
}

// TestBackwardWithNothingScored: a batch whose mask scores no token computes
// no rows; its backward adds nothing to the gradients.
func TestBackwardWithNothingScored(t *testing.T) {
	m, err := New(toyConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 4, MaxSeqLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBatch(toyCorpus(), []int{16, 16, 16, 16})
	if err != nil {
		t.Fatal(err)
	}
	out, err := tr.Forward(b, ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Backward(make([]float32, len(out.LogProbs)), nil); err != nil {
		t.Fatal(err)
	}
	if n := tr.GradNorm(); n != 0 {
		t.Errorf("gradient norm %v after a batch scoring nothing, want 0", n)
	}
}

// TestBackwardForwardMatchesTurns checks that running each micro-batch's
// forward beside the previous one's backward gives, bit for bit, the
// outputs and accumulated gradients of Forward and Backward in turn, with
// and without entropy gradients and QK norm, over micro-batches of
// different shapes (the second set of buffers holds a batch of another
// shape than the first).
func TestBackwardForwardMatchesTurns(t *testing.T) {
	for _, kind := range []string{"lab", "gqa"} {
		cfg := goldenConfig(kind)
		rng := rand.New(rand.NewPCG(7, 8))
		var micro []Batch
		for _, shape := range [][2]int{{5, 11}, {3, 16}, {6, 7}, {2, 16}} {
			micro = append(micro, randomBatch(rng, cfg.VocabSize, shape[0], shape[1]))
		}
		dlogp := func(b Batch, k int) []float32 {
			d := make([]float32, b.B*b.T)
			for i := range d {
				d[i] = float32(math.Sin(float64(3*i+k))) * 1e-2
			}
			return d
		}
		for _, entropy := range []bool{false, true} {
			o := ForwardOptions{Temperature: 0.7, Entropy: entropy}
			var dent func(Batch, int) []float32
			if entropy {
				dent = func(b Batch, k int) []float32 { return dlogp(b, k+100) }
			} else {
				dent = func(Batch, int) []float32 { return nil }
			}
			run := func(overlap bool) (outs [][]float32, grads []float32) {
				m := randomModel(t, cfg, 9)
				tr, err := NewLearner(m, LearnerOptions{MaxBatch: 6, MaxSeqLen: 16, AdamW: DefaultAdamW()})
				if err != nil {
					t.Fatal(err)
				}
				keep := func(out TokenOutputs) {
					outs = append(outs, append([]float32(nil), out.LogProbs...), append([]float32(nil), out.Entropies...))
				}
				out, err := tr.Forward(micro[0], o)
				if err != nil {
					t.Fatal(err)
				}
				keep(out)
				for k, b := range micro {
					dl, de := dlogp(b, k), dent(b, k)
					switch {
					case k+1 == len(micro):
						err = tr.Backward(dl, de)
					case overlap:
						out, err = tr.BackwardForward(dl, de, micro[k+1], o)
						keep(out)
					default:
						if err = tr.Backward(dl, de); err == nil {
							out, err = tr.Forward(micro[k+1], o)
							keep(out)
						}
					}
					if err != nil {
						t.Fatal(err)
					}
				}
				return outs, append([]float32(nil), tr.grads...)
			}
			wantOuts, wantGrads := run(false)
			gotOuts, gotGrads := run(true)
			for i := range wantOuts {
				if !equalFloats(gotOuts[i], wantOuts[i]) {
					t.Errorf("%s, entropy %v: output %d differs when the forward runs beside the backward", kind, entropy, i)
				}
			}
			if !equalFloats(gotGrads, wantGrads) {
				t.Errorf("%s, entropy %v: accumulated gradients differ when the forwards run beside the backwards", kind, entropy)
			}
		}
	}
}

// TestBackwardForwardRejectsBadInput: the overlapped call checks the
// backward's gradients and the next batch before computing anything.
func TestBackwardForwardRejectsBadInput(t *testing.T) {
	m := randomModel(t, toyConfig(), 95)
	batch, _ := NewBatch(toyCorpus(), nil)
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 4, MaxSeqLen: 16, AdamW: DefaultAdamW()})
	if err != nil {
		t.Fatal(err)
	}
	d := make([]float32, batch.B*batch.T)
	if _, err := tr.BackwardForward(d, nil, batch, ForwardOptions{}); err == nil || !strings.Contains(err.Error(), "without a forward") {
		t.Errorf("before any forward: error %v", err)
	}
	if _, err := tr.Forward(batch, ForwardOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.BackwardForward(d[1:], nil, batch, ForwardOptions{}); err == nil || !strings.Contains(err.Error(), "log-prob gradients") {
		t.Errorf("short gradient: error %v", err)
	}
	long := Batch{B: 1, T: 17, Tokens: make([]int, 17), Mask: make([]bool, 17)}
	if _, err := tr.BackwardForward(d, nil, long, ForwardOptions{}); err == nil || !strings.Contains(err.Error(), "at most 16") {
		t.Errorf("next batch too long: error %v", err)
	}
	if n := nonZero(tr.grads); n != 0 {
		t.Errorf("%d gradients changed by rejected calls", n)
	}
}

// nonZero counts the non-zero entries of xs.
func nonZero(xs []float32) (n int) {
	for _, x := range xs {
		if x != 0 {
			n++
		}
	}
	return n
}
