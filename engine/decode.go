package engine

import (
	"math"

	"github.com/urlvr/urlvr/engine/kernels"
)

// decoder runs the model incrementally over a key/value cache: each call to
// step processes a set of rows, each one token of one sequence at its own
// position, and appends their keys and values to the sequences' caches.
// Prefill is a step with every prompt token as a row; each later step has
// one row per unfinished sequence. Sequences of different lengths need no
// padding: a row attends to exactly its own sequence's cached positions.
type decoder struct {
	m      *Model
	S      int // sequences
	maxLen int // cached positions per sequence
	cap    int // rows per step

	// kc, vc are per layer [S × G × maxLen × D]: each (sequence, key/value
	// head) pair's positions are contiguous, so attention streams them.
	kc, vc [][]float32

	// Per-row inputs of the current step.
	seq, pos []int32
	tokens   []int32

	x          []float32        // [cap × C] residual stream, updated in place
	acts       layerActs        // one layer's buffers, shared by all layers
	rows       int              // rows in the current step
	layer      int              // the layer being run
	attendFn   func(*layerActs) // d.attend, bound once
	cos, sin   []float32        // [cap × D/2] gathered by position
	ropeCos    []float32        // [maxLen × D/2]
	ropeSin    []float32
	attScratch []float32 // [workers × maxLen]
	xfc        []float32 // [S × C] final-norm rows that need logits
	rstdF      []float32 // [S]
	logits     []float32 // [S × V]
}

// newDecoder allocates caches for S sequences of up to maxLen positions and
// working memory for steps of up to rows rows.
func newDecoder(m *Model, S, maxLen, rows int) *decoder {
	cfg := m.cfg
	C, D, V := cfg.HiddenSize, cfg.HeadDim, cfg.VocabSize
	kvd := cfg.NumKVHeads * D
	f := func(n int) []float32 { return make([]float32, n) }
	d := &decoder{m: m, S: S, maxLen: maxLen, cap: rows}
	d.kc, d.vc = make([][]float32, cfg.NumLayers), make([][]float32, cfg.NumLayers)
	for l := range d.kc {
		d.kc[l], d.vc[l] = f(S*maxLen*kvd), f(S*maxLen*kvd)
	}
	d.seq, d.pos, d.tokens = make([]int32, rows), make([]int32, rows), make([]int32, rows)
	d.x = f(rows * C)
	d.acts = newLayerActs(cfg, rows, d.x, d.x, 0)
	d.attendFn = d.attend
	d.cos, d.sin = f(rows*D/2), f(rows*D/2)
	d.ropeCos, d.ropeSin = cfg.ropeTable(maxLen)
	d.attScratch = f(maxWorkersNow() * maxLen)
	d.xfc, d.rstdF, d.logits = f(S*C), f(S), f(S*V)
	return d
}

// step runs rows 0..n-1 (seq, pos, tokens set by the caller) through the
// model, caching their keys and values, and writes the logits of the rows
// listed in want (in that order) to logits [len(want) × V].
func (d *decoder) step(n int, want []int32) {
	m, cfg := d.m, d.m.cfg
	C, D, V := cfg.HiddenSize, cfg.HeadDim, cfg.VocabSize
	half := D / 2
	d.rows = n

	embeddingForward(d.x[:n*C], d.tokens[:n], m.w.embed, C)
	for r := 0; r < n; r++ {
		p := int(d.pos[r])
		copy(d.cos[r*half:(r+1)*half], d.ropeCos[p*half:(p+1)*half])
		copy(d.sin[r*half:(r+1)*half], d.ropeSin[p*half:(p+1)*half])
	}
	for l := range m.w.layers {
		d.layer = l
		layerForward(cfg, &m.w.layers[l], &d.acts, d.x[:n*C], n, d.cos, d.sin, d.attendFn)
	}
	if len(want) == 0 {
		return
	}
	w := len(want)
	gathered := d.acts.xn1 // free after the last layer
	for i, r := range want {
		copy(gathered[i*C:(i+1)*C], d.x[int(r)*C:int(r+1)*C])
	}
	kernels.RMSNorm(d.xfc, d.rstdF, gathered[:w*C], m.w.finalNorm, w, C, float32(cfg.RMSNormEps))
	kernels.MatMulBT(d.logits[:w*V], d.xfc[:w*C], m.w.lmHead, w, C, V, false)
}

// cacheAt is the offset of (sequence, key/value head, position) in a layer's cache.
func (d *decoder) cacheAt(seq, g, pos int) int {
	return ((seq*d.m.cfg.NumKVHeads+g)*d.maxLen + pos) * d.m.cfg.HeadDim
}

// fits reports whether the decoder can serve S sequences of maxLen
// positions in steps of rows rows.
func (d *decoder) fits(S, maxLen, rows int) bool {
	return d.S >= S && d.maxLen >= maxLen && d.cap >= rows && len(d.attScratch) >= maxWorkersNow()*d.maxLen
}

// attend appends the current step's keys and values (la.k, la.v) to the
// current layer's caches, then computes la.attOut: each (row, head) pair
// attends over its sequence's cached positions 0..pos.
func (d *decoder) attend(la *layerActs) {
	cfg := d.m.cfg
	H, G, D := cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim
	qd, kvd := H*D, G*D
	rep := H / G
	scale := float32(1 / math.Sqrt(float64(D)))
	kc, vc := d.kc[d.layer], d.vc[d.layer]
	n := d.rows
	for r := 0; r < n; r++ {
		for g := 0; g < G; g++ {
			at := d.cacheAt(int(d.seq[r]), g, int(d.pos[r]))
			copy(kc[at:at+D], la.k[r*kvd+g*D:][:D])
			copy(vc[at:at+D], la.v[r*kvd+g*D:][:D])
		}
	}
	parallelFor(n*H, len(d.attScratch)/d.maxLen, func(worker, lo, hi int) {
		sc := d.attScratch[worker*d.maxLen:][:d.maxLen]
		for unit := lo; unit < hi; unit++ {
			r, h := unit/H, unit%H
			g := h / rep
			base := d.cacheAt(int(d.seq[r]), g, 0)
			p := sc[:d.pos[r]+1]
			qrow := la.q[r*qd+h*D:][:D]
			for j := range p {
				p[j] = scale * kernels.Dot(qrow, kc[base+j*D:][:D])
			}
			softmaxInPlace(p)
			out := la.attOut[r*qd+h*D:][:D]
			clear(out)
			for j := range p {
				kernels.Axpy(p[j], vc[base+j*D:][:D], out)
			}
		}
	})
}
