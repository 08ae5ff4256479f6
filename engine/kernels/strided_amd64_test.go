//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestStridedKernelsMatchPacked: the in-place AVX-512 kernels give the bits
// of the packed ones. MatMulAT reads A transposed in place and MatMulStrided
// reads both operands in place; with the in-place kernels removed, the same
// products pack A and B, and every element must agree.
func TestStridedKernelsMatchPacked(t *testing.T) {
	if archs[0] != &avx512Arch {
		t.Skip("no AVX-512")
	}
	packedOnly := avx512Arch
	packedOnly.strided = nil
	rng := rand.New(rand.NewPCG(8, 1))
	for _, l := range []layout{layoutAB, layoutABT, layoutATB} {
		for _, m := range []int{5, 12, 13, 40, 64, 100} {
			for _, k := range []int{1, 5, 16, 44, 256, 300} {
				for _, n := range []int{1, 16, 17, 32, 45, 64} {
					a, b := randSlice(rng, m*k), randSlice(rng, k*n)
					c0 := randSlice(rng, m*n)
					acc := rng.IntN(2) == 0
					want := append([]float32(nil), c0...)
					gemmWith(&packedOnly, AllCores.Count(), l == layoutATB, l == layoutABT, want, a, b, m, k, n, acc)
					got := append([]float32(nil), c0...)
					gemmWith(&avx512Arch, AllCores.Count(), l == layoutATB, l == layoutABT, got, a, b, m, k, n, acc)
					var f StridedFlags
					switch l {
					case layoutATB:
						f |= TransA
					case layoutABT:
						f |= TransB
					}
					if acc {
						f |= Acc
					}
					lda, ldb := k, n
					if l == layoutATB {
						lda = m
					}
					if l == layoutABT {
						ldb = k
					}
					strided := append([]float32(nil), c0...)
					var s StridedScratch
					if k <= avx512Arch.kc {
						s.inPlace(&avx512Arch, strided, n, a, lda, b, ldb, m, k, n, f)
					} else {
						copy(strided, want)
					}
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(strided[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%v %d×%d×%d acc %v: element %d: in place %v, strided %v, packed %v", l, m, k, n, acc, i, got[i], strided[i], want[i])
						}
					}
				}
			}
		}
	}
}
