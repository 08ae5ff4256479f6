package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refScaledSoftmax is the attention softmax of one row written plainly:
// scale, the builtin max, math.Exp in float64, the sum in order.
func refScaledSoftmax(x []float32, scale float32) {
	for i := range x {
		x[i] *= scale
	}
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	var sum float64
	e := make([]float64, len(x))
	for i, v := range x {
		e[i] = math.Exp(float64(v - mx))
		x[i] = float32(e[i])
		sum += e[i]
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// TestCausalSoftmaxMatchesRows: the block softmax gives, bit for bit, the
// plain row softmax of every row's first t+1 scores and zeros after, for
// blocks around multiples of four rows and blocks of more exponentials
// than one call takes (softmaxGroup), with large, tied, zero, infinite and
// NaN scores.
func TestCausalSoftmaxMatchesRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	var exp []float64
	special := []float32{0, float32(math.Copysign(0, -1)), 80, -80, 1e30, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, L := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 23, 130, 131, 200} {
		for trial := 0; trial < 6; trial++ {
			s := make([]float32, L*L)
			for i := range s {
				s[i] = float32(rng.NormFloat64() * 3)
				if trial >= 3 && rng.IntN(6) == 0 {
					s[i] = special[rng.IntN(len(special)-3*(5-trial))]
				}
			}
			got := append([]float32(nil), s...)
			causalSoftmax(got, L, 0.25, &exp)
			for r := 0; r < L; r++ {
				want := append([]float32(nil), s[r*L:r*L+r+1]...)
				refScaledSoftmax(want, 0.25)
				for j := 0; j < L; j++ {
					w := float32(0)
					if j <= r {
						w = want[j]
					}
					if g := got[r*L+j]; math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
						t.Fatalf("L %d trial %d: P[%d][%d] = %v, want %v", L, trial, r, j, g, w)
					}
				}
			}
		}
	}
}

// TestCausalSoftmaxHandValues: one row of two scores, 0 and ln 3 before a
// scale of 1, gives probabilities 1/4 and 3/4.
func TestCausalSoftmaxHandValues(t *testing.T) {
	p := []float32{5, 7, 0, float32(math.Log(3))}
	var exp []float64
	causalSoftmax(p, 2, 1, &exp)
	want := []float32{1, 0, 0.25, 0.75}
	for i := range p {
		if math.Abs(float64(p[i]-want[i])) > 1e-7 {
			t.Errorf("p[%d] = %v, want %v", i, p[i], want[i])
		}
	}
}

// TestSoftmaxBackwardMatchesRows: the block backward gives, bit for bit,
// the plain per-row loops for blocks of every size up to past a multiple of
// four rows, and matches a hand value.
func TestSoftmaxBackwardMatchesRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 2))
	for L := 1; L <= 13; L++ {
		p := make([]float32, L*L)
		dp := make([]float32, L*L)
		for i := range p {
			p[i] = float32(rng.Float64())
			dp[i] = float32(rng.NormFloat64())
		}
		got := append([]float32(nil), dp...)
		softmaxBackward(p, got, L, 0.25)
		for r := 0; r < L; r++ {
			pr, dr := p[r*L:(r+1)*L], dp[r*L:(r+1)*L]
			var sum float32
			for j := 0; j <= r; j++ {
				sum += pr[j] * dr[j]
			}
			for j := 0; j < L; j++ {
				want := float32(0)
				if j <= r {
					want = pr[j] * (dr[j] - sum) * 0.25
				}
				if g := got[r*L+j]; math.Float32bits(g) != math.Float32bits(want) {
					t.Fatalf("L %d: dS[%d][%d] = %v, want %v", L, r, j, g, want)
				}
			}
		}
	}
	// One row of two: P = (1/4, 3/4), dP = (1, 0): Σ P·dP = 1/4, so
	// dS = (1/4·3/4, 3/4·(−1/4)) at scale 1.
	p := []float32{1, 0, 0.25, 0.75}
	ds := []float32{5, 9, 1, 0}
	softmaxBackward(p, ds, 2, 1)
	for i, want := range []float32{0, 0, 0.1875, -0.1875} {
		if ds[i] != want {
			t.Errorf("ds[%d] = %v, want %v", i, ds[i], want)
		}
	}
}
