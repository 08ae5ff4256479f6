package countdown

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
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
		{"drill", func(c *CorpusConfig) { c.Drill = -3 }},
		{"lookup", func(c *CorpusConfig) { c.Lookup = MaxCorpusDocuments + 1 }},
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

func TestExplicitCheckResponseHandChecked(t *testing.T) {
	nums, target := []int{44, 19, 35}, 28
	for _, c := range []struct{ expr, want string }{
		{"(44 + 19) - 35", ` 28: 44 ok, 19 ok, 35 ok; 44+19=63, 63-35=28; 28 = 28 \boxed{True}`},
		{"44 + 44 - 35", ` 28: 44 ok, 44 twice, 35 ok, 19 left; 44+44=88, 88-35=53; 53 != 28 \boxed{False}`},
		{"47 + 19 - 35", ` 28: 47 no, 19 ok, 35 ok, 44 left; 47+19=66, 66-35=31; 31 != 28 \boxed{False}`},
		{"63 - 35", ` 28: 63 no, 35 ok, 44 left, 19 left; 63-35=28; 28 = 28 \boxed{False}`},
		{"44 + 19 - 35 = 28", ` invalid \boxed{False}`},
	} {
		if got := ExplicitCheckResponse(c.expr, nums, target); got != c.want {
			t.Errorf("ExplicitCheckResponse(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
	bad := CorpusConfig{Solve: 1, Check: "loose"}
	var fe *FieldError
	if err := bad.Validate(); !errors.As(err, &fe) || fe.Path != "check" {
		t.Errorf("check loose: %v", err)
	}
}

func TestLookupCheckResponseHandChecked(t *testing.T) {
	nums, target := []int{44, 19, 35}, 28
	for _, c := range []struct{ expr, want string }{
		{"(44 + 19) - 35", ` 44 ok, 19 ok, 35 ok; 44+19=63, 63-35=28; 28 vs 28 ok \boxed{True}`},
		{"44 + 44 - 35", ` 44 ok, 44 twice, 35 ok, 19 left; 44+44=88, 88-35=53; 53 vs 28 no \boxed{False}`},
		{"47 + 19 - 35", ` 47 no, 19 ok, 35 ok, 44 left; 47+19=66, 66-35=31; 31 vs 28 no \boxed{False}`},
		{"63 - 35", ` 63 no, 35 ok, 44 left, 19 left; 63-35=28; 28 vs 28 ok \boxed{False}`},
		{"19 / 35 + 44", ` 19 ok, 35 ok, 44 ok; 19/35=19/35, 19/35+44=1559/35; 1559/35 vs 28 no \boxed{False}`},
		{"35 / (44 - 44) + 19", ` 35 ok, 44 ok, 44 twice, 19 ok; 44-44=0, 35/0; division by zero \boxed{False}`},
		{"44 + 19 - 35 = 28", ` invalid \boxed{False}`},
	} {
		if got := LookupCheckResponse(c.expr, nums, target); got != c.want {
			t.Errorf("LookupCheckResponse(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// firstWrongStep reads the operations of a drill back ("44+19=63,
// 63-35=28; 8-10=-2") and returns the first whose result is not exact.
func firstWrongStep(t *testing.T, text string) string {
	t.Helper()
	for _, step := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		lhs, rhs, ok := strings.Cut(step, "=")
		op := strings.IndexAny(lhs[min(1, len(lhs)):], "+-*/") + 1 // an operand may be negative
		if !ok || op == 0 {
			t.Fatalf("%q in %q is not an operation", step, text)
		}
		a, err1 := strconv.Atoi(lhs[:op])
		b, err2 := strconv.Atoi(lhs[op+1:])
		c, err3 := strconv.Atoi(rhs)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%q in %q is not an operation on integers", step, text)
		}
		var v int
		switch lhs[op] {
		case '+':
			v = a + b
		case '-':
			v = a - b
		case '*':
			v = a * b
		case '/':
			if b == 0 || a%b != 0 {
				return step
			}
			v = a / b
		}
		if v != c {
			return step
		}
	}
	return ""
}

func TestDrillAndLookupDocuments(t *testing.T) {
	base := CorpusConfig{Solve: 20, Verify: 30, Seed: 5, Prompts: []string{"P2"}, Candidates: CandidateShares{Correct: 1, Foreign: 1}}
	withDrills := base
	withDrills.Drill, withDrills.Lookup = 200, 200
	plain, err := BuildCorpus(base)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := BuildCorpus(withDrills)
	if err != nil {
		t.Fatal(err)
	}
	// Drills come after the other documents and leave them as they were.
	if !slices.Equal(docs[:len(plain)], plain) {
		t.Fatal("adding drill and look-up documents changed the solve and verify documents")
	}
	ok, no := 0, 0
	for i, d := range docs[len(plain):] {
		if d.Prompt != "" {
			t.Fatalf("document %d (%s) has a prompt %q", i, d.Kind, d.Prompt)
		}
		switch {
		case i < 200:
			if d.Kind != "drill" || len(d.Response) > DrillChars || !strings.HasPrefix(d.Response, " ") {
				t.Fatalf("drill document %d: %+v", i, d)
			}
			if bad := firstWrongStep(t, d.Response); bad != "" {
				t.Fatalf("drill document %d has a wrong operation %q: %q", i, bad, d.Response)
			}
			for _, n := range strings.FieldsFunc(d.Response, func(r rune) bool { return !('0' <= r && r <= '9') }) {
				if len(n) > 4 {
					t.Fatalf("drill document %d has a value beyond four digits: %q", i, d.Response)
				}
			}
		default:
			list, probes, found := strings.Cut(d.Response, "]:")
			if d.Kind != "lookup" || !found || !strings.HasPrefix(list, " [") {
				t.Fatalf("look-up document %d: %+v", i, d)
			}
			var nums []int
			for _, f := range strings.Split(list[2:], ", ") {
				n, err := ParseNumber(f)
				if err != nil {
					t.Fatal(err)
				}
				nums = append(nums, n)
			}
			items := strings.Split(probes, ",")
			if len(items) != lookupProbes {
				t.Fatalf("look-up document %d has %d probes: %q", i, len(items), d.Response)
			}
			for _, it := range items {
				f := strings.Fields(it)
				n, err := ParseNumber(f[0])
				if err != nil || len(f) != 2 {
					t.Fatalf("look-up %q in %q", it, d.Response)
				}
				want := "no"
				if slices.Contains(nums, n) {
					want = "ok"
					ok++
				} else {
					no++
				}
				if f[1] != want {
					t.Fatalf("look-up %q in %q: want %s", it, d.Response, want)
				}
			}
		}
	}
	// Half the probes are drawn from the given numbers; a near one can
	// land on another given number, so "ok" is a little more than half.
	if frac := float64(ok) / float64(ok+no); frac < 0.45 || frac > 0.65 {
		t.Errorf("%d of %d probes given, want about half", ok, ok+no)
	}
}

func TestOperationsHandCounted(t *testing.T) {
	for _, c := range []struct {
		text         string
		ops, correct int
	}{
		{" 44+19=63, 63-35=28 </think> <answer> 44 + 19 - 35 </answer>", 2, 2},
		{" 90-11=78, 78+2=80; numbers ok; 80 = 80", 2, 1},
		{" 19/35=19/35, 19/35+44=1559/35; numbers ok", 2, 2},
		{" 10--9=19, -23-5670=-5693, 48*42=2264", 3, 2},
		{" 44-44=0, 35/0; division by zero", 1, 1},
		{" 7/0=3, 3/0=0/1", 2, 0},
		{" invalid \\boxed{False}", 0, 0},
	} {
		ops, exact := Operations(c.text)
		if ops != c.ops || exact != c.correct {
			t.Errorf("Operations(%q) = %d, %d; want %d, %d", c.text, ops, exact, c.ops, c.correct)
		}
	}
}

func TestCorpusSummary(t *testing.T) {
	c := CorpusConfig{Solve: 4000, Verify: 48000, Prompts: []string{"P1", "P2"}, Check: CheckExplicit}
	if got, want := c.Summary(), "4000 solve + 48000 verify (P1+P2, explicit check)"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	c = CorpusConfig{Solve: 10, Verify: 5, Prompts: []string{"P2"}, Drill: 7, Lookup: 3}
	if got, want := c.Summary(), "10 solve + 5 verify (P2, steps check) + 7 drill + 3 lookup"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}
