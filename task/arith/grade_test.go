package arith

import (
	"math/rand/v2"
	"testing"

	"github.com/urlvr/urlvr/grade"
)

// TestGraderAgrees: with the real grader, every correct solution is graded
// correct and every solution written with a misconception is graded wrong,
// on every validation problem, a sample of training problems under every
// kind, and a corpus with many rules.
func TestGraderAgrees(t *testing.T) {
	g := grade.Default()
	check := func(where string, expr, gold string, kinds []Kind) (wrong bool) {
		t.Helper()
		sol, err := SolveWith(expr, kinds)
		if err != nil {
			t.Fatalf("%s %q: %v", where, expr, err)
		}
		res := g.Grade(sol.Text(), gold)
		if len(sol.Misconceptions) == 0 && !res.Correct {
			t.Errorf("%s %q: correct solution graded wrong (%s): %q vs %q", where, expr, res.Reason, res.Answer, gold)
		}
		if len(sol.Misconceptions) > 0 && res.Correct {
			t.Errorf("%s %q: solution with %v graded correct: %q vs %q", where, expr, sol.Misconceptions, res.Answer, gold)
		}
		return len(sol.Misconceptions) > 0
	}
	val, err := Validation()
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range val {
		for _, p := range set {
			expr, _ := p.Expression()
			nat, _ := Natural(p.Family)
			check(p.DataSource, expr, p.Answer, nil)
			if !check(p.DataSource, expr, p.Answer, []Kind{nat}) {
				t.Errorf("%s %q: natural misconception %s did not fire", p.DataSource, expr, nat)
			}
		}
	}
	train := fullTrain(t)
	fired := map[Kind]int{}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < len(train); i += 7 {
		p := train[i]
		expr, _ := p.Expression()
		check("train", expr, p.Answer, nil)
		k := Kinds()[rng.IntN(len(Kinds()))]
		if check("train", expr, p.Answer, []Kind{k}) {
			fired[k]++
		}
	}
	// Each kind fires on enough sampled problems for the check to mean
	// something (double-negative has the fewest triggers: only neg-sub
	// problems with a negative literal).
	for _, k := range Kinds() {
		if fired[k] < 10 {
			t.Errorf("%s fired on only %d sampled training problems", k, fired[k])
		}
	}
	docs, err := BuildCorpus(CorpusConfig{Examples: 3000, Seed: 5, Misconceptions: []Rule{
		{Kind: DropCarry, Rate: 0.3}, {Kind: SignSlip, Rate: 0.3}, {Kind: IgnorePrecedence, Rate: 0.3},
		{Kind: DropParens, Rate: 0.3}, {Kind: DropRemainder, Rate: 0.3}, {Kind: MulDropCarry, Rate: 0.3},
		{Kind: DoubleNegative, Rate: 0.3}, {Kind: SmallerFromLarger, Rate: 0.3},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		res := g.Grade(d.Response, d.Answer)
		if res.Correct != (len(d.Misconceptions) == 0) {
			t.Errorf("corpus %q with %v graded correct=%v", d.Text(), d.Misconceptions, res.Correct)
		}
	}
}

// TestAnswerFormsGrade: the grader reads every answer form the world writes
// (integers, negatives, fractions, negative fractions) and tells them apart.
func TestAnswerFormsGrade(t *testing.T) {
	g := grade.Default()
	for _, a := range []string{"131", "-12", "7/2", "-7/2", "0", "1008"} {
		if r := g.Grade(`12+5=17\n\boxed{`+a+`}`, a); !r.Correct {
			t.Errorf("\\boxed{%s} vs %s graded wrong: %s", a, a, r.Reason)
		}
	}
	for _, pair := range [][2]string{{"7/2", "-7/2"}, {"7/2", "3"}, {"131", "13"}, {"-12", "12"}} {
		if r := g.Grade(`\boxed{`+pair[0]+`}`, pair[1]); r.Correct {
			t.Errorf("\\boxed{%s} vs %s graded correct", pair[0], pair[1])
		}
	}
}
