package rl

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestPPOTokenHandComputed(t *testing.T) {
	c := ClipConfig{Low: 0.2, High: 0.2, DualClip: 3}
	cases := []struct {
		name               string
		ratio, adv         float64
		loss, grad         float64
		clipped, dualClipd bool
	}{
		{"inside, A>0", 1.1, 1, -1.1, -1.1, false, false},
		{"above 1+eps, A>0: clipped", 1.5, 1, -1.2, 0, true, false},
		{"below 1-eps, A>0: unclipped", 0.5, 2, -1.0, -1.0, false, false},
		{"below 1-eps, A<0: clipped", 0.5, -1, 0.8, 0, true, false},
		{"above 1+eps, A<0: unclipped", 1.5, -1, 1.5, 1.5, false, false},
		{"ratio 4, A<0: dual clip caps at 3", 4, -1, 3, 0, false, true},
		{"ratio 2, A=-2: under the cap 6", 2, -2, 4, 4, false, false},
		{"A=0", 3, 0, 0, 0, false, false},
	}
	for _, k := range cases {
		loss, grad, clipped, dual := PPOToken(math.Log(k.ratio), 0, k.adv, c)
		if !near(loss, k.loss, 1e-12) || !near(grad, k.grad, 1e-12) || clipped != k.clipped || dual != k.dualClipd {
			t.Errorf("%s: got (%v, %v, %v, %v), want (%v, %v, %v, %v)", k.name, loss, grad, clipped, dual, k.loss, k.grad, k.clipped, k.dualClipd)
		}
	}
	// Asymmetric clip-higher (DAPO-style): ratio 1.25 is inside [0.8, 1.28].
	loss, grad, clipped, _ := PPOToken(math.Log(1.25), 0, 1, ClipConfig{Low: 0.2, High: 0.28})
	if !near(loss, -1.25, 1e-12) || !near(grad, -1.25, 1e-12) || clipped {
		t.Errorf("clip-higher: (%v, %v, %v)", loss, grad, clipped)
	}
	// Without dual clip, A<0 with a large ratio is unbounded.
	loss, _, _, dual := PPOToken(math.Log(4), 0, -1, ClipConfig{Low: 0.2, High: 0.2})
	if loss != 4 || dual {
		t.Errorf("no dual clip: loss %v dual %v, want 4 false", loss, dual)
	}
	// The log-ratio clamp at 20 zeroes the derivative.
	loss, grad, _, _ = PPOToken(25, 0, -1, ClipConfig{Low: 0.2, High: 0.2})
	if !near(loss, math.Exp(20), 1e-3) || grad != 0 {
		t.Errorf("clamped log-ratio: loss %v grad %v", loss, grad)
	}
}

func TestKLTokenHandComputed(t *testing.T) {
	// logp = -1, ref = -2: d = 1, u = ref - logp = -1.
	e1 := math.Exp(-1)
	cases := []struct {
		kind      KLKind
		logp, ref float64
		kl, dLogp float64
	}{
		{KLK1, -1, -2, 1, 1},
		{KLK1, -2, -1, -1, 1},
		{KLAbs, -2, -1, 1, -1},
		{KLK2, -1, -2, 0.5, 1},
		{KLK2, -2, -0.5, 1.125, -1.5},
		{KLK3, -1, -2, e1, 1 - e1},
		// u = ref - logp = 1: e - 2 = 0.718281828, d = 1 - e.
		{KLK3, -2, -1, math.E - 2, 1 - math.E},
		{KLK3, -1, -1, 0, 0},
		// u = 5: e^5 - 6 = 142.4 > 10: clamped to 10, derivative 0.
		{KLK3, -6, -1, 10, 0},
		// u = -30: clamped to -20: e^-20 + 19, still > 10.
		{KLK3, 0, -30, 10, 0},
		// u = -9: e^-9 + 8 = 8.000123, below the value clamp.
		{KLK3, 0, -9, math.Exp(-9) + 8, 1 - math.Exp(-9)},
	}
	for _, c := range cases {
		kl, d, err := KLToken(c.kind, c.logp, c.ref)
		if err != nil || !near(kl, c.kl, 1e-12) || !near(d, c.dLogp, 1e-12) {
			t.Errorf("%s(%v, %v) = (%v, %v, %v), want (%v, %v)", c.kind, c.logp, c.ref, kl, d, err, c.kl, c.dLogp)
		}
	}
	if _, _, err := KLToken("full", 0, 0); err == nil {
		t.Error("unknown KL kind: no error")
	}
	for name, want := range map[string]KLKind{"k1": KLK1, "k2": KLK2, "k3": KLK3, "low_var_kl": KLK3, "abs": KLAbs} {
		if got, err := ParseKLKind(name); err != nil || got != want {
			t.Errorf("ParseKLKind(%q) = %v, %v", name, got, err)
		}
	}
}

// A 2 x 3 on-policy batch, mask [[1,1,0],[1,0,0]], advantages [[1,2,0],[-4,0,0]]:
// token losses -A = (-1, -2 | 4).
func aggFixture() LossBatch[float64] {
	return LossBatch[float64]{
		Seqs: 2, Tokens: 3,
		LogProb:   []float64{-1, -2, 0, -0.5, 0, 0},
		Advantage: []float64{1, 2, 0, -4, 0, 0},
		Mask:      []float64{1, 1, 0, 1, 0, 0},
	}
}

func TestLossAggregationHandComputed(t *testing.T) {
	cases := []struct {
		agg     Aggregation
		horizon int
		loss    float64
		grad    []float64
	}{
		// (-1 - 2 + 4)/3; weight 1/3.
		{TokenMean, 0, 1.0 / 3, []float64{-1.0 / 3, -2.0 / 3, 0, 4.0 / 3, 0, 0}},
		// seq means -1.5, 4 -> 1.25; weights 1/(2*2) and 1/(1*2).
		{SeqMeanTokenMean, 0, 1.25, []float64{-0.25, -0.5, 0, 2, 0, 0}},
		// seq sums -3, 4 -> 0.5; weight 1/2.
		{SeqMeanTokenSum, 0, 0.5, []float64{-0.5, -1, 0, 2, 0, 0}},
		// total 1 over the row width 3.
		{SeqMeanTokenSumNorm, 0, 1.0 / 3, []float64{-1.0 / 3, -2.0 / 3, 0, 4.0 / 3, 0, 0}},
		// total 1 over a horizon of 10.
		{SeqMeanTokenSumNorm, 10, 0.1, []float64{-0.1, -0.2, 0, 0.4, 0, 0}},
	}
	for _, c := range cases {
		cfg := DefaultLossConfig()
		cfg.Aggregation, cfg.Horizon = c.agg, c.horizon
		var out LossOutput[float64]
		if err := Loss(cfg, aggFixture(), &out); err != nil {
			t.Fatalf("%s: %v", c.agg, err)
		}
		if !near(out.Loss, c.loss, 1e-12) {
			t.Errorf("%s/H=%d: loss %v, want %v", c.agg, c.horizon, out.Loss, c.loss)
		}
		for i := range c.grad {
			if !near(out.DLogProb[i], c.grad[i], 1e-12) {
				t.Errorf("%s/H=%d: dL/dlogp = %v, want %v", c.agg, c.horizon, out.DLogProb, c.grad)
				break
			}
		}
		if out.Stats.Tokens != 3 || out.Stats.Sequences != 2 || out.Stats.RatioMax != 1 || out.Stats.ApproxKL != 0 {
			t.Errorf("%s: stats %+v", c.agg, out.Stats)
		}
	}
}

// KL and entropy terms with hand-computed values: token-mean over the 3
// response tokens of aggFixture, ref = logp - 1 everywhere (d = 1), k2 gives
// 0.5 per token; entropies 1, 2, 3.
func TestLossKLEntropyHandComputed(t *testing.T) {
	b := aggFixture()
	b.RefLogProb = make([]float64, 6)
	for i := range b.RefLogProb {
		b.RefLogProb[i] = b.LogProb[i] - 1
	}
	b.Entropy = []float64{1, 2, 0, 3, 0, 0}
	cfg := DefaultLossConfig()
	cfg.KLCoef, cfg.KL, cfg.EntropyCoef = 0.1, KLK2, 0.01
	var out LossOutput[float64]
	if err := Loss(cfg, b, &out); err != nil {
		t.Fatal(err)
	}
	// pg 1/3, kl mean 0.5, entropy mean 2: 1/3 + 0.05 - 0.02.
	if want := 1.0/3 + 0.1*0.5 - 0.01*2; !near(out.Loss, want, 1e-12) {
		t.Errorf("loss %v, want %v", out.Loss, want)
	}
	if !near(out.Stats.KL, 0.5, 1e-12) || !near(out.Stats.Entropy, 2, 1e-12) || !near(out.Stats.PolicyLoss, 1.0/3, 1e-12) {
		t.Errorf("stats %+v", out.Stats)
	}
	// dL/dlogp = (-A + 0.1 * d)/3 with d = 1; dL/dH = -0.01/3 on response tokens.
	wantG := []float64{(-1 + 0.1) / 3, (-2 + 0.1) / 3, 0, (4 + 0.1) / 3, 0, 0}
	for i := range wantG {
		if !near(out.DLogProb[i], wantG[i], 1e-12) {
			t.Fatalf("dL/dlogp = %v, want %v", out.DLogProb, wantG)
		}
		wantH := 0.0
		if b.Mask[i] == 1 {
			wantH = -0.01 / 3
		}
		if !near(out.DEntropy[i], wantH, 1e-15) {
			t.Fatalf("dL/dH = %v", out.DEntropy)
		}
	}
}

// Off-policy stats: ratios 1.5 (A=1, clipped), 0.5 (A=-1, clipped), 4
// (A=-1, dual-clipped), 1 (A=1). Clip fraction 2/4 (veRL counts the dual-
// clipped token's ratio clip only when clipped > unclipped, which is false
// for ratio 4 with A<0), dual fraction 1/4.
func TestLossClipStats(t *testing.T) {
	b := LossBatch[float64]{
		Seqs: 1, Tokens: 4,
		LogProb:    []float64{math.Log(1.5), math.Log(0.5), math.Log(4), 0},
		OldLogProb: []float64{0, 0, 0, 0},
		Advantage:  []float64{1, -1, -1, 1},
		Mask:       []float64{1, 1, 1, 1},
	}
	var out LossOutput[float64]
	if err := Loss(DefaultLossConfig(), b, &out); err != nil {
		t.Fatal(err)
	}
	st := out.Stats
	if st.ClipFraction != 0.5 || st.DualClipFraction != 0.25 {
		t.Errorf("clip fractions %v, %v; want 0.5, 0.25", st.ClipFraction, st.DualClipFraction)
	}
	// losses: -1.2, 0.8, 3, -1 -> mean 0.4
	if !near(out.Loss, 0.4, 1e-12) {
		t.Errorf("loss %v, want 0.4", out.Loss)
	}
	// approx KL = mean(old - new) = -(log 1.5 + log 0.5 + log 4)/4 = -log(3)/4.
	if !near(st.ApproxKL, -math.Log(3)/4, 1e-12) {
		t.Errorf("approx KL %v, want %v", st.ApproxKL, -math.Log(3)/4)
	}
	// k3 of KL(old||new): sum over tokens of (r - 1 - log r) / 4.
	var k3 float64
	for _, r := range []float64{1.5, 0.5, 4, 1} {
		k3 += r - 1 - math.Log(r)
	}
	if !near(st.ApproxKLK3, k3/4, 1e-12) || st.RatioMax != 4 || st.RatioMin != 0.5 {
		t.Errorf("k3 %v (want %v), ratio range [%v, %v]", st.ApproxKLK3, k3/4, st.RatioMin, st.RatioMax)
	}
}

// randomBatch draws an off-policy batch with ratios in [e^-0.6, e^0.6] so
// both clip regions, the dual clip and the unclipped region all occur.
func randomBatch(rng *rand.Rand, seqs, tokens int) LossBatch[float64] {
	n := seqs * tokens
	b := LossBatch[float64]{
		Seqs: seqs, Tokens: tokens,
		LogProb: make([]float64, n), OldLogProb: make([]float64, n), RefLogProb: make([]float64, n),
		Advantage: make([]float64, n), Mask: make([]float64, n), Entropy: make([]float64, n),
	}
	for s := range seqs {
		l := rng.IntN(tokens + 1)
		adv := rng.NormFloat64() * 2
		for t := range tokens {
			i := s*tokens + t
			b.LogProb[i] = -3 * rng.Float64()
			b.OldLogProb[i] = b.LogProb[i] + (rng.Float64()*2-1)*0.6
			b.RefLogProb[i] = b.LogProb[i] + rng.NormFloat64()*1.5
			b.Entropy[i] = 2 * rng.Float64()
			if t < l {
				b.Mask[i] = 1
				b.Advantage[i] = adv
			}
		}
	}
	// A token far from the behaviour policy with a negative advantage
	// exercises the dual clip.
	b.LogProb[0], b.OldLogProb[0], b.Advantage[0], b.Mask[0] = 0, -1.6, -1, 1
	return b
}

// TestLossGradientFiniteDifference checks dL/dlogp and dL/dentropy of every
// token against central differences for every aggregation and KL kind.
// Tokens at a kink of the piecewise loss (where the two one-sided
// differences disagree) are skipped; most tokens are checked.
func TestLossGradientFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const h = 1e-6
	for _, agg := range Aggregations {
		for _, kl := range KLKinds {
			b := randomBatch(rng, 5, 7)
			cfg := DefaultLossConfig()
			cfg.Aggregation, cfg.KL, cfg.KLCoef, cfg.EntropyCoef = agg, kl, 0.3, 0.05
			cfg.Clip.High = 0.28
			var out, probe LossOutput[float64]
			if err := Loss(cfg, b, &out); err != nil {
				t.Fatal(err)
			}
			lossAt := func(field []float64, i int, v float64) float64 {
				saved := field[i]
				field[i] = v
				if err := Loss(cfg, b, &probe); err != nil {
					t.Fatal(err)
				}
				field[i] = saved
				return probe.Loss
			}
			checked, masked := 0, 0
			for i := range b.LogProb {
				if b.Mask[i] == 0 {
					masked++
					if out.DLogProb[i] != 0 || math.Signbit(out.DLogProb[i]) || out.DEntropy[i] != 0 {
						t.Fatalf("%s/%s: padding token %d has gradient", agg, kl, i)
					}
					continue
				}
				x := b.LogProb[i]
				up, mid, down := lossAt(b.LogProb, i, x+h), out.Loss, lossAt(b.LogProb, i, x-h)
				fwd, bwd := (up-mid)/h, (mid-down)/h
				if math.Abs(fwd-bwd) > 1e-4*(1+math.Abs(fwd)) {
					continue // kink
				}
				fd := (up - down) / (2 * h)
				if !near(out.DLogProb[i], fd, 1e-6*(1+math.Abs(fd))) {
					t.Errorf("%s/%s: dL/dlogp[%d] = %v, finite difference %v", agg, kl, i, out.DLogProb[i], fd)
				}
				e := b.Entropy[i]
				fdH := (lossAt(b.Entropy, i, e+h) - lossAt(b.Entropy, i, e-h)) / (2 * h)
				if !near(out.DEntropy[i], fdH, 1e-7) {
					t.Errorf("%s/%s: dL/dH[%d] = %v, finite difference %v", agg, kl, i, out.DEntropy[i], fdH)
				}
				checked++
			}
			if checked < (len(b.LogProb)-masked)*2/3 {
				t.Errorf("%s/%s: only %d of %d tokens checked", agg, kl, checked, len(b.LogProb)-masked)
			}
		}
	}
}

// Loss's inlined surrogate agrees with the per-token reference PPOToken
// and KLToken on every token, in value, derivative and clip counts.
func TestLossMatchesPPOToken(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	for _, kl := range KLKinds {
		b := randomBatch(rng, 8, 9)
		for i := range b.Advantage {
			b.Advantage[i] = rng.NormFloat64() * b.Mask[i] // per-token advantages
		}
		b.Advantage[0] = -1 // keep randomBatch's dual-clip token
		cfg := DefaultLossConfig()
		cfg.Clip.High, cfg.KL, cfg.KLCoef = 0.28, kl, 0.3
		var out LossOutput[float64]
		if err := Loss(cfg, b, &out); err != nil {
			t.Fatal(err)
		}
		w := 1 / float64(out.Stats.Tokens)
		var loss, clipped, dual float64
		for i := range b.LogProb {
			if b.Mask[i] == 0 {
				continue
			}
			pg, dpg, c, d := PPOToken(b.LogProb[i], b.OldLogProb[i], b.Advantage[i], cfg.Clip)
			k, dk, err := KLToken(kl, b.LogProb[i], b.RefLogProb[i])
			if err != nil {
				t.Fatal(err)
			}
			loss += w * (pg + cfg.KLCoef*k)
			if want := w * (dpg + cfg.KLCoef*dk); !near(out.DLogProb[i], want, 1e-15) {
				t.Fatalf("%s token %d: dL/dlogp %v, reference %v", kl, i, out.DLogProb[i], want)
			}
			if c {
				clipped++
			}
			if d {
				dual++
			}
		}
		if !near(out.Loss, loss, 1e-12) || !near(out.Stats.ClipFraction, clipped*w, 1e-15) || !near(out.Stats.DualClipFraction, dual*w, 1e-15) {
			t.Errorf("%s: loss %v vs %v, clip %v vs %v, dual %v vs %v", kl, out.Loss, loss,
				out.Stats.ClipFraction, clipped*w, out.Stats.DualClipFraction, dual*w)
		}
		if dual == 0 || clipped == 0 {
			t.Errorf("%s: fixture exercised %v clips and %v dual clips; want both", kl, clipped, dual)
		}
	}
}

// Splitting a mini-batch into micro-batches with global counts gives the
// same loss (summed) and the same per-token gradients.
func TestLossMicroBatchesAddUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, agg := range Aggregations {
		b := randomBatch(rng, 6, 5)
		cfg := DefaultLossConfig()
		cfg.Aggregation, cfg.KLCoef, cfg.EntropyCoef = agg, 0.1, 0.01
		var whole LossOutput[float64]
		if err := Loss(cfg, b, &whole); err != nil {
			t.Fatal(err)
		}
		cfg.GlobalTokens, cfg.GlobalSequences = float64(whole.Stats.Tokens), float64(whole.Stats.Sequences)
		var sum float64
		for _, part := range [][2]int{{0, 2}, {2, 6}} {
			lo, hi := part[0]*b.Tokens, part[1]*b.Tokens
			mb := LossBatch[float64]{Seqs: part[1] - part[0], Tokens: b.Tokens,
				LogProb: b.LogProb[lo:hi], OldLogProb: b.OldLogProb[lo:hi], RefLogProb: b.RefLogProb[lo:hi],
				Advantage: b.Advantage[lo:hi], Mask: b.Mask[lo:hi], Entropy: b.Entropy[lo:hi]}
			var out LossOutput[float64]
			if err := Loss(cfg, mb, &out); err != nil {
				t.Fatal(err)
			}
			sum += out.Loss
			for i := range out.DLogProb {
				if !near(out.DLogProb[i], whole.DLogProb[lo+i], 1e-14) {
					t.Fatalf("%s: micro-batch gradient %d differs", agg, lo+i)
				}
			}
		}
		if !near(sum, whole.Loss, 1e-12) {
			t.Errorf("%s: micro-batch losses sum to %v, whole %v", agg, sum, whole.Loss)
		}
	}
}

// Per-sequence advantages give exactly what their per-token expansion
// gives, on every path through Loss.
func TestLossSeqAdvantageMatchesTokens(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, agg := range Aggregations {
		for _, offPolicy := range []bool{false, true} {
			for _, klCoef := range []float64{0, 0.2} {
				b := randomBatch(rng, 5, 6)
				b.Advantage[0] = b.Advantage[1] // keep row 0's advantage constant
				if !offPolicy {
					b.OldLogProb = nil
				}
				seqAdv := make([]float64, b.Seqs)
				for s := range seqAdv {
					seqAdv[s] = rng.NormFloat64()
				}
				if err := ExpandToTokens(seqAdv, b.Tokens, b.Mask, b.Advantage); err != nil {
					t.Fatal(err)
				}
				cfg := DefaultLossConfig()
				cfg.Aggregation, cfg.KLCoef, cfg.EntropyCoef = agg, klCoef, 0.01
				var tok, seq LossOutput[float64]
				if err := Loss(cfg, b, &tok); err != nil {
					t.Fatal(err)
				}
				b.Advantage, b.SeqAdvantage = nil, seqAdv
				if err := Loss(cfg, b, &seq); err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("%s off=%v kl=%v", agg, offPolicy, klCoef)
				if !near(tok.Loss, seq.Loss, 1e-12) || tok.Stats.ClipFraction != seq.Stats.ClipFraction {
					t.Errorf("%s: loss %v vs %v", name, tok.Loss, seq.Loss)
				}
				for i := range tok.DLogProb {
					if !near(tok.DLogProb[i], seq.DLogProb[i], 1e-15) || math.Signbit(tok.DLogProb[i]) != math.Signbit(seq.DLogProb[i]) && tok.DLogProb[i] == 0 {
						t.Fatalf("%s: gradient %d: %v vs %v", name, i, tok.DLogProb[i], seq.DLogProb[i])
					}
				}
			}
		}
	}
	b := aggFixture()
	b.SeqAdvantage = []float64{1, 2}
	var out LossOutput[float64]
	if err := Loss(DefaultLossConfig(), b, &out); err == nil {
		t.Error("both advantage forms: no error")
	}
	b.Advantage, b.SeqAdvantage = nil, []float64{1}
	if err := Loss(DefaultLossConfig(), b, &out); err == nil {
		t.Error("short seq advantage: no error")
	}
	b.SeqAdvantage = []float64{1, math.Inf(1)}
	if err := Loss(DefaultLossConfig(), b, &out); err == nil {
		t.Error("infinite seq advantage: no error")
	}
}

// The float32 path agrees with float64 to float32 precision.
func TestLossFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	b := randomBatch(rng, 4, 6)
	to32 := func(x []float64) []float32 {
		y := make([]float32, len(x))
		for i, v := range x {
			y[i] = float32(v)
		}
		return y
	}
	b32 := LossBatch[float32]{Seqs: b.Seqs, Tokens: b.Tokens, LogProb: to32(b.LogProb), OldLogProb: to32(b.OldLogProb),
		RefLogProb: to32(b.RefLogProb), Advantage: to32(b.Advantage), Mask: to32(b.Mask), Entropy: to32(b.Entropy)}
	// Round the float64 inputs through float32 too, so both see the same values.
	for _, x := range [][]float64{b.LogProb, b.OldLogProb, b.RefLogProb, b.Advantage, b.Entropy} {
		for i := range x {
			x[i] = float64(float32(x[i]))
		}
	}
	cfg := DefaultLossConfig()
	cfg.KLCoef = 0.05
	var o64 LossOutput[float64]
	var o32 LossOutput[float32]
	if err := Loss(cfg, b, &o64); err != nil {
		t.Fatal(err)
	}
	if err := Loss(cfg, b32, &o32); err != nil {
		t.Fatal(err)
	}
	if o32.Loss != o64.Loss {
		t.Errorf("float32 loss %v != float64 loss %v on identical values", o32.Loss, o64.Loss)
	}
	for i := range o64.DLogProb {
		if float32(o64.DLogProb[i]) != o32.DLogProb[i] {
			t.Fatalf("gradient %d: %v vs %v", i, o32.DLogProb[i], o64.DLogProb[i])
		}
	}
}

// On-policy token-mean REINFORCE: dL/dlogp = -A / tokens exactly.
func TestLossOnPolicyIsReinforce(t *testing.T) {
	b := aggFixture()
	var out LossOutput[float64]
	if err := Loss(DefaultLossConfig(), b, &out); err != nil {
		t.Fatal(err)
	}
	for i := range b.Advantage {
		if want := -b.Advantage[i] * b.Mask[i] / 3; out.DLogProb[i] != want {
			t.Fatalf("dL/dlogp[%d] = %v, want %v", i, out.DLogProb[i], want)
		}
	}
}

func TestLossErrors(t *testing.T) {
	good := aggFixture()
	cases := map[string]func(*LossConfig, *LossBatch[float64]){
		"short log-prob":        func(c *LossConfig, b *LossBatch[float64]) { b.LogProb = b.LogProb[:5] },
		"short old log-prob":    func(c *LossConfig, b *LossBatch[float64]) { b.OldLogProb = []float64{0} },
		"mask not binary":       func(c *LossConfig, b *LossBatch[float64]) { b.Mask = []float64{1, 2, 0, 1, 0, 0} },
		"kl without reference":  func(c *LossConfig, b *LossBatch[float64]) { c.KLCoef = 0.1 },
		"entropy without input": func(c *LossConfig, b *LossBatch[float64]) { c.EntropyCoef = 0.1 },
		"bad aggregation":       func(c *LossConfig, b *LossBatch[float64]) { c.Aggregation = "sum" },
		"bad clip":              func(c *LossConfig, b *LossBatch[float64]) { c.Clip.Low = 1.5 },
		"bad dual clip":         func(c *LossConfig, b *LossBatch[float64]) { c.Clip.DualClip = 0.5 },
		"negative horizon":      func(c *LossConfig, b *LossBatch[float64]) { c.Horizon = -1 },
		"unknown kl":            func(c *LossConfig, b *LossBatch[float64]) { c.KLCoef, c.KL = 0.1, "k9"; b.RefLogProb = b.LogProb },
		"nan log-prob": func(c *LossConfig, b *LossBatch[float64]) {
			b.LogProb = append([]float64(nil), b.LogProb...)
			b.OldLogProb = append([]float64(nil), b.LogProb...)
			b.LogProb[3] = math.NaN()
		},
		"nan advantage": func(c *LossConfig, b *LossBatch[float64]) {
			b.Advantage = append([]float64(nil), b.Advantage...)
			b.Advantage[1] = math.NaN()
		},
	}
	for name, mutate := range cases {
		cfg, b := DefaultLossConfig(), good
		mutate(&cfg, &b)
		var out LossOutput[float64]
		err := Loss(cfg, b, &out)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		// Only a non-finite value is a reason to skip a mini-batch; the
		// rest are mistakes of the caller.
		if nonFinite := name == "nan log-prob" || name == "nan advantage"; errors.Is(err, ErrNonFinite) != nonFinite {
			t.Errorf("%s: errors.Is(%v, ErrNonFinite) = %v", name, err, !nonFinite)
		}
		if name == "nan log-prob" && (err == nil || !strings.Contains(err.Error(), "log_prob[1, 0]")) {
			t.Errorf("nan error %v does not name log_prob[1, 0]", err)
		}
	}
	// A NaN on a padding token is ignored.
	b := aggFixture()
	b.LogProb[2] = math.NaN()
	var out LossOutput[float64]
	if err := Loss(DefaultLossConfig(), b, &out); err != nil {
		t.Errorf("NaN on padding: %v", err)
	}
	// No response tokens: loss 0.
	b = aggFixture()
	b.Mask = make([]float64, 6)
	if err := Loss(DefaultLossConfig(), b, &out); err != nil || out.Loss != 0 || out.Stats.Tokens != 0 {
		t.Errorf("empty batch: %v, %+v", err, out)
	}
}

func ExampleLoss() {
	// Two rollouts of three tokens; the second has one response token.
	b := LossBatch[float32]{
		Seqs: 2, Tokens: 3,
		LogProb:   []float32{-1, -2, 0, -0.5, 0, 0},
		Advantage: []float32{1, 1, 0, -1, 0, 0},
		Mask:      []float32{1, 1, 0, 1, 0, 0},
	}
	var out LossOutput[float32]
	if err := Loss(DefaultLossConfig(), b, &out); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss %.4f, dL/dlogp %v\n", out.Loss, out.DLogProb)
	// Output: loss -0.3333, dL/dlogp [-0.33333334 -0.33333334 0 0.33333334 0 0]
}
