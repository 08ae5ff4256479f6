package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// float32 unit roundoff.
const u32 = 1.0 / (1 << 24)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}

type layout int

const (
	layoutAB layout = iota
	layoutABT
	layoutATB
)

func (l layout) String() string { return [...]string{"AB", "ABT", "ATB"}[l] }

// Element accessors of A and B for each layout, so the float64 reference is
// written once.
func (l layout) aAt(a []float32, m, k, i, p int) float64 {
	if l == layoutATB {
		return float64(a[p*m+i])
	}
	return float64(a[i*k+p])
}

func (l layout) bAt(b []float32, k, n, p, j int) float64 {
	if l == layoutABT {
		return float64(b[j*k+p])
	}
	return float64(b[p*n+j])
}

func (l layout) run(c, a, b []float32, m, k, n int, acc bool) {
	l.fn(Backend{MatMul: MatMul, MatMulBT: MatMulBT, MatMulAT: MatMulAT})(c, a, b, m, k, n, acc)
}

func (l layout) fn(be Backend) func(c, a, b []float32, m, k, n int, acc bool) {
	return [...]func(c, a, b []float32, m, k, n int, acc bool){be.MatMul, be.MatMulBT, be.MatMulAT}[l]
}

// gemmWant is the float64 product of a and b (plus c0 when acc) and, per
// element, the magnitude Σ|a||b| (+|c0|) that bounds its rounding error.
func gemmWant(l layout, c0, a, b []float32, m, k, n int, acc bool) (want, mag []float64) {
	want, mag = make([]float64, m*n), make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, g float64
			for p := 0; p < k; p++ {
				x := l.aAt(a, m, k, i, p) * l.bAt(b, k, n, p, j)
				s += x
				g += math.Abs(x)
			}
			if acc {
				s += float64(c0[i*n+j])
				g += math.Abs(float64(c0[i*n+j]))
			}
			want[i*n+j], mag[i*n+j] = s, g
		}
	}
	return want, mag
}

// gemmCheck compares c elementwise with the float64 result. The allowed
// error is the worst-case rounding bound of a length-k float32 sum,
// (k+2)·u·(Σ|a||b| + |c0|), which a single wrong or missing product exceeds
// by orders of magnitude for random data.
func gemmCheck(l layout, c []float32, want, mag []float64, m, k, n int, acc bool) error {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			got, s := float64(c[i*n+j]), want[i*n+j]
			if tol := float64(k+2) * u32 * mag[i*n+j]; math.Abs(got-s) > tol || math.IsNaN(got) {
				return fmt.Errorf("%v m=%d k=%d n=%d acc=%v: C[%d,%d] = %g, want %g (tolerance %.3g)", l, m, k, n, acc, i, j, got, s, tol)
			}
		}
	}
	return nil
}

// runGemmCase checks one random shape on every backend usable here. With
// acc false, C starts as NaN: the product must not read it.
func runGemmCase(t testing.TB, rng *rand.Rand, l layout, m, k, n int, acc bool) {
	t.Helper()
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	c0 := randSlice(rng, m*n)
	if !acc {
		for i := range c0 {
			c0[i] = float32(math.NaN())
		}
	}
	want, mag := gemmWant(l, c0, a, b, m, k, n, acc)
	for _, be := range Backends() {
		c := append([]float32(nil), c0...)
		l.fn(be)(c, a, b, m, k, n, acc)
		if err := gemmCheck(l, c, want, mag, m, k, n, acc); err != nil {
			t.Fatalf("%s: %v", be.Name, err)
		}
	}
}

var oddSizes = []int{1, 2, 7, 15, 16, 17, 31, 33, 63, 65, 129, 257}

func TestMatMulOddSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range []layout{layoutAB, layoutABT, layoutATB} {
		for _, acc := range []bool{false, true} {
			for _, m := range oddSizes {
				for _, n := range []int{1, 7, 33, 65, 257} {
					for _, k := range []int{1, 7, 63, 257} {
						if m*n*k > 1<<21 {
							continue
						}
						runGemmCase(t, rng, l, m, k, n, acc)
					}
				}
			}
		}
	}
}

// Shapes past the cache blocks (k beyond one K panel, n beyond one N panel)
// and the engine's own shapes at reduced token counts.
func TestMatMulLargeBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{{67, 600, 301}, {50, 1031, 97}, {40, 256, 1024}, {25, 1024, 256}, {128, 64, 64}}
	for _, l := range []layout{layoutAB, layoutABT, layoutATB} {
		for _, s := range shapes {
			runGemmCase(t, rng, l, s[0], s[1], s[2], true)
		}
	}
}

// The check itself must catch a real bug: one product dropped or one element
// off by a single product.
func TestGemmCheckCatchesBugs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m, k, n := 9, 257, 11
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	c := make([]float32, m*n)
	MatMul(c, a, b, m, k, n, false)
	want, mag := gemmWant(layoutAB, nil, a, b, m, k, n, false)
	if err := gemmCheck(layoutAB, c, want, mag, m, k, n, false); err != nil {
		t.Fatal(err)
	}
	c[3*n+4] -= a[3*k+100] * b[100*n+4] // as if term p=100 were skipped
	if gemmCheck(layoutAB, c, want, mag, m, k, n, false) == nil {
		t.Fatal("dropping one of 257 products went unnoticed")
	}
}

func TestMatMulEmpty(t *testing.T) {
	c := []float32{5}
	MatMul(c, nil, nil, 1, 0, 1, true)
	if c[0] != 5 {
		t.Fatalf("k=0 acc changed C to %v", c[0])
	}
	MatMul(c, nil, nil, 1, 0, 1, false)
	if c[0] != 0 {
		t.Fatalf("k=0 overwrite gave %v, want 0", c[0])
	}
	MatMulBT(nil, nil, nil, 0, 5, 0, false)
	MatMulAT(nil, nil, nil, 0, 0, 0, true)
	// k = 0 past the small-row path: C is zeroed, or left alone with acc.
	for _, be := range Backends() {
		for l := layoutAB; l <= layoutATB; l++ {
			c := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
			l.fn(be)(c, nil, nil, 5, 0, 2, true)
			if c[9] != 10 {
				t.Fatalf("%s %v: k=0 acc changed C", be.Name, l)
			}
			l.fn(be)(c, nil, nil, 5, 0, 2, false)
			for _, v := range c {
				if v != 0 {
					t.Fatalf("%s %v: k=0 overwrite left %v", be.Name, l, c)
				}
			}
		}
	}
}

// Shapes the slices cannot hold are programming errors: the kernels panic
// with a message instead of reading or writing out of bounds in assembly.
func TestBadShapesPanic(t *testing.T) {
	f := func(n int) []float32 { return make([]float32, n) }
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"MatMul short B", func() { MatMul(f(4), f(4), f(3), 2, 2, 2, false) }},
		{"MatMulBT short C", func() { MatMulBT(f(3), f(4), f(4), 2, 2, 2, false) }},
		{"MatMulAT negative", func() { MatMulAT(f(4), f(4), f(4), -2, 2, 2, false) }},
		{"Dot short b", func() { Dot(f(9), f(8)) }},
		{"Axpy short y", func() { Axpy(1, f(9), f(8)) }},
		{"RMSNorm short w", func() { RMSNorm(f(8), f(2), f(8), f(3), 2, 4, 1e-5) }},
		{"RMSNormBackward short rstd", func() { RMSNormBackward(f(8), f(4), f(8), f(8), f(4), f(1), 2, 4) }},
		{"SwiGLU short up", func() { SwiGLU(f(8), f(8), f(7)) }},
		{"SwiGLUBackward short dup", func() { SwiGLUBackward(f(8), f(7), f(8), f(8), f(8)) }},
		{"RoPE odd headDim", func() { RoPE(f(6), f(3), f(3), 1, 2, 3) }},
		{"RoPEBackward short sin", func() { RoPEBackward(f(8), f(4), f(3), 2, 1, 4) }},
		{"SoftmaxRows short x", func() { SoftmaxRows(f(5), 2, 3) }},
		{"LogSumExpRows short out", func() { LogSumExpRows(f(1), f(6), 2, 3) }},
		{"AdamW step 0", func() { AdamW(f(4), f(4), f(4), f(4), 1e-3, 0.9, 0.99, 1e-8, 0, 0) }},
		{"AdamW short v", func() { AdamW(f(4), f(4), f(4), f(3), 1e-3, 0.9, 0.99, 1e-8, 0, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.call()
		})
	}
}

// Results must be bit-identical for any GOMAXPROCS.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m, k, n := 190, 300, 170
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	x := randSlice(rng, m*k)
	w := randSlice(rng, k)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	type result struct {
		c    [][3][]float32
		dw   []float32
		elem [][]float32
	}
	run := func() result {
		var r result
		for _, be := range Backends() {
			var cs [3][]float32
			for l := layoutAB; l <= layoutATB; l++ {
				cs[l] = make([]float32, m*n)
				l.fn(be)(cs[l], a, b, m, k, n, false)
			}
			r.c = append(r.c, cs)
		}
		// The small-row path splits columns instead.
		var cs [3][]float32
		for l := layoutAB; l <= layoutATB; l++ {
			cs[l] = make([]float32, 3*n)
			l.run(cs[l], a, b, 3, k, n, false)
		}
		r.c = append(r.c, cs)
		out, rstd, dx := make([]float32, m*k), make([]float32, m), make([]float32, m*k)
		r.dw = make([]float32, k)
		RMSNorm(out, rstd, x, w, m, k, 1e-5)
		RMSNormBackward(dx, r.dw, out, x, w, rstd, m, k)
		// Elementwise kernels over a length that is not a multiple of 8.
		e := len(x) - 5
		sw, dg, du := make([]float32, e), make([]float32, e), make([]float32, e)
		SwiGLU(sw, x, a)
		SwiGLUBackward(dg, du, sw, x, a)
		p, g, mm, v := append([]float32(nil), x[:e]...), a[:e], make([]float32, e), make([]float32, e)
		AdamW(p, g, mm, v, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1)
		sm := append([]float32(nil), x...)
		SoftmaxRows(sm, m, k)
		r.elem = [][]float32{out, rstd, dx, sw, dg, du, p, mm, v, sm}
		return r
	}
	runtime.GOMAXPROCS(1)
	want := run()
	for _, procs := range []int{2, 3, 7} {
		runtime.GOMAXPROCS(procs)
		got := run()
		for bi := range got.c {
			for l := range got.c[bi] {
				g, w := got.c[bi][l], want.c[bi][l]
				for i := range g {
					if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
						t.Fatalf("backend %d GOMAXPROCS=%d %v: C[%d] = %v, with 1 proc %v", bi, procs, layout(l), i, g[i], w[i])
					}
				}
			}
		}
		for o := range got.elem {
			for i := range got.elem[o] {
				if math.Float32bits(got.elem[o][i]) != math.Float32bits(want.elem[o][i]) {
					t.Fatalf("GOMAXPROCS=%d: row-op output %d differs at %d", procs, o, i)
				}
			}
		}
		for i := range got.dw {
			if math.Float32bits(got.dw[i]) != math.Float32bits(want.dw[i]) {
				t.Fatalf("GOMAXPROCS=%d: dw[%d] differs", procs, i)
			}
		}
	}
}

// The fast kernels must agree with the plain reference kernels too.
func TestMatMulMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	m, k, n := 77, 129, 45
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	refs := []func(c, a, b []float32, m, k, n int, acc bool){refMatMul, refMatMulBT, refMatMulAT}
	for _, be := range Backends() {
		for i := 0; i < 6; i++ {
			l, acc := layout(i%3), i >= 3
			c0 := randSlice(rng, m*n)
			got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
			l.fn(be)(got, a, b, m, k, n, acc)
			refs[l](want, a, b, m, k, n, acc)
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-4 {
					t.Fatalf("%s %v: C[%d] = %v, reference %v", be.Name, l, i, got[i], want[i])
				}
			}
		}
	}
}

func FuzzMatMul(f *testing.F) {
	f.Add(uint8(1), uint8(1), uint8(1), uint8(0), true, uint64(1))
	f.Add(uint8(17), uint8(33), uint8(65), uint8(1), false, uint64(2))
	f.Add(uint8(63), uint8(7), uint8(255), uint8(2), true, uint64(3))
	f.Add(uint8(0), uint8(9), uint8(3), uint8(2), false, uint64(4))
	f.Fuzz(func(t *testing.T, m, k, n, lay uint8, acc bool, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 11))
		// Up to 2·255 on k to cross a K panel.
		runGemmCase(t, rng, layout(lay%3), int(m)%100, int(k)*2, int(n), acc)
	})
}
