package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// packedCase multiplies A [m×k] (row stride lda) by the stacked parts with
// every usable micro-kernel and checks each result against the float64
// product, and, for more than four rows, bit for bit against MatMulBT of
// the stacked matrix. C has row stride ldc; the gap between rows must stay
// untouched.
func packedCase(t *testing.T, rng *rand.Rand, m, k int, partRows []int, lda, ldc int, acc bool) {
	t.Helper()
	var parts [][]float32
	var b []float32
	n := 0
	for _, r := range partRows {
		p := randSlice(rng, r*k)
		parts = append(parts, p)
		b = append(b, p...)
		n += r
	}
	a := randSlice(rng, max(0, (m-1)*lda+k))
	dense := make([]float32, m*k) // A without the row gaps
	for i := 0; i < m; i++ {
		copy(dense[i*k:(i+1)*k], a[i*lda:i*lda+k])
	}
	c0 := randSlice(rng, max(0, (m-1)*ldc+n))
	const gap = 12345
	for i := 0; i < m; i++ {
		for j := n; j < ldc && i*ldc+j < len(c0); j++ {
			c0[i*ldc+j] = gap
		}
	}
	c0dense := make([]float32, m*n)
	for i := 0; i < m; i++ {
		copy(c0dense[i*n:(i+1)*n], c0[i*ldc:i*ldc+n])
	}
	want, mag := gemmWant(layoutABT, c0dense, dense, b, m, k, n, acc)
	var exact []float32
	if m > smallRows {
		exact = slices.Clone(c0dense)
		MatMulBT(exact, dense, b, m, k, n, acc)
	}
	for _, arch := range archs {
		var packed []float32
		for _, view := range []bool{false, true} {
			name := arch.name + " packed"
			var p PackedBT
			if view {
				name = arch.name + " view"
				p.viewWith(arch, k, parts)
			} else {
				p.packWith(arch, k, parts)
			}
			if p.Rows() != n || p.Cols() != k {
				t.Fatalf("%s: %d×%d, want %d×%d", name, p.Rows(), p.Cols(), n, k)
			}
			c := slices.Clone(c0)
			p.MulBT(c, ldc, a, lda, m, acc)
			got := make([]float32, m*n)
			for i := 0; i < m; i++ {
				copy(got[i*n:(i+1)*n], c[i*ldc:i*ldc+n])
				for j := n; j < ldc && i*ldc+j < len(c); j++ {
					if c[i*ldc+j] != gap {
						t.Fatalf("%s m=%d k=%d n=%d: wrote C[%d] beyond the row's %d columns", arch.name, m, k, n, i*ldc+j, n)
					}
				}
			}
			if err := gemmCheck(layoutABT, got, want, mag, m, k, n, acc); err != nil {
				t.Fatalf("%s parts %v lda %d ldc %d: %v", name, partRows, lda, ldc, err)
			}
			if exact != nil && arch == archs[0] {
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(exact[i]) {
						t.Fatalf("%s m=%d k=%d n=%d acc=%v: C[%d] = %g, MatMulBT gives %g", name, m, k, n, acc, i, got[i], exact[i])
					}
				}
			}
			if !view {
				packed = got
				continue
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(packed[i]) {
					t.Fatalf("%s m=%d k=%d n=%d acc=%v: C[%d] = %g viewed, %g packed", name, m, k, n, acc, i, got[i], packed[i])
				}
			}
		}
	}
}

func TestPackedBT(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, acc := range []bool{false, true} {
		for _, m := range []int{1, 3, 5, 12, 13, 33, 64, 97, 200} {
			for _, k := range []int{1, 7, 64, 257, 600} {
				for _, parts := range [][]int{{1}, {33}, {64, 17}, {7, 32, 40}} {
					n := 0
					for _, r := range parts {
						n += r
					}
					if m*k*n > 1<<21 {
						continue
					}
					packedCase(t, rng, m, k, parts, k, n, acc)
					packedCase(t, rng, m, k, parts, k+5, n+3, acc)
				}
			}
		}
	}
}

// A row of C is the same bits whether it is computed alone, among a few
// rows (where MatMulBT takes another path) or among many.
func TestPackedBTRowsIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	m, k, n := 70, 300, 90
	a, b := randSlice(rng, m*k), randSlice(rng, n*k)
	var p, v PackedBT
	p.Pack(k, b)
	v.View(k, b)
	all := make([]float32, m*n)
	p.MulBT(all, n, a, k, m, false)
	for _, rows := range []int{1, 2, 4, 5, 13, 40} {
		for i0 := 0; i0+rows <= m; i0 += 17 {
			for name, q := range map[string]*PackedBT{"packed": &p, "view": &v} {
				c := make([]float32, rows*n)
				q.MulBT(c, n, a[i0*k:], k, rows, false)
				for j := range c {
					if math.Float32bits(c[j]) != math.Float32bits(all[i0*n+j]) {
						t.Fatalf("%s rows %d..%d: C[%d] = %g, %g among %d packed rows", name, i0, i0+rows, j, c[j], all[i0*n+j], m)
					}
				}
			}
		}
	}
}

// Packing or viewing again forgets the previous matrix.
func TestPackedBTRepack(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	k := 40
	big, small := randSlice(rng, 70*k), randSlice(rng, 9*k)
	a := randSlice(rng, 6*k)
	want := make([]float32, 6*9)
	refMatMulBT(want, a, small, 6, k, 9, false)
	var p PackedBT
	for _, steps := range []string{"pack pack", "pack view", "view pack", "view view"} {
		for i, s := range []string{steps[:4], steps[5:]} {
			b := big
			if i == 1 {
				b = small
			}
			if s == "pack" {
				p.Pack(k, b)
			} else {
				p.View(k, b)
			}
		}
		got := make([]float32, 6*9)
		p.MulBT(got, 9, a, k, 6, false)
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-4 {
				t.Fatalf("%s: C[%d] = %g, want %g", steps, i, got[i], want[i])
			}
		}
	}
}

func TestPackedBTBadShapesPanic(t *testing.T) {
	var p PackedBT
	p.Pack(4, make([]float32, 8))
	for name, f := range map[string]func(){
		"part not a multiple of k": func() { new(PackedBT).Pack(3, make([]float32, 7)) },
		"k zero":                   func() { new(PackedBT).Pack(0) },
		"nothing packed":           func() { new(PackedBT).MulBT(nil, 0, nil, 0, 1, false) },
		"view part not a multiple": func() { new(PackedBT).View(3, make([]float32, 7)) },
		"short a":                  func() { p.MulBT(make([]float32, 4), 2, make([]float32, 7), 4, 2, false) },
		"short c":                  func() { p.MulBT(make([]float32, 3), 2, make([]float32, 8), 4, 2, false) },
		"lda below k":              func() { p.MulBT(make([]float32, 4), 2, make([]float32, 8), 3, 2, false) },
		"ldc below n":              func() { p.MulBT(make([]float32, 4), 1, make([]float32, 8), 4, 2, false) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
