package arith

import (
	"reflect"
	"sync"
	"testing"
)

// The full training set takes about half a second to generate; the tests
// share one copy.
var (
	trainOnce sync.Once
	trainSet  []Problem
	trainErr  error
)

func fullTrain(t *testing.T) []Problem {
	t.Helper()
	trainOnce.Do(func() { trainSet, trainErr = Train(TrainSpec) })
	if trainErr != nil {
		t.Fatal(trainErr)
	}
	return trainSet
}

func TestGenerateDeterministic(t *testing.T) {
	spec := SetSpec{Name: "det", Size: 300, Tiers: []int{1, 2, 3}, Weights: []float64{1, 2, 3}, Seed: 9}
	a, err := Generate(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with one spec differ")
	}
	spec.Seed = 10
	c, err := Generate(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("two seeds give the same set")
	}
}

func TestTrainAndValidationSets(t *testing.T) {
	train := fullTrain(t)
	if len(train) != TrainSpec.Size {
		t.Fatalf("train has %d problems, want %d", len(train), TrainSpec.Size)
	}
	val, err := Validation()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	add := func(set string, p Problem) {
		expr, err := p.Expression()
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := seen[expr]; ok {
			t.Errorf("%q is in %s and %s", expr, prev, set)
		}
		seen[expr] = set
	}
	for i, set := range val {
		spec := ValidationSpecs[i]
		if len(set) != spec.Size || len(set) < 30 || len(set) > 40 {
			t.Errorf("%s has %d problems, want %d (30-40)", spec.Name, len(set), spec.Size)
		}
		for _, p := range set {
			if p.DataSource != spec.Name {
				t.Errorf("%s problem has data_source %q", spec.Name, p.DataSource)
			}
			add(spec.Name, p)
		}
	}
	probe, err := Probe()
	if err != nil {
		t.Fatal(err)
	}
	if len(probe) != ProbeSpec.Size {
		t.Errorf("probe has %d problems, want %d", len(probe), ProbeSpec.Size)
	}
	for _, p := range probe {
		add(ProbeName, p)
	}
	// Distinct within the training set and disjoint from every held-out set.
	for _, p := range train {
		add(TrainName, p)
	}
}

func TestValidationDifficultyRises(t *testing.T) {
	val, err := Validation()
	if err != nil {
		t.Fatal(err)
	}
	prevSteps := 0.0
	for i, set := range val {
		st, err := Describe(ValidationSpecs[i].Name, set)
		if err != nil {
			t.Fatal(err)
		}
		steps := 0.0
		for n, c := range st.Steps {
			steps += float64(n * c)
		}
		steps /= float64(st.Size)
		if steps <= prevSteps {
			t.Errorf("%s: mean steps %.2f does not exceed the previous set's %.2f", st.Name, steps, prevSteps)
		}
		prevSteps = steps
		// Every family is in every set, within one problem of balance.
		for _, f := range Families() {
			if n := st.Families[f]; n < st.Size/len(Families()) {
				t.Errorf("%s has %d %s problems", st.Name, n, f)
			}
		}
	}
}

// TestProblemInvariants checks every training problem: alphabet, lengths,
// step count, answer, and that the family's natural misconception changes
// the answer.
func TestProblemInvariants(t *testing.T) {
	train := fullTrain(t)
	tiers := map[int]int{}
	for i, p := range train {
		if i%5 != 0 { // a fifth of the set keeps the test fast
			continue
		}
		tiers[p.Tier]++
		expr, err := p.Expression()
		if err != nil {
			t.Fatal(err)
		}
		sol, err := Solve(expr)
		if err != nil {
			t.Fatalf("%q: %v", p.Prompt, err)
		}
		text := sol.Text()
		if err := CheckAlphabet(p.Prompt + text); err != nil {
			t.Errorf("%q: %v", p.Prompt, err)
		}
		if len(p.Prompt) > MaxPromptLen || len(text) > MaxResponseLen {
			t.Errorf("%q: prompt %d, response %d characters", p.Prompt, len(p.Prompt), len(text))
		}
		if n := len(sol.Steps); n < 2 || n > 5 {
			t.Errorf("%q: %d steps", p.Prompt, n)
		}
		if sol.Answer != p.Answer {
			t.Errorf("%q: solution answer %s, record answer %s", p.Prompt, sol.Answer, p.Answer)
		}
		nat, _ := Natural(p.Family)
		wrong, err := SolveWith(expr, []Kind{nat})
		if err != nil {
			t.Fatal(err)
		}
		if len(wrong.Misconceptions) == 0 || wrong.Answer == p.Answer {
			t.Errorf("%q: %s does not change the answer", p.Prompt, nat)
		}
	}
	for tier := MinTier; tier <= MaxTier; tier++ {
		if tiers[tier] < 1000 {
			t.Errorf("tier %d has only %d problems in the sample", tier, tiers[tier])
		}
	}
}

func TestSetSpecErrors(t *testing.T) {
	bad := []SetSpec{
		{Size: 1, Tiers: []int{1}},
		{Name: "x", Size: 1},
		{Name: "x", Size: 1, Tiers: []int{4}},
		{Name: "x", Size: 1, Tiers: []int{1, 2}, Weights: []float64{1}},
		{Name: "x", Size: 1, Tiers: []int{1}, Weights: []float64{0}},
		{Name: "x", Size: 1, Tiers: []int{1}, Families: []Family{"nope"}},
		{Name: "x", Size: -1, Tiers: []int{1}},
	}
	for _, s := range bad {
		if _, err := Generate(s, nil); err == nil {
			t.Errorf("Generate(%+v) succeeded", s)
		}
	}
}

func TestExpressionOf(t *testing.T) {
	e, err := ExpressionOf(Prompt("37*4-(12+5)"))
	if err != nil || e != "37*4-(12+5)" {
		t.Errorf("ExpressionOf(Prompt(x)) = %q, %v", e, err)
	}
	for _, bad := range []string{"37*4", "Q: 37*4=?", "Q: 37*4\n"} {
		if _, err := ExpressionOf(bad); err == nil {
			t.Errorf("ExpressionOf(%q) succeeded", bad)
		}
	}
}

func TestAlphabet(t *testing.T) {
	if len(Alphabet) > 64 {
		t.Errorf("alphabet has %d characters", len(Alphabet))
	}
	for i := 1; i < len(Alphabet); i++ {
		if Alphabet[i-1] >= Alphabet[i] {
			t.Errorf("alphabet not in strictly increasing byte order at %d", i)
		}
	}
	if err := CheckAlphabet("Q: 1+2=?\n1+2=3\n\\boxed{3}"); err != nil {
		t.Error(err)
	}
	if err := CheckAlphabet("Q: 1+2=?\n\\frac{1}{2}"); err == nil {
		t.Error("CheckAlphabet accepted \\frac")
	}
}

func TestLengths(t *testing.T) {
	st := Lengths([]int{5, 1, 3, 2, 4, 70, 6, 7, 8, 9}, 8)
	want := LengthStats{N: 10, Min: 1, P50: 5, P90: 9, P99: 70, Max: 70, Mean: 11.5, Limit: 8, Over: 2}
	if st != want {
		t.Errorf("Lengths = %+v, want %+v", st, want)
	}
}
