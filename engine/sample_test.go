package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// Logits ln 1, ln 2, ln 3 give π = (1/6, 1/3, 1/2) at temperature 1.
var lnLogits = []float32{0, float32(math.Ln2), float32(math.Log(3))}

func newScratch(V int) *samplerScratch {
	return &samplerScratch{e: make([]float64, V), idx: make([]int32, V)}
}

func TestSampleTokenStatistics(t *testing.T) {
	s := newScratch(3)
	// Hand-computed at T = 1: H = −Σ π ln π; self-certainty = ln 6 − (ln 2 + ln 3)/3.
	wantH := -(1.0/6*math.Log(1.0/6) + 1.0/3*math.Log(1.0/3) + 0.5*math.Log(0.5))
	wantSC := math.Log(6) - (math.Ln2+math.Log(3))/3
	cases := []struct {
		u       float64
		tok     int
		logp    float64
		comment string
	}{
		{0.1, 0, math.Log(1.0 / 6), "u·Σ = 0.2 of 2 falls in token 0's 1/3"},
		{0.2, 1, math.Log(1.0 / 3), "0.4 falls in token 1's [1/3, 1)"},
		{0.6, 2, math.Log(0.5), "1.2 falls in token 2's [1, 2)"},
	}
	for _, c := range cases {
		tok, st := sampleToken(lnLogits, 1, false, 0, 0, c.u, s)
		if tok != c.tok {
			t.Errorf("u=%v: token %d, want %d (%s)", c.u, tok, c.tok, c.comment)
		}
		for _, q := range []struct {
			name      string
			got, want float64
		}{{"logp", st.logp, c.logp}, {"entropy", st.entropy, wantH}, {"self-certainty", st.selfCertainty, wantSC}, {"top gap", st.topGap, 0.5 - 1.0/3}} {
			if math.Abs(q.got-q.want) > 1e-6 {
				t.Errorf("u=%v: %s %v, want %v", c.u, q.name, q.got, q.want)
			}
		}
	}
	// T = 0.5 doubles the logits: π ∝ (1, 4, 9).
	_, st := sampleToken(lnLogits, 2, false, 0, 0, 0.99, s)
	if want := math.Log(9.0 / 14); math.Abs(st.logp-want) > 1e-6 {
		t.Errorf("T=0.5: logp %v, want %v", st.logp, want)
	}
	if want := 9.0/14 - 4.0/14; math.Abs(st.topGap-want) > 1e-6 {
		t.Errorf("T=0.5: top gap %v, want %v", st.topGap, want)
	}
	// Greedy takes the most likely token, ties to the lower ID.
	if tok, _ := sampleToken([]float32{1, 3, 3}, 1, true, 0, 0, 0.99, s); tok != 1 {
		t.Errorf("greedy on (1, 3, 3) chose %d, want 1", tok)
	}
	// A single-token vocabulary has gap 1 and entropy 0.
	if _, st := sampleToken([]float32{2}, 1, false, 0, 0, 0.5, s); st.topGap != 1 || st.entropy != 0 || st.logp != 0 {
		t.Errorf("one token: %+v", st)
	}
}

func TestTopKTopP(t *testing.T) {
	s := newScratch(3)
	cases := []struct {
		name    string
		invTemp float64
		topK    int
		topP    float64
		u       float64
		want    int
	}{
		// Top-2 at T = 0.5 keeps tokens 2 and 1 with weights 9/13, 4/13.
		{"top-k high u", 2, 2, 0, 0.8, 1},
		{"top-k low u", 2, 2, 0, 0.5, 2},
		{"top-k never drops to token 0", 2, 2, 0, 0.9999, 1},
		// Top-p 0.6 at T = 1: 1/2 < 0.6 so token 1 is kept; 1/2+1/3 ≥ 0.6 drops token 0.
		{"top-p keeps two", 1, 0, 0.6, 0.9999, 1},
		{"top-p two, low u", 1, 0, 0.6, 0.55, 2},
		// Top-p 0.45: token 2 alone already reaches it.
		{"top-p keeps one", 1, 0, 0.45, 0.9999, 2},
		// Top-k 1 is greedy.
		{"top-k 1", 1, 1, 0, 0.9999, 2},
		// Top-k then top-p: top-2 renormalised to (3/5, 2/5); top-p 0.5 keeps token 2 only.
		{"top-k then top-p", 1, 2, 0.5, 0.9999, 2},
	}
	for _, c := range cases {
		tok, st := sampleToken(lnLogits, c.invTemp, false, c.topK, c.topP, c.u, s)
		if tok != c.want {
			t.Errorf("%s: token %d, want %d", c.name, tok, c.want)
		}
		// Statistics always describe the unfiltered distribution.
		if st.logp > 0 || math.IsNaN(st.logp) {
			t.Errorf("%s: logp %v", c.name, st.logp)
		}
	}
	// Frequencies over many draws match the renormalised top-2 distribution.
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, 3)
	const n = 20000
	for range n {
		tok, _ := sampleToken(lnLogits, 2, false, 2, 0, rng.Float64(), s)
		counts[tok]++
	}
	if counts[0] != 0 || math.Abs(float64(counts[2])/n-9.0/13) > 0.015 {
		t.Errorf("top-2 frequencies %v, want 0 and about %.3f for token 2", counts, 9.0/13)
	}
}

func samplePrompts(rng *rand.Rand, V int, lengths ...int) [][]int {
	prompts := make([][]int, len(lengths))
	for i, n := range lengths {
		prompts[i] = make([]int, n)
		for j := range prompts[i] {
			prompts[i][j] = rng.IntN(V)
		}
	}
	return prompts
}

// TestSampleMatchesScore checks the key/value-cache decoder against the
// training forward: the log-probs and entropies reported while sampling equal
// those LogProbs recomputes for the finished sequences, and self-certainty and
// top gaps equal the float64 reference's.
func TestSampleMatchesScore(t *testing.T) {
	for _, kind := range tinyKinds {
		cfg := tinyConfig(kind)
		m := randomModel(t, cfg, 31)
		ref := refFromModel(m)
		rng := rand.New(rand.NewPCG(32, 33))
		prompts := samplePrompts(rng, cfg.VocabSize, 3, 7, 1, 5)
		const temp = 0.8
		gens, err := m.Sample(context.Background(), prompts, SampleOptions{MaxNewTokens: 6, Temperature: temp, TopP: 0.9, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		seqs := make([][]int, len(prompts))
		from := make([]int, len(prompts))
		for i, g := range gens {
			if len(g.Tokens) != 6 || g.FinishReason != FinishLength {
				t.Fatalf("%s: generation %d has %d tokens (%s), want 6 (length)", kind, i, len(g.Tokens), g.FinishReason)
			}
			seqs[i] = append(append([]int(nil), prompts[i]...), g.Tokens...)
			from[i] = len(prompts[i])
		}
		scores, err := m.LogProbs(context.Background(), seqs, ScoreOptions{Temperature: temp, Entropy: true, ScoreFrom: from})
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range gens {
			lg := ref.logits(seqs[i])
			for j := range g.Tokens {
				p := from[i] + j
				if d := math.Abs(float64(g.LogProbs[j] - scores[i].LogProbs[p])); d > 2e-5 {
					t.Errorf("%s seq %d token %d: sampled logp %v, scored %v", kind, i, j, g.LogProbs[j], scores[i].LogProbs[p])
				}
				if d := math.Abs(float64(g.Entropies[j] - scores[i].Entropies[p])); d > 2e-5 {
					t.Errorf("%s seq %d token %d: sampled entropy %v, scored %v", kind, i, j, g.Entropies[j], scores[i].Entropies[p])
				}
				z := lg[p-1]
				var mean, lse, p1, p2 float64
				probs := make([]float64, len(z))
				mx := math.Inf(-1)
				for _, v := range z {
					mx = math.Max(mx, v/temp)
					mean += v / temp / float64(len(z))
				}
				for _, v := range z {
					lse += math.Exp(v/temp - mx)
				}
				lse = mx + math.Log(lse)
				for k, v := range z {
					probs[k] = math.Exp(v/temp - lse)
					if probs[k] > p1 {
						p1, p2 = probs[k], p1
					} else if probs[k] > p2 {
						p2 = probs[k]
					}
				}
				if d := math.Abs(float64(g.SelfCertainty[j]) - (lse - mean)); d > 2e-5 {
					t.Errorf("%s seq %d token %d: self-certainty %v, want %v", kind, i, j, g.SelfCertainty[j], lse-mean)
				}
				if d := math.Abs(float64(g.TopGaps[j]) - (p1 - p2)); d > 2e-5 {
					t.Errorf("%s seq %d token %d: top gap %v, want %v", kind, i, j, g.TopGaps[j], p1-p2)
				}
			}
		}
		for i := range prompts {
			if scores[i].LogProbs[0] != 0 || (from[i] > 1 && scores[i].LogProbs[from[i]-1] != 0) {
				t.Errorf("%s seq %d: positions before ScoreFrom were scored", kind, i)
			}
		}
	}
}

// TestSampleDeterministic: the same seed gives the same generations across
// runs, GOMAXPROCS values and prefill chunk sizes; another seed does not.
func TestSampleDeterministic(t *testing.T) {
	cfg := tinyConfig("qwen3")
	m := randomModel(t, cfg, 41)
	prompts := samplePrompts(rand.New(rand.NewPCG(42, 43)), cfg.VocabSize, 4, 9, 2, 6, 6, 1)
	opts := SampleOptions{MaxNewTokens: 8, Temperature: 1, TopK: 8, Seed: 99}
	run := func() []Generation {
		g, err := m.Sample(context.Background(), prompts, opts)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	want := run()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		if got := run(); !reflect.DeepEqual(got, want) {
			t.Errorf("GOMAXPROCS=%d changed the generations", procs)
		}
	}
	saved := prefillRows
	prefillRows = 5 // prompts of 28 tokens prefilled in six chunks
	got := run()
	prefillRows = saved
	if !reflect.DeepEqual(got, want) {
		t.Error("chunked prefill changed the generations")
	}
	opts.Seed = 100
	if reflect.DeepEqual(run(), want) {
		t.Error("a different seed gave the same generations")
	}
	// Two sequences with the same prompt draw from different streams.
	same, err := m.Sample(context.Background(), [][]int{prompts[0], prompts[0], prompts[0]}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(same[0].Tokens, same[1].Tokens) && reflect.DeepEqual(same[1].Tokens, same[2].Tokens) {
		t.Error("three rollouts of one prompt are identical")
	}
}

// TestSampleIndependentOfBatch: a prompt's greedy generation is the same
// alone and among prompts of other lengths (no padding leaks in).
func TestSampleIndependentOfBatch(t *testing.T) {
	cfg := tinyConfig("llama-gqa-bias")
	m := randomModel(t, cfg, 51)
	prompts := samplePrompts(rand.New(rand.NewPCG(52, 53)), cfg.VocabSize, 2, 11, 5)
	opts := SampleOptions{MaxNewTokens: 7}
	batch, err := m.Sample(context.Background(), prompts, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range prompts {
		alone, err := m.Sample(context.Background(), [][]int{p}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(alone[0].Tokens, batch[i].Tokens) {
			t.Errorf("prompt %d: tokens %v alone, %v in the batch", i, alone[0].Tokens, batch[i].Tokens)
		}
		for j := range alone[0].LogProbs {
			if math.Abs(float64(alone[0].LogProbs[j]-batch[i].LogProbs[j])) > 1e-6 {
				t.Errorf("prompt %d token %d: logp %v alone, %v in the batch", i, j, alone[0].LogProbs[j], batch[i].LogProbs[j])
			}
		}
	}
}

func TestSampleStopsAndLimits(t *testing.T) {
	cfg := tinyConfig("llama")
	cfg.MaxPositions = 12
	m := randomModel(t, cfg, 61)
	prompt := []int{1, 2, 3}
	full, err := m.Sample(context.Background(), [][]int{prompt}, SampleOptions{MaxNewTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	toks := full[0].Tokens
	// Stop at the first occurrence of the greedy continuation's third token.
	stop := toks[2]
	at := 0
	for toks[at] != stop {
		at++
	}
	got, err := m.Sample(context.Background(), [][]int{prompt, prompt}, SampleOptions{MaxNewTokens: 6, StopTokens: []int{stop}})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if !reflect.DeepEqual(g.Tokens, toks[:at+1]) || g.FinishReason != FinishStop {
			t.Errorf("with stop token %d: %v (%s), want %v (stop)", stop, g.Tokens, g.FinishReason, toks[:at+1])
		}
		if len(g.LogProbs) != len(g.Tokens) || len(g.Entropies) != len(g.Tokens) || len(g.SelfCertainty) != len(g.Tokens) || len(g.TopGaps) != len(g.Tokens) {
			t.Errorf("statistics lengths differ from %d tokens", len(g.Tokens))
		}
	}
	// A 10-token prompt in a 12-position context can grow by 2 tokens.
	long := make([]int, 10)
	got, err = m.Sample(context.Background(), [][]int{long, prompt}, SampleOptions{MaxNewTokens: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0].Tokens) != 2 || got[0].FinishReason != FinishLength || len(got[1].Tokens) != 5 {
		t.Errorf("context limit: %d and %d tokens (%s), want 2 and 5", len(got[0].Tokens), len(got[1].Tokens), got[0].FinishReason)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Sample(ctx, [][]int{prompt}, SampleOptions{MaxNewTokens: 3}); err == nil {
		t.Error("cancelled context: no error")
	}
}

func TestSampleRejectsBadInput(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 71)
	ok := SampleOptions{MaxNewTokens: 2}
	cases := []struct {
		prompts [][]int
		opts    SampleOptions
		want    string
	}{
		{[][]int{{}}, ok, "prompt 0 is empty"},
		{[][]int{{1}, {2, 11}}, ok, "prompt 1 token 1 is 11"},
		{[][]int{{-1}}, ok, "outside the vocabulary"},
		{[][]int{make([]int, 32)}, ok, "leaves no room"},
		{[][]int{{1}}, SampleOptions{}, "max new tokens"},
		{[][]int{{1}}, SampleOptions{MaxNewTokens: 1, Temperature: -1}, "temperature"},
		{[][]int{{1}}, SampleOptions{MaxNewTokens: 1, TopP: 1.5}, "top-p"},
		{[][]int{{1}}, SampleOptions{MaxNewTokens: 1, TopK: -2}, "top-k"},
		{[][]int{{1}}, SampleOptions{MaxNewTokens: 1, StopTokens: []int{99}}, "stop token 99"},
	}
	for _, c := range cases {
		_, err := m.Sample(context.Background(), c.prompts, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %+v: error %v, want it to mention %q", c.prompts, c.opts, err, c.want)
		}
	}
}

func TestScoreRejectsBadInput(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 72)
	cases := []struct {
		seqs [][]int
		opts ScoreOptions
		want string
	}{
		{[][]int{{}}, ScoreOptions{}, "sequence 0 is empty"},
		{[][]int{{1, 2}}, ScoreOptions{ScoreFrom: []int{1, 1}}, "ScoreFrom"},
		{[][]int{make([]int, 33)}, ScoreOptions{}, "at most 32"},
		{[][]int{{1, 12}}, ScoreOptions{}, "token 12"},
		{[][]int{{1, 2}}, ScoreOptions{Temperature: -1}, "temperature"},
	}
	for _, c := range cases {
		_, err := m.LogProbs(context.Background(), c.seqs, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to mention %q", c.seqs, err, c.want)
		}
	}
}

func TestSampleReportsDivergedModel(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 73)
	norm, _, _ := m.Tensor("model.norm.weight")
	norm[0] = float32(math.NaN())
	_, err := m.Sample(context.Background(), [][]int{{1, 2}}, SampleOptions{MaxNewTokens: 3, Temperature: 1})
	if err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Errorf("NaN weights: error %v", err)
	}
}
