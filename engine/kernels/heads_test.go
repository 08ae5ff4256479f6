package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxRows4MatchesSoftmaxRow: every element of the four rows has
// the bits SoftmaxRow gives the row alone, for every length up to 130
// (tails of 0-7 after the eight-lane part, rows shorter than 8), scores of
// small and large spread, and a row of −Inf (cleared) among them.
func TestSoftmaxRows4MatchesSoftmaxRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for n := 1; n <= 130; n++ {
		for _, spread := range []float64{0.1, 3, 40} {
			ld := n + rng.IntN(9)
			x := make([]float32, 3*ld+n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * spread)
			}
			if n == 37 && spread == 3 {
				for i := range n {
					x[2*ld+i] = float32(math.Inf(-1))
				}
			}
			want := append([]float32(nil), x...)
			for h := range 4 {
				SoftmaxRow(want[h*ld : h*ld+n])
			}
			got := append([]float32(nil), x...)
			SoftmaxRows4(got, ld, n)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d ld=%d spread=%v: element %d (row %d) = %v, SoftmaxRow gives %v", n, ld, spread, i, i/ld, got[i], want[i])
				}
			}
		}
	}
}

// TestVecMat4MatchesVecMat: each head's outputs (16 or 32 of them) have
// the bits of VecMat over that head alone, for every row count up to 101
// (odd and even), with the heads' matrices apart in memory.
func TestVecMat4MatchesVecMat(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, width := range []int{16, 32} {
		four := VecMat4x16
		if width == 32 {
			four = VecMat4x32
		}
		for rows := 0; rows <= 101; rows++ {
			ldx := rows + rng.IntN(5)
			x := randSlice(rng, 3*ldx+rows)
			var m [4][]float32
			for h := range m {
				m[h] = randSlice(rng, rows*width+rng.IntN(40))
			}
			want := make([]float32, 4*width)
			for h := range m {
				VecMat(want[h*width:(h+1)*width], x[h*ldx:h*ldx+rows], m[h], width)
			}
			got := randSlice(rng, 4*width)
			four(got, x, ldx, rows, m[0], m[1], m[2], m[3])
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("width %d, rows=%d: y[%d] = %v, VecMat gives %v", width, rows, i, got[i], want[i])
				}
			}
		}
	}
}
