package theory

import (
	"fmt"
	"math"
	"testing"
)

func TestRecursionHandComputed(t *testing.T) {
	// beta = 1, p = 0.5: p* = e/(1+e) = 0.7310585786300049.
	if got := OptimalPMaj(0.5, 1); math.Abs(got-0.7310585786300049) > 1e-15 {
		t.Errorf("OptimalPMaj(0.5, 1) = %.16g", got)
	}
	// beta = 0.5 (alpha = e^2), p = 0.2: e^2*0.2/(1 + (e^2-1)*0.2) = 1.4778112/2.2778112.
	want := math.Exp(2) * 0.2 / (1 + (math.Exp(2)-1)*0.2)
	if got := OptimalPMaj(0.2, 0.5); math.Abs(got-want) > 1e-15 || math.Abs(got-0.6487856) > 1e-6 {
		t.Errorf("OptimalPMaj(0.2, 0.5) = %.10g, want %.10g (0.6487856)", got, want)
	}
	// eta = 0.5: p1 = 0.5 + 0.5 (0.7310585786 - 0.5) = 0.6155292893.
	res, err := Recursion(RecursionConfig{Beta: 1, Eta: 0.5, P0: 0.5, Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p1 := res.Steps[1].PMaj; math.Abs(p1-0.6155292893150024) > 1e-15 {
		t.Errorf("p1 = %.16g, want 0.6155292893150024", p1)
	}
	// Rate at step 1 = e1/e0 = 0.3844707106849976/0.5.
	if r := res.Steps[1].Rate; math.Abs(r-0.7689414213699952) > 1e-15 {
		t.Errorf("rate = %.16g", r)
	}
	// Asymptotic rate at eta = 0.5: 1 - 0.5 (e-1)/e = 0.6839397205857212.
	if math.Abs(res.AsymptoticRate-0.6839397205857212) > 1e-15 {
		t.Errorf("asymptotic rate = %.16g", res.AsymptoticRate)
	}
	// Error multiplier at eta = 1 is 1/(alpha - (alpha-1) e): e = 0.5, beta = 1 -> 2/(1+e).
	if m := ErrorMultiplier(0.5, 1, 1); math.Abs(m-2/(1+math.E)) > 1e-15 {
		t.Errorf("ErrorMultiplier = %v, want %v", m, 2/(1+math.E))
	}
}

// At eta = 1 each step multiplies the majority odds by alpha, so
// p_k = sigmoid(logit(p0) + k/beta) exactly: the recursion must follow the
// closed form at every step, in relative error of 1 - p.
func TestRecursionClosedForm(t *testing.T) {
	for _, beta := range []float64{0.3, 1, 4} {
		for _, p0 := range []float64{0.05, 0.5, 0.9} {
			res, err := Recursion(RecursionConfig{Beta: beta, Eta: 1, P0: p0, Steps: 60})
			if err != nil {
				t.Fatal(err)
			}
			x0 := math.Log(p0 / (1 - p0))
			for _, s := range res.Steps {
				want := 1 / (1 + math.Exp(x0+float64(s.Step)/beta)) // 1 - sigmoid(x)
				if math.Abs(s.Error-want) > 1e-12*want {
					t.Fatalf("beta %v p0 %v step %d: error %.16g, closed form %.16g", beta, p0, s.Step, s.Error, want)
				}
			}
		}
	}
}

// The issue's acceptance check: at eta = 1 the measured rate matches
// e^(-1/beta) within 1e-6; for eta < 1 it matches 1 - eta (alpha-1)/alpha.
func TestRecursionRate(t *testing.T) {
	for _, beta := range []float64{0.25, 0.5, 1, 2, 5, 10} {
		for _, eta := range []float64{1, 0.7, 0.3} {
			res, err := Recursion(RecursionConfig{Beta: beta, Eta: eta, P0: 0.2, Steps: 2000})
			if err != nil {
				t.Fatal(err)
			}
			want := res.AsymptoticRate
			if eta == 1 {
				want = math.Exp(-1 / beta)
			}
			if d := math.Abs(res.MeasuredRate - want); d > 1e-6 {
				t.Errorf("beta %v eta %v: measured rate %.12g, want %.12g (diff %.3g)", beta, eta, res.MeasuredRate, want, d)
			}
		}
	}
}

// Property: the error strictly decreases and each iterate stays between
// the previous one and that step's optimum (the ordering of eq. 9).
func TestRecursionOrdering(t *testing.T) {
	for _, eta := range []float64{0.1, 0.5, 1} {
		res, err := Recursion(RecursionConfig{Beta: 0.8, Eta: eta, P0: 0.01, Steps: 200})
		if err != nil {
			t.Fatal(err)
		}
		for k := 1; k < len(res.Steps); k++ {
			prev, cur := res.Steps[k-1], res.Steps[k]
			if prev.Error > 1e-300 && !(cur.Error < prev.Error) {
				t.Fatalf("eta %v step %d: error %v does not fall below %v", eta, k, cur.Error, prev.Error)
			}
			if cur.PMaj > prev.PStar+1e-15 || cur.PMaj < prev.PMaj {
				t.Fatalf("eta %v step %d: p %v outside [%v, p* %v]", eta, k, cur.PMaj, prev.PMaj, prev.PStar)
			}
		}
	}
}

func TestRecursionValidate(t *testing.T) {
	for _, c := range []RecursionConfig{
		{Beta: 0, Eta: 1, P0: 0.5, Steps: 1},
		{Beta: 1, Eta: 0, P0: 0.5, Steps: 1},
		{Beta: 1, Eta: 1.5, P0: 0.5, Steps: 1},
		{Beta: 1, Eta: 1, P0: 1, Steps: 1},
		{Beta: 1, Eta: 1, P0: 0, Steps: 1},
		{Beta: 1, Eta: 1, P0: 0.5, Steps: 0},
		{Beta: math.NaN(), Eta: 1, P0: 0.5, Steps: 1},
	} {
		if _, err := Recursion(c); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

func ExampleRecursion() {
	res, _ := Recursion(RecursionConfig{Beta: 1, Eta: 1, P0: 0.5, Steps: 30})
	fmt.Printf("p_maj after 3 steps %.4f; rate %.6f vs e^-1 %.6f\n",
		res.Steps[3].PMaj, res.MeasuredRate, res.TheoreticalRate)
	// Output: p_maj after 3 steps 0.9526; rate 0.367879 vs e^-1 0.367879
}
