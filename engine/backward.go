package engine

import (
	"github.com/urlvr/urlvr/engine/kernels"
)

// backward propagates per-position gradients of the loss with respect to the
// log-probs (dlogp [N]) and, when non-nil, the entropies (dent [N]) computed
// by the last forward, and adds the parameter gradients into g. Positions
// that were not scored carry no gradient.
//
// Each block of a layer runs in two phases. The input gradients, which are
// per row, run on the two halves of the batch side by side when it splits
// (see split), each half on its own core; then the weight gradients, sums
// over all rows, run over the whole batch exactly as they would without the
// split, each tensor's products added in the same order. So the split
// changes no bit of any gradient.
func (a *activations) backward(m *Model, g *weights, dlogp, dent []float32) {
	cfg := a.cfg
	N := a.n
	C, F, D, H, G := cfg.HiddenSize, cfg.IntermediateSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	halves, split := a.split()
	perRow := func(part func(h *activations)) {
		if split {
			onWorkers(2, func(w int) { part(halves[w]) })
		} else {
			part(a)
		}
	}
	weightGrad := func(dw, dbias, dout, inp []float32, I, O int) func() {
		return func() { linearWeightGrad(dw, dbias, dout, inp, N, I, O, a.kSegs) }
	}

	a.headBackward(m, g, dlogp, dent)
	perRow(func(h *activations) {
		n := h.n
		h.workers.RMSNormInputGrad(h.dres[:n*C], h.dxn[:n*C], h.final[:n*C], m.w.finalNorm, h.rstdF[:n], n, C)
	})
	kernels.RMSNormWeightGrad(g.finalNorm, a.dxn[:N*C], a.final[:N*C], a.rstdF[:N], N, C)

	for l := len(a.layers) - 1; l >= 0; l-- {
		la, lw, gw := &a.layers[l], &m.w.layers[l], &g.layers[l]
		// dres is the gradient of the layer's output (once the previous
		// layer's tmp is added in): backward through the MLP block.
		addTmp := l < len(a.layers)-1
		perRow(func(h *activations) { h.mlpInputGrad(lw, &h.layers[l], addTmp) })
		sideBySide(kernels.AllCores, C, N, F,
			weightGrad(gw.down, nil, a.dres, la.act, F, C),
			weightGrad(gw.gate, nil, a.dgate, la.xn2, C, F),
			weightGrad(gw.up, nil, a.dup, la.xn2, C, F),
			func() { kernels.RMSNormWeightGrad(gw.postNorm, a.dxn[:N*C], la.mid[:N*C], la.rstd2[:N], N, C) })

		// dres plus tmp is the gradient of mid: backward through the
		// attention block.
		perRow(func(h *activations) { h.attentionInputGrad(lw, &h.layers[l]) })
		dq, dk := a.dq, a.dk
		jobs := []func(){}
		if cfg.QKNorm() {
			dq, dk = a.dqPre, a.dkPre
			jobs = append(jobs,
				func() { kernels.RMSNormWeightGrad(gw.qNorm, a.dq[:N*qd], la.qPre[:N*qd], la.qRstd[:N*H], N*H, D) },
				func() { kernels.RMSNormWeightGrad(gw.kNorm, a.dk[:N*kvd], la.kPre[:N*kvd], la.kRstd[:N*G], N*G, D) })
		}
		jobs = append(jobs,
			weightGrad(gw.o, gw.oBias, a.dres, la.attOut, qd, C),
			weightGrad(gw.q, gw.qBias, dq, la.xn1, C, qd),
			weightGrad(gw.k, gw.kBias, dk, la.xn1, C, kvd),
			weightGrad(gw.v, gw.vBias, a.dv, la.xn1, C, kvd),
			func() { kernels.RMSNormWeightGrad(gw.inNorm, a.dxn[:N*C], la.in[:N*C], la.rstd1[:N], N, C) })
		sideBySide(kernels.AllCores, C, N, max(qd, C), jobs...)
	}
	dres := a.dres[:N*C]
	kernels.Axpy(1, a.tmp[:N*C], dres)
	embeddingBackward(g.embed, dres, a.ptokens[:N], C)
}

// mlpInputGrad is the per-row half of the MLP block's backward over this
// workspace's rows: with dres the gradient of the block's output (after
// adding tmp when addTmp is set), it leaves the gradients of the gate and up
// projections in dgate and dup, of the post-attention RMSNorm's output in
// dxn and of its input in tmp.
func (a *activations) mlpInputGrad(lw *layerWeights, la *layerActs, addTmp bool) {
	C, F := a.cfg.HiddenSize, a.cfg.IntermediateSize
	n, w := a.n, a.workers
	dres := a.dres[:n*C]
	if addTmp {
		kernels.Axpy(1, a.tmp[:n*C], dres)
	}
	linearInputGrad(w, a.dact[:n*F], dres, lw.down, n, F, C, false)
	w.SwiGLUBackward(a.dgate[:n*F], a.dup[:n*F], a.dact[:n*F], la.gate, la.up)
	linearInputGrad(w, a.dxn[:n*C], a.dgate[:n*F], lw.gate, n, C, F, false)
	linearInputGrad(w, a.dxn[:n*C], a.dup[:n*F], lw.up, n, C, F, true)
	w.RMSNormInputGrad(a.tmp[:n*C], a.dxn[:n*C], la.mid[:n*C], lw.postNorm, la.rstd2[:n], n, C)
}

// attentionInputGrad is the per-row half of the attention block's backward:
// it adds tmp into dres, making it the gradient of mid, and leaves the
// gradients of the q, k, v projections in dq (dqPre with QK norm), dk
// (dkPre) and dv, of the input RMSNorm's output in dxn and of its input in
// tmp.
func (a *activations) attentionInputGrad(lw *layerWeights, la *layerActs) {
	cfg := a.cfg
	C, D, H, G := cfg.HiddenSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	n, w := a.n, a.workers
	dres := a.dres[:n*C]
	kernels.Axpy(1, a.tmp[:n*C], dres)
	linearInputGrad(w, a.dAttOut[:n*qd], dres, lw.o, n, qd, C, false)
	attentionBackward(a.dq, a.dk, a.dv, a.dAttOut, la.att, la.q, la.k, la.v, a.shape(), a.attScratch)
	w.RoPEBackward(a.dq, a.cos, a.sin, n, H, D)
	w.RoPEBackward(a.dk, a.cos, a.sin, n, G, D)
	dq, dk := a.dq[:n*qd], a.dk[:n*kvd]
	if cfg.QKNorm() {
		w.RMSNormInputGrad(a.dqPre[:n*qd], dq, la.qPre[:n*qd], lw.qNorm, la.qRstd[:n*H], n*H, D)
		w.RMSNormInputGrad(a.dkPre[:n*kvd], dk, la.kPre[:n*kvd], lw.kNorm, la.kRstd[:n*G], n*G, D)
		dq, dk = a.dqPre[:n*qd], a.dkPre[:n*kvd]
	}
	linearInputGrad(w, a.dxn[:n*C], dq, lw.q, n, C, qd, false)
	linearInputGrad(w, a.dxn[:n*C], dk, lw.k, n, C, kvd, true)
	linearInputGrad(w, a.dxn[:n*C], a.dv[:n*kvd], lw.v, n, C, kvd, true)
	w.RMSNormInputGrad(a.tmp[:n*C], a.dxn[:n*C], la.in[:n*C], lw.inNorm, la.rstd1[:n], n, C)
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
		sideBySide(kernels.AllCores, n, V, C, weights, input)
		for r, src := range srcRows {
			copy(dxf[int(src)*C:int(src+1)*C], a.dxfc[r*C:(r+1)*C])
		}
	}
}
