package metrics

import (
	"math"
	"testing"
)

func TestMajAtKEstimateByHand(t *testing.T) {
	// Samples A A B with A correct. k=2: subsets {A,A} -> 1, {A,B} twice
	// -> a tie, half correct: (1 + 0.5 + 0.5)/3 = 2/3.
	s := Samples{Classes: []int{0, 0, 1}, Correct: []float64{1, 1, 0}}
	cases := []struct {
		k    int
		want float64
	}{
		{1, 2.0 / 3}, // one sample: its correctness, avg@n
		{2, 2.0 / 3},
		{3, 1}, // maj@n: A wins 2-1
	}
	for _, c := range cases {
		got, err := MajAtKEstimate(s, c.k, 1000, 1)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("k=%d: %v, want %v", c.k, got, c.want)
		}
	}
	// Samples A B B none? with A correct, B wrong, one without answer:
	// k=2 subsets of {A, B1, B2, -}: {A,B1} {A,B2} tie 0.5 each, {A,-} 1,
	// {B1,B2} 0, {B,-} twice 0, {-}: none. Sum 2 over 6 = 1/3.
	s = Samples{Classes: []int{0, 1, 1, NoAnswer}, Correct: []float64{1, 0, 0, 0}}
	got, err := MajAtKEstimate(s, 2, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("with no-answer sample: %v, want 1/3", got)
	}
}

func TestMajAtKEstimateSampledAgreesWithExact(t *testing.T) {
	// 12 samples, k=5: C(12,5)=792 subsets. With 792 draws allowed the
	// answer is exact; with 200 it is sampled and must land near it.
	classes := []int{0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, NoAnswer}
	correct := []float64{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}
	s := Samples{Classes: classes, Correct: correct}
	exact, err := MajAtKEstimate(s, 5, 792, 1)
	if err != nil {
		t.Fatal(err)
	}
	sampled, err := MajAtKEstimate(s, 5, 20000, 9)
	if err != nil {
		t.Fatal(err)
	}
	if sampled != exact {
		t.Errorf("20000 >= 792 draws should enumerate: %v vs %v", sampled, exact)
	}
	mc, _ := MajAtKEstimate(s, 5, 4000, 9)
	// Standard error of a mean of 4000 values in [0, 1] is at most 0.008.
	if math.Abs(mc-exact) > 0.04 {
		t.Errorf("sampled %v far from exact %v", mc, exact)
	}
	again, _ := MajAtKEstimate(s, 5, 4000, 9)
	if again != mc {
		t.Errorf("same seed gave %v and %v", mc, again)
	}
}

func TestMajAtKEstimateBadInput(t *testing.T) {
	s := Samples{Classes: []int{0, 0}, Correct: []float64{1, 0}}
	if _, err := MajAtKEstimate(s, 1, 10, 1); err == nil {
		t.Error("class graded both ways: no error")
	}
	s = Samples{Classes: []int{0, 1}, Correct: []float64{1, 0}}
	for _, k := range []int{0, 3} {
		if _, err := MajAtKEstimate(s, k, 10, 1); err == nil {
			t.Errorf("k=%d: no error", k)
		}
	}
	if _, err := MajAtKEstimate(s, 1, 0, 1); err == nil {
		t.Error("0 draws: no error")
	}
}

func TestSelectWrongMajority(t *testing.T) {
	problems := []Samples{
		{Classes: []int{0, 0, 1, 2}, Correct: []float64{1, 1, 0, 0}},                             // right majority
		{Classes: []int{1, 1, 0, 2}, Correct: []float64{0, 0, 1, 0}},                             // wrong, share 1/2
		{Classes: []int{NoAnswer, NoAnswer, NoAnswer, NoAnswer}, Correct: []float64{0, 0, 0, 0}}, // no answer
		{Classes: []int{3, 3, 3, 0}, Correct: []float64{0, 0, 0, 1}},                             // wrong, share 3/4
		{Classes: []int{5, 5, 2, 0}, Correct: []float64{0, 0, 0, 1}},                             // wrong, share 1/2
	}
	got, err := SelectWrongMajority(problems, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []WrongMajority{{3, 0.75, 0.25}, {1, 0.5, 0.25}, {4, 0.5, 0.25}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if got, _ := SelectWrongMajority(problems, 2); len(got) != 2 || got[1].Index != 1 {
		t.Errorf("size 2: %+v", got)
	}
	if _, err := SelectWrongMajority(problems, 0); err == nil {
		t.Error("size 0: no error")
	}
}
