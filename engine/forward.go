package engine

import (
	"fmt"
	"math"
	"runtime"

	"github.com/urlvr/urlvr/engine/kernels"
)

// headBudget bounds the logits buffer (in floats): the LM head runs over the
// scored rows in chunks of at most headBudget/V rows, so a large vocabulary
// never needs an N × V buffer.
const headBudget = 1 << 22

// layerActs are one layer's activations over N rows, kept for its backward.
type layerActs struct {
	in           []float32 // [N × C] residual stream entering the layer
	xn1, rstd1   []float32 // [N × C], [N]: input RMSNorm output and 1/rms
	qPre, kPre   []float32 // [N × H·D], [N × G·D]: projections before QK norm (nil without it)
	qRstd, kRstd []float32 // [N·H], [N·G]: QK norm 1/rms per head (nil without it)
	q, k, v      []float32 // [N × H·D], [N × G·D] ×2: what attention reads (normed, rotated)
	att          []float32 // [B × H × T × T] attention probabilities
	attOut       []float32 // [N × H·D]
	mid          []float32 // [N × C] residual stream after attention
	xn2, rstd2   []float32 // [N × C], [N]: post-attention RMSNorm output and 1/rms
	gate, up     []float32 // [N × F]
	act          []float32 // [N × F] silu(gate)·up
}

// activations is the memory of the batched forward (and backward) pass,
// allocated once for at most maxRows rows of at most maxT positions. Without
// gradients every layer shares one set of buffers and the residual stream is
// updated in place, so scoring needs about one layer's worth of memory.
type activations struct {
	cfg           Config
	maxRows, maxT int

	// Current batch.
	B, T    int
	invTemp float32
	tokens  []int32 // [N]
	scored  []int32 // positions i = b·T+t (t ≥ 1) whose token's log-prob is computed from row i-1
	lens    []int32 // [B] rows of each sequence anything reads: its last scored t (0: none)

	// The rows actually computed, packed: sequence b's first span[b]
	// positions (attentionShape.rows) at rows off[b] .. off[b]+span[b]-1 of
	// every [n × ...] buffer. Positions past a sequence's last scored token
	// (its padding among them) feed no log-prob and get no gradient, so
	// they are never computed. Weight gradients sum over the rows in the
	// K blocks of the padded layout (kSegs), which keeps every bit of the
	// padded computation: a skipped row's gradient is an exact zero, a no-op
	// in an FMA chain.
	n         int
	off, span []int32 // [B]
	ptokens   []int32 // [n] token of each packed row
	srcRow    []int32 // [len(scored)] packed row predicting each scored position
	kSegs     []int   // packed-row bounds of the padded layout's K blocks
	cos       []float32
	sin       []float32 // [N × D/2] rotary tables gathered per row
	ropeCos   []float32
	ropeSin   []float32 // [maxT × D/2] rotary tables by position

	layers []layerActs
	final  []float32 // [N × C] residual stream after the last layer
	xf     []float32 // [N × C] final RMSNorm output
	rstdF  []float32 // [N]

	// LM head over the scored rows, chunk by chunk.
	chunkRows int
	logits    []float32 // [chunkRows × V] temperature-scaled logits, then their gradient
	xfc       []float32 // [chunkRows × C] gathered rows of xf
	dxfc      []float32 // [chunkRows × C]
	logp      []float32 // [N] log-prob of each scored position's token
	ent       []float32 // [N] entropy of each scored position's distribution
	lse       []float64 // [N] logsumexp of each scored position's scaled logits

	// Backward scratch (grad only), shared by all layers.
	dres, dxn, tmp      []float32 // [N × C]
	dq, dk, dv, dAttOut []float32 // [N × H·D], [N × G·D] ×2, [N × H·D]
	dqPre, dkPre        []float32 // QK norm input gradients (nil without it)
	dgate, dup, dact    []float32 // [N × F]

	attScratch []attentionScratch // per worker, forward and backward

	// workers bounds the goroutines of the per-row kernels: every core for
	// a whole batch, one core's share for a half (see split).
	workers kernels.Workers
	// halves are the two views split hands out, allocated by its first
	// call; nil in a view.
	halves [2]*activations
}

// newActivations allocates the forward memory for batches of at most maxRows
// rows (B·T) and maxT positions, with backward buffers when grad is set.
func newActivations(cfg Config, maxRows, maxT int, grad bool) *activations {
	C, F, D, H, G := cfg.HiddenSize, cfg.IntermediateSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	R := maxRows
	f := func(n int) []float32 { return make([]float32, n) }
	a := &activations{cfg: cfg, maxRows: maxRows, maxT: maxT}
	a.tokens = make([]int32, R)
	a.scored = make([]int32, 0, R)
	a.lens = make([]int32, R)
	a.off, a.span = make([]int32, R), make([]int32, R)
	a.ptokens = make([]int32, R)
	a.srcRow = make([]int32, 0, R)
	a.cos, a.sin = f(R*D/2), f(R*D/2)
	a.ropeCos, a.ropeSin = cfg.ropeTable(maxT)
	a.layers = make([]layerActs, cfg.NumLayers)
	// Attention probabilities: B·H·T·T ≤ (R/T)·H·T·T = R·H·T ≤ R·H·maxT.
	attLen := R * H * maxT
	if grad {
		for i := range a.layers {
			a.layers[i] = newLayerActs(cfg, R, f(R*C), f(R*C), attLen)
		}
		a.final = f(R * C)
	} else {
		// Without a backward the probabilities are not kept: attention
		// writes each head's into its worker's scratch.
		x := f(R * C)
		shared := newLayerActs(cfg, R, x, x, 0)
		for i := range a.layers {
			a.layers[i] = shared
		}
		a.final = x
	}
	a.xf, a.rstdF = f(R*C), f(R)
	a.attScratch = newAttentionScratch(maxWorkersNow(), maxT, D)
	a.chunkRows = max(1, min(R, headBudget/cfg.VocabSize))
	a.logits = f(a.chunkRows * cfg.VocabSize)
	a.xfc = f(a.chunkRows * C)
	a.logp, a.ent, a.lse = f(R), f(R), make([]float64, R)
	if grad {
		a.dxfc = f(a.chunkRows * C)
		a.dres, a.dxn, a.tmp = f(R*C), f(R*C), f(R*C)
		a.dq, a.dk, a.dv, a.dAttOut = f(R*qd), f(R*kvd), f(R*kvd), f(R*qd)
		if cfg.QKNorm() {
			a.dqPre, a.dkPre = f(R*qd), f(R*kvd)
		}
		a.dgate, a.dup, a.dact = f(R*F), f(R*F), f(R*F)
	}
	return a
}

// newLayerActs allocates one layer's buffers for R rows around the given
// residual-stream buffers, with attLen floats of attention probabilities.
func newLayerActs(cfg Config, R int, in, mid []float32, attLen int) layerActs {
	C, F, D, H, G := cfg.HiddenSize, cfg.IntermediateSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	f := func(n int) []float32 { return make([]float32, n) }
	l := layerActs{
		in: in, mid: mid,
		xn1: f(R * C), rstd1: f(R),
		q: f(R * qd), k: f(R * kvd), v: f(R * kvd),
		att: f(attLen), attOut: f(R * qd),
		xn2: f(R * C), rstd2: f(R),
		gate: f(R * F), up: f(R * F), act: f(R * F),
	}
	if cfg.QKNorm() {
		l.qPre, l.kPre = f(R*qd), f(R*kvd)
		l.qRstd, l.kRstd = f(R*H), f(R*G)
	}
	if attLen == 0 {
		l.att = nil // not kept (see attentionForward)
	}
	return l
}

// minHalfRows is the fewest packed rows split gives a half. It must exceed
// the kernels' small-row limit (4), below which a product takes another
// path with other bits; and a half's products should be large enough to
// repay the hand-off to another goroutine.
const minHalfRows = 16

// split divides the current batch into two halves of whole sequences with
// about as many packed rows each and returns views of this workspace over
// them, one per core: each per-row buffer of a view is this workspace's
// memory from the half's first row (or, for attention probabilities, its
// first sequence) on, so what a half computes lands where the whole batch
// would put it. A kernel computes a row with the same bits whatever rows
// surround it, given more rows than its small-row limit (the kernels' test
// TestRowsDoNotDependOnTheirNeighbours), and attention works per sequence,
// so the two halves compute exactly the whole batch's bits. Running the
// halves side by side keeps each core on its own rows and drops the
// hand-offs between the cores inside every kernel, which cost a batch
// spread over both cores a quarter of its speed. It does not split on one
// core, or when a half would get fewer than minHalfRows rows.
func (a *activations) split() ([2]*activations, bool) {
	cores := runtime.GOMAXPROCS(0)
	if cores < 2 || a.B < 2 || a.n < 2*minHalfRows {
		return [2]*activations{}, false
	}
	// The first sequence of the second half: the cut nearest the middle row.
	cut, rows, best := 0, 0, a.n
	for b := 1; b < a.B; b++ {
		rows += int(a.span[b-1])
		if d := abs(2*rows - a.n); d < best {
			cut, best = b, d
		}
	}
	r0 := int(a.off[cut])
	if r0 < minHalfRows || a.n-r0 < minHalfRows {
		return [2]*activations{}, false
	}
	if a.halves[0] == nil {
		a.halves = [2]*activations{{}, {}}
	}
	a.view(a.halves[0], 0, cut, kernels.Workers((cores+1)/2))
	a.view(a.halves[1], cut, a.B, kernels.Workers(cores/2))
	return a.halves, true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// view makes v a view of sequences [b0, b1) of the current batch, whose
// per-row kernels use at most w goroutines. Only what forwardLayers (and
// the per-row part of the backward) reads is set: the LM head's buffers and
// the scored positions stay with the whole batch.
func (a *activations) view(v *activations, b0, b1 int, w kernels.Workers) {
	cfg := a.cfg
	C, F, D, H, G := cfg.HiddenSize, cfg.IntermediateSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	T := a.T
	r0 := int(a.off[b0])
	r1 := a.n
	if b1 < a.B {
		r1 = int(a.off[b1])
	}
	if len(v.off) < a.maxRows {
		v.off = make([]int32, a.maxRows)
	}
	if len(v.attScratch) != w.Count() {
		v.attScratch = newAttentionScratch(w.Count(), a.maxT, D)
	}
	if len(v.layers) != len(a.layers) {
		v.layers = make([]layerActs, len(a.layers))
	}
	v.cfg, v.maxRows, v.maxT, v.workers = cfg, r1-r0, a.maxT, w
	v.B, v.T, v.invTemp, v.n = b1-b0, T, a.invTemp, r1-r0
	v.lens, v.span = a.lens[b0:b1], a.span[b0:b1]
	for b := b0; b < b1; b++ {
		v.off[b-b0] = a.off[b] - int32(r0)
	}
	half := D / 2
	v.ptokens = a.ptokens[r0:]
	v.cos, v.sin = a.cos[r0*half:], a.sin[r0*half:]
	for l := range a.layers {
		la := &a.layers[l]
		v.layers[l] = layerActs{
			in: from(la.in, r0*C), xn1: from(la.xn1, r0*C), rstd1: from(la.rstd1, r0),
			qPre: from(la.qPre, r0*qd), kPre: from(la.kPre, r0*kvd),
			qRstd: from(la.qRstd, r0*H), kRstd: from(la.kRstd, r0*G),
			q: from(la.q, r0*qd), k: from(la.k, r0*kvd), v: from(la.v, r0*kvd),
			att: from(la.att, b0*H*T*T), attOut: from(la.attOut, r0*qd),
			mid: from(la.mid, r0*C), xn2: from(la.xn2, r0*C), rstd2: from(la.rstd2, r0),
			gate: from(la.gate, r0*F), up: from(la.up, r0*F), act: from(la.act, r0*F),
		}
	}
	v.final, v.xf, v.rstdF = from(a.final, r0*C), from(a.xf, r0*C), from(a.rstdF, r0)
	v.dres, v.dxn, v.tmp = from(a.dres, r0*C), from(a.dxn, r0*C), from(a.tmp, r0*C)
	v.dq, v.dk, v.dv, v.dAttOut = from(a.dq, r0*qd), from(a.dk, r0*kvd), from(a.dv, r0*kvd), from(a.dAttOut, r0*qd)
	v.dqPre, v.dkPre = from(a.dqPre, r0*qd), from(a.dkPre, r0*kvd)
	v.dgate, v.dup, v.dact = from(a.dgate, r0*F), from(a.dup, r0*F), from(a.dact, r0*F)
}

// from is s[i:], and nil for a buffer the workspace does not have.
func from(s []float32, i int) []float32 {
	if s == nil {
		return nil
	}
	return s[i:]
}

// layerOut is the buffer layer l writes its output residual stream into.
func (a *activations) layerOut(l int) []float32 {
	if l+1 < len(a.layers) {
		return a.layers[l+1].in
	}
	return a.final
}

// setBatch validates and copies a batch into the workspace: tokens [B·T] and
// mask [B·T] (mask[b·T+t] asks for the log-prob of token t of sequence b).
func (a *activations) setBatch(tokens []int, mask []bool, B, T int, temperature float32) error {
	switch {
	case B <= 0 || T <= 0:
		return fmt.Errorf("batch shape %d×%d: both must be positive", B, T)
	case T > a.maxT:
		return fmt.Errorf("batch of %d positions: the workspace holds at most %d", T, a.maxT)
	case T > a.cfg.MaxPositions:
		return fmt.Errorf("batch of %d positions: the model accepts at most %d (max_position_embeddings)", T, a.cfg.MaxPositions)
	case B*T > a.maxRows:
		return fmt.Errorf("batch of %d×%d tokens: the workspace holds at most %d", B, T, a.maxRows)
	case len(tokens) != B*T:
		return fmt.Errorf("batch has %d tokens, want B·T = %d", len(tokens), B*T)
	case len(mask) != B*T:
		return fmt.Errorf("batch has %d mask entries, want B·T = %d", len(mask), B*T)
	case !(temperature > 0) || math.IsInf(float64(temperature), 0):
		return fmt.Errorf("temperature %v: must be positive and finite", temperature)
	}
	N := B * T
	a.B, a.T, a.invTemp = B, T, 1/temperature
	a.scored = a.scored[:0]
	for i, tok := range tokens {
		if tok < 0 || tok >= a.cfg.VocabSize {
			return fmt.Errorf("token %d at sequence %d position %d: outside the vocabulary of %d", tok, i/T, i%T, a.cfg.VocabSize)
		}
		a.tokens[i] = int32(tok)
		if mask[i] {
			if i%T == 0 {
				return fmt.Errorf("mask at sequence %d position 0: the first token has no prediction to score", i/T)
			}
			a.scored = append(a.scored, int32(i))
		}
	}
	clear(a.lens[:B])
	for _, i := range a.scored {
		a.lens[int(i)/T] = int32(int(i) % T) // ascending: the last one wins
	}
	a.pack()
	clear(a.logp[:N])
	clear(a.ent[:N])
	clear(a.lse[:N])
	return nil
}

// pack lays out the rows to compute (see activations.n) after setBatch has
// set tokens, scored and lens.
func (a *activations) pack() {
	B, T := a.B, a.T
	shape := a.shape()
	half := a.cfg.HeadDim / 2
	kBlock := kernels.GemmKBlock()
	a.kSegs = append(a.kSegs[:0], 0)
	n, prevBlock := 0, -1
	for b := 0; b < B; b++ {
		L := shape.rows(b)
		a.off[b], a.span[b] = int32(n), int32(L)
		copy(a.ptokens[n:n+L], a.tokens[b*T:b*T+L])
		copy(a.cos[n*half:(n+L)*half], a.ropeCos[:L*half])
		copy(a.sin[n*half:(n+L)*half], a.ropeSin[:L*half])
		for t := 0; t < L; t++ {
			// Packed row n+t is padded row b·T+t: a new segment starts
			// where the padded layout starts a new K block.
			if blk := (b*T + t) / kBlock; blk != prevBlock {
				if n+t > 0 {
					a.kSegs = append(a.kSegs, n+t)
				}
				prevBlock = blk
			}
		}
		n += L
	}
	if n > 0 {
		a.kSegs = append(a.kSegs, n)
	}
	a.n = n
	a.srcRow = a.srcRow[:0]
	for _, pos := range a.scored {
		b, t := int(pos)/T, int(pos)%T
		a.srcRow = append(a.srcRow, a.off[b]+int32(t-1))
	}
}

// shape is the attention shape of the current batch.
func (a *activations) shape() attentionShape {
	cfg := a.cfg
	return attentionShape{B: a.B, T: a.T, H: cfg.NumHeads, G: cfg.NumKVHeads, D: cfg.HeadDim,
		Lens: a.lens[:a.B], Off: a.off[:a.B]}
}

// forward runs the model over the batch set by setBatch and fills logp (and
// ent when entropy is set) at the scored positions. With two or more cores
// and a batch that splits (see split), each half of the sequences runs
// through the layers on its own core; only the LM head, whose row chunks
// must not change, runs over the whole batch.
func (a *activations) forward(m *Model, entropy bool) {
	if halves, ok := a.split(); ok {
		onWorkers(2, func(w int) { halves[w].forwardLayers(m) })
	} else {
		a.forwardLayers(m)
	}
	a.headForward(m, entropy)
}

// forwardLayers runs the embedding, the decoder layers and the final RMSNorm
// over the a.n packed rows, filling xf.
func (a *activations) forwardLayers(m *Model) {
	cfg := a.cfg
	N, C := a.n, cfg.HiddenSize
	shape := a.shape()

	embeddingForward(a.layers[0].in[:N*C], a.ptokens[:N], m.w.embed, C)
	attend := func(la *layerActs) {
		attentionForward(la.attOut, la.att, la.q, la.k, la.v, shape, a.attScratch)
	}
	for l := range a.layers {
		layerForward(cfg, a.workers, &m.w.layers[l], &a.layers[l], a.layerOut(l)[:N*C], N, a.cos, a.sin, attend)
	}
	a.workers.RMSNorm(a.xf, a.rstdF, a.final[:N*C], m.w.finalNorm, N, C, float32(cfg.RMSNormEps))
}

// layerForward runs decoder layer lw over n rows of la.in:
//
//	mid = in + o_proj(attention(rope(qk_norm(q, k)), v)),  q, k, v = projections of rmsnorm(in)
//	out = mid + down(silu(gate(x))·up(x)),                   x = rmsnorm(mid)
//
// attend fills la.attOut from la.q, la.k and la.v. in, mid and out may all be
// one buffer (the residual stream updated in place) when nothing is kept for
// a backward pass.
func layerForward(cfg Config, w kernels.Workers, lw *layerWeights, la *layerActs, out []float32, n int, cos, sin []float32, attend func(*layerActs)) {
	C, F, D, H, G := cfg.HiddenSize, cfg.IntermediateSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	eps := float32(cfg.RMSNormEps)
	in, mid := la.in[:n*C], la.mid[:n*C]

	w.RMSNorm(la.xn1, la.rstd1, in, lw.inNorm, n, C, eps)
	q, k := la.q[:n*qd], la.k[:n*kvd]
	if cfg.QKNorm() {
		q, k = la.qPre[:n*qd], la.kPre[:n*kvd]
	}
	xn1 := la.xn1[:n*C]
	projectQ := func() { linearForward(w, q, xn1, lw.q, lw.qBias, n, C, qd) }
	projectK := func() { linearForward(w, k, xn1, lw.k, lw.kBias, n, C, kvd) }
	projectV := func() { linearForward(w, la.v[:n*kvd], xn1, lw.v, lw.vBias, n, C, kvd) }
	sideBySide(w, n, C, max(qd, kvd), projectQ, projectK, projectV)
	if cfg.QKNorm() {
		w.RMSNorm(la.q, la.qRstd, q, lw.qNorm, n*H, D, eps)
		w.RMSNorm(la.k, la.kRstd, k, lw.kNorm, n*G, D, eps)
	}
	w.RoPE(la.q, cos, sin, n, H, D)
	w.RoPE(la.k, cos, sin, n, G, D)
	attend(la)
	copy(mid, in)
	w.MatMulBT(mid, la.attOut[:n*qd], lw.o, n, qd, C, true)
	addBiasRows(mid, lw.oBias, n, C)

	w.RMSNorm(la.xn2, la.rstd2, mid, lw.postNorm, n, C, eps)
	xn2 := la.xn2[:n*C]
	gate := func() { linearForward(w, la.gate[:n*F], xn2, lw.gate, nil, n, C, F) }
	up := func() { linearForward(w, la.up[:n*F], xn2, lw.up, nil, n, C, F) }
	sideBySide(w, n, C, F, gate, up)
	w.SwiGLU(la.act[:n*F], la.gate[:n*F], la.up[:n*F])
	copy(out, mid)
	w.MatMulBT(out, la.act[:n*F], lw.down, n, F, C, true)
}

// headForward computes, chunk by chunk over the scored positions, the
// temperature-scaled logits z = (xf·Wᵀ)/τ of each position's predicting row
// and from them its logsumexp, the log-prob of its token and (when entropy is
// set) the entropy of softmax(z).
func (a *activations) headForward(m *Model, entropy bool) {
	V := a.cfg.VocabSize
	for c0 := 0; c0 < len(a.scored); c0 += a.chunkRows {
		rows := a.scored[c0:min(c0+a.chunkRows, len(a.scored))]
		a.headLogits(m, a.srcRow[c0:c0+len(rows)])
		parallelFor(len(rows), maxWorkersNow(), func(_, lo, hi int) {
			for r := lo; r < hi; r++ {
				pos := rows[r]
				z := a.logits[r*V : (r+1)*V]
				lse := logSumExp(z)
				a.lse[pos] = lse
				a.logp[pos] = float32(float64(z[a.tokens[pos]]) - lse)
				if entropy {
					a.ent[pos] = float32(entropyOf(z, lse))
				}
			}
		})
	}
}

// headLogits fills xfc with the given (packed) predicting rows and logits
// with their temperature-scaled logits.
func (a *activations) headLogits(m *Model, srcRows []int32) {
	C, V := a.cfg.HiddenSize, a.cfg.VocabSize
	for r, src := range srcRows {
		copy(a.xfc[r*C:(r+1)*C], a.xf[int(src)*C:int(src+1)*C])
	}
	n := len(srcRows)
	kernels.MatMulBT(a.logits[:n*V], a.xfc[:n*C], m.w.lmHead, n, C, V, false)
	if a.invTemp != 1 {
		for i := range a.logits[:n*V] {
			a.logits[i] *= a.invTemp
		}
	}
}

// logSumExp returns log Σ exp(z) in float64.
func logSumExp(z []float32) float64 {
	mx := z[0]
	for _, v := range z[1:] {
		mx = max(mx, v)
	}
	var arg, e [expChunk]float64
	var s float64
	for c0 := 0; c0 < len(z); c0 += expChunk {
		chunk := z[c0:min(len(z), c0+expChunk)]
		for i, v := range chunk {
			arg[i] = float64(v - mx)
		}
		expPadded(&e, &arg, len(chunk))
		for _, v := range e[:len(chunk)] {
			s += v
		}
	}
	return float64(mx) + math.Log(s)
}

// entropyOf returns H(softmax(z)) = lse − Σ p·z given lse = logsumexp(z).
func entropyOf(z []float32, lse float64) float64 {
	var arg, e [expChunk]float64
	var pz float64
	for c0 := 0; c0 < len(z); c0 += expChunk {
		chunk := z[c0:min(len(z), c0+expChunk)]
		for i, v := range chunk {
			arg[i] = float64(v) - lse
		}
		expPadded(&e, &arg, len(chunk))
		for i, v := range chunk {
			pz += e[i] * float64(v)
		}
	}
	return lse - pz
}
