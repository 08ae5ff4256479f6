package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// This file holds a second, float64 implementation of the decoder, written
// as plainly as possible and sharing no code with the engine. Tests hold the
// engine's forward pass to it and take finite differences of it, in float64,
// to check every backward pass: central differences in float64 are accurate
// to ~1e-9, so the comparison is limited only by the engine's float32
// arithmetic and tolerances can be tight.

// refModel is a model's parameters in float64, by Hugging Face tensor name.
type refModel struct {
	cfg Config
	p   map[string][]float64
}

func refFromModel(m *Model) *refModel {
	r := &refModel{cfg: m.cfg, p: map[string][]float64{}}
	for _, s := range m.specs {
		r.p[s.name] = to64(m.params[s.offset : s.offset+s.size])
	}
	return r
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// refRMSNorm: x·w/√(mean(x²)+eps).
func refRMSNorm(x, w []float64, eps float64) []float64 {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	s := 1 / math.Sqrt(ss/float64(len(x))+eps)
	y := make([]float64, len(x))
	for i := range x {
		y[i] = x[i] * s * w[i]
	}
	return y
}

// refLinear: W [out × in] · x (+ b).
func refLinear(x, w, b []float64, out int) []float64 {
	in := len(x)
	y := make([]float64, out)
	for o := range y {
		for i := 0; i < in; i++ {
			y[o] += w[o*in+i] * x[i]
		}
		if b != nil {
			y[o] += b[o]
		}
	}
	return y
}

// refRotate applies the rotary embedding of position pos to each head of x
// in place: pairs (x_i, x_{i+D/2}) turn by pos·θ^(-2i/D).
func refRotate(x []float64, heads, D int, pos int, theta float64) {
	h := D / 2
	for hd := 0; hd < heads; hd++ {
		v := x[hd*D : (hd+1)*D]
		for i := 0; i < h; i++ {
			ang := float64(pos) * math.Pow(theta, -float64(2*i)/float64(D))
			c, s := math.Cos(ang), math.Sin(ang)
			a, b := v[i], v[i+h]
			v[i], v[i+h] = a*c-b*s, b*c+a*s
		}
	}
}

// refAttention: q [T][H·D], k, v [T][G·D] → out [T][H·D], causal, query head
// h reading key/value head h/(H/G).
func refAttention(q, k, v [][]float64, H, G, D int) [][]float64 {
	T := len(q)
	out := make([][]float64, T)
	for t := range out {
		out[t] = make([]float64, H*D)
		for h := 0; h < H; h++ {
			g := h / (H / G)
			scores := make([]float64, t+1)
			mx := math.Inf(-1)
			for j := 0; j <= t; j++ {
				for d := 0; d < D; d++ {
					scores[j] += q[t][h*D+d] * k[j][g*D+d]
				}
				scores[j] /= math.Sqrt(float64(D))
				mx = math.Max(mx, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - mx)
				sum += scores[j]
			}
			for j := range scores {
				for d := 0; d < D; d++ {
					out[t][h*D+d] += scores[j] / sum * v[j][g*D+d]
				}
			}
		}
	}
	return out
}

func refSilu(x float64) float64 { return x / (1 + math.Exp(-x)) }

// logits returns the [T][V] logits of one sequence.
func (r *refModel) logits(tokens []int) [][]float64 {
	c := r.cfg
	C, F, D, H, G, V := c.HiddenSize, c.IntermediateSize, c.HeadDim, c.NumHeads, c.NumKVHeads, c.VocabSize
	T := len(tokens)
	x := make([][]float64, T)
	for t, tok := range tokens {
		x[t] = append([]float64(nil), r.p["model.embed_tokens.weight"][tok*C:(tok+1)*C]...)
	}
	for l := 0; l < c.NumLayers; l++ {
		p := func(name string) []float64 { return r.p[fmt.Sprintf("model.layers.%d.%s", l, name)] }
		q, k, v := make([][]float64, T), make([][]float64, T), make([][]float64, T)
		for t := range x {
			xn := refRMSNorm(x[t], p("input_layernorm.weight"), c.RMSNormEps)
			q[t] = refLinear(xn, p("self_attn.q_proj.weight"), p("self_attn.q_proj.bias"), H*D)
			k[t] = refLinear(xn, p("self_attn.k_proj.weight"), p("self_attn.k_proj.bias"), G*D)
			v[t] = refLinear(xn, p("self_attn.v_proj.weight"), p("self_attn.v_proj.bias"), G*D)
			if c.QKNorm() {
				for h := 0; h < H; h++ {
					copy(q[t][h*D:(h+1)*D], refRMSNorm(q[t][h*D:(h+1)*D], p("self_attn.q_norm.weight"), c.RMSNormEps))
				}
				for g := 0; g < G; g++ {
					copy(k[t][g*D:(g+1)*D], refRMSNorm(k[t][g*D:(g+1)*D], p("self_attn.k_norm.weight"), c.RMSNormEps))
				}
			}
			refRotate(q[t], H, D, t, c.RopeTheta)
			refRotate(k[t], G, D, t, c.RopeTheta)
		}
		att := refAttention(q, k, v, H, G, D)
		for t := range x {
			o := refLinear(att[t], p("self_attn.o_proj.weight"), p("self_attn.o_proj.bias"), C)
			for i := range x[t] {
				x[t][i] += o[i]
			}
			xn := refRMSNorm(x[t], p("post_attention_layernorm.weight"), c.RMSNormEps)
			gate := refLinear(xn, p("mlp.gate_proj.weight"), nil, F)
			up := refLinear(xn, p("mlp.up_proj.weight"), nil, F)
			for i := range gate {
				gate[i] = refSilu(gate[i]) * up[i]
			}
			d := refLinear(gate, p("mlp.down_proj.weight"), nil, C)
			for i := range x[t] {
				x[t][i] += d[i]
			}
		}
	}
	head := r.p["lm_head.weight"]
	if c.TieWordEmbeddings {
		head = r.p["model.embed_tokens.weight"]
	}
	out := make([][]float64, T)
	for t := range x {
		out[t] = refLinear(refRMSNorm(x[t], r.p["model.norm.weight"], c.RMSNormEps), head, nil, V)
	}
	return out
}

// refTokenStats returns log p(y) and the entropy of softmax(z/temp).
func refTokenStats(z []float64, y int, temp float64) (logp, ent float64) {
	s := make([]float64, len(z))
	mx := math.Inf(-1)
	for i, v := range z {
		s[i] = v / temp
		mx = math.Max(mx, s[i])
	}
	var sum float64
	for _, v := range s {
		sum += math.Exp(v - mx)
	}
	lse := mx + math.Log(sum)
	for _, v := range s {
		p := math.Exp(v - lse)
		ent -= p * (v - lse)
	}
	return s[y] - lse, ent
}

// batchObjective is Σ over scored positions of wLogp·log-prob + wEnt·entropy,
// the loss whose gradient the engine's Backward computes from dlogp = wLogp
// and dent = wEnt.
func (r *refModel) batchObjective(b Batch, temp float64, wLogp, wEnt []float64) float64 {
	var total float64
	for s := 0; s < b.B; s++ {
		toks := b.Tokens[s*b.T : (s+1)*b.T]
		lg := r.logits(toks)
		for t := 1; t < b.T; t++ {
			i := s*b.T + t
			if !b.Mask[i] {
				continue
			}
			lp, ent := refTokenStats(lg[t-1], toks[t], temp)
			total += wLogp[i] * lp
			if wEnt != nil {
				total += wEnt[i] * ent
			}
		}
	}
	return total
}

// centralDiff returns (f(x+h) − f(x−h))/2h for each entry of x, restoring x.
func centralDiff(x []float64, h float64, f func() float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		orig := x[i]
		x[i] = orig + h
		fp := f()
		x[i] = orig - h
		fm := f()
		x[i] = orig
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// gradMismatch compares an analytic float32 gradient with a float64
// reference and describes the worst entry when they differ by more than
// atol·max|ref| + rtol·|ref_i|. With float32 arithmetic on small shapes the
// error is ~1e-6 of the gradient's scale; atol = 1e-4 and rtol = 1e-3 leave
// headroom yet fail on any real mistake (a dropped term, a wrong index, a
// missing scale), which moves entries by a large fraction of that scale.
func gradMismatch(got []float32, want []float64, atol, rtol float64) string {
	if len(got) != len(want) {
		return fmt.Sprintf("length %d, want %d", len(got), len(want))
	}
	var scale float64
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	worst, at := 0.0, -1
	for i := range got {
		err := math.Abs(float64(got[i]) - want[i])
		lim := atol*scale + rtol*math.Abs(want[i])
		if err > lim && err-lim > worst {
			worst, at = err-lim, i
		}
	}
	if at >= 0 {
		return fmt.Sprintf("entry %d: got %.8g, want %.8g (scale %.3g)", at, got[at], want[at], scale)
	}
	if scale == 0 {
		return "reference gradient is identically zero: the check would prove nothing"
	}
	return ""
}

// TestGradMismatchCatchesSmallErrors shows the gradient comparison is strict
// enough to matter: a 1% error in one entry, or a dropped term worth 1% of
// the scale, fails it.
func TestGradMismatchCatchesSmallErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := make([]float64, 50)
	for i := range want {
		want[i] = rng.NormFloat64()
	}
	got := to32(want)
	if msg := gradMismatch(got, want, 1e-4, 1e-3); msg != "" {
		t.Fatalf("exact gradient rejected: %s", msg)
	}
	big := 0
	for i := range want {
		if math.Abs(want[i]) > math.Abs(want[big]) {
			big = i
		}
	}
	bad := append([]float32(nil), got...)
	bad[big] *= 1.01
	if gradMismatch(bad, want, 1e-4, 1e-3) == "" {
		t.Error("a 1% error in one entry passed")
	}
	bad = append([]float32(nil), got...)
	bad[3] += 0.01 * float32(math.Abs(want[big]))
	if gradMismatch(bad, want, 1e-4, 1e-3) == "" {
		t.Error("an added term worth 1% of the scale passed")
	}
	if gradMismatch(make([]float32, 3), make([]float64, 3), 1e-4, 1e-3) == "" {
		t.Error("an all-zero reference passed")
	}
}
