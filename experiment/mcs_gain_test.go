package experiment

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/runlog"
)

// Two sets of two problems, 4 samples each. Start: a=[1,2]/4, b=[0,4]/4;
// step 10: a=[3,2]/4, b=[1,4]/4. The paired differences are
// a: 0.5, 0; b: 0.25, 0 — pooled mean 0.1875, the mean of the sets' avg@4
// gains (0.25 and 0.125), and the strata are the two sets.
func TestPairedDifferencesByHand(t *testing.T) {
	fa, fb := runlog.ProblemsFingerprint([]string{"a1", "a2"}), runlog.ProblemsFingerprint([]string{"b1", "b2"})
	rows := []runlog.ProblemScoresRow{
		{Step: 0, Set: "a", N: 4, Problems: fa, Correct: []int{1, 2}},
		{Step: 0, Set: "b", N: 4, Problems: fb, Correct: []int{0, 4}},
		{Step: 10, Set: "a", N: 4, Problems: fa, Correct: []int{3, 2}},
		{Step: 10, Set: "b", N: 4, Problems: fb, Correct: []int{1, 4}},
	}
	d, sizes, err := pairedDifferences(rows, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 2 || sizes[0] != 2 || sizes[1] != 2 {
		t.Fatalf("set sizes %v, want [2 2]", sizes)
	}
	want := []float64{0.5, 0, 0.25, 0}
	if len(d) != len(want) {
		t.Fatalf("differences %v, want %v", d, want)
	}
	var sum float64
	for i := range want {
		if d[i] != want[i] {
			t.Fatalf("differences %v, want %v", d, want)
		}
		sum += d[i]
	}
	if mean := sum / 4; mean != 0.1875 {
		t.Fatalf("pooled mean %v, want 0.1875", mean)
	}
	if d, _, err := pairedDifferences(rows, 0, 20); err != nil || d != nil {
		t.Fatalf("a step without rows: %v, %v; want nil, nil", d, err)
	}
	rows[3].Problems = "other"
	if _, _, err := pairedDifferences(rows, 0, 10); err == nil {
		t.Fatal("a set with other problems was paired")
	}
}

// The paired interval of a gain that every problem shares is that gain
// exactly, and an interval of mixed gains holds their mean.
func TestPairedGainCIsFromRunFile(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, runlog.ValidationProblemsFile))
	if err != nil {
		t.Fatal(err)
	}
	fp := runlog.ProblemsFingerprint([]string{"p1", "p2", "p3", "p4"})
	for _, r := range []runlog.ProblemScoresRow{
		{Step: 0, Set: "s", N: 2, Problems: fp, Correct: []int{0, 0, 1, 1}},
		{Step: 5, Set: "s", N: 2, Problems: fp, Correct: []int{1, 1, 2, 2}},
		{Step: 10, Set: "s", N: 2, Problems: fp, Correct: []int{2, 0, 1, 2}},
	} {
		if err := runlog.AppendLine(f, r); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	final, best, err := pairedGainCIs(dir, valSummary{StartStep: 0, BestStep: 5, FinalStep: 10})
	if err != nil {
		t.Fatal(err)
	}
	if best == nil || best.Lo != 0.5 || best.Hi != 0.5 {
		t.Fatalf("best-step interval %+v, want [0.5, 0.5]: every problem gained 0.5", best)
	}
	if final == nil || !(final.Lo <= 0.25 && 0.25 <= final.Hi) || final.Lo < -0.001 || final.Hi > 1.001 {
		t.Fatalf("final interval %+v should hold the mean gain 0.25 within [0, 1]", final)
	}
	if math.IsNaN(final.Lo) {
		t.Fatal("NaN interval")
	}
	none, _, err := pairedGainCIs(t.TempDir(), valSummary{})
	if err != nil || none != nil {
		t.Fatalf("a run without the file: %v, %v; want no interval and no error", none, err)
	}
}

// The shipped mild-sft is made from mild (its prior's from:), and
// two-wrong-sft is two-wrong's recipe plus a fine-tuning stage, so the
// pilot pairs both; clean has no aligned variant in the study.
func TestAlignedPairsFromManifests(t *testing.T) {
	names := []string{"clean", "mild", "mild-sft", "two-wrong-sft", "two-wrong"}
	var results []MCSResult
	var runs []*finishedRun
	for _, n := range names {
		results = append(results, MCSResult{Model: n})
		r := &finishedRun{}
		r.cfg.Model.Base = n
		runs = append(runs, r)
	}
	pairs := alignedPairs(results, runs)
	if len(pairs) != 2 || pairs[0] != (alignedPair{base: 1, aligned: 2}) || pairs[1] != (alignedPair{base: 4, aligned: 3}) {
		t.Fatalf("pairs %+v, want mild (1) -> mild-sft (2) and two-wrong (4) -> two-wrong-sft (3)", pairs)
	}
	if md := pilotMarkdown(&MCSReport{Results: results}, pairs); !strings.Contains(md, "| mild → mild-sft |") {
		t.Fatalf("pilot table lacks the pair:\n%s", md)
	}
}

// The interval of the mean over sets resamples within each set: when every
// problem of a set scores the same, the set contributes no spread, so two
// such sets give the exact mean of their means (here (0.5 + 1)/2); a set
// with spread gives an interval around the mean; a step with no rows gives
// none.
func TestMeanOfSetsCIByHand(t *testing.T) {
	fa, fb := runlog.ProblemsFingerprint([]string{"a1", "a2"}), runlog.ProblemsFingerprint([]string{"b1", "b2", "b3"})
	rows := []runlog.ProblemScoresRow{
		{Step: 0, Set: "b", N: 4, Problems: fb, Correct: []int{4, 4, 4}},
		{Step: 0, Set: "a", N: 4, Problems: fa, Correct: []int{2, 2}},
		{Step: 10, Set: "a", N: 4, Problems: fa, Correct: []int{0, 4}},
		{Step: 10, Set: "b", N: 4, Problems: fb, Correct: []int{4, 4, 4}},
	}
	ci, err := meanOfSetsCI(rows, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ci == nil || ci.Lo != 0.75 || ci.Hi != 0.75 {
		t.Fatalf("interval %+v, want [0.75, 0.75]", ci)
	}
	// Step 10: set a resamples to 0, 0.5 or 1 (probabilities 1/4, 1/2,
	// 1/4), set b is always 1, so the mean over sets is 0.5, 0.75 or 1.
	ci, err = meanOfSetsCI(rows, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ci == nil || ci.Lo != 0.5 || ci.Hi != 1 {
		t.Fatalf("interval %+v, want [0.5, 1]", ci)
	}
	if ci, err := meanOfSetsCI(rows, 20); err != nil || ci != nil {
		t.Fatalf("a step without rows: %+v, %v", ci, err)
	}
}
