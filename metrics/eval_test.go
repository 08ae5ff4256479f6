package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestCorrelationsHandComputed(t *testing.T) {
	cases := []struct {
		name string
		fn   func(x, y []float64) (float64, error)
		x, y []float64
		want float64
	}{
		// dx = (-1.5,-.5,.5,1.5), dy = (-3,-1,0,4): sxy = 11, sxx = 5, syy = 26.
		{"pearson", Pearson, []float64{1, 2, 3, 4}, []float64{2, 4, 5, 9}, 11 / math.Sqrt(130)},
		{"pearson perfect negative", Pearson, []float64{1, 2, 3}, []float64{6, 4, 2}, -1},
		// ranks x = (1, 2.5, 2.5, 4), ranks y = (1, 3, 2, 4): sxy = 4.5, sxx = 4.5, syy = 5.
		{"spearman ties", Spearman, []float64{10, 20, 20, 30}, []float64{1, 3, 2, 4}, 4.5 / math.Sqrt(22.5)},
		// monotone but non-linear: ranks equal.
		{"spearman monotone", Spearman, []float64{1, 2, 3, 4}, []float64{1, 8, 27, 1000}, 1},
		// C = 5, D = 0, one pair tied in x: 5/sqrt(5*6).
		{"kendall tau-b ties", KendallTauB, []float64{10, 20, 20, 30}, []float64{1, 3, 2, 4}, 5 / math.Sqrt(30)},
		{"kendall reversed", KendallTauB, []float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		// pairs of (1,3,2): (1,3) C, (1,2) C, (3,2) D -> (2-1)/3.
		{"kendall one swap", KendallTauB, []float64{1, 2, 3}, []float64{1, 3, 2}, 1.0 / 3},
		// score (1,2,3,4), outcome (0,0,1,1): M1 = 3.5, M0 = 1.5, s = sqrt(1.25),
		// r = 2/sqrt(1.25) * sqrt(2*2)/4 = 0.894427191.
		{"point biserial", PointBiserial, []float64{1, 2, 3, 4}, []float64{0, 0, 1, 1}, 2 / math.Sqrt(1.25) * 0.5},
		{"point biserial constant outcome", PointBiserial, []float64{1, 2, 3}, []float64{1, 1, 1}, 0},
		{"point biserial constant score", PointBiserial, []float64{2, 2, 2}, []float64{0, 1, 1}, 0},
	}
	for _, c := range cases {
		got, err := c.fn(c.x, c.y)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !near(got, c.want, 1e-12) {
			t.Errorf("%s = %.15g, want %.15g", c.name, got, c.want)
		}
	}
}

func TestCorrelationErrors(t *testing.T) {
	for name, fn := range map[string]func(x, y []float64) (float64, error){
		"pearson": Pearson, "spearman": Spearman, "kendall": KendallTauB,
	} {
		if _, err := fn([]float64{1, 1, 1}, []float64{1, 2, 3}); !errors.Is(err, ErrConstant) {
			t.Errorf("%s constant: err = %v, want ErrConstant", name, err)
		}
		if _, err := fn([]float64{1, 2}, []float64{1}); err == nil {
			t.Errorf("%s length mismatch: no error", name)
		}
		if _, err := fn([]float64{1}, []float64{1}); err == nil {
			t.Errorf("%s single observation: no error", name)
		}
		if _, err := fn([]float64{1, math.Inf(1)}, []float64{1, 2}); err == nil {
			t.Errorf("%s infinite value: no error", name)
		}
	}
	if _, err := PointBiserial([]float64{1, 2}, []float64{0, 0.5}); err == nil {
		t.Error("point biserial with non-binary outcome: no error")
	}
}

func TestRanks(t *testing.T) {
	got := Ranks([]float64{3, 1, 3, 2, 3})
	want := []float64{4, 1, 4, 2, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	}
}

// Property: the point-biserial correlation equals Pearson on random data,
// and every coefficient stays in [-1, 1].
func TestCorrelationProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		n := 2 + rng.IntN(30)
		x, y := make([]float64, n), make([]float64, n)
		for i := range n {
			x[i] = float64(rng.IntN(5)) + rng.Float64()*float64(trial%2)
			y[i] = float64(rng.IntN(2))
		}
		pb, err := PointBiserial(x, y)
		if err != nil {
			t.Fatal(err)
		}
		p, perr := Pearson(x, y)
		if perr == nil && !near(pb, p, 1e-12) {
			t.Fatalf("trial %d: point biserial %v != pearson %v", trial, pb, p)
		}
		for _, fn := range []func(x, y []float64) (float64, error){Pearson, Spearman, KendallTauB} {
			if r, err := fn(x, y); err == nil && (r < -1 || r > 1) {
				t.Fatalf("coefficient %v outside [-1, 1]", r)
			}
		}
	}
}

func TestPassAtKHandComputed(t *testing.T) {
	cases := []struct {
		n, c, k int
		want    float64
	}{
		{5, 2, 2, 0.7},       // 1 - C(3,2)/C(5,2) = 1 - 3/10
		{5, 2, 1, 0.4},       // pass@1 = c/n
		{4, 2, 3, 1},         // n - c = 2 < k = 3
		{10, 0, 5, 0},        // nothing correct
		{10, 10, 1, 1},       // everything correct
		{8, 1, 4, 0.5},       // 1 - C(7,4)/C(8,4) = 1 - 35/70
		{6, 3, 2, 1 - 3./15}, // 1 - C(3,2)/C(6,2)
	}
	for _, c := range cases {
		got, err := PassAtK(c.n, c.c, c.k)
		if err != nil {
			t.Errorf("PassAtK(%d,%d,%d): %v", c.n, c.c, c.k, err)
			continue
		}
		if !near(got, c.want, 1e-12) {
			t.Errorf("PassAtK(%d,%d,%d) = %v, want %v", c.n, c.c, c.k, got, c.want)
		}
	}
	for _, bad := range [][3]int{{0, 0, 1}, {5, 6, 1}, {5, -1, 1}, {5, 2, 0}, {5, 2, 6}} {
		if _, err := PassAtK(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("PassAtK%v: no error", bad)
		}
	}
}

// Property: pass@k agrees with the log-gamma binomial form for large n and
// is non-decreasing in k.
func TestPassAtKProperties(t *testing.T) {
	lchoose := func(n, k int) float64 {
		a, _ := math.Lgamma(float64(n + 1))
		b, _ := math.Lgamma(float64(k + 1))
		c, _ := math.Lgamma(float64(n - k + 1))
		return a - b - c
	}
	for _, nc := range [][2]int{{1000, 500}, {256, 3}, {32, 17}, {64, 1}} {
		n, c := nc[0], nc[1]
		series, err := PassAtKSeries(n, c)
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k <= n; k++ {
			if k > 1 && series[k-1] < series[k-2] {
				t.Fatalf("pass@k not monotone at n=%d c=%d k=%d", n, c, k)
			}
			if n-c >= k {
				want := 1 - math.Exp(lchoose(n-c, k)-lchoose(n, k))
				if !near(series[k-1], want, 1e-9) {
					t.Fatalf("pass@%d (n=%d c=%d) = %v, want %v", k, n, c, series[k-1], want)
				}
			}
		}
	}
}

func TestAvgAndMajAtK(t *testing.T) {
	avg, err := AvgAtK([]float64{1, 0, 1, 1})
	if err != nil || avg != 0.75 {
		t.Errorf("AvgAtK = %v, %v; want 0.75", avg, err)
	}
	cases := []struct {
		name    string
		classes []int
		correct []float64
		want    float64
	}{
		{"tie goes to first seen", []int{0, 1, 1, 0, NoAnswer}, []float64{1, 0, 0, 1, 0}, 1},
		{"clear majority wrong", []int{2, 1, 1}, []float64{1, 0, 0}, 0},
		{"no answers count nothing", []int{NoAnswer, NoAnswer, 3}, []float64{0, 0, 1}, 1},
		{"all unanswered", []int{NoAnswer, NoAnswer}, []float64{0, 0}, 0},
		{"later class overtakes", []int{5, 7, 7, 5, 7}, []float64{0, 1, 1, 0, 1}, 1},
	}
	for _, c := range cases {
		got, err := MajAtK(c.classes, c.correct)
		if err != nil || got != c.want {
			t.Errorf("%s: MajAtK = %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	if _, err := MajAtK([]int{0}, []float64{1, 0}); err == nil {
		t.Error("MajAtK length mismatch: no error")
	}
	if _, err := MajAtK([]int{-2}, []float64{1}); err == nil {
		t.Error("MajAtK negative class: no error")
	}
	if _, err := AvgAtK([]float64{0.5}); err == nil {
		t.Error("AvgAtK non-binary: no error")
	}
}

// Property: the majority class does not depend on sample order except for
// ties, and its vote count is the maximum class count.
func TestMajorityClassProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 500 {
		n := 1 + rng.IntN(12)
		classes := make([]int, n)
		counts := map[int]int{}
		for i := range classes {
			classes[i] = rng.IntN(4) - 1
			if classes[i] != NoAnswer {
				counts[classes[i]]++
			}
		}
		best := 0
		for _, c := range counts {
			best = max(best, c)
		}
		cls, votes, first := MajorityClass(classes)
		if votes != best {
			t.Fatalf("%v: votes %d, want %d", classes, votes, best)
		}
		if votes > 0 {
			if classes[first] != cls || counts[cls] != best {
				t.Fatalf("%v: class %d first %d", classes, cls, first)
			}
			// no class with the same count appears before first
			for i := 0; i < first; i++ {
				if classes[i] != NoAnswer && counts[classes[i]] == best {
					t.Fatalf("%v: tie should go to class %d", classes, classes[i])
				}
			}
		}
	}
}

func ExamplePassAtK() {
	p, _ := PassAtK(5, 2, 2)
	fmt.Printf("%.2f\n", p)
	// Output: 0.70
}
