package experiment

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/train"
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
		Sizes:    []int{2, 0},
		Seeds:    2,
		TestSets: []string{"world:val-hard"},
	}
	rep, err := RunTTT(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(finished) != 4 {
		t.Fatalf("finished runs %v, want 4", finished)
	}
	var runs []string
	for _, r := range rep.Results {
		runs = append(runs, r.Run)
	}
	if !reflect.DeepEqual(runs, []string{"subset-2", "subset-2-seed2", "subset-all", "test-time-val-hard"}) {
		t.Fatalf("runs %v", runs)
	}
	easy, _, err := train.LoadProblems("world:val-easy")
	if err != nil {
		t.Fatal(err)
	}
	// 3 steps of batch 4: 6 epochs of 2 problems; the whole val-easy set
	// 12/len; the test-time run trains on all 30 val-hard problems. Every
	// run validates on the test set too, for the comparison of Fig. 8.
	both := []string{"val-hard", "val-mid"}
	for i, want := range []struct {
		problems int
		epochs   float64
		testTime bool
		size     int
		seed     int
	}{{2, 6, false, 2, 1}, {2, 6, false, 2, 2}, {len(easy), 12 / float64(len(easy)), false, 0, 1}, {30, 0.4, true, 0, 0}} {
		r := rep.Results[i]
		var sets []string
		for _, s := range r.Sets {
			sets = append(sets, s.Name)
			if s.FinalCI == nil || s.FinalCI.Lo > s.Final || s.FinalCI.Hi < s.Final {
				t.Errorf("%s %s: final %v with interval %+v", r.Run, s.Name, s.Final, s.FinalCI)
			}
		}
		if r.Problems != want.problems || !near(r.Epochs, want.epochs) || r.TestTime != want.testTime || !reflect.DeepEqual(sets, both) || r.Size != want.size || r.Seed != want.seed {
			t.Errorf("%s: problems %d, epochs %v, test time %v, sets %v, size %d, seed %d; want %+v", r.Run, r.Problems, r.Epochs, r.TestTime, sets, r.Size, r.Seed, want)
		}
		for _, v := range []struct {
			mean float64
			ci   *metrics.Interval
		}{{r.ValStart, r.ValStartCI}, {r.ValFinal, r.ValFinalCI}} {
			if v.ci == nil || v.ci.Lo > v.mean+1e-12 || v.ci.Hi < v.mean-1e-12 {
				t.Errorf("%s: mean validation %v with interval %+v", r.Run, v.mean, v.ci)
			}
		}
		if r.Steps != 3 || len(r.Validation) != 3 || r.Validation[2].Step != 3 || r.Metric != "avg@4" {
			t.Errorf("%s: steps %d, validations %+v", r.Run, r.Steps, r.Validation)
		}
	}
	// The second seed's run was trained with the shifted seeds.
	c1, err1 := train.LoadConfig(filepath.Join(out, RunsDir, "subset-2", train.ConfigFile), nil)
	c2, err2 := train.LoadConfig(filepath.Join(out, RunsDir, "subset-2-seed2", train.ConfigFile), nil)
	if err1 != nil || err2 != nil || c2.Seed != c1.Seed+1 || c2.Data.SubsetSeed != c1.Data.SubsetSeed+1 {
		t.Errorf("seed 2's recorded config: %v %v, seeds %d/%d vs %d/%d", err1, err2, c2.Seed, c2.Data.SubsetSeed, c1.Seed, c1.Data.SubsetSeed)
	}
	if rows := readJSONL(t, filepath.Join(out, ResultsFile)); len(rows) != 4 || rows[3]["train"] != "world:val-hard" {
		t.Errorf("results.jsonl %v", rows)
	}
	table, err := os.ReadFile(filepath.Join(out, ResultsTable))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| subset-2 | world:val-easy | 2 | 6.0 |", "| test-time-val-hard | world:val-hard | 30 | 0.4 |", "| run | val-hard | val-mid |",
		"| 2 | 2 |", "| whole set | 1 |", "Test-time training on val-hard", "| test-time-val-hard (test-time) | 0."} {
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

func TestTTTPlanSeedsSmallSizesOnly(t *testing.T) {
	got := tttSubsetRuns([]int{32, 512, 2048, 0}, 3)
	want := []tttSubsetRun{
		{"subset-32", 32, 1}, {"subset-32-seed2", 32, 2}, {"subset-32-seed3", 32, 3},
		{"subset-512", 512, 1}, {"subset-512-seed2", 512, 2}, {"subset-512-seed3", 512, 3},
		{"subset-2048", 2048, 1}, {"subset-all", 0, 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan %+v\nwant %+v", got, want)
	}
	runs, err := tttRuns(TTTOptions{Options: Options{Out: t.TempDir(), Overrides: tinyOverrides}, Sizes: []int{4}, Seeds: 2, TestSets: []string{"world:val-hard"}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := runs[0].cfg, runs[1].cfg
	if b.Seed != a.Seed+1 || b.Data.SubsetSeed != a.Data.SubsetSeed+1 || a.Data.Subset != 4 || b.Data.Subset != 4 {
		t.Errorf("seed runs: %d/%d and %d/%d", a.Seed, a.Data.SubsetSeed, b.Seed, b.Data.SubsetSeed)
	}
	if !reflect.DeepEqual(a.Data.Validation, []string{"world:val-mid", "world:val-hard"}) {
		t.Errorf("training-set run validates on %v, want the test set too", a.Data.Validation)
	}
	for _, bad := range []TTTOptions{{Sizes: []int{-1}}, {Sizes: []int{4}, Seeds: -1}} {
		bad.Options = Options{Out: t.TempDir(), Overrides: tinyOverrides}
		if _, err := tttRuns(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := tttRuns(TTTOptions{Options: Options{Out: t.TempDir(), Overrides: append([]string{"seed=3"}, tinyOverrides...)}, Sizes: []int{4}}); err == nil || !strings.Contains(err.Error(), "the study sets") {
		t.Errorf("--set seed: %v", err)
	}
}

func TestSummariseSizesAndCompareTTTByHand(t *testing.T) {
	ci := &metrics.Interval{Lo: 0.2, Hi: 0.6}
	results := []TTTResult{
		{Run: "subset-32", Size: 32, Seed: 1, Collapsed: false, ValStart: 0.3, ValFinal: 0.5, KLEnd: 0.01,
			Sets: []SetResult{{Name: "t", Start: 0.3, Final: 0.4}}},
		{Run: "subset-32-seed2", Size: 32, Seed: 2, Collapsed: true, CollapseStep: 40, ValStart: 0.3, ValFinal: 0.1, KLEnd: 0.03},
		{Run: "subset-all", Size: 0, Seed: 1, Collapsed: true, CollapseStep: 20, ValStart: 0.3, ValFinal: 0.05, KLEnd: 0.2,
			Sets: []SetResult{{Name: "t", Start: 0.3, Final: 0.02}}},
		{Run: "test-time-t", TestTime: true, ValStart: 0.3, ValFinal: 0.6,
			Sets: []SetResult{{Name: "t", Start: 0.3, Final: 0.45, FinalCI: ci}}},
	}
	sizes := summariseSizes(results)
	want := []TTTSize{
		{Size: 32, Runs: 2, Collapsed: 1, MeanCollapseStep: 40, ValFinalMean: 0.3, ValFinalMin: 0.1, ValFinalMax: 0.5, ValStartMean: 0.3, KLEndMean: 0.02},
		{Size: 0, Runs: 1, Collapsed: 1, MeanCollapseStep: 20, ValFinalMean: 0.05, ValFinalMin: 0.05, ValFinalMax: 0.05, ValStartMean: 0.3, KLEndMean: 0.2},
	}
	if len(sizes) != 2 {
		t.Fatalf("sizes %+v", sizes)
	}
	for i := range want {
		g, w := sizes[i], want[i]
		if g.Size != w.Size || g.Runs != w.Runs || g.Collapsed != w.Collapsed || !near(g.MeanCollapseStep, w.MeanCollapseStep) ||
			!near(g.ValFinalMean, w.ValFinalMean) || g.ValFinalMin != w.ValFinalMin || g.ValFinalMax != w.ValFinalMax || !near(g.KLEndMean, w.KLEndMean) || !near(g.ValStartMean, w.ValStartMean) {
			t.Errorf("size %d: %+v, want %+v", w.Size, g, w)
		}
	}
	cmp := compareTTT(results)
	if len(cmp) != 1 || cmp[0].TestSet != "t" || cmp[0].TTT.Final != 0.45 || cmp[0].TTT.FinalCI != ci ||
		len(cmp[0].Train) != 2 || cmp[0].Train[0].Run != "subset-32" || cmp[0].Train[1].Set.Final != 0.02 {
		t.Errorf("comparison %+v", cmp)
	}
}
