package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// stridedCase runs MatMulStrided on operands embedded at an offset in wider
// buffers and checks every element of C bit for bit against MatMul,
// MatMulBT or MatMulAT on contiguous copies, and that nothing outside C's
// columns changed. tri makes op(A) lower (1) or upper (2) triangular and
// passes the matching flag.
func stridedCase(t *testing.T, rng *rand.Rand, l layout, m, k, n int, acc bool, tri int, lowerC bool) {
	t.Helper()
	const pad = 5 // extra columns each side of every operand
	ar, ac := m, k
	if l == layoutATB {
		ar, ac = k, m
	}
	br, bc := k, n
	if l == layoutABT {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+2*pad, bc+2*pad, n+2*pad
	wa, wb, wc := randSlice(rng, ar*lda), randSlice(rng, br*ldb), randSlice(rng, m*ldc)
	ga := make([]float32, ar*ac)
	for r := 0; r < ar; r++ {
		for q := 0; q < ac; q++ {
			// op(A)[i][p] is A[i][p], or A[p][i] when transposed.
			i, p := r, q
			if l == layoutATB {
				i, p = q, r
			}
			if (tri == 1 && p > i) || (tri == 2 && p < i) {
				wa[r*lda+pad+q] = 0
			}
			ga[r*ac+q] = wa[r*lda+pad+q]
		}
	}
	gb := make([]float32, br*bc)
	for r := 0; r < br; r++ {
		copy(gb[r*bc:(r+1)*bc], wb[r*ldb+pad:r*ldb+pad+bc])
	}
	gc := make([]float32, m*n)
	for r := 0; r < m; r++ {
		copy(gc[r*n:(r+1)*n], wc[r*ldc+pad:r*ldc+pad+n])
	}
	before := append([]float32(nil), wc...)
	l.run(gc, ga, gb, m, k, n, acc)

	var f StridedFlags
	switch l {
	case layoutABT:
		f |= TransB
	case layoutATB:
		f |= TransA
	}
	if acc {
		f |= Acc
	}
	switch tri {
	case 1:
		f |= LowerA
	case 2:
		f |= UpperA
	}
	if lowerC {
		f |= LowerC
	}
	var s StridedScratch
	MatMulStrided(&s, wc[pad:], ldc, wa[pad:], lda, wb[pad:], ldb, m, k, n, f)
	for r := 0; r < m; r++ {
		for q := 0; q < ldc; q++ {
			got := wc[r*ldc+q]
			j := q - pad
			if j < 0 || j >= n {
				if math.Float32bits(got) != math.Float32bits(before[r*ldc+q]) {
					t.Fatalf("%v %d×%d×%d: element (%d, %d) outside C changed", l, m, k, n, r, j)
				}
				continue
			}
			if lowerC && j > r {
				continue
			}
			if want := gc[r*n+j]; math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("%v %d×%d×%d acc %v tri %d: C[%d][%d] = %v, MatMul gives %v", l, m, k, n, acc, tri, r, j, got, want)
			}
		}
	}
}

// TestMatMulStridedMatchesMatMul: odd sizes around the micro-tile (12×32 on
// AVX-512), the small-row path, tails, triangular operands and the
// fallback for products longer than a K block, on every micro-kernel the
// CPU runs (MatMul taking the same one).
func TestMatMulStridedMatchesMatMul(t *testing.T) {
	sizes := []int{1, 3, 4, 5, 11, 12, 13, 16, 31, 32, 33, 44, 64, 67}
	all := archs
	defer func() { archs = all }()
	for _, arch := range all {
		t.Run(arch.name, func(t *testing.T) {
			archs = []*gemmArch{arch}
			rng := rand.New(rand.NewPCG(3, 9))
			for _, l := range []layout{layoutAB, layoutABT, layoutATB} {
				for _, m := range sizes {
					for _, k := range []int{1, 7, 16, 33, 300} {
						for _, n := range []int{1, 16, 17, 45} {
							acc := rng.IntN(2) == 0
							stridedCase(t, rng, l, m, k, n, acc, 0, false)
						}
					}
				}
				// Square triangular operands, as in causal attention.
				for _, L := range sizes {
					for _, n := range []int{16, 32, L} {
						for tri := 1; tri <= 2; tri++ {
							stridedCase(t, rng, l, L, L, n, tri == 2, tri, false)
						}
					}
					stridedCase(t, rng, l, L, 16, L, false, 0, true)
				}
			}
		})
	}
}

func TestMatMulStridedBadShapesPanic(t *testing.T) {
	for i, f := range []func(){
		func() {
			MatMulStrided(&StridedScratch{}, make([]float32, 10), 4, make([]float32, 20), 5, make([]float32, 20), 4, 3, 5, 4, 0)
		},
		func() {
			MatMulStrided(&StridedScratch{}, make([]float32, 12), 4, make([]float32, 20), 4, make([]float32, 20), 4, 3, 5, 4, 0)
		},
		func() {
			MatMulStrided(&StridedScratch{}, make([]float32, 12), 3, make([]float32, 15), 5, make([]float32, 20), 4, 3, 5, 4, 0)
		},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

// BenchmarkMatMulStridedAttention: the five products of one head's causal
// attention (forward and backward) at the lab's shape, L = 44, D = 16.
func BenchmarkMatMulStridedAttention(b *testing.B) {
	const L, D, ld = 44, 16, 64
	rng := rand.New(rand.NewPCG(1, 2))
	q, k, v, do := randSlice(rng, L*ld), randSlice(rng, L*ld), randSlice(rng, L*ld), randSlice(rng, L*ld)
	p, out := randSlice(rng, L*L), make([]float32, L*ld)
	var s StridedScratch
	for b.Loop() {
		MatMulStrided(&s, p, L, q, ld, k, ld, L, D, L, TransB|LowerC)
		MatMulStrided(&s, out, ld, p, L, v, ld, L, L, D, LowerA)
		MatMulStrided(&s, out, ld, p, L, do, ld, L, L, D, TransA|UpperA|Acc)
		MatMulStrided(&s, p, L, do, ld, v, ld, L, D, L, TransB|LowerC)
		MatMulStrided(&s, out, ld, p, L, k, ld, L, L, D, LowerA)
	}
}
