package experiment

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/report"
)

func TestTTTStudyRunsEverySizeAndTheTestSet(t *testing.T) {
	models := tinyModels(t, 7)
	out := t.TempDir()
	var finished []string
	o := TTTOptions{
		Options: Options{Out: out, Overrides: append([]string{"model.base=" + models[0]}, tinyOverrides...), Jobs: 2,
			Progress: func(e Event) {
				if e.Kind == RunFinished {
					finished = append(finished, e.Run)
				}
			}},
		Sizes:    []int{2, 8},
		TestSets: []string{"world:val-hard"},
	}
	rep, err := RunTTT(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(finished) != 3 {
		t.Fatalf("finished runs %v, want 3", finished)
	}
	var runs []string
	for _, r := range rep.Results {
		runs = append(runs, r.Run)
	}
	if !reflect.DeepEqual(runs, []string{"subset-2", "subset-8", "test-time-val-hard"}) {
		t.Fatalf("runs %v", runs)
	}
	// 3 steps of batch 4: 6 epochs of 2 problems, 1.5 of 8; the test-time
	// run trains on all 30 val-hard problems and validates on them too.
	for i, want := range []struct {
		problems int
		epochs   float64
		testTime bool
		sets     []string
	}{{2, 6, false, []string{"val-mid"}}, {8, 1.5, false, []string{"val-mid"}}, {30, 0.4, true, []string{"val-hard", "val-mid"}}} {
		r := rep.Results[i]
		var sets []string
		for _, s := range r.Sets {
			sets = append(sets, s.Name)
		}
		if r.Problems != want.problems || !near(r.Epochs, want.epochs) || r.TestTime != want.testTime || !reflect.DeepEqual(sets, want.sets) {
			t.Errorf("%s: problems %d, epochs %v, test time %v, sets %v; want %+v", r.Run, r.Problems, r.Epochs, r.TestTime, sets, want)
		}
		if r.Steps != 3 || len(r.Validation) != 3 || r.Validation[2].Step != 3 || r.Metric != "avg@4" {
			t.Errorf("%s: steps %d, validations %+v", r.Run, r.Steps, r.Validation)
		}
	}
	if rows := readJSONL(t, filepath.Join(out, ResultsFile)); len(rows) != 3 || rows[2]["train"] != "world:val-hard" {
		t.Errorf("results.jsonl %v", rows)
	}
	table, err := os.ReadFile(filepath.Join(out, ResultsTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| subset-2 | world:val-easy | 2 | 6.0 |", "| test-time-val-hard | world:val-hard | 30 | 0.4 |", "| run | val-mid | val-hard |"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("results.md lacks %q:\n%s", want, table)
		}
	}
	for _, name := range []string{"validation", "ground_truth_reward", "proxy_reward", "reward_accuracy", "kl"} {
		for _, ext := range []string{".png", ".svg"} {
			if st, err := os.Stat(filepath.Join(out, PlotsDir, name+ext)); err != nil || st.Size() == 0 {
				t.Errorf("plot %s%s: %v", name, ext, err)
			}
		}
	}
	if _, err := RunTTT(context.Background(), TTTOptions{Options: Options{Out: t.TempDir(), Overrides: []string{"data.subset=4"}}, Sizes: []int{2}}); err == nil || !strings.Contains(err.Error(), "the study sets") {
		t.Errorf("--set data.subset: %v, want a refusal", err)
	}
	if _, err := RunTTT(context.Background(), TTTOptions{Options: Options{Out: t.TempDir()}, Sizes: []int{4, 4}}); err == nil {
		t.Error("a size given twice was accepted")
	}
	if _, err := RunTTT(context.Background(), TTTOptions{Options: Options{Out: t.TempDir()}}); err == nil {
		t.Error("a study without runs was accepted")
	}
}

func TestSmoothIsATrailingMean(t *testing.T) {
	got := smooth(report.Series{Name: "x", Steps: []float64{1, 2, 3, 4}, Values: []float64{1, 3, 5, 10}}, 2)
	// Means of [1], [1 3], [3 5], [5 10].
	want := []float64{1, 2, 4, 7.5}
	for i := range want {
		if !near(got.Values[i], want[i]) {
			t.Fatalf("smoothed %v, want %v", got.Values, want)
		}
	}
}
