package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// closeTo reports whether got is within rel·scale + abs of want.
func closeTo(got float32, want, scale, rel float64) bool {
	return math.Abs(float64(got)-want) <= rel*scale+1e-30 && !math.IsNaN(float64(got))
}

var rowLengths = []int{1, 3, 7, 8, 15, 16, 17, 31, 63, 64, 65, 100, 257, 1000}

func TestDotAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range append([]int{0}, rowLengths...) {
		a, b := randSlice(rng, n), randSlice(rng, n+3)
		var want, mag float64
		for i := 0; i < n; i++ {
			want += float64(a[i]) * float64(b[i])
			mag += math.Abs(float64(a[i]) * float64(b[i]))
		}
		if got := Dot(a, b); !closeTo(got, want, mag, float64(n+2)*u32) {
			t.Fatalf("Dot n=%d: %v, want %v", n, got, want)
		}
		y := randSlice(rng, n+3)
		y0 := append([]float32(nil), y...)
		Axpy(-0.75, a, y)
		for i := 0; i < n; i++ {
			w := float64(y0[i]) - 0.75*float64(a[i])
			if !closeTo(y[i], w, math.Abs(float64(y0[i]))+math.Abs(float64(a[i])), 2*u32) {
				t.Fatalf("Axpy n=%d: y[%d] = %v, want %v", n, i, y[i], w)
			}
		}
		for i := n; i < n+3; i++ {
			if y[i] != y0[i] {
				t.Fatalf("Axpy n=%d wrote past len(x) at %d", n, i)
			}
		}
	}
}

// Hand-computed: rows (3,4) and (0,0) with w = (1,2), eps = 0.
// mean(x²) = 12.5, rstd = 1/√12.5 = 0.28284271, out = (0.84852814, 2.2627417).
func TestRMSNormHandValues(t *testing.T) {
	x := []float32{3, 4, 1, 1}
	w := []float32{1, 2}
	out, rstd := make([]float32, 4), make([]float32, 2)
	RMSNorm(out, rstd, x, w, 2, 2, 0)
	want := []float64{0.848528137, 2.262741700, 1, 2}
	for i, v := range want {
		if !closeTo(out[i], v, v, 4*u32) {
			t.Fatalf("out[%d] = %v, want %v", i, out[i], v)
		}
	}
	if !closeTo(rstd[0], 0.282842712, 1, 4*u32) || rstd[1] != 1 {
		t.Fatalf("rstd = %v", rstd)
	}
}

func rmsNorm64(x, w []float64, rows, dim int, eps float64) []float64 {
	out := make([]float64, rows*dim)
	for r := 0; r < rows; r++ {
		var ss float64
		for i := 0; i < dim; i++ {
			ss += x[r*dim+i] * x[r*dim+i]
		}
		s := 1 / math.Sqrt(ss/float64(dim)+eps)
		for i := 0; i < dim; i++ {
			out[r*dim+i] = x[r*dim+i] * s * w[i]
		}
	}
	return out
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// fdGrad returns the central-difference gradient of L(x) = Σ dout·f(x) in
// float64 with respect to each entry of x.
func fdGrad(x, dout []float64, f func(x []float64) []float64) []float64 {
	g := make([]float64, len(x))
	const h = 1e-6
	for i := range x {
		old := x[i]
		x[i] = old + h
		up := f(x)
		x[i] = old - h
		dn := f(x)
		x[i] = old
		var s float64
		for j := range dout {
			s += dout[j] * (up[j] - dn[j])
		}
		g[i] = s / (2 * h)
	}
	return g
}

// checkGrad compares with tolerance rel·max(floor, max|want|): floor is the
// size of the terms that cancel in the gradient.
func checkGrad(t *testing.T, name string, got []float32, want []float64, floor, rel float64) {
	t.Helper()
	scale := floor
	for _, v := range want {
		scale = max(scale, math.Abs(v))
	}
	for i := range want {
		if !closeTo(got[i], want[i], scale, rel) {
			t.Fatalf("%s[%d] = %v, finite difference %v (scale %v)", name, i, got[i], want[i], scale)
		}
	}
}

func TestRMSNormForwardBackward(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, dim := range []int{1, 7, 17, 64} {
		rows := 5
		x, w, dout := randSlice(rng, rows*dim), randSlice(rng, dim), randSlice(rng, rows*dim)
		const eps = 1e-5
		out, rstd := make([]float32, rows*dim), make([]float32, rows)
		RMSNorm(out, rstd, x, w, rows, dim, eps)
		want := rmsNorm64(to64(x), to64(w), rows, dim, eps)
		for i := range want {
			if !closeTo(out[i], want[i], math.Abs(want[i])+1e-3, float64(dim+8)*u32) {
				t.Fatalf("dim %d out[%d] = %v, want %v", dim, i, out[i], want[i])
			}
		}
		dx, dw := make([]float32, rows*dim), make([]float32, dim)
		dw[0] = 0.5 // dw accumulates
		RMSNormBackward(dx, dw, dout, x, w, rstd, rows, dim)
		w64, x64 := to64(w), to64(x)
		checkGrad(t, "dx", dx, fdGrad(x64, to64(dout), func(x []float64) []float64 { return rmsNorm64(x, w64, rows, dim, eps) }), 1, 1e-4)
		gw := fdGrad(w64, to64(dout), func(w []float64) []float64 { return rmsNorm64(x64, w, rows, dim, eps) })
		gw[0] += 0.5
		checkGrad(t, "dw", dw, gw, 1, 1e-4)
	}
}

func swiglu64(gate, up []float64) []float64 {
	out := make([]float64, len(gate))
	for i, g := range gate {
		out[i] = g / (1 + math.Exp(-g)) * up[i]
	}
	return out
}

func TestSwiGLU(t *testing.T) {
	// Hand value: silu(1)·2 = 2/(1+e⁻¹) = 1.4621172.
	out := make([]float32, 1)
	SwiGLU(out, []float32{1}, []float32{2})
	if !closeTo(out[0], 1.46211716, 1, 4*u32) {
		t.Fatalf("SwiGLU(1,2) = %v", out[0])
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range rowLengths {
		gate, up, dout := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
		for i := range gate {
			gate[i] *= 8 // reach the saturated ends of the sigmoid
		}
		out := make([]float32, n)
		SwiGLU(out, gate, up)
		want := swiglu64(to64(gate), to64(up))
		for i := range want {
			if !closeTo(out[i], want[i], math.Abs(want[i])+1e-6, 16*u32) {
				t.Fatalf("n=%d out[%d] = %v, want %v", n, i, out[i], want[i])
			}
		}
		dg, du := make([]float32, n), make([]float32, n)
		SwiGLUBackward(dg, du, dout, gate, up)
		g64, u64 := to64(gate), to64(up)
		checkGrad(t, "dgate", dg, fdGrad(g64, to64(dout), func(g []float64) []float64 { return swiglu64(g, u64) }), 0, 1e-5)
		checkGrad(t, "dup", du, fdGrad(u64, to64(dout), func(u []float64) []float64 { return swiglu64(g64, u) }), 0, 1e-5)
	}
}

func rope64(x []float64, cos, sin []float32, nTok, nHeads, headDim int) []float64 {
	y := append([]float64(nil), x...)
	h := headDim / 2
	for t := 0; t < nTok; t++ {
		for hd := 0; hd < nHeads; hd++ {
			o := (t*nHeads + hd) * headDim
			for i := 0; i < h; i++ {
				c, s := float64(cos[t*h+i]), float64(sin[t*h+i])
				y[o+i] = x[o+i]*c - x[o+i+h]*s
				y[o+i+h] = x[o+i+h]*c + x[o+i]*s
			}
		}
	}
	return y
}

func TestRoPE(t *testing.T) {
	// Hand value: headDim 2, angle π/2 maps (x0, x1) = (1, 2) to (−2, 1).
	x := []float32{1, 2}
	RoPE(x, []float32{0}, []float32{1}, 1, 1, 2)
	if x[0] != -2 || x[1] != 1 {
		t.Fatalf("quarter turn gave %v, want [-2 1]", x)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for _, headDim := range []int{2, 8, 14, 64} {
		nTok, nHeads := 5, 3
		h := headDim / 2
		cos, sin := make([]float32, nTok*h), make([]float32, nTok*h)
		for t := 0; t < nTok; t++ {
			for i := 0; i < h; i++ {
				ang := float64(t) * math.Pow(10000, -float64(2*i)/float64(headDim))
				cos[t*h+i], sin[t*h+i] = float32(math.Cos(ang)), float32(math.Sin(ang))
			}
		}
		x := randSlice(rng, nTok*nHeads*headDim)
		x0 := append([]float32(nil), x...)
		RoPE(x, cos, sin, nTok, nHeads, headDim)
		want := rope64(to64(x0), cos, sin, nTok, nHeads, headDim)
		for i := range want {
			if !closeTo(x[i], want[i], 1, 4*u32) {
				t.Fatalf("headDim %d x[%d] = %v, want %v", headDim, i, x[i], want[i])
			}
		}
		dout := randSlice(rng, len(x))
		dx := append([]float32(nil), dout...)
		RoPEBackward(dx, cos, sin, nTok, nHeads, headDim)
		checkGrad(t, "dx", dx, fdGrad(to64(x0), to64(dout), func(x []float64) []float64 { return rope64(x, cos, sin, nTok, nHeads, headDim) }), 0, 1e-5)
	}
}

func TestSoftmaxLogSumExp(t *testing.T) {
	// Hand values: softmax(0, ln 3) = (1/4, 3/4); logsumexp = ln 4.
	x := []float32{0, float32(math.Log(3))}
	lse := make([]float32, 1)
	LogSumExpRows(lse, x, 1, 2)
	SoftmaxRows(x, 1, 2)
	if !closeTo(x[0], 0.25, 1, 4*u32) || !closeTo(x[1], 0.75, 1, 4*u32) || !closeTo(lse[0], math.Log(4), 1, 4*u32) {
		t.Fatalf("softmax %v, logsumexp %v", x, lse)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, cols := range rowLengths {
		rows := 4
		x := randSlice(rng, rows*cols)
		for i := range x {
			x[i] = x[i]*30 + 1000 // large offset: must subtract the max
		}
		lse := make([]float32, rows)
		LogSumExpRows(lse, x, rows, cols)
		x0 := append([]float32(nil), x...)
		SoftmaxRows(x, rows, cols)
		for r := 0; r < rows; r++ {
			mx := math.Inf(-1)
			for j := 0; j < cols; j++ {
				mx = math.Max(mx, float64(x0[r*cols+j]))
			}
			var s float64
			for j := 0; j < cols; j++ {
				s += math.Exp(float64(x0[r*cols+j]) - mx)
			}
			if !closeTo(lse[r], mx+math.Log(s), 1000, 4*u32) {
				t.Fatalf("cols %d lse[%d] = %v, want %v", cols, r, lse[r], mx+math.Log(s))
			}
			for j := 0; j < cols; j++ {
				want := math.Exp(float64(x0[r*cols+j])-mx) / s
				if !closeTo(x[r*cols+j], want, want+1e-7, float64(cols+16)*u32) {
					t.Fatalf("cols %d softmax[%d,%d] = %v, want %v", cols, r, j, x[r*cols+j], want)
				}
			}
		}
	}
	// Fully masked row: zeros and −Inf, no NaN. Partly masked row: exact zeros.
	inf := float32(math.Inf(-1))
	m := []float32{inf, inf, inf, 0, inf, 0}
	lse = make([]float32, 2)
	rm, rlse := append([]float32(nil), m...), make([]float32, 2)
	refLogSumExpRows(rlse, rm, 2, 3)
	refSoftmaxRows(rm, 2, 3)
	LogSumExpRows(lse, m, 2, 3)
	SoftmaxRows(m, 2, 3)
	for i := range m {
		if m[i] != rm[i] || (i < 2 && lse[i] != rlse[i] && !(i == 1 && closeTo(lse[1], float64(rlse[1]), 1, 4*u32))) {
			t.Fatalf("masked rows: softmax %v lse %v, reference %v %v", m, lse, rm, rlse)
		}
	}
	if !math.IsInf(float64(lse[0]), -1) || m[0] != 0 || m[2] != 0 || m[3] != 0.5 || m[4] != 0 || m[5] != 0.5 {
		t.Fatalf("masked rows: softmax %v, lse %v", m, lse[:2])
	}
}

func adamW64(p, g, m, v []float64, lr, b1, b2, eps, wd float64, step int) {
	for i := range p {
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		mh := m[i] / (1 - math.Pow(b1, float64(step)))
		vh := v[i] / (1 - math.Pow(b2, float64(step)))
		p[i] -= lr * (mh/(math.Sqrt(vh)+eps) + wd*p[i])
	}
}

func TestAdamW(t *testing.T) {
	// Hand value, first step: m̂ = g, v̂ = g², so p −= lr·(sign(g)·|g|/(|g|+eps) + wd·p).
	// p=1, g=0.5, lr=0.1, eps=0, wd=0.1: p = 1 − 0.1·(1 + 0.1) = 0.89.
	p, g, m, v := []float32{1}, []float32{0.5}, []float32{0}, []float32{0}
	// m = (1−β1)·g and v = (1−β2)·g² with the float32 values of β1 = 0.9, β2 = 0.999.
	AdamW(p, g, m, v, 0.1, 0.9, 0.999, 0, 0.1, 1)
	wantM, wantV := 0.5*(1-float64(float32(0.9))), 0.25*(1-float64(float32(0.999)))
	if !closeTo(p[0], 0.89, 1, 4*u32) || !closeTo(m[0], wantM, wantM, 2*u32) || !closeTo(v[0], wantV, wantV, 4*u32) {
		t.Fatalf("p=%v m=%v v=%v", p, m, v)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	for _, n := range rowLengths {
		p, m := randSlice(rng, n), randSlice(rng, n)
		v := randSlice(rng, n)
		for i := range v {
			v[i] *= v[i]
		}
		p64, m64, v64 := to64(p), to64(m), to64(v)
		for step := 1; step <= 3; step++ {
			g := randSlice(rng, n)
			AdamW(p, g, m, v, 1e-2, 0.9, 0.95, 1e-8, 0.1, step)
			adamW64(p64, to64(g), m64, v64, 1e-2, 0.9, 0.95, 1e-8, 0.1, step)
		}
		for i := range p {
			if !closeTo(p[i], p64[i], 1, 64*u32) || !closeTo(m[i], m64[i], 1, 16*u32) || !closeTo(v[i], v64[i], 1, 16*u32) {
				t.Fatalf("n=%d i=%d: p %v/%v m %v/%v v %v/%v", n, i, p[i], p64[i], m[i], m64[i], v[i], v64[i])
			}
		}
	}
}

// The row kernels must agree with the plain reference kernels.
func TestRowOpsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	rows, dim := 9, 129
	x, w := randSlice(rng, rows*dim), randSlice(rng, dim)
	out, rstd := make([]float32, rows*dim), make([]float32, rows)
	rout, rrstd := make([]float32, rows*dim), make([]float32, rows)
	RMSNorm(out, rstd, x, w, rows, dim, 1e-6)
	refRMSNorm(rout, rrstd, x, w, rows, dim, 1e-6)
	dx, dw, rdx, rdw := make([]float32, rows*dim), make([]float32, dim), make([]float32, rows*dim), make([]float32, dim)
	RMSNormBackward(dx, dw, x, x, w, rstd, rows, dim)
	refRMSNormBackward(rdx, rdw, x, x, w, rstd, rows, dim)
	sm, rsm := append([]float32(nil), x...), append([]float32(nil), x...)
	SoftmaxRows(sm, rows, dim)
	refSoftmaxRows(rsm, rows, dim)
	lse, rlse := make([]float32, rows), make([]float32, rows)
	LogSumExpRows(lse, x, rows, dim)
	refLogSumExpRows(rlse, x, rows, dim)
	sw, rsw := make([]float32, rows*dim), make([]float32, rows*dim)
	SwiGLU(sw, x, x)
	refSwiGLU(rsw, x, x)
	dg, du, rdg, rdu := make([]float32, rows*dim), make([]float32, rows*dim), make([]float32, rows*dim), make([]float32, rows*dim)
	SwiGLUBackward(dg, du, x, x, x)
	refSwiGLUBackward(rdg, rdu, x, x, x)
	for _, pair := range []struct {
		name      string
		got, want []float32
	}{{"RMSNorm", out, rout}, {"rstd", rstd, rrstd}, {"dx", dx, rdx}, {"dw", dw, rdw}, {"softmax", sm, rsm}, {"lse", lse, rlse}, {"swiglu", sw, rsw}, {"dgate", dg, rdg}, {"dup", du, rdu}} {
		for i := range pair.want {
			if !closeTo(pair.got[i], float64(pair.want[i]), math.Abs(float64(pair.want[i]))+1e-3, 1e-5) {
				t.Fatalf("%s[%d] = %v, reference %v", pair.name, i, pair.got[i], pair.want[i])
			}
		}
	}
	if got, want := Dot(x[:dim], w), refDot(x[:dim], w); !closeTo(got, float64(want), 10, 1e-5) {
		t.Fatalf("Dot = %v, reference %v", got, want)
	}
	ax, rax := append([]float32(nil), w...), append([]float32(nil), w...)
	Axpy(0.3, x[:dim], ax)
	refAxpy(0.3, x[:dim], rax)
	p, g := append([]float32(nil), x...), sw
	am, av := make([]float32, len(p)), make([]float32, len(p))
	rp, rm, rv := append([]float32(nil), x...), make([]float32, len(p)), make([]float32, len(p))
	for step := 1; step <= 2; step++ {
		AdamW(p, g, am, av, 1e-2, 0.9, 0.95, 1e-8, 0.1, step)
		refAdamW(rp, g, rm, rv, 1e-2, 0.9, 0.95, 1e-8, 0.1, step)
	}
	for _, pair := range []struct {
		name      string
		got, want []float32
	}{{"Axpy", ax, rax}, {"AdamW p", p, rp}, {"AdamW m", am, rm}, {"AdamW v", av, rv}} {
		for i := range pair.want {
			if !closeTo(pair.got[i], float64(pair.want[i]), math.Abs(float64(pair.want[i]))+1e-3, 1e-5) {
				t.Fatalf("%s[%d] = %v, reference %v", pair.name, i, pair.got[i], pair.want[i])
			}
		}
	}
	ro, rro := append([]float32(nil), x...), append([]float32(nil), x...)
	cs, sn := make([]float32, 3*dim), make([]float32, 3*dim)
	for i := range cs {
		ang := rng.Float64() * 2 * math.Pi
		cs[i], sn[i] = float32(math.Cos(ang)), float32(math.Sin(ang))
	}
	RoPE(ro, cs, sn, 3, 3, dim-1)
	refRoPE(rro, cs, sn, 3, 3, dim-1, false)
	RoPEBackward(ro, cs, sn, 3, 3, dim-1)
	refRoPE(rro, cs, sn, 3, 3, dim-1, true)
	for i := range ro {
		if !closeTo(ro[i], float64(rro[i]), 1, 1e-6) || !closeTo(ro[i], float64(x[i]), 10, 1e-6) {
			t.Fatalf("RoPE then RoPEBackward [%d] = %v, reference %v, original %v", i, ro[i], rro[i], x[i])
		}
	}
}

// The vector and scalar exp agree with math.Exp to 2 ulp over float32's
// range, give exactly 0 below it (masked logits are −Inf), and keep NaN.
func TestExp(t *testing.T) {
	var xs []float32
	for x := -90.0; x <= 88.3; x += 0.0137 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, float32(math.Inf(-1)), -1e-30, 0, 1e-30, float32(math.Log(2)), 88.3)
	for len(xs)%8 != 0 {
		xs = append(xs, 0)
	}
	vec := append([]float32(nil), xs...)
	expSubSum(vec, 0) // the vector path on amd64
	for i, x := range xs {
		want := math.Exp(float64(x))
		for name, got := range map[string]float32{"exp32": exp32(x), "vector": vec[i]} {
			switch {
			case x < -87.3:
				if got != 0 {
					t.Fatalf("%s(%v) = %v, want 0", name, x, got)
				}
			case !closeTo(got, want, want, 2.5*u32):
				t.Fatalf("%s(%v) = %v, want %v", name, x, got, want)
			}
		}
	}
	nan := []float32{float32(math.NaN()), 0, 0, 0, 0, 0, 0, 0}
	expSubSum(nan, 0)
	if !math.IsNaN(float64(nan[0])) || !math.IsNaN(float64(exp32(float32(math.NaN())))) {
		t.Fatalf("exp of NaN gave %v", nan[0])
	}
}

// TestScaleMax: the products are the float32 products, the maximum is the
// largest of them and ScaleMaxArgs's arguments the widened differences, for
// every length around the vector widths (masked tails), on the kernels and
// the portable code; hand values first.
func TestScaleMax(t *testing.T) {
	x := []float32{1, -3, 2.5}
	if got := ScaleMax(x, -2); got != 6 || x[0] != -2 || x[1] != 6 || x[2] != -5 {
		t.Fatalf("ScaleMax(1, -3, 2.5 by -2) = %v, x = %v; want 6, [-2 6 -5]", got, x)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	for n := 1; n <= 70; n++ {
		src := randSlice(rng, n)
		for i := range src {
			src[i] -= 3 // all negative, so a zero from a masked lane would show
		}
		withArgs := func(gen bool) func([]float32, float32) float32 {
			return func(x []float32, s float32) float32 {
				arg := make([]float64, len(x)+1)
				arg[len(x)] = 42 // past the row: untouched
				var m float32
				if gen {
					m = scaleMaxArgsGeneric(x, s, arg)
				} else {
					m = ScaleMaxArgs(x, s, arg)
				}
				for i, v := range x {
					if want := float64(v - m); math.Float64bits(arg[i]) != math.Float64bits(want) {
						t.Fatalf("n %d: arg[%d] = %v, want %v", len(x), i, arg[i], want)
					}
				}
				if arg[len(x)] != 42 {
					t.Fatalf("n %d: wrote past the row", len(x))
				}
				return m
			}
		}
		for _, f := range []func([]float32, float32) float32{ScaleMax, scaleMaxGeneric, withArgs(false), withArgs(true)} {
			x := append([]float32(nil), src...)
			got := f(x, 0.7)
			want := float32(math.Inf(-1))
			for i, v := range src {
				p := v * 0.7
				if math.Float32bits(x[i]) != math.Float32bits(p) {
					t.Fatalf("n %d: x[%d] = %v, want %v", n, i, x[i], p)
				}
				want = max(want, p)
			}
			if got != want {
				t.Fatalf("n %d: max %v, want %v", n, got, want)
			}
		}
	}
}

// TestNarrowScaleRoundsThenScales: NarrowScale rounds each float64 to
// float32 and then multiplies in float32, bit for bit the scalar
// float32(v)·s, over lengths around the vector width (masked tails) and
// values that overflow, underflow, carry signs of zero and NaN; it writes
// nothing past len(src).
func TestNarrowScaleRoundsThenScales(t *testing.T) {
	hand := []float64{1.5, 1e300, -1e300, math.Copysign(0, -1), 1e-50, math.NaN(), 0.1}
	got := make([]float32, len(hand))
	NarrowScale(got, hand, 2)
	want := []float32{3, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0, float32(math.NaN()), 0.2}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
			t.Errorf("NarrowScale(%v by 2)[%d] = %v, want %v", hand[i], i, got[i], want[i])
		}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for n := 0; n <= 40; n++ {
		src := make([]float64, n)
		for i := range src {
			src[i] = rng.NormFloat64() * math.Exp(rng.NormFloat64()*30)
		}
		s := float32(1 / (0.3 + rng.Float64()))
		for _, f := range []func([]float32, []float64, float32){NarrowScale, narrowScaleGeneric} {
			dst := make([]float32, n+1)
			dst[n] = 42 // past the row: untouched
			f(dst, src, s)
			for i, v := range src {
				if w := float32(v) * s; math.Float32bits(dst[i]) != math.Float32bits(w) {
					t.Fatalf("n %d: dst[%d] = %v, want float32(%v)·%v = %v", n, i, dst[i], v, s, w)
				}
			}
			if dst[n] != 42 {
				t.Fatalf("n %d: wrote past the row", n)
			}
		}
	}
}

// TestSoftmaxGradRowMatchesLoop: SoftmaxGradRow is bit for bit the scalar
// p·(d − dot)·scale, rounded after each operation in that order, over
// lengths around the vector width; it writes nothing past len(d).
func TestSoftmaxGradRowMatchesLoop(t *testing.T) {
	d, p := []float32{1, 0.5, 3}, []float32{0.25, 0.5, 0.25}
	SoftmaxGradRow(d, p, 1.5, 2)
	if want := []float32{-0.25, -1, 0.75}; !slices.Equal(d, want) {
		t.Fatalf("SoftmaxGradRow = %v, want %v", d, want)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for n := 0; n <= 40; n++ {
		src, p := randSlice(rng, n+1), randSlice(rng, n)
		dot, scale := float32(rng.NormFloat64()), float32(0.1+rng.Float64())
		for _, f := range []func([]float32, []float32, float32, float32){SoftmaxGradRow, softmaxGradGeneric} {
			d := append([]float32(nil), src...)
			f(d[:n], p, dot, scale)
			for i := range n {
				if w := p[i] * (src[i] - dot) * scale; math.Float32bits(d[i]) != math.Float32bits(w) {
					t.Fatalf("n %d: d[%d] = %v, want %v", n, i, d[i], w)
				}
			}
			if d[n] != src[n] {
				t.Fatalf("n %d: wrote past the row", n)
			}
		}
	}
}

// TestRMSNormBackwardRowsMatchPlainLoop: dx, computed four rows at a time
// and in vectors, and dw are bit for bit the plain loops', for row counts
// around multiples of four and widths with and without a scalar tail.
func TestRMSNormBackwardRowsMatchPlainLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 8))
	for rows := 1; rows <= 11; rows++ {
		for _, dim := range []int{1, 7, 20, 64} {
			x, dout, w := randSlice(rng, rows*dim), randSlice(rng, rows*dim), randSlice(rng, dim)
			rstd := randSlice(rng, rows)
			dx, dw := make([]float32, rows*dim), randSlice(rng, dim)
			dw0 := append([]float32(nil), dw...)
			RMSNormBackward(dx, dw, dout, x, w, rstd, rows, dim)
			for i := range dw0 {
				want := dw0[i]
				for r := 0; r < rows; r++ {
					want += dout[r*dim+i] * (x[r*dim+i] * rstd[r])
				}
				if math.Float32bits(dw[i]) != math.Float32bits(want) {
					t.Fatalf("rows %d dim %d: dw[%d] = %v, want %v", rows, dim, i, dw[i], want)
				}
			}
			for r := 0; r < rows; r++ {
				s := rstd[r]
				xr, dr := x[r*dim:(r+1)*dim], dout[r*dim:(r+1)*dim]
				var d float32
				for i := range xr {
					d += dr[i] * w[i] * xr[i]
				}
				mean := d * s / float32(dim)
				for i := range xr {
					want := s * (dr[i]*w[i] - xr[i]*s*mean)
					if got := dx[r*dim+i]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("rows %d dim %d: dx[%d][%d] = %v, want %v", rows, dim, r, i, got, want)
					}
				}
			}
		}
	}
}

// TestRoPEVectorMatchesLoop: the vector rotation gives the bits of the
// portable loop, forward and inverse, for half heads of 8 and 16.
func TestRoPEVectorMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 3))
	for _, headDim := range []int{16, 32} {
		for _, nHeads := range []int{1, 3} {
			nTok, h := 5, headDim/2
			x, cs, sn := randSlice(rng, nTok*nHeads*headDim), randSlice(rng, nTok*h), randSlice(rng, nTok*h)
			for _, inverse := range []bool{false, true} {
				got := append([]float32(nil), x...)
				if !ropeVector(got, cs, sn, nTok, nHeads, h, inverse) {
					t.Skip("no vector kernel")
				}
				for tk := 0; tk < nTok; tk++ {
					for hd := 0; hd < nHeads; hd++ {
						o := (tk*nHeads + hd) * headDim
						for i := 0; i < h; i++ {
							a, b, c, s := x[o+i], x[o+i+h], cs[tk*h+i], sn[tk*h+i]
							w1, w2 := a*c-b*s, b*c+a*s
							if inverse {
								w1, w2 = a*c+b*s, b*c-a*s
							}
							if math.Float32bits(got[o+i]) != math.Float32bits(w1) || math.Float32bits(got[o+i+h]) != math.Float32bits(w2) {
								t.Fatalf("headDim %d heads %d inverse %v: token %d head %d pair %d = (%v, %v), want (%v, %v)",
									headDim, nHeads, inverse, tk, hd, i, got[o+i], got[o+i+h], w1, w2)
							}
						}
					}
				}
			}
		}
	}
}

// AdamWSpans must give every element exactly what AdamW gives it tensor by
// tensor, for spans of any size (chunked, with vector tails) and decay.
func TestAdamWSpansMatchesAdamW(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	sizes := []int{3, 64, 1000, adamwChunk + 77, 8, 2*adamwChunk + 5}
	var spans []AdamWSpan
	n := 0
	for i, s := range sizes {
		wd := float32(0)
		if i%2 == 0 {
			wd = 0.1
		}
		spans = append(spans, AdamWSpan{Offset: n, Size: s, WeightDecay: wd})
		n += s + i // gaps between spans stay untouched
	}
	p, g := randSlice(rng, n), randSlice(rng, n)
	m, v := randSlice(rng, n), randSlice(rng, n)
	for i := range v {
		v[i] *= v[i]
	}
	wantP, wantM, wantV := slices.Clone(p), slices.Clone(m), slices.Clone(v)
	for step := 1; step <= 3; step++ {
		for _, s := range spans {
			r := s.Offset
			AdamW(wantP[r:r+s.Size], g[r:r+s.Size], wantM[r:r+s.Size], wantV[r:r+s.Size], 1e-3, 0.9, 0.95, 1e-8, s.WeightDecay, step)
		}
		AdamWSpans(p, g, m, v, spans, 1e-3, 0.9, 0.95, 1e-8, step)
		for i := range p {
			if math.Float32bits(p[i]) != math.Float32bits(wantP[i]) || math.Float32bits(m[i]) != math.Float32bits(wantM[i]) || math.Float32bits(v[i]) != math.Float32bits(wantV[i]) {
				t.Fatalf("step %d element %d: p, m, v = %v, %v, %v; tensor by tensor %v, %v, %v", step, i, p[i], m[i], v[i], wantP[i], wantM[i], wantV[i])
			}
		}
	}
}

// AdamWSpansConsume must give exactly what scaling g and then AdamWSpans
// give, and leave g's spans zero and its gaps untouched.
func TestAdamWSpansConsumeMatchesScaleThenAdamW(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	sizes := []int{5, 64, adamwChunk + 13, 8, 1001}
	var spans []AdamWSpan
	n := 0
	for i, s := range sizes {
		spans = append(spans, AdamWSpan{Offset: n, Size: s, WeightDecay: float32(i%2) * 0.1})
		n += s + i
	}
	p, m, v := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	for i := range v {
		v[i] *= v[i]
	}
	wantP, wantM, wantV := slices.Clone(p), slices.Clone(m), slices.Clone(v)
	for step, gs := range []float32{0.37, 1, 1e-3} {
		g := randSlice(rng, n)
		orig := slices.Clone(g)
		scaled := slices.Clone(g)
		for i := range scaled {
			scaled[i] *= gs
		}
		AdamWSpans(wantP, scaled, wantM, wantV, spans, 1e-3, 0.9, 0.95, 1e-8, step+1)
		AdamWSpansConsume(p, g, m, v, spans, gs, 1e-3, 0.9, 0.95, 1e-8, step+1)
		for i := range p {
			if math.Float32bits(p[i]) != math.Float32bits(wantP[i]) || math.Float32bits(m[i]) != math.Float32bits(wantM[i]) || math.Float32bits(v[i]) != math.Float32bits(wantV[i]) {
				t.Fatalf("scale %v element %d: p, m, v = %v, %v, %v; scaled then stepped %v, %v, %v", gs, i, p[i], m[i], v[i], wantP[i], wantM[i], wantV[i])
			}
		}
		inSpan := make([]bool, n)
		for _, s := range spans {
			for i := s.Offset; i < s.Offset+s.Size; i++ {
				inSpan[i] = true
			}
		}
		for i := range g {
			if inSpan[i] && g[i] != 0 {
				t.Fatalf("scale %v: gradient element %d is %v after the step, want 0", gs, i, g[i])
			}
			if !inSpan[i] && math.Float32bits(g[i]) != math.Float32bits(orig[i]) {
				t.Fatalf("scale %v: gradient element %d outside every span changed from %v to %v", gs, i, orig[i], g[i])
			}
		}
	}
}

// TestScaleIsOneProductPerElement: every element comes out as the scalar
// float32 product, bit for bit, over the vector body and the tail.
func TestScaleIsOneProductPerElement(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for n := 0; n <= 37; n++ {
		x := randSlice(rng, n)
		want := make([]float32, n)
		for i, v := range x {
			want[i] = v * float32(0.3)
		}
		Scale(x, 0.3)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n %d: x[%d] = %v, want %v", n, i, x[i], want[i])
			}
		}
	}
}
