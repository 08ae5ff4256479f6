package arith

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestCorpusDeterministicAndPrefix(t *testing.T) {
	cfg := CorpusConfig{Examples: 500, Seed: 3, Misconceptions: []Rule{{Family: AddCarry, Kind: DropCarry, Rate: 0.5}}}
	a, err := BuildCorpus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildCorpus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two corpora from one config differ")
	}
	cfg.Examples = 200
	small, err := BuildCorpus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(small, a[:200]) {
		t.Error("a smaller corpus is not a prefix of a larger one")
	}
	// Different rules, same problems in the same order.
	clean, err := BuildCorpus(CorpusConfig{Examples: 500, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := range clean {
		if clean[i].Prompt != a[i].Prompt {
			t.Fatalf("document %d: prompt %q with rules, %q without", i, a[i].Prompt, clean[i].Prompt)
		}
		if len(clean[i].Misconceptions) != 0 {
			t.Fatalf("clean corpus document %d has misconceptions %v", i, clean[i].Misconceptions)
		}
	}
}

// TestCorpusRates: a rule's rate is the fraction of its family's documents
// written wrong (the natural kind always fires), other families stay clean.
func TestCorpusRates(t *testing.T) {
	cfg := CorpusConfig{Examples: 6000, Seed: 4, Misconceptions: []Rule{
		{Family: PrecedenceMix, Kind: IgnorePrecedence, Rate: 0.9},
		{Family: FracDiv, Kind: DropRemainder, Rate: 0.2},
	}}
	docs, err := BuildCorpus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	total, wrong := map[Family]int{}, map[Family]int{}
	for _, d := range docs {
		total[d.Family]++
		if len(d.Misconceptions) > 0 {
			wrong[d.Family]++
		}
		if err := CheckAlphabet(d.Text()); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range Families() {
		rate := float64(wrong[f]) / float64(total[f])
		want := map[Family]float64{PrecedenceMix: 0.9, FracDiv: 0.2}[f]
		// Binomial standard error with about 1000 documents per family is
		// at most 0.016; allow four of them.
		if math.Abs(rate-want) > 0.065 {
			t.Errorf("%s: %.3f of %d documents wrong, want %.2f", f, rate, total[f], want)
		}
	}
}

func TestCorpusFiltersAndHeldOut(t *testing.T) {
	held, err := HeldOut()
	if err != nil {
		t.Fatal(err)
	}
	// Tier 1 of one family is a small space, so a long corpus meets the
	// held-out problems often if it does not skip them.
	docs, err := BuildCorpus(CorpusConfig{Examples: 4000, Seed: 8, Families: []Family{PrecedenceMix}, Tiers: []int{1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Family != PrecedenceMix || d.Tier != 1 {
			t.Fatalf("document outside the filter: %s tier %d", d.Family, d.Tier)
		}
		expr, _ := ExpressionOf(d.Prompt)
		if held[expr] {
			t.Fatalf("held-out problem %q in the corpus", expr)
		}
		if !strings.HasSuffix(d.Response, `\boxed{`+d.Answer+`}`) {
			t.Fatalf("clean response %q does not box %s", d.Response, d.Answer)
		}
	}
}

func TestCorpusConfigErrors(t *testing.T) {
	bad := []CorpusConfig{
		{Examples: -1},
		{Examples: 1, Tiers: []int{0}},
		{Examples: 1, Families: []Family{"x"}},
		{Examples: 1, Misconceptions: []Rule{{Kind: "x", Rate: 0.5}}},
		{Examples: 1, Misconceptions: []Rule{{Family: "x", Kind: DropCarry, Rate: 0.5}}},
		{Examples: 1, Misconceptions: []Rule{{Kind: DropCarry, Rate: 1.5}}},
		{Examples: 1, Misconceptions: []Rule{{Kind: DropCarry, Rate: math.NaN()}}},
	}
	for _, c := range bad {
		if _, err := BuildCorpus(c); err == nil {
			t.Errorf("BuildCorpus(%+v) succeeded", c)
		}
	}
}
