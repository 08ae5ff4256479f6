package experiment

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/metrics"
)

func TestMajKRowsByHand(t *testing.T) {
	// Problem 1, base samples A A B (A right): maj@1 = 2/3, maj@2 = 2/3
	// (one {A,A} and two ties), maj@3 = 1. Problem 2, base B B A (A right):
	// maj@1 = 1/3, maj@2 = (0 + 0.5 + 0.5)/3 = 1/3, maj@3 = 0. Trained
	// samples: 3 of 3 right and 1 of 3: avg 2/3 at every k.
	base := []metrics.Samples{
		{Classes: []int{0, 0, 1}, Correct: []float64{1, 1, 0}},
		{Classes: []int{1, 1, 0}, Correct: []float64{0, 0, 1}},
	}
	trained := []metrics.Samples{
		{Classes: []int{0, 0, 0}, Correct: []float64{1, 1, 1}},
		{Classes: []int{0, 1, 1}, Correct: []float64{1, 0, 0}},
	}
	rows, err := majKRows("s", base, trained, []int{1, 2, 3}, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantMaj := []float64{0.5, 0.5, 0.5}
	for i, r := range rows {
		if r.K != i+1 || r.Problems != 2 || math.Abs(r.BaseMaj.Mean-wantMaj[i]) > 1e-12 || math.Abs(r.TrainedAvg.Mean-2.0/3) > 1e-12 || math.Abs(r.BaseAvg.Mean-0.5) > 1e-12 {
			t.Errorf("k=%d: %+v", i+1, r)
		}
		if r.BaseMaj.CI.Lo > r.BaseMaj.Mean || r.BaseMaj.CI.Hi < r.BaseMaj.Mean {
			t.Errorf("k=%d: interval %+v", i+1, r.BaseMaj.CI)
		}
	}
	// maj@3 per problem is 1 and 0: the bootstrap interval spans [0, 1].
	if ci := rows[2].BaseMaj.CI; ci.Lo != 0 || ci.Hi != 1 {
		t.Errorf("maj@3 interval %+v, want [0, 1]", ci)
	}
	if _, err := majKRows("s", base, trained[:1], []int{1}, 100, 1); err == nil {
		t.Error("mismatched problem counts accepted")
	}
}

func TestRunMajKSamplesOnceAndWritesTheTable(t *testing.T) {
	models, err := basemodel.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	o := MajKOptions{Out: out, Base: models[0], Trained: models[len(models)-1], Sets: []string{"world:val-easy"},
		Samples: 8, Draws: 50, Temperature: 1, MaxNew: 24, Seed: 3}
	rep, err := RunMajK(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	// k = 1, 2, 4, 8.
	if len(rep.Rows) != 4 || rep.Rows[3].K != 8 {
		t.Fatalf("rows %+v", rep.Rows)
	}
	// maj@1 is avg@n exactly: one sample's correctness, averaged.
	if math.Abs(rep.Rows[0].BaseMaj.Mean-rep.Rows[0].BaseAvg.Mean) > 1e-12 {
		t.Errorf("maj@1 %v != avg %v", rep.Rows[0].BaseMaj.Mean, rep.Rows[0].BaseAvg.Mean)
	}
	table, err := os.ReadFile(filepath.Join(out, ResultsTable))
	if err != nil || !strings.Contains(string(table), "| val-easy |") {
		t.Errorf("results.md (%v):\n%s", err, table)
	}
	// A rerun reads the saved samples: same rows.
	samples := filepath.Join(out, "samples", "base-val-easy.json")
	st, err := os.Stat(samples)
	if err != nil {
		t.Fatal(err)
	}
	again, err := RunMajK(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(samples)
	if !st2.ModTime().Equal(st.ModTime()) || again.Rows[3] != rep.Rows[3] {
		t.Errorf("rerun resampled or changed: %+v vs %+v", again.Rows[3], rep.Rows[3])
	}
	for _, bad := range []MajKOptions{
		{Out: t.TempDir(), Base: models[0], Trained: models[0], Sets: []string{"world:val-easy"}, Samples: 4, Draws: 10, MaxNew: 8, Ks: []int{8}},
		{Out: t.TempDir(), Base: t.TempDir(), Trained: models[0], Sets: []string{"world:val-easy"}, Samples: 4, Draws: 10, MaxNew: 8},
		{Out: t.TempDir(), Base: models[0], Trained: models[0], Samples: 4, Draws: 10, MaxNew: 8},
	} {
		if _, err := RunMajK(context.Background(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
