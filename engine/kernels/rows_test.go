package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowsDoNotDependOnTheirNeighbours: a row of MatMul or MatMulBT has the
// same bits whether it is computed among all the rows of a batch or among a
// slice of them, on one worker or all, as long as the slice has more than
// smallRows rows (fewer take the unpacked path, which sums over all of k in
// one chain). Callers that split a batch's rows between goroutines rely on it.
func TestRowsDoNotDependOnTheirNeighbours(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	shapes := []struct{ rows, k, n int }{
		{700, 256, 1024}, {700, 1024, 256}, {300, 64, 192}, {520, 96, 64}, {64, 896, 4096},
	}
	for _, s := range shapes {
		a := randSlice(rng, s.rows*s.k)
		bt := randSlice(rng, s.n*s.k) // [n×k] for MatMulBT, [k×n] for MatMul
		c0 := randSlice(rng, s.rows*s.n)
		for _, acc := range []bool{false, true} {
			full := append([]float32(nil), c0...)
			fullNN := append([]float32(nil), c0...)
			MatMulBT(full, a, bt, s.rows, s.k, s.n, acc)
			MatMul(fullNN, a, bt, s.rows, s.k, s.n, acc)
			for _, cut := range [][2]int{{0, smallRows + 1}, {3, 12}, {5, 37}, {s.rows / 2, s.rows}, {1, s.rows - 1}} {
				r0, r1 := cut[0], cut[1]
				m := r1 - r0
				for _, w := range []Workers{1, AllCores} {
					part := append([]float32(nil), c0[r0*s.n:r1*s.n]...)
					w.MatMulBT(part, a[r0*s.k:r1*s.k], bt, m, s.k, s.n, acc)
					partNN := append([]float32(nil), c0[r0*s.n:r1*s.n]...)
					w.MatMul(partNN, a[r0*s.k:r1*s.k], bt, m, s.k, s.n, acc)
					for i := range part {
						if math.Float32bits(part[i]) != math.Float32bits(full[r0*s.n+i]) {
							t.Fatalf("MatMulBT %v acc %v rows [%d,%d) workers %d: element %d is %v alone, %v in the batch", s, acc, r0, r1, w, i, part[i], full[r0*s.n+i])
						}
						if math.Float32bits(partNN[i]) != math.Float32bits(fullNN[r0*s.n+i]) {
							t.Fatalf("MatMul %v acc %v rows [%d,%d) workers %d: element %d is %v alone, %v in the batch", s, acc, r0, r1, w, i, partNN[i], fullNN[r0*s.n+i])
						}
					}
				}
			}
		}
	}
}
