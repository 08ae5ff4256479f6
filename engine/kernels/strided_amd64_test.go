//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// TestStridedKernelsMatchPacked: the in-place AVX-512 kernels give the bits
// of the packed ones. MatMulAT reads A transposed in place and MatMulStrided
// reads both operands in place; with the in-place kernels removed, the same
// products pack A and B, and every element must agree. Both sets of
// column-A kernels are checked, with and without their fetches ahead,
// whichever this CPU runs by default.
func TestStridedKernelsMatchPacked(t *testing.T) {
	if archs[0] != &avx512Arch {
		t.Skip("no AVX-512")
	}
	chosen := sgemmAVX512Strided[1][1]
	defer func() { sgemmAVX512Strided[1][1] = chosen }()
	for name, set := range map[string]stridedKernels{"ColAN32": sgemmAVX512ColAN32, "ColAPfN32": sgemmAVX512ColAPfN32} {
		sgemmAVX512Strided[1][1] = set
		t.Run(name, testStridedKernelsMatchPacked)
	}
}

func testStridedKernelsMatchPacked(t *testing.T) {
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

// TestVendorString spells the two vendors whose registers are written out
// in the processors' manuals.
func TestVendorString(t *testing.T) {
	for _, c := range []struct {
		ebx, edx, ecx uint32
		want          string
	}{
		{0x756e6547, 0x49656e69, 0x6c65746e, "GenuineIntel"},
		{0x68747541, 0x69746e65, 0x444d4163, "AuthenticAMD"},
	} {
		if got := vendorString(c.ebx, c.edx, c.ecx); got != c.want {
			t.Errorf("vendorString(%#x, %#x, %#x) = %q, want %q", c.ebx, c.edx, c.ecx, got, c.want)
		}
	}
}

// TestCPUVendorMatchesCPUInfo: the vendor CPUID gives here is the one
// Linux reports in /proc/cpuinfo, when there is one to compare with.
func TestCPUVendorMatchesCPUInfo(t *testing.T) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	want := ""
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "vendor_id" {
			want = strings.TrimSpace(v)
			break
		}
	}
	if want == "" {
		t.Skip("no vendor_id in /proc/cpuinfo")
	}
	if got := vendorString(cpuVendor()); got != want {
		t.Errorf("CPUID vendor %q, /proc/cpuinfo %q", got, want)
	}
}
