package engine

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// midConfig is big enough for the decoder's vector paths: 64-wide heads
// (full vector blocks in attention), grouped-query heads, an MLP width that
// is not a multiple of the packed panels, and contexts past one vector.
func midConfig(kind string) Config {
	c := Config{
		ModelType: "llama", VocabSize: 37, HiddenSize: 96, IntermediateSize: 200,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 64, MaxPositions: 96,
		RMSNormEps: 1e-5, RopeTheta: 10000, TieWordEmbeddings: true, BOSTokenID: -1,
	}
	switch kind {
	case "llama":
	case "qwen2": // q/k/v biases, untied head
		c.ModelType, c.TieWordEmbeddings = "qwen2", false
	case "qwen3": // QK norm
		c.ModelType = "qwen3"
	case "heads16": // heads of 16, decoded four at a time (attendFour)
		c.NumHeads, c.NumKVHeads, c.HeadDim = 8, 8, 16
	case "gqa16": // heads of 16 sharing key/value heads; four together, then two alone
		c.NumHeads, c.NumKVHeads, c.HeadDim = 6, 3, 16
	case "heads32": // heads of 32, decoded four at a time (attendFour)
		c.NumHeads, c.NumKVHeads, c.HeadDim = 4, 4, 32
	case "gqa32": // heads of 32 sharing key/value heads; four together, then two alone
		c.NumHeads, c.NumKVHeads, c.HeadDim = 6, 2, 32
	default:
		panic("unknown mid config " + kind)
	}
	return c
}

// sampleOrFail samples or fails the test.
func sampleOrFail(t *testing.T, m *Model, prompts [][]int, o SampleOptions) []Generation {
	t.Helper()
	g, err := m.Sample(context.Background(), prompts, o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestDecodeBitIdentical: every generation is the same bits whatever the
// core count, the prefill chunk size, and the other prompts of the batch
// (greedy decoding, so a prompt alone draws nothing different), on a model
// that exercises the vector paths, with prompts long enough that prefill
// splits a sequence between workers.
func TestDecodeBitIdentical(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	saved := prefillRows
	defer func() { prefillRows = saved }()
	for _, kind := range []string{"llama", "qwen2", "qwen3"} {
		cfg := midConfig(kind)
		m := randomModel(t, cfg, 61)
		prompts := samplePrompts(rand.New(rand.NewPCG(62, 63)), cfg.VocabSize, 70, 3, 17, 1, 33, 9)
		for _, opts := range []SampleOptions{
			{MaxNewTokens: 20, Temperature: 0.9, TopP: 0.95, Seed: 3},
			{MaxNewTokens: 20},
		} {
			runtime.GOMAXPROCS(1)
			want := sampleOrFail(t, m, prompts, opts)
			for _, procs := range []int{2, 3, 8} {
				runtime.GOMAXPROCS(procs)
				if got := sampleOrFail(t, m, prompts, opts); !reflect.DeepEqual(got, want) {
					t.Errorf("%s T=%v: GOMAXPROCS=%d changed the generations", kind, opts.Temperature, procs)
				}
			}
			for _, rows := range []int{1, 5, 40} {
				prefillRows = rows
				if got := sampleOrFail(t, m, prompts, opts); !reflect.DeepEqual(got, want) {
					t.Errorf("%s T=%v: prefill in chunks of %d rows changed the generations", kind, opts.Temperature, rows)
				}
			}
			prefillRows = saved
			if opts.Temperature != 0 {
				continue
			}
			for i, p := range prompts {
				alone := sampleOrFail(t, m, [][]int{p}, opts)
				if !reflect.DeepEqual(alone[0], want[i]) {
					t.Errorf("%s: prompt %d alone differs from the same prompt in the batch", kind, i)
				}
			}
		}
	}
}

// TestDecodeMatchesScore: on the vector paths too, the log-probs and
// entropies reported while sampling are those the training forward
// recomputes.
func TestDecodeMatchesScore(t *testing.T) {
	for _, kind := range []string{"llama", "qwen2", "qwen3", "heads16", "gqa16", "heads32", "gqa32"} {
		cfg := midConfig(kind)
		m := randomModel(t, cfg, 71)
		prompts := samplePrompts(rand.New(rand.NewPCG(72, 73)), cfg.VocabSize, 40, 5, 12)
		const temp = 1.3
		gens := sampleOrFail(t, m, prompts, SampleOptions{MaxNewTokens: 30, Temperature: temp, Seed: 9})
		seqs := make([][]int, len(prompts))
		from := make([]int, len(prompts))
		for i, g := range gens {
			seqs[i] = append(slices.Clone(prompts[i]), g.Tokens...)
			from[i] = len(prompts[i])
		}
		scores, err := m.LogProbs(context.Background(), seqs, ScoreOptions{Temperature: temp, Entropy: true, ScoreFrom: from})
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range gens {
			for j := range g.Tokens {
				p := from[i] + j
				if d := math.Abs(float64(g.LogProbs[j] - scores[i].LogProbs[p])); d > 1e-4 {
					t.Errorf("%s seq %d token %d: sampled logp %v, scored %v", kind, i, j, g.LogProbs[j], scores[i].LogProbs[p])
				}
				if d := math.Abs(float64(g.Entropies[j] - scores[i].Entropies[p])); d > 1e-4 {
					t.Errorf("%s seq %d token %d: sampled entropy %v, scored %v", kind, i, j, g.Entropies[j], scores[i].Entropies[p])
				}
			}
		}
	}
}

// TestSampleSeesNewWeights: the decoder packs the weights for each call, so
// a change between calls (a training step) is seen by the next one.
func TestSampleSeesNewWeights(t *testing.T) {
	cfg := midConfig("llama")
	m := randomModel(t, cfg, 81)
	prompts := samplePrompts(rand.New(rand.NewPCG(82, 83)), cfg.VocabSize, 10, 4)
	opts := SampleOptions{MaxNewTokens: 12, Temperature: 1, Seed: 4}
	before := sampleOrFail(t, m, prompts, opts)
	w, _, _ := m.Tensor("model.layers.1.mlp.down_proj.weight")
	rng := rand.New(rand.NewPCG(84, 85))
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	after := sampleOrFail(t, m, prompts, opts)
	if reflect.DeepEqual(after, before) {
		t.Fatal("changing a weight left the generations unchanged")
	}
	if fresh := sampleOrFail(t, m.Clone(), prompts, opts); !reflect.DeepEqual(after, fresh) {
		t.Fatal("after a weight change, the model and a fresh copy of it sample differently")
	}
}

// drawTokenSorted is drawToken written as a sort of the whole vocabulary,
// the plain definition: without filters, the token where the running sum in
// ID order passes u·sum; with them, tokens most likely first (ties to the
// lower ID), the first topK kept, then tokens kept while the mass before
// them is below topP of the top-k mass (of sum without top-k).
func drawTokenSorted(e []float64, sum float64, topK int, topP float64, u float64) int {
	V := len(e)
	idx := make([]int, V)
	for j := range idx {
		idx[j] = j
	}
	if (topK == 0 || topK >= V) && (topP == 0 || topP == 1) {
		var acc float64
		last := 0
		for j, w := range e {
			if w > 0 {
				acc, last = acc+w, j
				if acc > u*sum {
					return j
				}
			}
		}
		return last
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(e[b], e[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	kept := idx
	total := sum
	if topK > 0 && topK < V {
		kept = idx[:topK]
		total = 0
		for _, j := range kept {
			total += e[j]
		}
	}
	if topP > 0 && topP < 1 {
		var acc float64
		for i, j := range kept {
			if acc >= topP*total {
				kept = kept[:i]
				break
			}
			acc += e[j]
		}
	}
	var keptSum float64
	for _, j := range kept {
		keptSum += e[j]
	}
	var acc float64
	for _, j := range kept {
		acc += e[j]
		if acc > u*keptSum {
			return j
		}
	}
	return kept[len(kept)-1]
}

// TestDrawTokenMatchesSort: the heap selection draws exactly the token the
// full sort does, over random distributions with ties and every filter.
func TestDrawTokenMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(91, 92))
	for trial := range 3000 {
		V := 1 + rng.IntN(70)
		e := make([]float64, V)
		var sum float64
		for j := range e {
			switch rng.IntN(4) {
			case 0:
				e[j] = 0.25 // ties
			case 1:
				e[j] = math.Exp(-10 * rng.Float64()) // a long tail
			default:
				e[j] = rng.Float64()
			}
			sum += e[j]
		}
		topK := []int{0, 1, 2, 5, V, V + 3}[rng.IntN(6)]
		topP := []float64{0, 1, 0.1, 0.5, 0.9, 0.999}[rng.IntN(6)]
		u := rng.Float64()
		want := drawTokenSorted(e, sum, topK, topP, u)
		if got := drawToken(e, sum, topK, topP, u, make([]int32, V)); got != want {
			t.Fatalf("trial %d (V=%d top-k %d top-p %v u %v): heap drew %d, the sort %d", trial, V, topK, topP, u, got, want)
		}
	}
}

func BenchmarkDrawTopP(b *testing.B) {
	const V = 151936
	rng := rand.New(rand.NewPCG(93, 94))
	e := make([]float64, V)
	var sum float64
	for j := range e {
		e[j] = math.Exp(8 * rng.NormFloat64()) // peaked, as a trained model's are
		sum += e[j]
	}
	idx := make([]int32, V)
	for b.Loop() {
		drawToken(e, sum, 0, 0.9, rng.Float64(), idx)
	}
}

// TestSampleIndependentOfGroups: the groups that decode independently (how
// many, and so which sequences share a step and which worker runs them)
// never change a generation, with stop tokens ending sequences at different
// steps, prompts of different lengths, and prompts prefilled together in
// chunks or by their groups.
func TestSampleIndependentOfGroups(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	savedRows, savedGroups := prefillRows, decodeGroups
	defer func() { prefillRows, decodeGroups = savedRows, savedGroups }()
	cfg := midConfig("qwen3")
	m := randomModel(t, cfg, 91)
	prompts := samplePrompts(rand.New(rand.NewPCG(92, 93)), cfg.VocabSize, 5, 1, 12, 7, 3, 9, 2, 8, 4, 6, 10)
	opts := SampleOptions{MaxNewTokens: 25, Temperature: 1.1, TopK: 20, StopTokens: []int{3, 4}, Seed: 17}
	runtime.GOMAXPROCS(1)
	decodeGroups = 1
	want := sampleOrFail(t, m, prompts, opts)
	lengths := map[int]bool{}
	for _, g := range want {
		lengths[len(g.Tokens)] = true
	}
	if len(lengths) < 3 {
		t.Fatalf("generations of %d distinct lengths: the test needs sequences ending at different steps", len(lengths))
	}
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		for _, groups := range []int{0, 1, 2, 3, 5, len(prompts)} {
			decodeGroups = groups
			for _, rows := range []int{savedRows, 7} {
				prefillRows = rows
				if got := sampleOrFail(t, m, prompts, opts); !reflect.DeepEqual(got, want) {
					t.Errorf("GOMAXPROCS=%d, %d groups, prefill rows %d: the generations changed", procs, groups, rows)
				}
			}
		}
	}
	// Groups divided after every step, down to single sequences.
	savedMin := divideMinRows
	defer func() { divideAlways, divideMinRows = false, savedMin }()
	divideAlways, divideMinRows = true, 1
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		for _, groups := range []int{1, 2} {
			decodeGroups = groups
			for _, rows := range []int{savedRows, 7} {
				prefillRows = rows
				if got := sampleOrFail(t, m, prompts, opts); !reflect.DeepEqual(got, want) {
					t.Errorf("GOMAXPROCS=%d, %d groups divided at every step, prefill rows %d: the generations changed", procs, groups, rows)
				}
			}
		}
	}
}

// TestSampleReportsFirstDivergedSequence: when several sequences' logits
// are not finite, the error names the lowest-numbered one, whatever the
// groups and the core count.
func TestSampleReportsFirstDivergedSequence(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	saved := decodeGroups
	defer func() { decodeGroups = saved }()
	cfg := midConfig("qwen2") // untied head: a NaN embedding spoils only the sequences that read it
	m := randomModel(t, cfg, 95)
	embed, _, _ := m.Tensor("model.embed_tokens.weight")
	const poison = 5
	embed[poison*cfg.HiddenSize] = float32(math.NaN())
	prompts := [][]int{{1, 2}, {2, 3, 1}, {1, poison, 2}, {4}, {poison}, {2, 2}}
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		for _, groups := range []int{0, 1, 2, 3, 6} {
			decodeGroups = groups
			_, err := m.Sample(context.Background(), prompts, SampleOptions{MaxNewTokens: 4, Temperature: 1, StopTokens: []int{poison}})
			if err == nil || !strings.Contains(err.Error(), "sequence 2, token 0:") {
				t.Errorf("GOMAXPROCS=%d, %d groups: error %v, want it to name sequence 2, token 0", procs, groups, err)
			}
		}
	}
}

// TestGroupQueue: every group's steps run once each, in order, never two of
// one group at once; a group ends when its step says so, and after stopAt
// every group still runs the steps before the stop.
func TestGroupQueue(t *testing.T) {
	steps := []int{5, 1, 9, 3, 4}
	for _, depthFirst := range []bool{false, true} {
		for _, workers := range []int{1, 2, 3, 8} {
			for _, stop := range []int{-1, 0, 2} {
				testGroupQueueRun(t, steps, depthFirst, workers, stop)
			}
		}
	}
}

func testGroupQueueRun(t *testing.T, steps []int, depthFirst bool, workers, stop int) {
	t.Helper()
	q := newGroupQueue(seqBounds(len(steps)), 0, depthFirst)
	var mu sync.Mutex
	done := make([]int, len(steps))
	busy := make([]bool, len(steps))
	q.run(workers, func(w, g, k, _, _ int) bool {
		mu.Lock()
		if busy[g] {
			t.Errorf("depthFirst=%v workers=%d: group %d run by two workers at once", depthFirst, workers, g)
		}
		if k != done[g] {
			t.Errorf("depthFirst=%v workers=%d: group %d step %d after %d steps", depthFirst, workers, g, k, done[g])
		}
		if w < 0 || w >= workers {
			t.Errorf("depthFirst=%v workers=%d: worker %d", depthFirst, workers, w)
		}
		busy[g] = true
		mu.Unlock()
		if g == 2 && k == stop {
			q.stopAt(k + 1)
		}
		time.Sleep(50 * time.Microsecond) // let other workers overlap
		mu.Lock()
		busy[g] = false
		done[g]++
		mu.Unlock()
		return k+1 < steps[g]
	})
	for g, n := range done {
		// Steps before the stop all run. With one worker, taking
		// the group furthest behind first, none after it; depth
		// first, the groups before the stopping one ran to their
		// end before it started.
		least, most := steps[g], steps[g]
		if stop >= 0 {
			least = min(least, stop+1)
			if workers == 1 && (!depthFirst || g > 2) {
				most = least
			}
		}
		if n < least || n > most {
			t.Errorf("depthFirst=%v workers=%d stop=%d: group %d ran %d steps, want %d to %d", depthFirst, workers, stop, g, n, least, most)
		}
	}
	if stop >= 0 && done[2] != stop+1 {
		t.Errorf("depthFirst=%v workers=%d stop=%d: the stopping group ran %d steps", depthFirst, workers, stop, done[2])
	}
}

// TestGroupQueueDividesForWaitingWorkers: groups of several sequences, one
// worker much slower than the others. Every sequence's steps run once each,
// in order, never two at once; the last steps are shared by division (the
// fast workers run steps of groups they did not start with), and no part of
// a division is smaller than the divide function allows.
func TestGroupQueueDividesForWaitingWorkers(t *testing.T) {
	const seqs, steps, minRows = 16, 12, 2
	for _, workers := range []int{2, 3} {
		bounds := []int{0, 8, 16}
		if workers == 3 {
			bounds = []int{0, 6, 11, 16}
		}
		q := newGroupQueue(bounds, 0, false)
		q.divide = func(lo, hi int) (int, bool) {
			if hi-lo < 2*minRows {
				return 0, false
			}
			return (lo + hi) / 2, true
		}
		var mu sync.Mutex
		done := make([]int, seqs)
		busy := make([]bool, seqs)
		ranBy := make([]map[int]bool, seqs) // the workers that ran each sequence's steps
		for i := range ranBy {
			ranBy[i] = map[int]bool{}
		}
		q.run(workers, func(w, g, k, lo, hi int) bool {
			mu.Lock()
			if hi-lo < minRows {
				t.Errorf("workers=%d: group %d has sequences %d..%d, fewer than %d", workers, g, lo, hi, minRows)
			}
			for i := lo; i < hi; i++ {
				if busy[i] {
					t.Errorf("workers=%d: sequence %d in two steps at once", workers, i)
				}
				if done[i] != k {
					t.Errorf("workers=%d: sequence %d's step %d after %d steps", workers, i, k, done[i])
				}
				busy[i] = true
				ranBy[i][w] = true
			}
			mu.Unlock()
			pause := 20 * time.Microsecond
			if w == 0 {
				pause = 2 * time.Millisecond // a slow core
			}
			time.Sleep(pause)
			mu.Lock()
			for i := lo; i < hi; i++ {
				busy[i] = false
				done[i]++
			}
			mu.Unlock()
			return k+1 < steps
		})
		for i, n := range done {
			if n != steps {
				t.Errorf("workers=%d: sequence %d ran %d steps, want %d", workers, i, n, steps)
			}
		}
		shared := 0
		for i := range seqs {
			if ranBy[i][0] && len(ranBy[i]) > 1 {
				shared++
			}
		}
		if shared == 0 || len(q.next) == len(bounds)-1 {
			t.Errorf("workers=%d: %d groups at the end, and no sequence of the slow worker's group was run by another: nothing was divided", workers, len(q.next))
		}
	}
}

// TestGroupQueueReleaseDivides: release divides a group with a next step
// only while a worker waits (or divideAlways), within the limit, where the
// divide function says, leaving the second part unheld at the same step.
func TestGroupQueueReleaseDivides(t *testing.T) {
	q := newGroupQueue([]int{0, 10, 20}, 0, false)
	var asked [][2]int
	q.divide = func(lo, hi int) (int, bool) {
		asked = append(asked, [2]int{lo, hi})
		return lo + 3, hi-lo >= 6
	}
	q.held[0] = true
	q.release(0, 4, true) // no one waits
	if len(q.next) != 2 || len(asked) != 0 {
		t.Fatalf("released with no worker waiting: %d groups, divide asked %v", len(q.next), asked)
	}
	q.waiting = 1
	q.held[0] = true
	q.release(0, 5, false) // group 0 has no next step
	if len(q.next) != 2 || q.next[0] != -1 || len(asked) != 0 {
		t.Fatalf("released after its last step: %d groups, next %v, divide asked %v", len(q.next), q.next, asked)
	}
	q.held[1] = true
	q.release(1, 2, true)
	if len(q.next) != 3 || q.lo[1] != 10 || q.hi[1] != 13 || q.lo[2] != 13 || q.hi[2] != 20 || q.next[1] != 3 || q.next[2] != 3 || q.held[1] || q.held[2] {
		t.Fatalf("divided at 13: lo %v, hi %v, next %v, held %v", q.lo, q.hi, q.next, q.held)
	}
	q.held[1] = true
	q.release(1, 3, true) // sequences 10..13: too few, say the divide function
	if len(q.next) != 3 || q.next[1] != 4 {
		t.Fatalf("too few to divide: %d groups, next %v", len(q.next), q.next)
	}
	q.stopAt(4)
	q.held[2] = true
	q.release(2, 3, true) // its next step is past the limit
	if len(q.next) != 3 {
		t.Fatalf("next step past the limit: divided into %d groups", len(q.next))
	}
	if want := [][2]int{{10, 20}, {10, 13}}; !reflect.DeepEqual(asked, want) {
		t.Errorf("divide asked about %v, want %v", asked, want)
	}
}

// TestGroupQueueClaimKeepsWorkersToTheirGroups: a worker takes its own
// group furthest behind (g ≡ w mod workers) while that is at most
// affinityLag steps ahead of the group furthest behind overall, and that
// group otherwise; held and finished groups are never taken.
func TestGroupQueueClaimKeepsWorkersToTheirGroups(t *testing.T) {
	q := newGroupQueue(seqBounds(4), 0, false)
	q.next = []int{3, 2, 3 + affinityLag, 4}
	cases := []struct {
		w, want int
	}{
		{0, 0}, // own groups 0 and 2: 0 is 1 step ahead of group 1
		{1, 1}, // own group 1 is the furthest behind
	}
	for _, c := range cases {
		if g, _ := q.claim(c.w, 2); g != c.want {
			t.Errorf("next %v, worker %d: claimed %d, want %d", q.next, c.w, g, c.want)
		}
	}
	// Group 0 held: worker 0's own group 2 is 1+affinityLag steps ahead of
	// group 1, so it takes group 1.
	q.held[0] = true
	if g, wait := q.claim(0, 2); g != 1 || !wait {
		t.Errorf("group 0 held: worker 0 claimed %d (wait %v), want 1 (wait true)", g, wait)
	}
	// Worker 1's own group finished: it takes the furthest behind.
	q.held[0] = false
	q.next[1], q.next[3] = -1, -1
	if g, _ := q.claim(1, 2); g != 0 {
		t.Errorf("worker 1's groups finished: claimed %d, want 0", g)
	}
}

// TestGroupQueueClaimDepthFirst: depth first, a worker goes on with the
// group it ran last, else takes its own group furthest ahead, else the
// others' group furthest behind; held and finished groups are never taken.
func TestGroupQueueClaimDepthFirst(t *testing.T) {
	q := newGroupQueue(seqBounds(6), 0, true)
	q.last = []int{-1, -1}
	q.next = []int{2, 0, 4, 0, 0, -1}
	if g, _ := q.claim(0, 2); g != 2 {
		t.Errorf("next %v: worker 0 claimed %d, want its own group furthest ahead, 2", q.next, g)
	}
	q.last[0] = 4
	if g, _ := q.claim(0, 2); g != 4 {
		t.Errorf("next %v, worker 0 ran group 4 last: claimed %d, want 4", q.next, g)
	}
	q.held[4] = true
	if g, _ := q.claim(0, 2); g != 2 {
		t.Errorf("next %v, its last group held: worker 0 claimed %d, want 2", q.next, g)
	}
	q.held[4] = false
	if g, _ := q.claim(1, 2); g != 1 {
		t.Errorf("next %v: worker 1 claimed %d, want 1 (own groups 1 and 3 level, 5 done)", q.next, g)
	}
	q.next[1], q.next[3] = -1, -1
	if g, _ := q.claim(1, 2); g != 4 {
		t.Errorf("next %v, worker 1's groups done: claimed %d, want the others' furthest behind, 4", q.next, g)
	}
	q.held[0], q.held[2], q.held[4] = true, true, true
	if g, wait := q.claim(1, 2); g != -1 || !wait {
		t.Errorf("every group held or done: claimed %d (wait %v), want -1 (wait true)", g, wait)
	}
}

// seqBounds are the bounds of n groups of one sequence each.
func seqBounds(n int) []int {
	b := make([]int, n+1)
	for i := range b {
		b[i] = i
	}
	return b
}

// TestAttendFourHeadsMatchesOneAtATime: with heads of 16 or 32 dimensions,
// attending four heads at a time gives every generation the bits of
// attending one head at a time, with grouped-query heads too.
func TestAttendFourHeadsMatchesOneAtATime(t *testing.T) {
	defer func() { attendFourHeads = true }()
	for _, kind := range []string{"heads16", "gqa16", "heads32", "gqa32"} {
		cfg := midConfig(kind)
		m := randomModel(t, cfg, 77)
		prompts := samplePrompts(rand.New(rand.NewPCG(78, 79)), cfg.VocabSize, 9, 3, 40, 17, 1)
		opts := SampleOptions{MaxNewTokens: 40, Temperature: 1, Seed: 6}
		attendFourHeads = false
		want := sampleOrFail(t, m, prompts, opts)
		attendFourHeads = true
		if got := sampleOrFail(t, m, prompts, opts); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the generations differ from those of one head at a time", kind)
		}
	}
}

// TestSampleSchedulesAgree: random batches (prompt lengths, sequence counts,
// stop tokens) give the same generations under every schedule the decoder
// may pick: one core or three, the default groups or forced ones, prompts
// prefilled by group or together in small chunks, groups divided after every
// step or only for a waiting worker. The reference is one core, one group.
func TestSampleSchedulesAgree(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	savedRows, savedGroups, savedMin := prefillRows, decodeGroups, divideMinRows
	defer func() {
		prefillRows, decodeGroups, divideMinRows, divideAlways = savedRows, savedGroups, savedMin, false
	}()
	cfg := midConfig("heads16")
	m := randomModel(t, cfg, 97)
	rng := rand.New(rand.NewPCG(98, 99))
	for trial := range 6 {
		lengths := make([]int, 1+rng.IntN(24))
		for i := range lengths {
			lengths[i] = 1 + rng.IntN(30)
		}
		prompts := samplePrompts(rng, cfg.VocabSize, lengths...)
		opts := SampleOptions{MaxNewTokens: 1 + rng.IntN(30), Temperature: 1, StopTokens: []int{rng.IntN(cfg.VocabSize)}, Seed: uint64(trial)}
		runtime.GOMAXPROCS(1)
		prefillRows, decodeGroups, divideAlways, divideMinRows = savedRows, 1, false, savedMin
		want := sampleOrFail(t, m, prompts, opts)
		for _, procs := range []int{1, 3} {
			for _, groups := range []int{0, 2, 5} {
				for _, rows := range []int{savedRows, 5 + rng.IntN(40)} {
					for _, always := range []bool{false, true} {
						runtime.GOMAXPROCS(procs)
						prefillRows, decodeGroups, divideAlways, divideMinRows = rows, groups, always, 1+rng.IntN(3)
						if got := sampleOrFail(t, m, prompts, opts); !reflect.DeepEqual(got, want) {
							t.Fatalf("trial %d (%d prompts): GOMAXPROCS=%d, %d groups, prefill rows %d, divide always %v: the generations changed", trial, len(prompts), procs, groups, rows, always)
						}
					}
				}
			}
		}
	}
}

// TestGroupRegion: a worker's rows hold the largest group's prompt tokens,
// unless those exceed prefillRows or the rows' memory exceeds regionBytes;
// then prompts are prefilled together and the rows hold the largest group's
// sequences.
func TestGroupRegion(t *testing.T) {
	saved := prefillRows
	defer func() { prefillRows = saved }()
	prefillRows = 100
	prompts := samplePrompts(rand.New(rand.NewPCG(1, 2)), 10, 5, 7, 30, 2, 40, 1)
	bounds := []int{0, 2, 4, 6} // groups of 12, 32 and 41 prompt tokens
	cases := []struct {
		rowBytes       int
		rows           int
		together       bool
		prefillRowsNow int
	}{
		{rowBytes: 1000, rows: 41, prefillRowsNow: 100},
		{rowBytes: 1000, rows: 2, together: true, prefillRowsNow: 40},                // 41 tokens > 40
		{rowBytes: regionBytes / 41, rows: 41, prefillRowsNow: 100},                  // exactly the budget
		{rowBytes: regionBytes/41 + 1, rows: 2, together: true, prefillRowsNow: 100}, // past it
	}
	for _, c := range cases {
		prefillRows = c.prefillRowsNow
		rows, together := groupRegion(prompts, bounds, c.rowBytes)
		if rows != c.rows || together != c.together {
			t.Errorf("prefill rows %d, row bytes %d: %d rows, together %v; want %d, %v", c.prefillRowsNow, c.rowBytes, rows, together, c.rows, c.together)
		}
	}
}
