package engine

import (
	"github.com/urlvr/urlvr/engine/kernels"
)

// backward propagates per-position gradients of the loss with respect to the
// log-probs (dlogp [N]) and, when non-nil, the entropies (dent [N]) computed
// by the last forward, and adds the parameter gradients into g. Positions
// that were not scored carry no gradient.
func (a *activations) backward(m *Model, g *weights, dlogp, dent []float32) {
	cfg := a.cfg
	N := a.n
	C, F, D, H, G := cfg.HiddenSize, cfg.IntermediateSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	shape := a.shape()
	linearBackward := func(dinp, dw, dbias, dout, inp, w []float32, N, I, O int, accInp bool) {
		linearBackwardSegs(dinp, dw, dbias, dout, inp, w, N, I, O, accInp, a.kSegs)
	}

	dres := a.dres[:N*C]
	a.headBackward(m, g, dlogp, dent)
	kernels.RMSNormBackward(dres, g.finalNorm, a.dxn[:N*C], a.final[:N*C], m.w.finalNorm, a.rstdF, N, C)

	for l := len(a.layers) - 1; l >= 0; l-- {
		la, lw, gw := &a.layers[l], &m.w.layers[l], &g.layers[l]
		// dres is the gradient of the layer's output: backward through the MLP block.
		linearBackward(a.dact[:N*F], gw.down, nil, dres, la.act[:N*F], lw.down, N, F, C, false)
		kernels.SwiGLUBackward(a.dgate[:N*F], a.dup[:N*F], a.dact[:N*F], la.gate, la.up)
		linearBackward(a.dxn[:N*C], gw.gate, nil, a.dgate[:N*F], la.xn2[:N*C], lw.gate, N, C, F, false)
		linearBackward(a.dxn[:N*C], gw.up, nil, a.dup[:N*F], la.xn2[:N*C], lw.up, N, C, F, true)
		kernels.RMSNormBackward(a.tmp[:N*C], gw.postNorm, a.dxn[:N*C], la.mid[:N*C], lw.postNorm, la.rstd2, N, C)
		kernels.Axpy(1, a.tmp[:N*C], dres)

		// dres is now the gradient of mid: backward through the attention block.
		linearBackward(a.dAttOut[:N*qd], gw.o, gw.oBias, dres, la.attOut[:N*qd], lw.o, N, qd, C, false)
		attentionBackward(a.dq, a.dk, a.dv, a.dAttOut, la.att, la.q, la.k, la.v, shape, a.attScratch)
		kernels.RoPEBackward(a.dq, a.cos, a.sin, N, H, D)
		kernels.RoPEBackward(a.dk, a.cos, a.sin, N, G, D)
		dq, dk := a.dq[:N*qd], a.dk[:N*kvd]
		if cfg.QKNorm() {
			kernels.RMSNormBackward(a.dqPre, gw.qNorm, dq, la.qPre, lw.qNorm, la.qRstd, N*H, D)
			kernels.RMSNormBackward(a.dkPre, gw.kNorm, dk, la.kPre, lw.kNorm, la.kRstd, N*G, D)
			dq, dk = a.dqPre[:N*qd], a.dkPre[:N*kvd]
		}
		xn1 := la.xn1[:N*C]
		linearBackward(a.dxn[:N*C], gw.q, gw.qBias, dq, xn1, lw.q, N, C, qd, false)
		linearBackward(a.dxn[:N*C], gw.k, gw.kBias, dk, xn1, lw.k, N, C, kvd, true)
		linearBackward(a.dxn[:N*C], gw.v, gw.vBias, a.dv[:N*kvd], xn1, lw.v, N, C, kvd, true)
		kernels.RMSNormBackward(a.tmp[:N*C], gw.inNorm, a.dxn[:N*C], la.in[:N*C], lw.inNorm, la.rstd1, N, C)
		kernels.Axpy(1, a.tmp[:N*C], dres)
	}
	embeddingBackward(g.embed, dres, a.ptokens[:N], C)
}

// headBackward turns the per-position gradients into the gradient of the
// final RMSNorm output, written into dxn [N × C] (zero on rows that predict
// nothing), and adds the LM head's weight gradient into g.lmHead.
//
// With z the scaled logits, p = softmax(z), y the token and H the entropy:
//
//	∂log p_y/∂z_j = [j = y] − p_j,   ∂H/∂z_j = −p_j·(log p_j + H),
//
// and ∂/∂logits = (1/τ)·∂/∂z.
func (a *activations) headBackward(m *Model, g *weights, dlogp, dent []float32) {
	C, V := a.cfg.HiddenSize, a.cfg.VocabSize
	N := a.n
	dxf := a.dxn[:N*C]
	clear(dxf)
	// With a single chunk, logits and xfc still hold the forward's values.
	recompute := len(a.scored) > a.chunkRows
	for c0 := 0; c0 < len(a.scored); c0 += a.chunkRows {
		rows := a.scored[c0:min(c0+a.chunkRows, len(a.scored))]
		n := len(rows)
		srcRows := a.srcRow[c0 : c0+n]
		if recompute {
			a.headLogits(m, srcRows)
		}
		parallelFor(n, maxWorkersNow(), func(_, lo, hi int) {
			for r := lo; r < hi; r++ {
				pos := rows[r]
				z := a.logits[r*V : (r+1)*V]
				lse, h := a.lse[pos], float64(a.ent[pos])
				gl := float64(dlogp[pos])
				var ge float64
				if dent != nil {
					ge = float64(dent[pos])
				}
				var logp, e [expChunk]float64
				for c0 := 0; c0 < len(z); c0 += expChunk {
					chunk := z[c0:min(len(z), c0+expChunk)]
					for j, v := range chunk {
						logp[j] = float64(v) - lse
					}
					expPadded(&e, &logp, len(chunk))
					lp, p := logp[:len(chunk)], e[:len(chunk)]
					for j := range chunk {
						dz := -gl*p[j] - ge*p[j]*(lp[j]+h)
						chunk[j] = float32(dz) * a.invTemp
					}
				}
				z[a.tokens[pos]] += float32(gl) * a.invTemp
			}
		})
		weights := func() { kernels.MatMulAT(g.lmHead, a.logits[:n*V], a.xfc[:n*C], V, n, C, true) }
		input := func() { kernels.MatMul(a.dxfc[:n*C], a.logits[:n*V], m.w.lmHead, n, V, C, false) }
		sideBySide(n, V, C, weights, input)
		for r, src := range srcRows {
			copy(dxf[int(src)*C:int(src+1)*C], a.dxfc[r*C:(r+1)*C])
		}
	}
}
