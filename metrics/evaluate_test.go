package metrics

import (
	"math"
	"testing"
)

func TestScoreProblemHandValues(t *testing.T) {
	s, err := ScoreProblem(Samples{Classes: []int{0, 0, 1, NoAnswer}, Correct: []float64{1, 1, 0, 0}}, []int{1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	// pass@2 = 1 - C(2,2)/C(4,2) = 1 - 1/6.
	if s.Avg != 0.5 || s.Maj != 1 || s.Pass[1] != 0.5 || math.Abs(s.Pass[2]-5.0/6) > 1e-15 || s.Pass[4] != 1 {
		t.Fatalf("scores %+v", s)
	}
	if _, err := ScoreProblem(Samples{Classes: []int{0}, Correct: []float64{1}}, []int{2}); err == nil {
		t.Error("pass@2 of one sample: no error")
	}
}

func TestQuantileInterpolates(t *testing.T) {
	xs := []float64{1, 2, 3, 4}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.25, 1.75}, {0.5, 2.5}, {1, 4}} {
		if got := quantile(xs, c.q); got != c.want {
			t.Errorf("quantile %v = %v, want %v", c.q, got, c.want)
		}
	}
}

// problems returns n problems of k samples, the first c of them correct
// (all correct samples in one answer class, the wrong ones in another).
func problems(correct []int, k int) []Samples {
	var out []Samples
	for _, c := range correct {
		s := Samples{Classes: make([]int, k), Correct: make([]float64, k)}
		for i := range k {
			if i < c {
				s.Correct[i] = 1
			} else {
				s.Classes[i] = 1
			}
		}
		out = append(out, s)
	}
	return out
}

func TestEvaluateSetMeansAndIntervals(t *testing.T) {
	// Per-problem avg@4: 1, 0.5, 0, 0.25 -> mean 0.4375; maj@4 (ties go to
	// the class seen first, the correct one): 1, 1, 0, 0 -> 0.5.
	ps := problems([]int{4, 2, 0, 1}, 4)
	s, err := EvaluateSet(ps, []int{1, 4}, BootstrapConfig{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if s.Problems != 4 || s.Avg.Mean != 0.4375 || s.Maj.Mean != 0.5 || s.Pass[4].Mean != 0.75 || s.Pass[1].Mean != s.Avg.Mean {
		t.Fatalf("means %+v", s)
	}
	for name, e := range map[string]Estimate{"avg": s.Avg, "maj": s.Maj, "pass@4": s.Pass[4]} {
		if !(e.CI.Lo <= e.Mean && e.Mean <= e.CI.Hi) || e.CI.Lo < 0 || e.CI.Hi > 1 || e.CI.Lo == e.CI.Hi {
			t.Errorf("%s: interval %+v around %v", name, e.CI, e.Mean)
		}
	}
	again, _ := EvaluateSet(ps, []int{1, 4}, BootstrapConfig{Seed: 7})
	other, _ := EvaluateSet(ps, []int{1, 4}, BootstrapConfig{Seed: 8})
	if again.Avg.CI != s.Avg.CI {
		t.Error("the same seed gave another interval")
	}
	if other.Avg.CI == s.Avg.CI && other.Maj.CI == s.Maj.CI {
		t.Error("another seed gave the same intervals")
	}

	// Identical problems leave nothing to resample: the interval is the point.
	same, err := EvaluateSet(problems([]int{3, 3, 3}, 4), nil, BootstrapConfig{Seed: 1})
	if err != nil || same.Avg.CI != (Interval{0.75, 0.75}) {
		t.Fatalf("identical problems: %+v %v", same.Avg, err)
	}

	// Sixteen times the problems: the interval narrows by about four.
	var many []int
	for range 16 {
		many = append(many, 4, 2, 0, 1)
	}
	wide := s.Avg.CI.Hi - s.Avg.CI.Lo
	big, _ := EvaluateSet(problems(many, 4), nil, BootstrapConfig{Seed: 7})
	if narrow := big.Avg.CI.Hi - big.Avg.CI.Lo; !(narrow > wide/6 && narrow < wide/2.5) {
		t.Errorf("interval width %v with 64 problems, %v with 4: want about a quarter", narrow, wide)
	}

	if _, err := EvaluateSet(nil, nil, BootstrapConfig{}); err == nil {
		t.Error("no problems: no error")
	}
	if _, err := EvaluateSet(ps, nil, BootstrapConfig{Level: 1.5}); err == nil {
		t.Error("level 1.5: no error")
	}
}

func TestScoreProblemAtKHandValues(t *testing.T) {
	// Answers 3 5 5 3, the 3s correct. First sample: avg 1, maj 1. First
	// two (3, 5, a tie the first-seen 3 wins): avg 1/2, maj 1. All four
	// (2 votes each, 3 seen first): avg 1/2, maj 1. pass@1 = 1/2,
	// pass@2 = 1 - C(2,2)/C(4,2) = 5/6, pass@4 = 1, from all four.
	s := Samples{Classes: []int{0, 1, 1, 0}, Correct: []float64{1, 0, 0, 1}}
	got, err := ScoreProblemAtK(s, []int{1, 2, 4})
	if err != nil {
		t.Fatal(err)
	}
	want := []ProblemScore{
		{Avg: 1, Maj: 1, Pass: map[int]float64{1: 0.5}},
		{Avg: 0.5, Maj: 1, Pass: map[int]float64{2: 5.0 / 6}},
		{Avg: 0.5, Maj: 1, Pass: map[int]float64{4: 1}},
	}
	for i := range want {
		if got[i].Avg != want[i].Avg || got[i].Maj != want[i].Maj || len(got[i].Pass) != 1 {
			t.Errorf("k %d: %+v, want %+v", []int{1, 2, 4}[i], got[i], want[i])
		}
		for k, v := range want[i].Pass {
			if math.Abs(got[i].Pass[k]-v) > 1e-15 {
				t.Errorf("pass@%d = %v, want %v", k, got[i].Pass[k], v)
			}
		}
	}
	// Wrong answers first: maj@2 of (2, 7) goes to the 2 seen first.
	got, _ = ScoreProblemAtK(Samples{Classes: []int{0, 1, 0, 2}, Correct: []float64{0, 1, 0, 0}}, []int{2})
	if got[0].Avg != 0.5 || got[0].Maj != 0 || got[0].Pass[2] != 0.5 {
		t.Errorf("k 2: %+v, want avg 1/2, maj 0, pass 1/2", got[0])
	}
	for _, ks := range [][]int{{5}, {0}} {
		if _, err := ScoreProblemAtK(s, ks); err == nil {
			t.Errorf("k %v of 4 samples: no error", ks)
		}
	}
	if _, err := ScoreProblemAtK(Samples{Classes: []int{0}, Correct: []float64{1, 0}}, []int{1}); err == nil {
		t.Error("one class for two samples: no error")
	}
}

func TestEvaluateAtKIsOneBootstrap(t *testing.T) {
	ps := []Samples{
		{Classes: []int{0, 1, 1, 0}, Correct: []float64{1, 0, 0, 1}},
		{Classes: []int{0, 1, 0, 2}, Correct: []float64{0, 1, 0, 0}},
		{Classes: []int{0, 0, 0, 0}, Correct: []float64{1, 1, 1, 1}},
	}
	ks := []int{1, 2, 4}
	sets, err := EvaluateAtK(ps, ks, BootstrapConfig{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	// avg@4 = (1/2 + 1/4 + 1)/3 = 7/12; maj@2 = (1 + 0 + 1)/3; pass@2 =
	// (5/6 + 1/2 + 1)/3 = 7/9.
	if sets[2].Avg.Mean != 1.75/3 || sets[1].Maj.Mean != 2.0/3 || math.Abs(sets[1].Pass[2].Mean-7.0/9) > 1e-15 || sets[0].Problems != 3 {
		t.Fatalf("scores %+v", sets)
	}
	// The intervals are those of one joint bootstrap of all the series.
	var series [][]float64
	for i := range ks {
		var avg, maj, pass []float64
		for _, p := range ps {
			s, _ := ScoreProblemAtK(p, ks)
			avg, maj, pass = append(avg, s[i].Avg), append(maj, s[i].Maj), append(pass, s[i].Pass[ks[i]])
		}
		series = append(series, avg, maj, pass)
	}
	cis, _ := BootstrapCI(series, BootstrapConfig{Seed: 3})
	for i, k := range ks {
		if sets[i].Avg.CI != cis[3*i] || sets[i].Maj.CI != cis[3*i+1] || sets[i].Pass[k].CI != cis[3*i+2] {
			t.Errorf("k %d: intervals %+v %+v %+v, joint %v", k, sets[i].Avg.CI, sets[i].Maj.CI, sets[i].Pass[k].CI, cis[3*i:3*i+3])
		}
	}
	if _, err := EvaluateAtK(nil, ks, BootstrapConfig{}); err == nil {
		t.Error("no problems: no error")
	}
}
