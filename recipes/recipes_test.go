package recipes

import (
	"errors"
	"os"
	"slices"
	"testing"
)

func TestEveryRecipeFileIsEmbedded(t *testing.T) {
	names := Names()
	if !slices.Contains(names, "ground_truth") || !slices.Contains(names, "default") {
		t.Fatalf("names %v", names)
	}
	for _, n := range names {
		want, err := os.ReadFile(n + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, spelling := range []string{n, n + ".yaml", "recipes/" + n + ".yaml"} {
			got, err := Read(spelling)
			if err != nil || string(got) != string(want) {
				t.Errorf("Read(%q): %v", spelling, err)
			}
		}
		if Summary(n) == "" {
			t.Errorf("recipe %s has no leading comment", n)
		}
	}
	if _, err := Read("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown recipe: %v", err)
	}
	for name, want := range map[string]string{
		"ground_truth": "Supervised RLVR: the oracle reward (the real grader against the gold answer).",
		"ttt":          "Test-time training (paper Sec. 5): the same trainer pointed at a small unlabeled validation set.",
	} {
		if s := Summary(name); s != want {
			t.Errorf("summary of %s %q, want %q", name, s, want)
		}
	}
}
