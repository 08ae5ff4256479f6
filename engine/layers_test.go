package engine

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/urlvr/urlvr/engine/kernels"
)

// Every layer's backward is checked here against central differences of the
// float64 reference (ref_test.go) of the same layer. Each check uses the
// objective L = Σ w ⊙ out with fixed random weights w, so the analytic
// gradient is backward(dout = w).

const fdStep = 1e-6

func randVec(rng *rand.Rand, n int, scale float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64() * scale
	}
	return x
}

func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func flatten(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func split(x []float64, width int) [][]float64 {
	rows := make([][]float64, len(x)/width)
	for i := range rows {
		rows[i] = x[i*width : (i+1)*width]
	}
	return rows
}

func expectGrad(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if msg := gradMismatch(got, want, 1e-4, 1e-3); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

func expectClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if msg := gradMismatch(got, want, tol, tol); msg != "" {
		t.Errorf("%s: %s", what, msg)
	}
}

func TestAttentionGradients(t *testing.T) {
	for _, s := range []attentionShape{
		{B: 2, T: 5, H: 2, G: 2, D: 4}, // multi-head
		{B: 2, T: 6, H: 4, G: 2, D: 6}, // grouped-query
		{B: 1, T: 4, H: 3, G: 1, D: 2}, // multi-query
	} {
		rng := rand.New(rand.NewPCG(uint64(s.H), uint64(s.T)))
		N := s.B * s.T
		q, k, v := randVec(rng, N*s.H*s.D, 1), randVec(rng, N*s.G*s.D, 1), randVec(rng, N*s.G*s.D, 1)
		w := randVec(rng, N*s.H*s.D, 1)
		ref := func() float64 {
			var total float64
			for b := 0; b < s.B; b++ {
				qs, ks, vs := s.H*s.D*s.T, s.G*s.D*s.T, s.G*s.D*s.T
				out := refAttention(split(q[b*qs:(b+1)*qs], s.H*s.D), split(k[b*ks:(b+1)*ks], s.G*s.D), split(v[b*vs:(b+1)*vs], s.G*s.D), s.H, s.G, s.D)
				total += dot64(flatten(out), w[b*qs:(b+1)*qs])
			}
			return total
		}
		out := make([]float32, N*s.H*s.D)
		att := make([]float32, s.B*s.H*s.T*s.T)
		attentionForward(out, att, to32(q), to32(k), to32(v), s, newAttentionScratch(3, s.T, s.D))
		var fwd []float64
		for b := 0; b < s.B; b++ {
			qs, ks := s.H*s.D*s.T, s.G*s.D*s.T
			fwd = append(fwd, flatten(refAttention(split(q[b*qs:(b+1)*qs], s.H*s.D), split(k[b*ks:(b+1)*ks], s.G*s.D), split(v[b*ks:(b+1)*ks], s.G*s.D), s.H, s.G, s.D))...)
		}
		expectClose(t, "attention forward", out, fwd, 1e-5)
		dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
		for i := range dk { // the backward must overwrite, not accumulate
			dk[i], dv[i] = 7, 7
		}
		attentionBackward(dq, dk, dv, to32(w), att, to32(q), to32(k), to32(v), s, newAttentionScratch(3, s.T, s.D))
		expectGrad(t, "attention dq", dq, centralDiff(q, fdStep, ref))
		expectGrad(t, "attention dk", dk, centralDiff(k, fdStep, ref))
		expectGrad(t, "attention dv", dv, centralDiff(v, fdStep, ref))
	}
}

func TestLinearGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	N, I, O := 5, 7, 3
	x, W, bias, w := randVec(rng, N*I, 1), randVec(rng, O*I, 1), randVec(rng, O, 1), randVec(rng, N*O, 1)
	ref := func() float64 {
		var total float64
		for r := 0; r < N; r++ {
			total += dot64(refLinear(x[r*I:(r+1)*I], W, bias, O), w[r*O:(r+1)*O])
		}
		return total
	}
	out := make([]float32, N*O)
	linearForward(kernels.AllCores, out, to32(x), to32(W), to32(bias), N, I, O)
	var fwd []float64
	for r := 0; r < N; r++ {
		fwd = append(fwd, refLinear(x[r*I:(r+1)*I], W, bias, O)...)
	}
	expectClose(t, "linear forward", out, fwd, 1e-6)
	dx, dW, db := make([]float32, N*I), make([]float32, O*I), make([]float32, O)
	linearBackward := func(dx, dW, db, dout, inp, W []float32, N, I, O int, acc bool) {
		linearWeightGrad(dW, db, dout, inp, N, I, O, []int{0, N})
		linearInputGrad(kernels.AllCores, dx, dout, W, N, I, O, acc)
	}
	linearBackward(dx, dW, db, to32(w), to32(x), to32(W), N, I, O, false)
	expectGrad(t, "linear dx", dx, centralDiff(x, fdStep, ref))
	expectGrad(t, "linear dW", dW, centralDiff(W, fdStep, ref))
	expectGrad(t, "linear dbias", db, centralDiff(bias, fdStep, ref))

	// accInp adds into dx and parameter gradients always accumulate.
	linearBackward(dx, dW, db, to32(w), to32(x), to32(W), N, I, O, true)
	twice := func(g []float64) []float64 {
		for i := range g {
			g[i] *= 2
		}
		return g
	}
	expectGrad(t, "linear dx accumulated", dx, twice(centralDiff(x, fdStep, ref)))
	expectGrad(t, "linear dW accumulated", dW, twice(centralDiff(W, fdStep, ref)))
}

func TestEmbeddingGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	V, C := 6, 5
	tokens := []int32{3, 1, 3, 0, 5, 3} // repeats must add up
	emb, w := randVec(rng, V*C, 1), randVec(rng, len(tokens)*C, 1)
	ref := func() float64 {
		var total float64
		for i, tok := range tokens {
			total += dot64(emb[int(tok)*C:int(tok+1)*C], w[i*C:(i+1)*C])
		}
		return total
	}
	out := make([]float32, len(tokens)*C)
	embeddingForward(out, tokens, to32(emb), C)
	for i, tok := range tokens {
		expectClose(t, "embedding forward", out[i*C:(i+1)*C], emb[int(tok)*C:int(tok+1)*C], 1e-7)
	}
	demb := make([]float32, V*C)
	embeddingBackward(demb, to32(w), tokens, C)
	expectGrad(t, "embedding", demb, centralDiff(emb, fdStep, ref))
}

// TestRowKernelGradients checks the kernels the decoder calls as layers
// (RMSNorm, also as the per-head QK norm; rotary embeddings; SwiGLU) in the
// shapes the engine uses them.
func TestRowKernelGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	t.Run("rmsnorm", func(t *testing.T) {
		rows, dim, eps := 6, 8, 1e-5
		x, wt, w := randVec(rng, rows*dim, 1), randVec(rng, dim, 1), randVec(rng, rows*dim, 1)
		ref := func() float64 {
			var total float64
			for r := 0; r < rows; r++ {
				total += dot64(refRMSNorm(x[r*dim:(r+1)*dim], wt, eps), w[r*dim:(r+1)*dim])
			}
			return total
		}
		out, rstd := make([]float32, rows*dim), make([]float32, rows)
		kernels.RMSNorm(out, rstd, to32(x), to32(wt), rows, dim, float32(eps))
		dx, dw := make([]float32, rows*dim), make([]float32, dim)
		kernels.RMSNormBackward(dx, dw, to32(w), to32(x), to32(wt), rstd, rows, dim)
		expectGrad(t, "rmsnorm dx", dx, centralDiff(x, fdStep, ref))
		expectGrad(t, "rmsnorm dw", dw, centralDiff(wt, fdStep, ref))
	})
	t.Run("rope", func(t *testing.T) {
		cfg := Config{HeadDim: 6, RopeTheta: 100}
		T, H, D := 5, 2, 6
		x, w := randVec(rng, T*H*D, 1), randVec(rng, T*H*D, 1)
		ref := func() float64 {
			y := append([]float64(nil), x...)
			for p := 0; p < T; p++ {
				refRotate(y[p*H*D:(p+1)*H*D], H, D, p, cfg.RopeTheta)
			}
			return dot64(y, w)
		}
		cos, sin := cfg.ropeTable(T)
		y := to32(x)
		kernels.RoPE(y, cos, sin, T, H, D)
		want := append([]float64(nil), x...)
		for p := 0; p < T; p++ {
			refRotate(want[p*H*D:(p+1)*H*D], H, D, p, cfg.RopeTheta)
		}
		expectClose(t, "rope forward", y, want, 1e-6)
		dx := to32(w)
		kernels.RoPEBackward(dx, cos, sin, T, H, D)
		expectGrad(t, "rope", dx, centralDiff(x, fdStep, ref))
	})
	t.Run("swiglu", func(t *testing.T) {
		n := 9
		gate, up, w := randVec(rng, n, 2), randVec(rng, n, 1), randVec(rng, n, 1)
		ref := func() float64 {
			var total float64
			for i := range gate {
				total += refSilu(gate[i]) * up[i] * w[i]
			}
			return total
		}
		dgate, dup := make([]float32, n), make([]float32, n)
		kernels.SwiGLUBackward(dgate, dup, to32(w), to32(gate), to32(up))
		expectGrad(t, "swiglu dgate", dgate, centralDiff(gate, fdStep, ref))
		expectGrad(t, "swiglu dup", dup, centralDiff(up, fdStep, ref))
	})
}

// TestHeadGradients checks the LM head with temperature, log-prob and entropy
// gradients together, with one chunk and with the chunked path that
// recomputes logits in the backward.
func TestHeadGradients(t *testing.T) {
	cfg := tinyConfig("llama-untied")
	for _, chunk := range []int{0, 2} {
		m := randomModel(t, cfg, 11)
		const B, T, temp = 2, 4, 0.7
		rng := rand.New(rand.NewPCG(9, uint64(chunk)))
		batch := randomBatch(rng, cfg.VocabSize, B, T)
		a := newActivations(cfg, B*T, T, true)
		if chunk > 0 {
			a.chunkRows = chunk
		}
		if err := a.setBatch(batch.Tokens, batch.Mask, B, T, temp); err != nil {
			t.Fatal(err)
		}
		C, V := cfg.HiddenSize, cfg.VocabSize
		xf := randVec(rng, B*T*C, 1)
		head := refFromModel(m).p["lm_head.weight"]
		wl, we := randVec(rng, B*T, 1), randVec(rng, B*T, 1)
		ref := func() float64 {
			var total float64
			for _, pos := range a.scored {
				src := int(pos) - 1
				lp, ent := refTokenStats(refLinear(xf[src*C:(src+1)*C], head, nil, V), batch.Tokens[pos], temp)
				total += wl[pos]*lp + we[pos]*ent
			}
			return total
		}
		copy(a.xf, to32(xf))
		a.headForward(m, true)
		for _, pos := range a.scored {
			src := int(pos) - 1
			lp, ent := refTokenStats(refLinear(xf[src*C:(src+1)*C], head, nil, V), batch.Tokens[pos], temp)
			if math.Abs(float64(a.logp[pos])-lp) > 1e-5 || math.Abs(float64(a.ent[pos])-ent) > 1e-5 {
				t.Fatalf("chunk %d position %d: logp, entropy %v, %v; want %v, %v", chunk, pos, a.logp[pos], a.ent[pos], lp, ent)
			}
		}
		g := make([]float32, len(m.params))
		gw, _ := bindWeights(cfg, g)
		a.headBackward(m, &gw, to32(wl), to32(we))
		expectGrad(t, "head dxf", a.dxn[:B*T*C], centralDiff(xf, fdStep, ref))
		expectGrad(t, "head dW", gw.lmHead, centralDiff(head, fdStep, ref))
	}
}
