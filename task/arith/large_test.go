package arith

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestLargeSetsAreShippedAndHeldOut(t *testing.T) {
	sets, err := Large()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	held, err := HeldOut()
	if err != nil {
		t.Fatal(err)
	}
	train, err := Train(TrainSpec)
	if err != nil {
		t.Fatal(err)
	}
	trainExprs := expressions(train)
	seen := map[string]bool{}
	for i, set := range sets {
		spec := LargeSpecs[i]
		total += len(set)
		for _, p := range set {
			e := exprOf(p)
			if held[e] || trainExprs[e] || seen[e] {
				t.Fatalf("%s: %s is also in a training, validation or earlier large set", spec.Name, p.Prompt)
			}
			seen[e] = true
			if p.Tier != spec.Tiers[0] || p.DataSource != spec.Name {
				t.Fatalf("%s: problem %+v", spec.Name, p)
			}
		}
	}
	if total < 500 {
		t.Errorf("%d large held-out problems, want at least 500", total)
	}
}

// The shipped files are what GenerateLarge draws (it builds the suite's
// pretraining corpora to leave their problems out, so it takes seconds).
func TestLargeSetsRegenerate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 324,000 pretraining documents")
	}
	shipped, err := Large()
	if err != nil {
		t.Fatal(err)
	}
	again, err := GenerateLarge()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shipped, again) {
		t.Fatal("datasets/arith's large sets differ from GenerateLarge; run urlvr world gen")
	}
	docs, err := BuildCorpus(CorpusConfig{Examples: 20000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs[:2000] {
		e, _ := ExpressionOf(d.Prompt)
		for _, set := range shipped {
			if slices.ContainsFunc(set, func(p Problem) bool { return exprOf(p) == e }) {
				t.Fatalf("pretraining problem %s is in a large set", e)
			}
		}
	}
}

func TestSplit(t *testing.T) {
	for _, name := range SplitNames() {
		if name == "train" {
			continue
		}
		set, err := Split(name)
		if err != nil || len(set) == 0 {
			t.Errorf("Split(%s): %d problems, %v", name, len(set), err)
		}
	}
	if set, err := Split("large-hard"); err != nil || set[0].DataSource != LargeHard {
		t.Errorf("large-hard: %v", err)
	}
	if _, err := Split("large"); err == nil || !strings.Contains(err.Error(), "large-easy") {
		t.Errorf("unknown split: %v", err)
	}
}
