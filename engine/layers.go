package engine

import (
	"math"

	"github.com/urlvr/urlvr/engine/kernels"
)

// The layers of the decoder, each a forward function and its backward, in the
// order a token meets them. Dimension letters, used in every shape comment:
// B batch, T time (positions), N = B·T rows, C channels (hidden_size),
// H query heads, G key/value heads, D head_dim, F MLP width, V vocabulary.
// A row of a [N × ...] buffer is position t of sequence b at index b·T+t.
// RMSNorm, rotary embeddings and SwiGLU are single kernels and are called
// directly where they are used.

// embeddingForward: out [N × C] row i = emb [V × C] row tokens[i].
func embeddingForward(out []float32, tokens []int32, emb []float32, C int) {
	for i, tok := range tokens {
		copy(out[i*C:(i+1)*C], emb[int(tok)*C:int(tok+1)*C])
	}
}

// embeddingBackward adds dout [N × C] row i into demb [V × C] row tokens[i].
// Rows that share a token are summed in row order; the work is split over
// columns, so each column is summed by one goroutine.
func embeddingBackward(demb, dout []float32, tokens []int32, C int) {
	parallelFor(C, maxWorkersNow(), func(_, c0, c1 int) {
		for i, tok := range tokens {
			kernels.Axpy(1, dout[i*C+c0:i*C+c1], demb[int(tok)*C+c0:int(tok)*C+c1])
		}
	})
}

// linearForward: out [N × O] = inp [N × I] · w[O × I]ᵀ (+ bias [O] when
// non-nil), on at most wk goroutines.
func linearForward(wk kernels.Workers, out, inp, w, bias []float32, N, I, O int) {
	wk.MatMulBT(out, inp, w, N, I, O, false)
	addBiasRows(out, bias, N, O)
}

// linearWeightGrad is the weight half of a linear layer's backward: from
// dout [N × O] and the forward's inp [N × I] it adds the weight gradient
// into dw [O × I] and, when dbias is non-nil, the bias gradient into dbias
// [O], summed over the rows in the segments kSegs (row bounds, ascending,
// from 0 to N), one product per segment added in order: the K blocks of a
// padded layout whose skipped rows carry exact zeros (see activations.n).
func linearWeightGrad(dw, dbias, dout, inp []float32, N, I, O int, kSegs []int) {
	if N > 0 {
		kernels.MatMulATSegs(dw, dout[:N*O], inp[:N*I], O, N, I, true, kSegs)
	}
	if dbias != nil {
		for r := 0; r < N; r++ {
			kernels.Axpy(1, dout[r*O:(r+1)*O], dbias)
		}
	}
}

// addBiasRows adds bias [O] to every row of out [N × O]; a nil bias is no bias.
func addBiasRows(out, bias []float32, N, O int) {
	if bias == nil {
		return
	}
	for r := 0; r < N; r++ {
		kernels.Axpy(1, bias, out[r*O:(r+1)*O])
	}
}

// linearInputGrad is the input half of a linear layer's backward: from
// dout [N × O] and the weight w [O × I] it writes dinp [N × I], or adds into
// it when acc is set, on at most wk goroutines.
func linearInputGrad(wk kernels.Workers, dinp, dout, w []float32, N, I, O int, acc bool) {
	wk.MatMul(dinp, dout, w, N, O, I, acc)
}

// attentionShape names the sizes of one causal grouped-query attention call.
// Lens, when non-nil, holds per sequence the number of leading positions
// whose attention anyone reads: a padded batch's later positions (past its
// last scored token) influence no log-prob and receive no gradient, so
// attention computes only rows and columns 0..Lens[b]-1 and writes zeros
// elsewhere.
type attentionShape struct {
	B, T, H, G, D int
	Lens          []int32
	// Off, when non-nil, packs the rows: sequence b's rows(b) positions
	// are rows Off[b].. of the [N × ...] buffers instead of rows b·T.. .
	Off []int32
}

// base is the buffer row of position 0 of sequence b, and span the rows
// the layout gives it.
func (s attentionShape) base(b int) int {
	if s.Off != nil {
		return int(s.Off[b])
	}
	return b * s.T
}

func (s attentionShape) span(b int) int {
	if s.Off != nil {
		return s.rows(b)
	}
	return s.T
}

// rowStrides: a query row holds H heads of D, a key/value row G heads of D.
func (s attentionShape) qStride() int  { return s.H * s.D }
func (s attentionShape) kvStride() int { return s.G * s.D }

// rows is the number of positions of sequence b that attention computes.
// Trimming never changes a bit of what it computes: each score is a
// D-long chain whatever the matrix sizes, and the products over positions
// only drop terms whose factor is an exact zero (a causal mask entry, or a
// gradient row of a position nobody reads), which an FMA chain adds as a
// no-op. The one size-dependent path of the products is the unpacked one
// for at most kernels' small-row limit (4) rows, so a trimmed sequence
// keeps at least 5 rows (all of T when T is that short).
func (s attentionShape) rows(b int) int {
	if s.Lens == nil {
		return s.T
	}
	l := int(s.Lens[b])
	if l == 0 {
		return 0
	}
	return max(l, min(s.T, minAttentionRows))
}

// minAttentionRows keeps trimmed attention products on the packed path.
const minAttentionRows = 5

// attentionScratch is one worker's memory for attention over one sequence:
// the packing memory of the products, a [T × T] matrix and the softmax's
// exponentials.
type attentionScratch struct {
	mm  kernels.StridedScratch
	tt  []float32
	exp []float64 // causalSoftmax's arguments and exponentials
}

// newAttentionScratch allocates scratch for workers goroutines and up to T
// positions of head dimension D.
func newAttentionScratch(workers, T, D int) []attentionScratch {
	s := make([]attentionScratch, workers)
	for i := range s {
		n8 := (min(T*(T+1)/2, max(T, softmaxGroup)) + 7) &^ 7
		s[i] = attentionScratch{tt: make([]float32, T*T), exp: make([]float64, 2*n8)}
	}
	return s
}

// clearHead zeroes head h of rows base+L .. base+span-1 of x [N × stride]:
// the positions attention skipped.
func clearHead(x []float32, base, L, span, stride, h, D int) {
	for t := L; t < span; t++ {
		clear(x[(base+t)*stride+h*D:][:D])
	}
}

// attentionForward is causal grouped-query attention over a batch.
// q [N × H·D], k, v [N × G·D] (already normalised and rotated); query head h
// reads key/value head h/(H/G). att [B × H × T × T] receives, per (sequence,
// head), the softmax probabilities P = softmax(Q·Kᵀ/√D) as an [L × L]
// matrix (L = s.rows(b)) with row t holding positions 0..t and zeros after
// (with att nil, for a pass without backward, P lives in the scratch);
// out [N × H·D] receives P·V (zero on rows past L). Each (sequence, head)
// pair is two matrix products on its [L × D] column slices of q, k, v and
// out, read in place; the pairs are handed to the workers one at a time, so
// uneven lengths balance. The products are those of MatMulBT and MatMul
// (kernels.MatMulStrided gives their bits), with the causal mask's zeros
// left out of the chains.
func attentionForward(out, att, q, k, v []float32, s attentionShape, scratch []attentionScratch) {
	B, T, H, G, D := s.B, s.T, s.H, s.G, s.D
	qs, kvs := s.qStride(), s.kvStride()
	scale := float32(1 / math.Sqrt(float64(D)))
	rep := H / G
	claimUnits(B*H, len(scratch), func(worker, unit int) {
		w := &scratch[worker]
		b, h := unit/H, unit%H
		g := h / rep
		L, base, span := s.rows(b), s.base(b), s.span(b)
		clearHead(out, base, L, span, qs, h, D)
		if L == 0 {
			return
		}
		qh, kh, vh := q[base*qs+h*D:], k[base*kvs+g*D:], v[base*kvs+g*D:]
		var p []float32
		if att != nil {
			p = att[(b*H+h)*T*T:][:L*L]
		} else {
			p = w.tt[:L*L]
		}
		kernels.MatMulStrided(&w.mm, p, L, qh, qs, kh, kvs, L, D, L, kernels.TransB|kernels.LowerC)
		causalSoftmax(p, L, scale, &w.exp)
		kernels.MatMulStrided(&w.mm, out[base*qs+h*D:], qs, p, L, vh, kvs, L, L, D, kernels.LowerA)
	})
}

// attentionBackward takes dout [N × H·D] and the forward's att, q, k, v and
// writes dq [N × H·D], dk, dv [N × G·D]. Work is split over (sequence,
// key/value head) pairs so that each dk/dv row is summed by one goroutine
// over its query heads in order. With S = Q·Kᵀ/√D and P = softmax(S):
//
//	dV = Σ_h Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(P ⊙ dP)),
//	dQ = dS·K/√D,  dK = Σ_h dSᵀ·Q/√D.
//
// As in the forward, the products read and write the heads' column slices
// in place and leave the zeros of the causal structure out of the chains.
func attentionBackward(dq, dk, dv, dout, att, q, k, v []float32, s attentionShape, scratch []attentionScratch) {
	B, T, H, G, D := s.B, s.T, s.H, s.G, s.D
	qs, kvs := s.qStride(), s.kvStride()
	scale := float32(1 / math.Sqrt(float64(D)))
	rep := H / G
	claimUnits(B*G, len(scratch), func(worker, unit int) {
		w := &scratch[worker]
		b, g := unit/G, unit%G
		L, base, span := s.rows(b), s.base(b), s.span(b)
		clearHead(dk, base, L, span, kvs, g, D)
		clearHead(dv, base, L, span, kvs, g, D)
		for h := g * rep; h < (g+1)*rep; h++ {
			clearHead(dq, base, L, span, qs, h, D)
		}
		if L == 0 {
			return
		}
		kh, vh := k[base*kvs+g*D:], v[base*kvs+g*D:]
		dkh, dvh := dk[base*kvs+g*D:], dv[base*kvs+g*D:]
		for h := g * rep; h < (g+1)*rep; h++ {
			qh, doh, dqh := q[base*qs+h*D:], dout[base*qs+h*D:], dq[base*qs+h*D:]
			var acc kernels.StridedFlags
			if h > g*rep {
				acc = kernels.Acc
			}
			p := att[(b*H+h)*T*T:][:L*L]
			kernels.MatMulStrided(&w.mm, dvh, kvs, p, L, doh, qs, L, L, D, kernels.TransA|kernels.UpperA|acc)
			ds := w.tt[:L*L]
			kernels.MatMulStrided(&w.mm, ds, L, doh, qs, vh, kvs, L, D, L, kernels.TransB|kernels.LowerC)
			softmaxBackward(p, ds, L, scale)
			kernels.MatMulStrided(&w.mm, dqh, qs, ds, L, kh, kvs, L, L, D, kernels.LowerA)
			kernels.MatMulStrided(&w.mm, dkh, kvs, ds, L, qh, qs, L, L, D, kernels.TransA|kernels.UpperA|acc)
		}
	})
}

// softmaxBackward turns dP, the gradient with respect to one head's causal
// probabilities P [L × L], into the gradient with respect to the scores
// before scaling, in place: row t of dS is scale·P ⊙ (dP − Σ_j P·dP) over
// positions 0..t, zeros after. Each row's sum is one float32 chain in
// order; four rows at a time keep four chains in flight. The elementwise
// finish runs as a vector kernel with the same rounding.
func softmaxBackward(p, ds []float32, L int, scale float32) {
	var sums [4]float32
	for t0 := 0; t0 < L; t0 += 4 {
		rows := min(4, L-t0)
		if rows == 4 {
			t := t0
			p0, p1, p2, p3 := p[t*L:t*L+t+1], p[(t+1)*L:(t+1)*L+t+2], p[(t+2)*L:(t+2)*L+t+3], p[(t+3)*L:(t+3)*L+t+4]
			d0, d1, d2, d3 := ds[t*L:t*L+t+1], ds[(t+1)*L:(t+1)*L+t+2], ds[(t+2)*L:(t+2)*L+t+3], ds[(t+3)*L:(t+3)*L+t+4]
			var s0, s1, s2, s3 float32
			// The first t+1 positions, common to the four rows (resliced
			// to one length: no bounds checks in the loop).
			n := t + 1
			a0, a1, a2, a3 := p0[:n], p1[:n], p2[:n], p3[:n]
			b0, b1, b2, b3 := d0[:n], d1[:n], d2[:n], d3[:n]
			for j := range a0 {
				s0 += a0[j] * b0[j]
				s1 += a1[j] * b1[j]
				s2 += a2[j] * b2[j]
				s3 += a3[j] * b3[j]
			}
			j := t + 1
			s1 += p1[j] * d1[j]
			s2 += p2[j] * d2[j]
			s3 += p3[j] * d3[j]
			j++
			s2 += p2[j] * d2[j]
			s3 += p3[j] * d3[j]
			j++
			s3 += p3[j] * d3[j]
			sums = [4]float32{s0, s1, s2, s3}
		} else {
			for r := 0; r < rows; r++ {
				t := t0 + r
				pr, dr := p[t*L:t*L+t+1], ds[t*L:t*L+t+1]
				var sum float32
				for j := range pr {
					sum += pr[j] * dr[j]
				}
				sums[r] = sum
			}
		}
		for r := 0; r < rows; r++ {
			t := t0 + r
			pr, dr := p[t*L:t*L+t+1], ds[t*L:t*L+t+1]
			kernels.SoftmaxGradRow(dr, pr, sums[r], scale)
			clear(ds[t*L+t+1 : (t+1)*L])
		}
	}
}

// causalSoftmax turns the scores of one head's causal [L × L] block p into
// probabilities: row t becomes softmax(scale · p[t][0..t]), zeros after.
// It is kept here rather than in the kernels because attention rows are
// short and numerous: the call must not fan out to goroutines. The
// exponentials are float64 (kernels.ExpF64, the bits of math.Exp), taken
// for many rows in one call (exp holds them: at most softmaxGroup of them,
// or one row), and each row's are summed in order.
func causalSoftmax(p []float32, L int, scale float32, exp *[]float64) {
	for t0 := 0; t0 < L; {
		// Rows t0..t1-1: a whole number of fours where the budget allows.
		t1, n := t0, 0
		for t1 < L && (t1 == t0 || n+t1+1 <= softmaxGroup) {
			n += t1 + 1
			t1++
		}
		if t1 < L && t1-t0 > 4 {
			for (t1-t0)%4 != 0 {
				t1--
				n -= t1 + 1
			}
		}
		causalSoftmaxRows(p, L, t0, t1, n, scale, exp)
		t0 = t1
	}
}

// softmaxGroup bounds the exponentials causalSoftmax takes in one call.
const softmaxGroup = 1 << 13

// causalSoftmaxRows is causalSoftmax over rows t0..t1-1, n elements.
func causalSoftmaxRows(p []float32, L, t0, t1, n int, scale float32, exp *[]float64) {
	n8 := (n + 7) &^ 7
	if cap(*exp) < 2*n8 {
		*exp = make([]float64, 2*n8)
	}
	arg, e := (*exp)[:n8], (*exp)[n8:2*n8]
	o := 0
	for t := t0; t < t1; t++ {
		row := p[t*L : t*L+t+1]
		// The arguments v − mx. Which element ScaleMaxArgs takes as mx for
		// a NaN or a zero maximum changes nothing below: a NaN score makes
		// the row NaN whatever mx is, and the sign of a zero mx changes no
		// difference that is not itself a zero, whose exponential is 1
		// either way.
		kernels.ScaleMaxArgs(row, scale, arg[o:o+t+1])
		o += t + 1
		clear(p[t*L+t+1 : (t+1)*L])
	}
	// Padding lanes: ExpF64's lanes are independent, so they change no bit.
	clear(arg[n:])
	kernels.ExpF64(e, arg)
	// Each row's sum is one chain in ascending order; four rows at a time
	// keep four independent chains in flight. The rows are then rounded to
	// float32 and normalised by a vector kernel (the same bits as rounding
	// each element and then scaling it in float32): a scalar conversion
	// writes only the low lane of its register, so in this loop every
	// conversion would wait on the one before.
	o = 0
	t := t0
	for ; t+4 <= t1; t += 4 {
		e0 := e[o : o+t+1]
		e1 := e[o+t+1 : o+2*t+3]
		e2 := e[o+2*t+3 : o+3*t+6]
		e3 := e[o+3*t+6 : o+4*t+10]
		var s0, s1, s2, s3 float64
		// The first t+1 positions, common to the four rows (resliced to
		// one length, so that the loop needs no bounds checks).
		n := t + 1
		c0, c1, c2, c3 := e0[:n], e1[:n], e2[:n], e3[:n]
		for i := range c0 {
			s0 += c0[i]
			s1 += c1[i]
			s2 += c2[i]
			s3 += c3[i]
		}
		s1 += e1[n]
		s2 += e2[n]
		s3 += e3[n]
		s2 += e2[n+1]
		s3 += e3[n+1]
		s3 += e3[n+2]
		kernels.NarrowScale(p[t*L:t*L+t+1], e0, float32(1/s0))
		kernels.NarrowScale(p[(t+1)*L:(t+1)*L+t+2], e1, float32(1/s1))
		kernels.NarrowScale(p[(t+2)*L:(t+2)*L+t+3], e2, float32(1/s2))
		kernels.NarrowScale(p[(t+3)*L:(t+3)*L+t+4], e3, float32(1/s3))
		o += 4*t + 10
	}
	for ; t < t1; t++ {
		var sum float64
		for _, v := range e[o : o+t+1] {
			sum += v
		}
		kernels.NarrowScale(p[t*L:t*L+t+1], e[o:o+t+1], float32(1/sum))
		o += t + 1
	}
}

// expPadded sets e[:n] = exp(arg[:n]) (n ≤ expChunk). The arguments are
// padded with zeros to whole vectors of eight, so that no element takes
// ExpF64's one-at-a-time tail: its lanes are independent, so the padding
// changes no bit of the results.
func expPadded(e, arg *[expChunk]float64, n int) {
	n8 := (n + 7) &^ 7
	clear(arg[n:n8])
	kernels.ExpF64(e[:n8], arg[:n8])
}

// expChunk is how many exponentials the row loops take at a time, in
// buffers on the stack: a multiple of 8, the lanes of ExpF64's vectors.
const expChunk = 64
