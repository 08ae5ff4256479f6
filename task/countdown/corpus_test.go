package countdown

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestSolveResponseHandChecked(t *testing.T) {
	e, err := Parse("(44 + 19) - 35")
	if err != nil {
		t.Fatal(err)
	}
	got, err := SolveResponse(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := " 44+19=63, 63-35=28 </think> <answer> 44 + 19 - 35 </answer>"; got != want {
		t.Errorf("SolveResponse = %q, want %q", got, want)
	}
	e, _ = Parse("79 - (15 + 25 / 5)")
	if got, _ := SolveResponse(e); got != " 25/5=5, 15+5=20, 79-20=59 </think> <answer> 79 - (15 + 25 / 5) </answer>" {
		t.Errorf("SolveResponse = %q", got)
	}
}

func TestCheckResponseHandChecked(t *testing.T) {
	nums, target := []int{44, 19, 35}, 28
	for _, c := range []struct{ expr, want string }{
		{"(44 + 19) - 35", ` 44+19=63, 63-35=28; numbers ok; 28 = 28 \boxed{True}`},
		{"44 - 19 + 35", ` 44-19=25, 25+35=60; numbers ok; 60 != 28 \boxed{False}`},
		{"44 + 19 - 35 - 35", ` 44+19=63, 63-35=28, 28-35=-7; numbers wrong; -7 != 28 \boxed{False}`},
		{"63 - 35", ` 63-35=28; numbers wrong; 28 = 28 \boxed{False}`},
		{"35 / (44 - 44) + 19", ` 44-44=0, 35/0; numbers wrong; division by zero \boxed{False}`},
		{"19 / 35 + 44", ` 19/35=19/35, 19/35+44=1559/35; numbers ok; 1559/35 != 28 \boxed{False}`},
		{"44 + 19 - 35 = 28", ` invalid \boxed{False}`},
		{"", ` invalid \boxed{False}`},
		{"(44 + 19", ` invalid \boxed{False}`},
	} {
		if got := CheckResponse(c.expr, nums, target); got != c.want {
			t.Errorf("CheckResponse(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

func TestPhraseTexts(t *testing.T) {
	ps := PhraseTexts()
	for _, want := range []string{"<think>", "</think>", "<answer>", "</answer>", `\boxed{True}`, `\boxed{False}`, "User: ", "\nAssistant:",
		", create an equation that equals ", "Using the numbers "} {
		if !slices.Contains(ps, want) {
			t.Errorf("no phrase %q", want)
		}
	}
	for _, p := range ps {
		if len(p) < 4 {
			t.Errorf("phrase %q is shorter than 4 characters", p)
		}
		if strings.ContainsAny(p, "{}") && p != `\boxed{True}` && p != `\boxed{False}` && !strings.Contains(p, `\boxed{`) {
			t.Errorf("phrase %q holds a placeholder", p)
		}
		if strings.Contains(p, "987654321") || strings.Contains(p, "123456789") {
			t.Errorf("phrase %q holds a sentinel", p)
		}
	}
	// Every fixed passage of a rendered prompt is a phrase: removing the
	// phrases from a base prompt leaves its numbers and target only.
	rest := BasePrompt([]int{44, 19, 35}, 28)
	slices.SortFunc(ps, func(a, b string) int { return len(b) - len(a) })
	for _, p := range ps {
		rest = strings.ReplaceAll(rest, p, "|")
	}
	if rest != "|[44, 19, 35]|28|" {
		t.Errorf("base prompt without its phrases = %q", rest)
	}
	req, err := VerifyRequest(P2, "44 + 19 - 35", []int{44, 19, 35}, 28)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		req = strings.ReplaceAll(req, p, "|")
	}
	if strings.Trim(strings.NewReplacer("|", "", "44 + 19 - 35", "", "[44, 19, 35]", "", "28", "").Replace(req), "") != "" {
		t.Errorf("P2 request without its phrases, expression, numbers and target = %q", req)
	}
}

func TestMakeCandidateKinds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	g, err := NewGenerator(DefaultGenConfig(), 5)
	if err != nil {
		t.Fatal(err)
	}
	v := DefaultVerifier()
	want := map[string]Outcome{KindCorrect: Correct, KindWrongValue: WrongValue, KindMissing: WrongNumbers,
		KindReused: WrongNumbers, KindForeign: WrongNumbers, KindMalformed: Malformed, KindNearValue: WrongValue, KindNearNumber: WrongNumbers}
	for range 200 {
		inst, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		sol, _ := Parse(inst.Solution)
		for _, kind := range CandidateKinds {
			c := MakeCandidate(rng, kind, inst.Numbers, inst.Target, sol)
			got := v.CheckExpression(c, inst.Numbers, inst.Target).Outcome
			if kind == KindCorrect && got != Correct || kind != KindCorrect && got == Correct {
				t.Fatalf("%s candidate %q for %v -> %d: %v", kind, c, inst.Numbers, inst.Target, got)
			}
			// A wrong value that keeps drawing the target falls back to
			// a malformed candidate; every other draw is of its kind.
			if got != want[kind] && got != Malformed {
				t.Errorf("%s candidate %q: outcome %v, want %v", kind, c, got, want[kind])
			}
		}
	}
}

func TestBuildCorpusExcludesSplitsAndIsReproducible(t *testing.T) {
	cfg := CorpusConfig{Solve: 300, Verify: 400, Seed: 9, Prompts: []string{"P1", "P2"},
		Candidates: CandidateShares{Correct: 1, WrongValue: 1, Missing: 1, Reused: 1, Foreign: 1, Malformed: 1, NearValue: 1, NearNumber: 1}}
	docs, err := BuildCorpus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := BuildCorpus(cfg)
	if !slices.Equal(docs, again) {
		t.Fatal("the same config gave two corpora")
	}
	train, val, err := Splits()
	if err != nil {
		t.Fatal(err)
	}
	inSplit := map[string]bool{}
	for _, inst := range slices.Concat(train, val) {
		inSplit[key(inst)] = true
	}
	// Draw the corpus's instances again to see that none is a split's, and
	// that without the exclusion the stream would have held some.
	g, _ := NewGenerator(DefaultGenConfig(), cfg.Seed)
	skipped, used := 0, 0
	for used < cfg.Solve+cfg.Verify {
		inst, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if inSplit[key(inst)] {
			skipped++
			continue
		}
		used++
	}
	if skipped == 0 {
		t.Log("no split instance among the corpus's draws; the exclusion was not exercised by this seed")
	}
	kinds := map[string]int{}
	verdicts := map[bool]int{}
	for i, d := range docs {
		kinds[d.Kind]++
		if i < cfg.Solve {
			if d.Kind != "solve" || !strings.HasSuffix(d.Prompt, "<think>") || !strings.HasSuffix(d.Response, "</answer>") {
				t.Fatalf("document %d is not a solve document: %+v", i, d)
			}
			nums, target := promptInstance(t, d.Prompt)
			if inSplit[key(Instance{Numbers: nums, Target: target})] {
				t.Fatalf("solve document %d is a split instance: %v -> %d", i, nums, target)
			}
			if r := Verify(d.Response, nums, target); r.Outcome != Correct {
				t.Fatalf("solve document %d's answer is wrong: %q (%v)", i, d.Response, r)
			}
			continue
		}
		if !strings.HasPrefix(d.Prompt, "User: ") || !strings.HasSuffix(d.Prompt, "\nAssistant:") {
			t.Fatalf("verify document %d's prompt is not a verification turn: %q", i, d.Prompt)
		}
		verdicts[strings.HasSuffix(d.Response, `\boxed{True}`)]++
	}
	for _, k := range CandidateKinds {
		if kinds["verify-"+k] < 20 {
			t.Errorf("only %d %s candidates of 400 at share 1/8", kinds["verify-"+k], k)
		}
	}
	if verdicts[true] < 20 || verdicts[false] < 250 {
		t.Errorf("verdicts %v", verdicts)
	}
	if skipped > 0 {
		t.Logf("%d split instances skipped", skipped)
	}
}

// promptInstance reads the numbers and target back from a base prompt.
func promptInstance(t *testing.T, prompt string) ([]int, int) {
	t.Helper()
	_, rest, _ := strings.Cut(prompt, "Using the numbers [")
	list, rest, _ := strings.Cut(rest, "], create an equation that equals ")
	tgt, _, _ := strings.Cut(rest, ".")
	var nums []int
	for _, f := range strings.Split(list, ", ") {
		n, err := ParseNumber(f)
		if err != nil {
			t.Fatal(err)
		}
		nums = append(nums, n)
	}
	target, err := ParseNumber(tgt)
	if err != nil {
		t.Fatal(err)
	}
	return nums, target
}

func TestCorpusConfigValidate(t *testing.T) {
	ok := CorpusConfig{Solve: 1, Verify: 1, Prompts: []string{"P2"}, Candidates: CandidateShares{Correct: 1}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		edit func(*CorpusConfig)
	}{
		{"solve", func(c *CorpusConfig) { c.Solve = -1 }},
		{"verify", func(c *CorpusConfig) { c.Verify = MaxCorpusDocuments + 1 }},
		{"solve", func(c *CorpusConfig) { c.Solve, c.Verify = 0, 0 }},
		{"prompts[0]", func(c *CorpusConfig) { c.Prompts = []string{"P3"} }},
		{"prompts", func(c *CorpusConfig) { c.Prompts = nil }},
		{"candidates.missing", func(c *CorpusConfig) { c.Candidates.Missing = -0.1 }},
		{"candidates", func(c *CorpusConfig) { c.Candidates = CandidateShares{} }},
	} {
		cfg := ok
		c.edit(&cfg)
		err := cfg.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != c.path {
			t.Errorf("%s: error %v, want one at %s", c.path, err, c.path)
		}
	}
}

func TestNearMissCandidatesAreNear(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	nums, target := []int{10, 3, 4}, 17
	sol, _ := Parse("10 + 3 + 4")
	near := 0
	for range 100 {
		c := MakeCandidate(rng, KindNearValue, nums, target, sol)
		chk := DefaultVerifier().CheckExpression(c, nums, target)
		if chk.Outcome != WrongValue {
			t.Fatalf("near value %q: %v", c, chk.Outcome)
		}
		if d := chk.Value.Num().Int64() - int64(target); chk.Value.IsInt() && d != 0 && d >= -10 && d <= 10 {
			near++
		}
		c = MakeCandidate(rng, KindNearNumber, nums, target, sol)
		e, err := Parse(c)
		if err != nil {
			t.Fatalf("near number %q: %v", c, err)
		}
		// One number moved by 1..9: the sum of the numbers moves as much.
		sum := 0
		for _, v := range e.Numbers() {
			sum += v
		}
		if d := sum - (10 + 3 + 4); len(e.Numbers()) != 3 || d == 0 || d < -9 || d > 9 {
			t.Errorf("near number %q uses %v", c, e.Numbers())
		}
	}
	if near < 95 {
		t.Errorf("%d of 100 near-value candidates were within 10 of the target", near)
	}
	// 44, 19, 35 reach nothing within 10 of 28 but 28 itself: the near
	// value falls back to a wrong value.
	sol, _ = Parse("44 + 19 - 35")
	if c := MakeCandidate(rng, KindNearValue, []int{44, 19, 35}, 28, sol); DefaultVerifier().CheckExpression(c, []int{44, 19, 35}, 28).Outcome != WrongValue {
		t.Errorf("fallback candidate %q is not a wrong value", c)
	}
}
