package grade

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGrade(t *testing.T) {
	tests := []struct {
		name, response, gold string
		correct              bool
		answer               string
		reason               string // a substring of Result.Reason
	}{
		{"boxed fraction vs decimal", `so the answer is \boxed{\frac{1}{2}}`, "0.5", true, `\frac{1}{2}`, "equal"},
		{"last box counts", `\boxed{3} no wait \boxed{4}`, "4", true, "4", "equal"},
		{"last box wrong", `\boxed{4} no wait \boxed{3}`, "4", false, "3", "not equal"},
		{"bare answer", "0.5", `\frac{1}{2}`, true, "0.5", "equal"},
		{"bare answer with dollars", `$\frac{-7}{3}$`, "-7/3", true, `\frac{-7}{3}`, "equal"},
		{"answer tag", "<answer>12</answer>", "12", true, "12", "equal"},
		{"prose fallback", "Adding them up, the answer is 12.", "12", true, "12", "equal"},
		{"no answer in a long solution", strings.Repeat("We compute things.\n", 30), "12", false, "", `no \boxed{}`},
		{"truncated box", `\boxed{\frac{1}{2}`, "0.5", false, "", "unclosed"},
		{"empty box", `\boxed{}`, "0", false, "", "empty"},
		{"gold boxed too", `\boxed{5}`, `\boxed{5}`, true, "5", "equal"},
		{"percent", `\boxed{10\%}`, "0.1", true, `10\%`, "percentage"},
		{"variables", `\boxed{(x+1)^2}`, "x^2+2x+1", true, "(x+1)^2", "random points"},
		{"irrational", `\boxed{2\sqrt{2}}`, `\sqrt{8}`, true, `2\sqrt{2}`, "tolerance"},
		{"multiple choice", `\boxed{\text{(C)}}`, "C", true, `\text{(C)}`, "equal"},
		{"empty gold", `\boxed{5}`, "", false, "5", "empty"},
	}
	g := Default()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := g.Grade(tc.response, tc.gold)
			if r.Correct != tc.correct || r.Answer != tc.answer || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("Grade(%q, %q) = %+v; want correct=%v answer=%q reason containing %q",
					tc.response, tc.gold, r, tc.correct, tc.answer, tc.reason)
			}
		})
	}
}

func TestGradeOptions(t *testing.T) {
	strict := New(Options{StrictBoxed: true})
	if r := strict.Grade("the answer is 5", "5"); r.Correct {
		t.Errorf("StrictBoxed accepted a prose answer: %+v", r)
	}
	if r := strict.Grade("5", "5"); r.Correct {
		t.Errorf("StrictBoxed accepted a bare answer: %+v", r)
	}
	if r := strict.Grade(`\boxed{5}`, "5"); !r.Correct {
		t.Errorf("StrictBoxed rejected a boxed answer: %+v", r)
	}
	noBare := New(Options{NoBareAnswer: true})
	if r := noBare.Grade("5", "5"); r.Correct {
		t.Errorf("NoBareAnswer accepted a bare answer: %+v", r)
	}
	loose := New(Options{RelTol: 1e-2})
	if !loose.Equivalent(`\pi`, "3.14") {
		t.Error("RelTol 1e-2 should accept 3.14 for pi")
	}
	if Default().Equivalent(`\pi`, "3.14") {
		t.Error("the default tolerance should reject 3.14 for pi")
	}
	if got := New(Options{}).Options(); got.RelTol != 1e-6 || got.AbsTol != 1e-9 || got.Points != 6 {
		t.Errorf("defaults = %+v", got)
	}
	// Exact rationals never use the tolerance.
	if loose.Equivalent("1/3", "0.333") {
		t.Error("rationals must compare exactly whatever the tolerance")
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ answer, key string }{
		{"0.5", "1/2"},
		{`\frac{1}{2}`, "1/2"},
		{`\dfrac12`, "1/2"},
		{"-7/3", "-7/3"},
		{`\frac{-7}{3}`, "-7/3"},
		{"1,000", "1000"},
		{"x = 3", "3"},
		{`\{2, 1\}`, "{1,2}"},
		{"[1, 2)", "[1,2)"},
		{"(1,000)", "(1,0)"},
		{"Devon", "text:devon"},
		{"(b)", "B"},
		{"", ""},
		{`\sqrt{4}`, "2"},
		{`2^{10}`, "1024"},
		{"x > 3", "(3,inf)"},
	}
	for _, tc := range tests {
		if got := Key(tc.answer); got != tc.key {
			t.Errorf("Key(%q) = %q, want %q", tc.answer, got, tc.key)
		}
	}
	// Non-canonical answers key by spelling, so spelling differences that
	// normalisation removes still share a key.
	if Key(`\sqrt{2}`) != Key(`$\sqrt{2}$`) || Key(`\sqrt{2}`) == Key(`\sqrt{3}`) {
		t.Errorf("irrational keys: %q %q %q", Key(`\sqrt{2}`), Key(`$\sqrt{2}$`), Key(`\sqrt{3}`))
	}
}

func TestClasses(t *testing.T) {
	g := Default()
	answers := []string{"12", `\frac{24}{2}`, "", "13", `2\sqrt{3}`, `\sqrt{12}`, "12.0", "x=13", "  ", `\boxed{}`, "3.4641016"}
	p := g.Classes(answers)
	wantClass := []int{0, 0, -1, 1, 2, 2, 0, 1, -1, -1, 2}
	if !slices.Equal(p.Class, wantClass) {
		t.Errorf("Class = %v, want %v", p.Class, wantClass)
	}
	if !slices.Equal(p.Rep, []string{"12", "13", `2\sqrt{3}`}) {
		t.Errorf("Rep = %q", p.Rep)
	}
	if !slices.Equal(p.Size, []int{3, 2, 3}) {
		t.Errorf("Size = %v", p.Size)
	}
	// Deterministic: the same input gives the same partition.
	for range 3 {
		q := g.Classes(answers)
		if !slices.Equal(q.Class, p.Class) || !slices.Equal(q.Rep, p.Rep) || !slices.Equal(q.Size, p.Size) {
			t.Fatalf("Classes is not deterministic: %+v vs %+v", q, p)
		}
	}
	if p := g.Classes(nil); len(p.Class) != 0 || len(p.Rep) != 0 {
		t.Errorf("Classes(nil) = %+v", p)
	}
}

// TestClassesAgreeWithEquivalent checks the partition against all-pairs
// comparison on answers from the pair table: members of one class are
// equivalent to its representative, and an answer that starts a class is
// equivalent to no earlier representative.
func TestClassesAgreeWithEquivalent(t *testing.T) {
	g := Default()
	var answers []string
	for _, group := range []string{"fractions", "roots", "percent", "sets", "plus-minus", "equations", "text answers", "multiple choice"} {
		for _, p := range equivalencePairs[group] {
			answers = append(answers, p.a, p.b)
		}
	}
	part := g.Classes(answers)
	firstOf := map[int]int{}
	for i, a := range answers {
		c := part.Class[i]
		if c < 0 {
			if strings.TrimSpace(a) != "" {
				t.Errorf("%q got class -1", a)
			}
			continue
		}
		if _, seen := firstOf[c]; !seen {
			firstOf[c] = i
			if part.Rep[c] != a {
				t.Errorf("class %d rep %q, want its first member %q", c, part.Rep[c], a)
			}
			for j := 0; j < c; j++ {
				if g.Equivalent(a, part.Rep[j]) {
					t.Errorf("%q started class %d but is equivalent to class %d's rep %q", a, c, j, part.Rep[j])
				}
			}
			continue
		}
		if !g.Equivalent(a, part.Rep[c]) {
			t.Errorf("%q is in class %d but not equivalent to its rep %q", a, c, part.Rep[c])
		}
	}
	total := 0
	for _, s := range part.Size {
		total += s
	}
	nonEmpty := 0
	for _, c := range part.Class {
		if c >= 0 {
			nonEmpty++
		}
	}
	if total != nonEmpty {
		t.Errorf("sizes sum to %d, want %d", total, nonEmpty)
	}
}

// TestKeySoundness checks on the pair table that answers whose keys are
// equal are equivalent, and that answers with different canonical keys are
// never equal by tree comparison: the two facts Classes relies on to skip
// comparisons. Answers are sorted so that similar spellings sit close, and
// each is checked against its 60 neighbours.
func TestKeySoundness(t *testing.T) {
	g := Default()
	var answers []string
	for _, pairs := range equivalencePairs {
		for _, p := range pairs {
			answers = append(answers, p.a, p.b)
		}
	}
	slices.Sort(answers)
	answers = slices.Compact(answers)
	forms := make([]form, len(answers))
	for i, a := range answers {
		forms[i] = analyze(a, newWork())
	}
	checked := 0
	for i := range answers {
		for j := i + 1; j < len(answers) && j <= i+60; j++ {
			fi, fj := forms[i], forms[j]
			if fi.empty || fj.empty {
				continue
			}
			if fi.key == fj.key && !g.Equivalent(answers[i], answers[j]) {
				t.Errorf("%q and %q share key %q but are not equivalent", answers[i], answers[j], fi.key)
			}
			if fi.canonical && fj.canonical && fi.key != fj.key && fi.tree != nil && fj.tree != nil {
				checked++
				if newComparer(g.opts, newWork()).equal(fi.tree, fj.tree) {
					t.Errorf("%q and %q have different canonical keys %q, %q but compare equal", answers[i], answers[j], fi.key, fj.key)
				}
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d canonical pairs checked", checked)
	}
}

// TestConcurrentUse runs the shared default grader from several goroutines
// (run with -race to check for data races).
func TestConcurrentUse(t *testing.T) {
	g := Default()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i, p := range typicalPairs {
				r := g.Grade(p[0], p[1])
				want := i != 3 // the one wrong pair
				if r.Correct != want {
					t.Errorf("worker %d: Grade(%q, %q) = %+v", w, p[0], p[1], r)
				}
			}
			g.Classes([]string{"1", "1.0", `\sqrt{2}`, "x+1"})
		})
	}
	wg.Wait()
}

// TestAdversarialBounded checks that 10 KB adversarial answers are decided
// quickly and never equal a plain number. The limit is loose because test
// machines are shared (a slow run is retried); BenchmarkWorstCase reports
// the real figure.
func TestAdversarialBounded(t *testing.T) {
	g := Default()
	adv := adversarialAnswers()
	const limit = 25 * time.Millisecond // CPU time
	timed := func(f func()) time.Duration {
		if d := minTime(1, f); d < limit {
			return d
		}
		return minTime(3, f)
	}
	for name, s := range adv {
		if d := timed(func() {
			if g.Equivalent(s, "5") {
				t.Errorf("%s: equal to 5", name)
			}
		}); d > limit {
			t.Errorf("%s: comparison with 5 took %v", name, d)
		}
		if d := timed(func() { g.Equivalent(s, s+"1") }); d > limit {
			t.Errorf("%s: comparison with a variant took %v", name, d)
		}
	}
	if d := timed(func() { g.Equivalent(adv["surd set"], adv["surd set reversed"]) }); d > limit {
		t.Errorf("surd sets: comparison took %v", d)
	}
	// Many adversarial answers in one vote stay bounded too.
	var many []string
	for _, s := range adv {
		many = append(many, s, s+"1")
	}
	if d := timed(func() { g.Classes(many) }); d > time.Duration(len(many))*limit/4 {
		t.Errorf("Classes of %d adversarial answers took %v", len(many), d)
	}
}

func TestTowerIsNotEqual(t *testing.T) {
	g := Default()
	for _, other := range []string{`10^{10^{10}}+1`, `10^{10^{11}}`, `\infty`, "0", `10^{10^{10}}-1`} {
		if g.Equivalent(`10^{10^{10}}`, other) {
			t.Errorf("10^{10^{10}} equal to %q", other)
		}
	}
	if !g.Equivalent(`10^{10^{10}}`, `10^{ 10^{10} }`) {
		t.Error("10^{10^{10}} should equal its own respelling")
	}
}

func ExampleGrader_Grade() {
	g := Default()
	r := g.Grade(`Adding the halves gives $\boxed{\dfrac{1}{2}}$.`, "0.5")
	fmt.Println(r.Correct, r.Answer)
	r = g.Grade(`The answer is \boxed{[1,2]}`, "[1,2)")
	fmt.Println(r.Correct, r.Reason)
	// Output:
	// true \dfrac{1}{2}
	// false not equal: [1,2] vs [1,2)
}

func ExampleGrader_Classes() {
	p := Default().Classes([]string{"0.5", `\frac{1}{2}`, "", "2", "1/2"})
	fmt.Println(p.Class, p.Rep, p.Size)
	// Output: [0 0 -1 1 0] [0.5 2] [3 1]
}

func ExampleKey() {
	fmt.Println(Key(`\frac{2}{4}`), Key("0.50"), Key(`\{3, 1, 2\}`), Key(`\text{Yes}`))
	// Output: 1/2 1/2 {1,2,3} text:yes
}

func ExampleExtractBoxed() {
	a, err := ExtractBoxed(`First \boxed{1}, then finally \boxed{\frac{3}{4}}.`)
	fmt.Println(a, err)
	_, err = ExtractBoxed(`the answer is \boxed{\frac{3}{4}`)
	fmt.Println(err)
	// Output:
	// \frac{3}{4} <nil>
	// no answer: unclosed \boxed{ at byte 14 (truncated response?)
}
