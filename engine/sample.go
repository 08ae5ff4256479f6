package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/urlvr/urlvr/engine/kernels"
)

// SampleOptions configure Sample.
type SampleOptions struct {
	// MaxNewTokens bounds the tokens generated per sequence (required).
	MaxNewTokens int
	// Temperature divides the logits before sampling; 0 is greedy decoding
	// (the most likely token, ties to the lowest ID), whose statistics are
	// then reported at temperature 1.
	Temperature float64
	// TopK keeps only the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches TopP, after TopK (0 or 1: all).
	TopP float64
	// StopTokens end a sequence; the stop token is kept as its last token.
	StopTokens []int
	// Seed determines every draw: sequence i uses its own generator derived
	// from (Seed, i), so results do not depend on thread count or on which
	// sequences finish first.
	Seed uint64
}

// Finish reasons of a Generation.
const (
	FinishStop   = "stop"   // a stop token was generated
	FinishLength = "length" // MaxNewTokens or the model's context was reached
)

// Generation is one sampled continuation with per-token statistics. Every
// statistic is computed from the full temperature-scaled distribution
// π = softmax(z), z = logits/T, before any top-k/top-p filtering, so the
// log-probs are those the training forward recomputes at the same temperature.
type Generation struct {
	Tokens []int `json:"tokens"` // generated tokens, the stop token included
	// LogProbs[i] = log π(Tokens[i]).
	LogProbs []float32 `json:"logprobs"`
	// Entropies[i] = H(π) = −Σ π log π.
	Entropies []float32 `json:"entropies"`
	// SelfCertainty[i] = logsumexp(z) − mean(z) = KL(U‖π) + log V, the
	// per-token self-certainty term without its constant log V.
	SelfCertainty []float32 `json:"self_certainty"`
	// TopGaps[i] = π(top-1 token) − π(top-2 token).
	TopGaps []float32 `json:"top_gaps"`
	// FinishReason is FinishStop or FinishLength.
	FinishReason string `json:"finish_reason"`
}

// prefillRows bounds the rows of one prefill step: a group whose prompts
// are longer has them prefilled with every other group's first, in chunks of
// about this many rows (see groupRegion). (A variable so that tests can
// force chunking.)
var prefillRows = 2048

// Sample generates a continuation of each prompt (token IDs; prompts may
// differ in length) with a key/value cache, all prompts as one batch. The
// same prompts, options and model always give the same generations, for any
// GOMAXPROCS.
func (m *Model) Sample(ctx context.Context, prompts [][]int, o SampleOptions) ([]Generation, error) {
	if err := m.checkSampleOptions(o); err != nil {
		return nil, err
	}
	if len(prompts) == 0 {
		return nil, nil
	}
	V, maxPos := m.cfg.VocabSize, m.cfg.MaxPositions
	maxLen, total, err := m.checkPrompts(prompts, o.MaxNewTokens)
	if err != nil {
		return nil, err
	}
	S := len(prompts)
	// The groups of sequences that decode independently (see
	// Model.groupBounds), and the decoder's rows each worker runs their
	// steps in (see groupRegion).
	workers := maxWorkersNow()
	bounds := m.groupBounds(S, maxLen, workers)
	region, prefillTogether := groupRegion(prompts, bounds, workers*m.decodeRowBytes())
	rows := workers * region
	if prefillTogether {
		rows = max(rows, min(total, prefillRows))
	}
	d := m.getDecoder(S, maxLen, rows)
	defer m.decoders.put(d)
	d.prepare(total + S*o.MaxNewTokens)
	stops := make(map[int]bool, len(o.StopTokens))
	for _, t := range o.StopTokens {
		stops[t] = true
	}
	gens := make([]Generation, S)
	rngs := make([]*rand.Rand, S)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewPCG(streamSeeds(o.Seed, uint64(i))))
		k := min(o.MaxNewTokens, maxPos-len(prompts[i]))
		gens[i] = Generation{
			Tokens: make([]int, 0, k), LogProbs: make([]float32, 0, k), Entropies: make([]float32, 0, k),
			SelfCertainty: make([]float32, 0, k), TopGaps: make([]float32, 0, k),
		}
	}
	greedy := o.Temperature == 0
	invTemp := 1.0
	if !greedy {
		invTemp = 1 / o.Temperature
	}
	// choose samples the next token of each sequence seqs[i], i in lo..hi,
	// from logits row i and records it. The decoder's workers call it for
	// their own rows as soon as their logits are ready: sequences are
	// independent, each with its own generator. A sequence whose logits are
	// not finite (a diverged model) is marked in bad.
	bad := make([]bool, S)
	seqs := make([]int32, S) // the sequence of each wanted row, by logits row
	choose := func(scratch *samplerScratch, lo, hi int) {
		for i := lo; i < hi; i++ {
			s := seqs[i]
			var u float64
			if !greedy {
				u = rngs[s].Float64()
			}
			tok, st := sampleToken(d.logits[i*V:(i+1)*V], invTemp, greedy, o.TopK, o.TopP, u, scratch)
			g := &gens[s]
			if math.IsNaN(st.logp) || math.IsInf(st.logp, 0) {
				bad[s] = true
				g.FinishReason = FinishLength
				continue
			}
			g.Tokens = append(g.Tokens, tok)
			g.LogProbs = append(g.LogProbs, float32(st.logp))
			g.Entropies = append(g.Entropies, float32(st.entropy))
			g.SelfCertainty = append(g.SelfCertainty, float32(st.selfCertainty))
			g.TopGaps = append(g.TopGaps, float32(st.topGap))
			switch {
			case stops[tok]:
				g.FinishReason = FinishStop
			case len(g.Tokens) == o.MaxNewTokens || len(prompts[s])+len(g.Tokens) >= maxPos:
				g.FinishReason = FinishLength
			}
		}
	}

	// Prompts too long for a group to prefill as one step are prefilled
	// first, all together, in chunks of at most d.cap rows; the last row of
	// each prompt gives the logits of its first new token, consumed before
	// the next chunk reuses the logits buffer. Otherwise each group of
	// sequences prefills its own prompts as its first step.
	want := make([]int32, S) // the rows whose logits are wanted, by logits row
	if prefillTogether {
		rows, n := want[:0], 0
		flush := func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			d.step(n, rows, choose)
			n, rows = 0, rows[:0]
			for i, b := range bad {
				if b {
					return nonFiniteLogits(i, len(gens[i].Tokens))
				}
			}
			return nil
		}
		for i, p := range prompts {
			for t, tok := range p {
				if n == d.cap {
					if err := flush(); err != nil {
						return nil, err
					}
				}
				d.seq[n], d.pos[n], d.tokens[n] = int32(i), int32(t), int32(tok)
				if t == len(p)-1 {
					seqs[len(rows)] = int32(i)
					rows = append(rows, int32(n))
				}
				n++
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}

	// Decode by groups of sequences, each step of a group one row per
	// unfinished sequence, feeding its last token (its first step, unless
	// the prompts were prefilled together, its prompts' tokens). A worker
	// runs a step in its own rows, region of them from worker·region: a
	// worker runs one step at a time, so a group divided at the end of a
	// step (see groupQueue.release) needs no rows of its own either.
	groups := len(bounds) - 1
	first := 0
	if prefillTogether {
		first = 1
	}
	q := newGroupQueue(bounds, first, m.decodesDepthFirst() && groups > workers)
	// A group is divided between its unfinished sequences, half of them to
	// each part.
	q.divide = func(a, b int) (int, bool) {
		unfinished := 0
		for i := a; i < b; i++ {
			if gens[i].FinishReason == "" {
				unfinished++
			}
		}
		if unfinished < 2*divideMinRows {
			return 0, false
		}
		for i, k := a, 0; ; i++ {
			if gens[i].FinishReason == "" {
				if k++; k == unfinished/2 {
					return i + 1, true
				}
			}
		}
	}
	var errMu sync.Mutex
	var ctxErr error
	badStep := math.MaxInt // the first step at which a sequence's logits were not finite
	q.run(min(workers, groups), func(worker, _, k, a, b int) bool {
		if err := ctx.Err(); err != nil {
			errMu.Lock()
			ctxErr = err
			errMu.Unlock()
			q.stopAt(0)
			return false
		}
		lo := worker * region
		n, w := lo, a
		for i := a; i < b; i++ {
			gen := &gens[i]
			if k == 0 { // prefill
				for t, tok := range prompts[i] {
					d.seq[n], d.pos[n], d.tokens[n] = int32(i), int32(t), int32(tok)
					n++
				}
			} else {
				if gen.FinishReason != "" {
					continue
				}
				d.seq[n], d.pos[n], d.tokens[n] = int32(i), int32(len(prompts[i])+len(gen.Tokens)-1), int32(gen.Tokens[len(gen.Tokens)-1])
				n++
			}
			want[w], seqs[w] = int32(n-1), int32(i)
			w++
		}
		if n == lo {
			return false
		}
		d.run(&d.work[worker], lo, n, want, a, w, nil, choose)
		more := false
		for i := a; i < b; i++ {
			if bad[i] {
				// Steps after k cannot change which sequence is reported:
				// the earliest step's lowest sequence.
				errMu.Lock()
				badStep = min(badStep, k)
				errMu.Unlock()
				q.stopAt(k + 1)
				return false
			}
			more = more || gens[i].FinishReason == ""
		}
		return more
	})
	if ctxErr != nil {
		return nil, ctxErr
	}
	if badStep < math.MaxInt {
		for i, b := range bad {
			if b && len(gens[i].Tokens) == badStep {
				return nil, nonFiniteLogits(i, badStep)
			}
		}
	}
	return gens, nil
}

// groupRegion is how many of the decoder's rows each worker needs to run
// the steps of the groups of sequences bounds[g]..bounds[g+1]: the prompt
// tokens of the largest group, which it prefills as its first step, so that
// the group's keys and values are written by the worker that goes on to
// read them, just before it does. rowBytes is the memory of one row on
// every worker. Where one group's prompts exceed prefillRows, or the rows
// would take more than regionBytes, the prompts are prefilled together
// instead (together), and a worker's rows need hold one per sequence of
// the largest group.
func groupRegion(prompts [][]int, bounds []int, rowBytes int) (rows int, together bool) {
	for g := range len(bounds) - 1 {
		tokens := 0
		for _, p := range prompts[bounds[g]:bounds[g+1]] {
			tokens += len(p)
		}
		rows = max(rows, tokens)
	}
	if rows <= prefillRows && rows*rowBytes <= regionBytes {
		return rows, false
	}
	rows = 0
	for g := range len(bounds) - 1 {
		rows = max(rows, bounds[g+1]-bounds[g])
	}
	return rows, true
}

// regionBytes bounds the decoder's rows when every group prefills its own
// prompts. A small model's rows are small (1.6 KB for the lab's), but a
// large one's breadth-first groups of long prompts on many cores would
// otherwise hold the activations of every prompt token at once, where
// prefilling them together in chunks holds prefillRows.
const regionBytes = 32 << 20

// decodeRowBytes is the decoder's memory for one row: its residual stream
// and norm, queries, keys and values, attention output and rotary angles.
func (m *Model) decodeRowBytes() int {
	cfg := m.cfg
	C, D := cfg.HiddenSize, cfg.HeadDim
	qd, kvd := cfg.NumHeads*D, cfg.NumKVHeads*D
	return 4 * (2*C + qd + 2*kvd + qd + D)
}

// getDecoder returns the kept decoder if it is big enough for the call, or a
// new one: repeated sampling of same-sized batches reuses one key/value cache.
func (m *Model) getDecoder(S, maxLen, rows int) *decoder {
	if d, ok := m.decoders.take(); ok && d.fits(S, maxLen, rows) {
		return d
	}
	return newDecoder(m, S, maxLen, rows)
}

// streamSeeds derives the two PCG seeds of stream i of a seed with the
// SplitMix64 finaliser, so that neighbouring streams are unrelated.
func streamSeeds(seed, i uint64) (uint64, uint64) {
	a := splitMix64(seed ^ splitMix64(i+0x9e3779b97f4a7c15))
	return a, splitMix64(a)
}

func splitMix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// checkPrompts validates the prompts and returns the key/value cache length
// they need and their total token count.
func (m *Model) checkPrompts(prompts [][]int, maxNew int) (maxLen, total int, err error) {
	V, maxPos := m.cfg.VocabSize, m.cfg.MaxPositions
	for i, p := range prompts {
		if len(p) == 0 {
			return 0, 0, fmt.Errorf("prompt %d is empty", i)
		}
		if len(p) >= maxPos {
			return 0, 0, fmt.Errorf("prompt %d has %d tokens: the model's context of %d leaves no room to generate", i, len(p), maxPos)
		}
		for t, tok := range p {
			if tok < 0 || tok >= V {
				return 0, 0, fmt.Errorf("prompt %d token %d is %d: outside the vocabulary of %d", i, t, tok, V)
			}
		}
		// The last generated token is never fed back, so the cache holds
		// the prompt and all but one of the new tokens, and never reaches
		// the context's last position.
		maxLen = max(maxLen, min(len(p)+maxNew-1, maxPos-1))
		total += len(p)
	}
	return maxLen, total, nil
}

func (m *Model) checkSampleOptions(o SampleOptions) error {
	switch {
	case o.MaxNewTokens <= 0:
		return fmt.Errorf("max new tokens %d: must be positive", o.MaxNewTokens)
	case !(o.Temperature >= 0) || math.IsInf(o.Temperature, 0):
		return fmt.Errorf("temperature %v: must be non-negative and finite", o.Temperature)
	case o.TopK < 0:
		return fmt.Errorf("top-k %d: must be non-negative", o.TopK)
	case !(o.TopP >= 0 && o.TopP <= 1):
		return fmt.Errorf("top-p %v: must be in [0, 1]", o.TopP)
	}
	for _, t := range o.StopTokens {
		if t < 0 || t >= m.cfg.VocabSize {
			return fmt.Errorf("stop token %d: outside the vocabulary of %d", t, m.cfg.VocabSize)
		}
	}
	return nil
}

// samplerScratch is one worker's memory for choosing a token.
type samplerScratch struct {
	e   []float64 // exp(z − max z)
	arg []float64 // z − max z, sized on first use
	idx []int32   // candidate token IDs
}

// tokenStats are the statistics of one sampled token.
type tokenStats struct {
	logp, entropy, selfCertainty, topGap float64
}

// sampleToken chooses a token from raw logits and computes its statistics
// under softmax(logits·invTemp). u is the uniform draw in [0, 1) (ignored
// when greedy).
func sampleToken(logits []float32, invTemp float64, greedy bool, topK int, topP float64, u float64, s *samplerScratch) (int, tokenStats) {
	V := len(logits)
	mx := math.Inf(-1)
	var sumZ float64
	for _, l := range logits {
		z := float64(l) * invTemp
		mx = max(mx, z)
		sumZ += z
	}
	var sum, sumEZ float64
	first, second := -1, -1 // indices of the two largest, ties to the lower ID
	e := s.e[:V]
	if cap(s.arg) < V {
		s.arg = make([]float64, V)
	}
	arg := s.arg[:V]
	for j, l := range logits {
		z := float64(l) * invTemp
		arg[j] = z - mx
	}
	kernels.ExpF64(e, arg) // math.Exp's bits, eight at a time
	for j, l := range logits {
		z := float64(l) * invTemp
		sum += e[j]
		sumEZ += e[j] * z
		switch {
		case first < 0 || e[j] > e[first]:
			first, second = j, first
		case second < 0 || e[j] > e[second]:
			second = j
		}
	}
	lse := mx + math.Log(sum)
	st := tokenStats{entropy: lse - sumEZ/sum, selfCertainty: lse - sumZ/float64(V)}
	if second >= 0 {
		st.topGap = (e[first] - e[second]) / sum
	} else {
		st.topGap = 1
	}

	tok := first
	if !greedy {
		tok = drawToken(e, sum, topK, topP, u, s.idx[:V])
	}
	st.logp = float64(logits[tok])*invTemp - lse
	return tok, st
}

// drawToken draws from the distribution proportional to e (total sum),
// restricted to the top-k and then top-p tokens when those are set. Kept
// tokens are taken most likely first (ties to the lower ID) from a heap, so
// only they are put in order, never the whole vocabulary. Top-p keeps tokens
// while the probability before them is below TopP (of the top-k mass when
// top-k is set, of sum otherwise).
func drawToken(e []float64, sum float64, topK int, topP float64, u float64, idx []int32) int {
	V := len(e)
	limitK := topK > 0 && topK < V
	limitP := topP > 0 && topP < 1
	if !limitK && !limitP {
		target := u * sum
		var acc float64
		last := 0
		for j, w := range e {
			if w == 0 {
				continue
			}
			acc += w
			last = j
			if acc > target {
				return j
			}
		}
		return last // rounding left target at the very end
	}
	h := tokenHeap{e: e, idx: idx[:V]}
	h.init()
	// Popped tokens collect at the end of idx, the first popped last:
	// kept(i) is the i-th most likely.
	kept := func(i int) int32 { return idx[V-1-i] }
	n := 0 // tokens kept
	if limitK {
		for n < topK {
			h.pop()
			n++
		}
	}
	if limitP {
		threshold := topP * sum
		if limitK {
			var keptSum float64
			for i := range n {
				keptSum += e[kept(i)]
			}
			threshold = topP * keptSum
		}
		candidates := V
		if limitK {
			candidates = n
		}
		var acc float64
		i := 0
		for ; i < candidates && acc < threshold; i++ {
			if i == n {
				h.pop()
				n++
			}
			acc += e[kept(i)]
		}
		n = i
	}
	var keptSum float64
	for i := range n {
		keptSum += e[kept(i)]
	}
	target := u * keptSum
	var acc float64
	for i := range n {
		acc += e[kept(i)]
		if acc > target {
			return int(kept(i))
		}
	}
	return int(kept(n - 1))
}

// tokenHeap is a binary max-heap of token IDs ordered by e (descending,
// ties to the lower ID) in idx[:size]; pop moves the top to idx[size-1].
type tokenHeap struct {
	e    []float64
	idx  []int32
	size int
}

// before reports whether token a comes before token b.
func (h *tokenHeap) before(a, b int32) bool {
	if h.e[a] != h.e[b] {
		return h.e[a] > h.e[b]
	}
	return a < b
}

func (h *tokenHeap) init() {
	for j := range h.idx {
		h.idx[j] = int32(j)
	}
	h.size = len(h.idx)
	for i := h.size/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *tokenHeap) pop() {
	h.size--
	h.idx[0], h.idx[h.size] = h.idx[h.size], h.idx[0]
	h.down(0)
}

func (h *tokenHeap) down(i int) {
	for {
		c := 2*i + 1
		if c >= h.size {
			return
		}
		if c+1 < h.size && h.before(h.idx[c+1], h.idx[c]) {
			c++
		}
		if !h.before(h.idx[c], h.idx[i]) {
			return
		}
		h.idx[i], h.idx[c] = h.idx[c], h.idx[i]
		i = c
	}
}

// nonFiniteLogits reports the first sequence and token whose logits were
// not finite (a diverged model).
func nonFiniteLogits(seq, token int) error {
	return fmt.Errorf("sequence %d, token %d: the model's logits are not finite", seq, token)
}
