package engine

import (
	"math"
	"runtime"
	"sync"

	"github.com/urlvr/urlvr/engine/kernels"
)

// decoder runs the model incrementally over a key/value cache: each
// step processes a set of rows, each one token of one sequence at its own
// position, and appends their keys and values to the sequences' caches.
// Prefill is a step with every prompt token as a row; each later step has
// one row per unfinished sequence. Sequences of different lengths need no
// padding: a row attends to exactly its own sequence's cached positions.
//
// Every row is computed by the same operations whatever the other rows of
// its step: the products run on weights prepared once per Sample call
// (kernels.PackedBT, packed or viewed, whose rows are independent and the
// same bits either way) and attention reads only the row's own sequence. So results do not depend on how prompts are
// chunked, on which sequences share a step, or on how the rows are split
// between goroutines. Sample decodes groups of whole sequences that advance
// independently (see Model.groupBounds), each group's step run by one worker.
// Prompts too long to prefill that way are prefilled together, in steps
// whose rows are split into one contiguous range per worker, and each
// worker runs its range through every layer on its own: the workers meet
// only where a sequence's rows straddle two ranges (a long prompt's
// prefill), once per layer, between writing the cache and reading it.
type decoder struct {
	m      *Model
	S      int // sequences
	maxLen int // cached positions per sequence
	ld     int // key cache row: maxLen rounded up to a multiple of 16
	cap    int // rows per step

	// kc, vc are per layer. Keys are stored transposed, [S × G × D × ld]:
	// a query's scores are then one vector-matrix product over contiguous
	// rows. Values are [S × G × maxLen × D]: the attention output is the
	// weights times those rows.
	kc, vc [][]float32

	weightFloats int // the model's matrices, in floats: what one pass over the weights reads

	// Per-row inputs of the current step.
	seq, pos []int32
	tokens   []int32

	w decodeWeights

	x        []float32 // [cap × C] residual stream, updated in place
	xn       []float32 // [cap × C] RMSNorm output
	qkv      []float32 // [cap × (H+2G)·D] queries, keys, values (normed, rotated)
	attOut   []float32 // [cap × H·D]
	cos, sin []float32 // [cap × D/2] gathered by position
	ropeCos  []float32 // [maxLen × D/2]
	ropeSin  []float32
	work     []decodeScratch // per worker
	xfc      []float32       // [S × C] final-norm rows that need logits
	logits   []float32       // [S × V]
}

// decodeWeights are the model's matrices prepared for the decoder's products:
// per layer the q, k and v projections stacked (one product gives a row's
// queries, keys and values side by side) and the gate and up projections
// stacked.
type decodeWeights struct {
	layers []decodeLayer
	head   kernels.PackedBT
}

type decodeLayer struct {
	qkv, o, gateUp, down kernels.PackedBT
	qkvBias              []float32 // [(H+2G)·D]; nil without biases
}

// decodeScratch is one worker's memory.
type decodeScratch struct {
	scores []float32 // [4 × ld] the attention weights of up to four heads of one query
	q      []float32 // [4 × D] their queries scaled by 1/√D
	normed []float32 // [D] QK-norm output (nil without QK norm)
	gateUp []float32 // [mlpRows × 2F]
	act    []float32 // [mlpRows × F]

	sampler samplerScratch
}

// blockRows bounds the rows of one product: a worker runs its rows through
// the projections and the MLP in blocks of at most this many, so that the
// block's activations stay in cache while the packed weights stream past
// and the MLP's wide intermediate rows need only a block's memory.
const blockRows = 64

// prefetchPairs is how many (token, head) pairs ahead attention fetches
// the cache: far enough for the memory to answer, near enough to stay cached.
const prefetchPairs = 2

// minWorkerRows is the fewest rows worth a goroutine of their own.
const minWorkerRows = 8

// newDecoder allocates caches for S sequences of up to maxLen positions and
// working memory for steps of up to rows rows.
func newDecoder(m *Model, S, maxLen, rows int) *decoder {
	cfg := m.cfg
	C, D, V, F := cfg.HiddenSize, cfg.HeadDim, cfg.VocabSize, cfg.IntermediateSize
	H, G := cfg.NumHeads, cfg.NumKVHeads
	f := func(n int) []float32 { return make([]float32, n) }
	d := &decoder{m: m, S: S, maxLen: maxLen, ld: (maxLen + 15) &^ 15, cap: rows}
	d.kc, d.vc = make([][]float32, cfg.NumLayers), make([][]float32, cfg.NumLayers)
	for l := range d.kc {
		d.kc[l], d.vc[l] = f(S*G*D*d.ld), f(S*G*maxLen*D)
	}
	d.w.layers = make([]decodeLayer, cfg.NumLayers)
	if cfg.QKVBias() {
		for l := range d.w.layers {
			d.w.layers[l].qkvBias = f((H + 2*G) * D)
		}
	}
	d.seq, d.pos, d.tokens = make([]int32, rows), make([]int32, rows), make([]int32, rows)
	d.x, d.xn = f(rows*C), f(rows*C)
	d.qkv, d.attOut = f(rows*(H+2*G)*D), f(rows*H*D)
	d.cos, d.sin = f(rows*D/2), f(rows*D/2)
	d.ropeCos, d.ropeSin = cfg.ropeTable(maxLen)
	d.work = make([]decodeScratch, maxWorkersNow())
	mlpRows := min(rows, blockRows)
	for i := range d.work {
		ws := &d.work[i]
		ws.scores, ws.q = f(4*d.ld), f(4*D) // four heads at a time (attendFour)
		if cfg.QKNorm() {
			ws.normed = f(D)
		}
		ws.gateUp, ws.act = f(mlpRows*2*F), f(mlpRows*F)
		ws.sampler = samplerScratch{e: make([]float64, V), idx: make([]int32, V)}
	}
	d.xfc, d.logits = f(S*C), f(S*V)
	return d
}

// fits reports whether the decoder can serve S sequences of maxLen
// positions in steps of rows rows.
func (d *decoder) fits(S, maxLen, rows int) bool {
	return d.S >= S && d.maxLen >= maxLen && d.cap >= rows && len(d.work) >= maxWorkersNow()
}

// packMinRows and packMaxFloats decide when a Sample call packs the
// weights rather than viewing them (kernels.PackedBT; the results are the
// same bits either way). Packing copies every matrix once, about two passes
// over the weights. A view pays on every product: a transposed store, and
// rows of A padded to the micro-kernel's 32, so that a step of a few
// sequences computes as much as one of 32 (about two passes over the
// weights' memory time on this class of machine). Packing therefore pays
// from a few steps on, and a call views only when it runs fewer rows than
// packMinRows (prompt tokens plus every decoding step's rows) or when the
// model's matrices exceed packMaxFloats (a Hub checkpoint, whose second copy
// would cost too much memory).
const (
	packMinRows   = 64
	packMaxFloats = 1 << 26
)

// prepare packs or views the model's current weights; Sample calls it once
// per call, since the weights may change between calls (a training step)
// but not during one. rows is the number of rows the call expects to run.
func (d *decoder) prepare(rows int) {
	w := &d.m.w
	C, F := d.m.cfg.HiddenSize, d.m.cfg.IntermediateSize
	qd := d.m.cfg.NumHeads * d.m.cfg.HeadDim
	matrices := d.m.matrixFloats()
	d.weightFloats = matrices
	prep, workers := (*kernels.PackedBT).Pack, maxWorkersNow()
	if rows < packMinRows || matrices > packMaxFloats {
		// A view copies nothing, so it is not worth a goroutine.
		prep, workers = (*kernels.PackedBT).View, 1
	}
	// Each matrix is prepared on its own (a unit), so the workers share the
	// copying; a matrix's packed bits do not depend on who packs it.
	const perLayer = 4
	claimUnits(perLayer*len(w.layers)+1, workers, func(_, u int) {
		if u == perLayer*len(w.layers) {
			prep(&d.w.head, C, w.lmHead)
			return
		}
		lw, dl := &w.layers[u/perLayer], &d.w.layers[u/perLayer]
		switch u % perLayer {
		case 0:
			prep(&dl.qkv, C, lw.q, lw.k, lw.v)
			if dl.qkvBias != nil {
				copy(dl.qkvBias, lw.qBias)
				copy(dl.qkvBias[len(lw.qBias):], lw.kBias)
				copy(dl.qkvBias[len(lw.qBias)+len(lw.kBias):], lw.vBias)
			}
		case 1:
			prep(&dl.o, qd, lw.o)
		case 2:
			prep(&dl.gateUp, C, lw.gate, lw.up)
		case 3:
			prep(&dl.down, F, lw.down)
		}
	})
}

// keyAt is the offset of (sequence, key/value head)'s transposed keys
// [D × ld] in a layer's key cache.
func (d *decoder) keyAt(seq, g int) int {
	return (seq*d.m.cfg.NumKVHeads + g) * d.m.cfg.HeadDim * d.ld
}

// valueAt is the offset of (sequence, key/value head, position)'s value in
// a layer's value cache.
func (d *decoder) valueAt(seq, g, pos int) int {
	return ((seq*d.m.cfg.NumKVHeads+g)*d.maxLen + pos) * d.m.cfg.HeadDim
}

// step runs rows 0..n-1 (seq, pos, tokens set by the caller; a sequence's
// rows in ascending position) through the model, caching their keys and
// values, and writes the logits of the rows listed in want (ascending) to
// logits [len(want) × V]. Each worker then calls use(scratch, i0, i1) for
// its run of want, logits rows i0..i1, with its own sampling memory.
func (d *decoder) step(n int, want []int32, use func(s *samplerScratch, i0, i1 int)) {
	workers := min(len(d.work), runtime.GOMAXPROCS(0), max(1, n/minWorkerRows))
	bounds := make([]int, workers+1)
	shared := false // a sequence straddles two ranges
	for w := 1; w < workers; w++ {
		b := w * n / workers
		// Prefer a nearby boundary between sequences, so that the workers
		// need not meet at every layer.
		slack := n / (4 * workers)
		for off := 0; off <= slack; off++ {
			if b-off > bounds[w-1] && d.seq[b-off-1] != d.seq[b-off] {
				b -= off
				break
			}
			if b+off < n && d.seq[b+off-1] != d.seq[b+off] {
				b += off
				break
			}
		}
		bounds[w] = max(b, bounds[w-1])
		shared = shared || (bounds[w] > 0 && bounds[w] < n && d.seq[bounds[w]-1] == d.seq[bounds[w]])
	}
	bounds[workers] = n
	var bar *barrier
	if shared {
		bar = newBarrier(workers)
	}
	// want is ascending, so each range's wanted rows are a run of it.
	wantAt := func(row int) int {
		i := 0
		for i < len(want) && int(want[i]) < row {
			i++
		}
		return i
	}
	if workers == 1 {
		d.run(&d.work[0], 0, n, want, 0, len(want), bar, use)
		return
	}
	if !shared {
		d.stepClaimed(n, workers, want, wantAt, use)
		return
	}
	onWorkers(workers, func(w int) {
		lo, hi := bounds[w], bounds[w+1]
		d.run(&d.work[w], lo, hi, want, wantAt(lo), wantAt(hi), bar, use)
	})
}

// stepClaimed runs a step whose sequences need not meet (each lies within
// one chunk) as chunks of whole sequences that the workers claim one at a
// time, so that a worker slowed by a busy core leaves its share to the
// others instead of stalling the step. A row's result does not depend on
// its chunk (see decoder), so neither does the step's.
func (d *decoder) stepClaimed(n, workers int, want []int32, wantAt func(int) int, use func(*samplerScratch, int, int)) {
	chunks := workers // weights that stream from memory: one pass per worker
	if d.weightFloats <= cachedWeightFloats {
		chunks = chunksPerWorker * workers // weights in cache: chunks are cheap
	}
	size := max(minChunkRows, (n+chunks-1)/chunks)
	bounds := []int{0}
	for lo := 0; lo < n; {
		hi := min(n, lo+size)
		for hi < n && d.seq[hi-1] == d.seq[hi] { // end the chunk between sequences
			hi++
		}
		bounds = append(bounds, hi)
		lo = hi
	}
	claimUnits(len(bounds)-1, workers, func(worker, c int) {
		lo, hi := bounds[c], bounds[c+1]
		d.run(&d.work[worker], lo, hi, want, wantAt(lo), wantAt(hi), nil, use)
	})
}

// chunksPerWorker and minChunkRows size the chunks a decoding step is
// claimed in: several per worker, for balance, but not so small that the
// per-chunk overhead dominates. Each chunk makes one pass over the weights,
// which costs little while they stay in cache (up to cachedWeightFloats)
// and a full read of memory beyond; larger models therefore take one chunk
// per worker.
//
// cachedWeightFloats (8 MB) holds the lab's Countdown models (4.3 MB) and
// its widest arithmetic one (2.1 MB), whose weights stay in the L3 from one
// group's step to the next, but not the reference model (17 MB), whose
// weights do not. (Depth-first groups for the Countdown model, alternated
// with the previous bound of 1 MB, which put it in two groups: 128
// sequences of 24-token prompts 116-121 ms against 141-144 ms, of 100-token
// prompts 214-216 against 264-274, 800 of 24-token prompts 706-723 against
// 954-984; the wide model's 256 sequences 102-110 against 137-139 ms, and
// its 64 about 2% slower. For the reference model depth-first groups were
// slower; see docs/speed.md.)
const (
	chunksPerWorker    = 4
	minChunkRows       = 8
	cachedWeightFloats = 1 << 21
)

// run takes rows lo..hi through the model, writes the logits of
// want[w0:w1] (the wanted rows among them) and hands them to use.
func (d *decoder) run(ws *decodeScratch, lo, hi int, want []int32, w0, w1 int, bar *barrier, use func(*samplerScratch, int, int)) {
	m, cfg := d.m, d.m.cfg
	C, D, V := cfg.HiddenSize, cfg.HeadDim, cfg.VocabSize
	half := D / 2
	eps := float32(cfg.RMSNormEps)
	embeddingForward(d.x[lo*C:hi*C], d.tokens[lo:hi], m.w.embed, C)
	for r := lo; r < hi; r++ {
		p := int(d.pos[r])
		copy(d.cos[r*half:(r+1)*half], d.ropeCos[p*half:(p+1)*half])
		copy(d.sin[r*half:(r+1)*half], d.ropeSin[p*half:(p+1)*half])
	}
	last := len(m.w.layers) - 1
	end := hi // rows lo..end run the layer's attention and MLP
	for l := range m.w.layers {
		// Attention caches each row's key and value just before the row
		// reads its sequence's cache, whose lines (the new position's
		// among them) it has prefetched: written earlier, right after the
		// projections, the transposed key's D scattered stores wait on
		// memory. Rows whose keys other workers read (bar) or that skip
		// attention (the last layer of a prefill) cache them here.
		storeEarly := bar != nil || (l == last && w1-w0 < hi-lo)
		d.attentionInputs(ws, l, lo, hi, storeEarly)
		if bar != nil {
			bar.wait() // every row's keys and values are cached
		}
		if l == last {
			end = d.keepWanted(lo, hi, want[w0:w1])
		}
		d.attend(ws, l, lo, end, !storeEarly)
		d.attentionOutputAndMLP(ws, l, lo, end)
	}
	for i := w0; i < w1; i++ {
		r := lo + i - w0 // keepWanted moved wanted row want[i] here
		kernels.RMSNormRow(d.xfc[i*C:(i+1)*C], d.x[r*C:(r+1)*C], m.w.finalNorm, eps)
	}
	if w1 > w0 {
		d.w.head.MulBT(d.logits[w0*V:], V, d.xfc[w0*C:], C, w1-w0, false)
		use(&ws.sampler, w0, w1)
	}
}

// keepWanted prepares the last layer of a step, where only the rows whose
// logits are wanted need more than their keys and values (already cached):
// the others' attention and MLP outputs would feed nothing. In a prefill
// that is every prompt token but the last. It moves the wanted rows (want,
// ascending, within lo..hi) to rows lo, lo+1, …, in order, with the
// residual stream, queries, sequence and position that the rest of the
// layer reads, and returns the end of that run. A row's results do not
// depend on where it sits (see decoder), so neither do the logits.
func (d *decoder) keepWanted(lo, hi int, want []int32) int {
	cfg := d.m.cfg
	C := cfg.HiddenSize
	W := (cfg.NumHeads + 2*cfg.NumKVHeads) * cfg.HeadDim
	for k, w := range want {
		to, from := lo+k, int(w)
		if to == from {
			continue
		}
		copy(d.x[to*C:(to+1)*C], d.x[from*C:(from+1)*C])
		copy(d.qkv[to*W:(to+1)*W], d.qkv[from*W:(from+1)*W])
		d.seq[to], d.pos[to] = d.seq[from], d.pos[from]
	}
	return lo + len(want)
}

// attentionInputs computes rows lo..hi's queries, keys and values for
// layer l and appends the keys and values to the layer's cache:
//
//	q, k, v = projections of rmsnorm(x) (+ biases), then QK norm and rotary
//	embeddings on q and k.
//
// Without store, the keys and values stay in d.qkv for attend to cache.
func (d *decoder) attentionInputs(ws *decodeScratch, l, lo, hi int, store bool) {
	cfg := d.m.cfg
	C, D, H, G := cfg.HiddenSize, cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	W := qd + 2*kvd
	half := D / 2
	eps := float32(cfg.RMSNormEps)
	lw, dl := &d.m.w.layers[l], &d.w.layers[l]
	kc, vc := d.kc[l], d.vc[l]
	for b0 := lo; b0 < hi; b0 += blockRows {
		b1 := min(hi, b0+blockRows)
		for r := b0; r < b1; r++ {
			kernels.RMSNormRow(d.xn[r*C:(r+1)*C], d.x[r*C:(r+1)*C], lw.inNorm, eps)
		}
		dl.qkv.MulBT(d.qkv[b0*W:], W, d.xn[b0*C:], C, b1-b0, false)
	}
	for r := lo; r < hi; r++ {
		row := d.qkv[r*W : (r+1)*W]
		if dl.qkvBias != nil {
			kernels.Axpy(1, dl.qkvBias, row)
		}
		if cfg.QKNorm() {
			for h := 0; h < H+G; h++ {
				w := lw.qNorm
				if h >= H {
					w = lw.kNorm
				}
				head := row[h*D : (h+1)*D]
				kernels.RMSNormRow(ws.normed, head, w, eps)
				copy(head, ws.normed)
			}
		}
		kernels.RoPERow(row[:qd+kvd], d.cos[r*half:(r+1)*half], d.sin[r*half:(r+1)*half], H+G, D)
		if store {
			for g := 0; g < G; g++ {
				d.cacheKV(kc, vc, r, g)
			}
		}
	}
}

// cacheKV appends row r's key and value of key/value head g (in d.qkv) to
// its sequence's cache at its position.
func (d *decoder) cacheKV(kc, vc []float32, r, g int) {
	cfg := d.m.cfg
	D, H, G := cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd, kvd := H*D, G*D
	row := d.qkv[r*(qd+2*kvd):]
	s, p := int(d.seq[r]), int(d.pos[r])
	kt := kc[d.keyAt(s, g)+p:]
	for i, v := range row[qd+g*D : qd+(g+1)*D] {
		kt[i*d.ld] = v
	}
	copy(vc[d.valueAt(s, g, p):][:D], row[qd+kvd+g*D:][:D])
}

// attend computes rows lo..hi's attention outputs for layer l: each query
// head attends over its sequence's cached positions 0..pos,
//
//	out = softmax(q·Kᵀ/√D)·V,
//
// as two vector-matrix products around a softmax. With store, each row
// first caches its own keys and values (see run); a sequence's rows are in
// ascending position, so every position a row reads is cached before it.
func (d *decoder) attend(ws *decodeScratch, l, lo, hi int, store bool) {
	cfg := d.m.cfg
	D, H, G := cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads
	qd := H * D
	W := qd + 2*G*D
	rep := H / G
	scale := float32(1 / math.Sqrt(float64(D)))
	kc, vc := d.kc[l], d.vc[l]
	// Each (token, head) pair reads its own slice of the cache, once per
	// step: the products fetch the keys and values of the pair
	// prefetchPairs ahead as they go.
	for r := lo; r < hi; r++ {
		s, n := int(d.seq[r]), int(d.pos[r])+1
		h := 0
		if (D == 16 || D == 32) && attendFourHeads {
			for ; h+4 <= H; h += 4 {
				d.attendFour(ws, kc, vc, scale, lo, hi, r, h, store)
			}
		}
		for ; h < H; h++ {
			g := h / rep
			ns, ng := d.prefetchTarget(lo, hi, r, h)
			if store && h%rep == 0 {
				d.cacheKV(kc, vc, r, g)
			}
			q := ws.q[:D]
			copy(q, d.qkv[r*W+h*D:r*W+(h+1)*D])
			kernels.Scale(q, scale)
			p := ws.scores[:n]
			kernels.VecMatPrefetch(p, q, kc[d.keyAt(s, g):], d.ld, kc[d.keyAt(ns, ng):])
			kernels.SoftmaxRow(p)
			kernels.VecMatPrefetch(d.attOut[r*qd+h*D:r*qd+(h+1)*D], p, vc[d.valueAt(s, g, 0):], D, vc[d.valueAt(ns, ng, 0):])
		}
	}
}

// prefetchTarget is the (sequence, key/value head) whose cache the products
// of row r's head h fetch: that of the (token, head) pair prefetchPairs
// ahead in attend's order over rows lo..hi, or the last row's.
func (d *decoder) prefetchTarget(lo, hi, r, h int) (seq, g int) {
	H := d.m.cfg.NumHeads
	ahead := (r-lo)*H + h + prefetchPairs
	nr, nh := min(lo+ahead/H, hi-1), ahead%H
	return int(d.seq[nr]), nh / (H / d.m.cfg.NumKVHeads)
}

// attendFourHeads lets attend take heads of 16 or 32 dimensions four at a
// time (attendFour); tests turn it off to check that the bits are those of
// one head at a time.
var attendFourHeads = true

// attendFour is attend's work for row r's heads h..h+3 when heads have 16
// or 32 dimensions: the four heads' scores one after the other, then their
// softmaxes and their mixes of values each as one kernel over the four
// (kernels.SoftmaxRows4, kernels.VecMat4x16 or VecMat4x32), which run the
// heads' short chains together with each head's own operations, so the
// bits are those of one head at a time. (Heads of 32 dimensions, the
// Countdown models' 128 sequences of 100-token prompts with 64 new tokens:
// 206-229 ms against 213-236 one head at a time; of 120-token prompts with
// 16 new tokens, 135-152 against 141-157.)
func (d *decoder) attendFour(ws *decodeScratch, kc, vc []float32, scale float32, lo, hi, r, h int, store bool) {
	cfg := d.m.cfg
	D := cfg.HeadDim
	H, G := cfg.NumHeads, cfg.NumKVHeads
	W := H*D + 2*G*D
	rep := H / G
	s, n := int(d.seq[r]), int(d.pos[r])+1
	if store {
		for k := h; k < h+4; k++ {
			if k%rep == 0 {
				d.cacheKV(kc, vc, r, k/rep)
			}
		}
	}
	q := ws.q[:4*D]
	copy(q, d.qkv[r*W+h*D:r*W+(h+4)*D])
	kernels.Scale(q, scale)
	for k := range 4 {
		g := (h + k) / rep
		ns, ng := d.prefetchTarget(lo, hi, r, h+k)
		kernels.VecMatPrefetch(ws.scores[k*d.ld:k*d.ld+n], q[k*D:(k+1)*D], kc[d.keyAt(s, g):], d.ld, kc[d.keyAt(ns, ng):])
	}
	kernels.SoftmaxRows4(ws.scores, d.ld, n)
	qd := H * D
	mix := kernels.VecMat4x16
	if D == 32 {
		mix = kernels.VecMat4x32
	}
	mix(d.attOut[r*qd+h*D:r*qd+(h+4)*D], ws.scores, d.ld, n,
		vc[d.valueAt(s, h/rep, 0):], vc[d.valueAt(s, (h+1)/rep, 0):], vc[d.valueAt(s, (h+2)/rep, 0):], vc[d.valueAt(s, (h+3)/rep, 0):])
}

// attentionOutputAndMLP finishes layer l for rows lo..hi:
//
//	x += o_proj(attention),  x += down(silu(gate(y))·up(y)),  y = rmsnorm(x).
func (d *decoder) attentionOutputAndMLP(ws *decodeScratch, l, lo, hi int) {
	cfg := d.m.cfg
	C, F := cfg.HiddenSize, cfg.IntermediateSize
	qd := cfg.NumHeads * cfg.HeadDim
	eps := float32(cfg.RMSNormEps)
	lw, dl := &d.m.w.layers[l], &d.w.layers[l]
	for b0 := lo; b0 < hi; b0 += blockRows {
		b1 := min(hi, b0+blockRows)
		dl.o.MulBT(d.x[b0*C:], C, d.attOut[b0*qd:], qd, b1-b0, true)
		for r := b0; r < b1; r++ {
			x := d.x[r*C : (r+1)*C]
			if lw.oBias != nil {
				kernels.Axpy(1, lw.oBias, x)
			}
			kernels.RMSNormRow(d.xn[r*C:(r+1)*C], x, lw.postNorm, eps)
		}
		dl.gateUp.MulBT(ws.gateUp, 2*F, d.xn[b0*C:], C, b1-b0, false)
		for i := range b1 - b0 {
			gu := ws.gateUp[i*2*F : (i+1)*2*F]
			kernels.SwiGLURow(ws.act[i*F:(i+1)*F], gu[:F], gu[F:])
		}
		dl.down.MulBT(d.x[b0*C:], C, ws.act, F, b1-b0, true)
	}
}

// barrier makes a fixed number of goroutines wait for one another, any
// number of times.
type barrier struct {
	mu      sync.Mutex
	cond    sync.Cond
	n, here int
	round   int
}

func newBarrier(n int) *barrier {
	b := &barrier{n: n}
	b.cond.L = &b.mu
	return b
}

// wait returns once all n goroutines have called it in this round.
func (b *barrier) wait() {
	b.mu.Lock()
	defer b.mu.Unlock()
	round := b.round
	b.here++
	if b.here == b.n {
		b.here, b.round = 0, b.round+1
		b.cond.Broadcast()
		return
	}
	for round == b.round {
		b.cond.Wait()
	}
}

// Groups: Sample decodes its sequences in groups of whole sequences that
// advance independently. A group's step is one token of each of its
// unfinished sequences (its first step, the prefill, is every prompt token
// of its sequences), and needs nothing from any other group: a sequence's
// next token depends only on its own cache and its own generator. So the
// workers never wait for one another between steps: each claims a group
// that is not held, runs one step of it and releases it (see
// groupQueue.claim). A worker slowed by a busy core holds up only the
// group in its hands, while the other workers carry the rest forward; when
// fewer groups than workers are left, at the very end, a worker that finds
// none free takes half of the sequences of the next group released
// (groupQueue.release).
//
// A group's step passes once over the weights, whatever its rows, so
// groups cost weight traffic: with more groups than workers the load
// balances, with more rows per group the products run faster.
//
// Weights that stay in cache (up to cachedWeightFloats) make a pass cheap;
// what a step then reads from memory is its sequences' keys and values. So
// such models decode in groups that each a worker runs step after step
// until it is done (depth first), from the group's prefill on: a group's
// cache, sized by groupCacheBytes, stays near the core from one step to the
// next instead of being evicted by the other groups' caches. This holds on
// one core too, where the alternative is one group of every sequence. (The
// lab's RL step on mild, 256 rollouts on two cores: sampling took 28.4-30.0
// ms in groups of 8 or 16 sequences run depth first, against 37.7-38.0 ms in
// eight groups of 32 taken in turn; on one core, 52.5-53.1 ms against
// 70.9-71.2 in one group.)
//
// Larger models take one group per worker: their products read each weight
// panel from memory once per group step, so the step is cheapest per row
// with the most rows. A worker slowed by a busy core still holds up no one
// for long: the other runs its own group ahead and, once that is done, takes
// half of the slow one's unfinished sequences. (On the reference
// generation, 64 sequences of the 4.2M-parameter model on two cores, two
// groups of 32 gave 30.4-31.0k tokens/s against 28.2k for three groups of
// 20-22; with two busy loops beside it, 13.7-15.2k against 13.3-13.8k.)
func (m *Model) groupBounds(S, maxLen, workers int) []int {
	groups := 1
	switch {
	case decodeGroups > 0:
		groups = decodeGroups
	case m.decodesDepthFirst():
		rows := m.groupRows(maxLen)
		groups = (S + rows - 1) / rows
	case workers <= 1:
	default:
		groups = workers
	}
	size := max(minChunkRows, (S+groups-1)/groups)
	if decodeGroups > 0 {
		size = (S + groups - 1) / groups
	}
	bounds := []int{0}
	for lo := 0; lo < S; lo += size {
		bounds = append(bounds, min(S, lo+size))
	}
	return bounds
}

// decodesDepthFirst reports whether the model's weights stay in cache, so
// that Sample runs small groups depth first (see groupBounds).
func (m *Model) decodesDepthFirst() bool { return m.matrixFloats() <= cachedWeightFloats }

// matrixFloats is the size of the model's matrices in floats: what one pass
// over the weights reads.
func (m *Model) matrixFloats() int {
	n := len(m.w.lmHead)
	for _, lw := range m.w.layers {
		n += len(lw.q) + len(lw.k) + len(lw.v) + len(lw.o) + len(lw.gate) + len(lw.up) + len(lw.down)
	}
	return n
}

// groupRows is how many sequences of up to maxLen positions hold at most
// groupCacheBytes of keys and values (at least minChunkRows).
func (m *Model) groupRows(maxLen int) int {
	cfg := m.cfg
	perSeq := cfg.NumLayers * 2 * cfg.NumKVHeads * cfg.HeadDim * max(maxLen, 1) * 4
	return max(minChunkRows, groupCacheBytes/perSeq)
}

// groupCacheBytes bounds the keys and values of a group decoded depth
// first. Groups whose caches fit the L2 (1 MB: about 17 of the lab's
// sequences) were the fastest while every prompt was prefilled before any
// group decoded, the caches then all written beforehand; since each group
// prefills its own, the caches of groups of four times as many sequences
// stay in the L3, and their steps' products have four times the rows. (On
// a 1 MB-L2 host, alternated: the main job's sampling took 26.3-27.0 ms
// against 27.5-28.6 with 1 MB; 1,600 validation-sized samples 205-216 ms
// against 227-234; 2 MB and 8 MB were within the noise of 4 MB, 16 MB, two
// groups of the lab's 256 rollouts, slower.)
const groupCacheBytes = 4 << 20

// decodeGroups, when positive, fixes the number of groups (tests check that
// it never changes a result).
var decodeGroups = 0

// groupQueue hands out the steps of independent groups, each a range of
// sequences whose steps 0, 1, 2, … must run in order, to workers: a free
// worker takes a group that no one holds, with the fewest steps done among
// its own groups unless another is further behind (see claim). Groups may
// run any number of steps ahead of others, so a worker waits only when every
// unfinished group is held, near the end.
//
// A worker that would wait does not wait long: the group held next to be
// released is divided, its sequences split between two groups at the same
// step (see release), and the waiting worker takes the second. So the last
// steps of a run are shared between the cores too, instead of being left to
// whichever worker holds the last group. (Two workers with equal shares
// need not finish together: on the reference generation, one finished its
// group 20-45 ms before the other, in runs of 150-190 ms, while the cores'
// FMA loops ran at the same speed.)
type groupQueue struct {
	mu      sync.Mutex
	freed   sync.Cond
	next    []int  // each group's next step; -1 once it has none
	held    []bool // a worker is running the group's step
	lo, hi  []int  // each group's sequences lo..hi
	limit   int    // steps from limit on are not run (see stopAt)
	waiting int    // workers waiting for a group
	// depthFirst: a worker runs the group it ran last until that group is
	// done (see claim); last is that group per worker, -1 for none.
	depthFirst bool
	last       []int
	// divide, if set, chooses where to split the sequences lo..hi of a
	// group (lo < m < hi), or reports that they are too few to be worth two
	// groups.
	divide func(lo, hi int) (m int, ok bool)
}

// newGroupQueue makes a queue of the groups of sequences bounds[g] ..
// bounds[g+1], whose first step is first, taken depth first or not (see
// claim).
func newGroupQueue(bounds []int, first int, depthFirst bool) *groupQueue {
	groups := len(bounds) - 1
	q := &groupQueue{next: make([]int, groups), held: make([]bool, groups), limit: math.MaxInt, depthFirst: depthFirst}
	q.freed.L = &q.mu
	for g := range q.next {
		q.next[g] = first
	}
	q.lo, q.hi = append([]int(nil), bounds[:groups]...), append([]int(nil), bounds[1:]...)
	return q
}

// stopAt keeps every group from running step k or any later one; steps
// before k still run. A step that must not be followed (an error) calls
// stopAt(k+1) from within step k.
func (q *groupQueue) stopAt(k int) {
	q.mu.Lock()
	q.limit = min(q.limit, k)
	q.mu.Unlock()
}

// claim returns the group worker w (of workers) should take, or -1; when
// it returns -1, wait reports whether a group may yet become available (one
// is held). A worker keeps to its own groups (g ≡ w mod workers), so that
// their rows' activations and freshly written keys and values stay in its
// core's cache rather than move between cores at every step.
//
// Breadth first, it takes its own group furthest behind, or the group
// furthest behind overall when that one is more than affinityLag steps
// behind its own (a worker slowed by a busy core, or one whose groups have
// finished). Depth first, it goes on with the group it ran last, else takes
// its own group furthest ahead, else the others' group furthest behind
// (one not yet started, whose cache is cold anyway, before one under way).
func (q *groupQueue) claim(w, workers int) (g int, wait bool) {
	g, own := -1, -1
	for i, k := range q.next {
		if k < 0 || k >= q.limit {
			continue
		}
		if q.held[i] {
			wait = true
			continue
		}
		if i%workers == w {
			if own < 0 || (q.depthFirst && k > q.next[own]) || (!q.depthFirst && k < q.next[own]) {
				own = i
			}
			if q.depthFirst {
				continue // depth first, g is among the others' groups only
			}
		}
		if g < 0 || k < q.next[g] {
			g = i
		}
	}
	if q.depthFirst {
		if w < len(q.last) {
			if l := q.last[w]; l >= 0 && q.next[l] >= 0 && q.next[l] < q.limit && !q.held[l] {
				return l, wait
			}
		}
		if own >= 0 {
			return own, wait
		}
		return g, wait
	}
	if own >= 0 && q.next[own]-q.next[g] <= affinityLag {
		return own, wait
	}
	return g, wait
}

// release hands back group g after its step k, which said whether the group
// has a next step. With a worker waiting, a group with a next step is first
// divided: its sequences from the divide point on become a new group at the
// same step, which the waiting worker takes (the releasing worker claims one
// of the two next, so only one of them is left unheld). The sequences of a
// group never depend on one another (see decoder), so neither does any
// result on where a group is divided.
func (q *groupQueue) release(g, k int, more bool) {
	q.held[g] = false
	if !more {
		q.next[g] = -1
	} else {
		q.next[g] = k + 1
		if (q.waiting > 0 || divideAlways) && q.divide != nil && k+1 < q.limit {
			if m, ok := q.divide(q.lo[g], q.hi[g]); ok {
				q.next, q.held = append(q.next, k+1), append(q.held, false)
				q.lo, q.hi = append(q.lo, m), append(q.hi, q.hi[g])
				q.hi[g] = m
			}
		}
	}
	if q.waiting > 0 {
		q.freed.Broadcast()
	}
}

// divideMinRows is the fewest unfinished sequences each part of a divided
// group keeps (see groupQueue.release): the rows of one step. (A variable so
// that tests can divide small groups.)
var divideMinRows = minChunkRows

// divideAlways makes release divide every group it can, whether or not a
// worker waits (tests check that no division changes a result).
var divideAlways = false

// affinityLag is how many steps a worker's own groups may run ahead of the
// group furthest behind before the worker takes that one instead.
const affinityLag = 1

// run calls step(worker, group, k, lo, hi) for every step k of every group,
// whose sequences are then lo..hi, on at most workers goroutines, worker
// numbering the goroutine from 0; step returns whether the group has a next
// step. It returns when no group has a step left to run.
func (q *groupQueue) run(workers int, step func(worker, group, k, lo, hi int) bool) {
	q.last = make([]int, workers)
	for w := range q.last {
		q.last[w] = -1
	}
	work := func(w int) {
		q.mu.Lock()
		defer q.mu.Unlock()
		for {
			g, wait := q.claim(w, workers)
			if g < 0 {
				if !wait {
					return
				}
				q.waiting++
				q.freed.Wait()
				q.waiting--
				continue
			}
			k, lo, hi := q.next[g], q.lo[g], q.hi[g]
			q.held[g] = true
			q.last[w] = g
			q.mu.Unlock()
			more := step(w, g, k, lo, hi)
			// A worker runs for the whole call: yielding between steps
			// spares it the runtime's forced preemption (every 10ms, in
			// the middle of a kernel), which costs more.
			runtime.Gosched()
			q.mu.Lock()
			q.release(g, k, more)
		}
	}
	onWorkers(workers, work)
}
