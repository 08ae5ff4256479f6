package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMatMulATSegsMatchesCalls: one MatMulATSegs gives the bits of one
// MatMulAT per segment added in order, with empty segments, segments
// longer than a K block and the small-row path among them.
func TestMatMulATSegsMatchesCalls(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	kc := GemmKBlock()
	for trial := 0; trial < 60; trial++ {
		m := []int{1, 4, 5, 13, 64, 100}[trial%6]
		n := []int{1, 17, 64, 70}[trial%4]
		bounds := []int{0}
		for len(bounds) < 2+rng.IntN(6) {
			step := rng.IntN(kc / 2)
			switch rng.IntN(5) {
			case 0:
				step = 0
			case 1:
				step = kc + rng.IntN(kc)
			}
			bounds = append(bounds, bounds[len(bounds)-1]+step)
		}
		k := bounds[len(bounds)-1]
		a, b := randSlice(rng, k*m), randSlice(rng, k*n)
		c0 := randSlice(rng, m*n)
		acc := trial%3 != 0
		want := append([]float32(nil), c0...)
		for i := 1; i < len(bounds); i++ {
			r0, r1 := bounds[i-1], bounds[i]
			MatMulAT(want, a[r0*m:r1*m], b[r0*n:r1*n], m, r1-r0, n, acc || i > 1)
		}
		got := append([]float32(nil), c0...)
		MatMulATSegs(got, a, b, m, k, n, acc, bounds)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("m %d n %d bounds %v acc %v: element %d = %v, want %v", m, n, bounds, acc, i, got[i], want[i])
			}
		}
	}
}

func TestMatMulATSegsBadBoundsPanic(t *testing.T) {
	for _, bounds := range [][]int{{0}, {1, 4}, {0, 3}, {0, 3, 2, 4}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("bounds %v: no panic", bounds)
				}
			}()
			MatMulATSegs(make([]float32, 4), make([]float32, 8), make([]float32, 8), 2, 4, 2, false, bounds)
		}()
	}
}
