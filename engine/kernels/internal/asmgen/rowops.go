package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The row loops use AVX2+FMA (8 lanes): they are bound by memory or by the
// exp polynomial, where wider vectors gain little. Each function handles
// len &^ 7 elements; the Go side finishes the tail.

// vec8 is a 32-byte constant holding v in every lane.
func vec8(name string, bits uint32) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(bits))
	}
	return m
}

func f32bits(v float32) uint32 { return math.Float32bits(v) }

// paramAddr is the stack address of a scalar argument.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

var expC struct {
	hi, lo, log2e, ln2hi, ln2lo, one, bias Mem
	poly                                   [6]Mem
}

func expConstants() {
	expC.hi = vec8("expHi", f32bits(88.3))
	expC.lo = vec8("expLo", f32bits(-87.3))
	expC.log2e = vec8("expLog2e", f32bits(1.44269504088896341))
	// ln 2 split so that n·ln2Hi is exact for |n| < 2^9.
	expC.ln2hi = vec8("expLn2Hi", f32bits(0.693359375))
	expC.ln2lo = vec8("expLn2Lo", f32bits(-2.12194440e-4))
	expC.one = vec8("expOne", f32bits(1))
	expC.bias = vec8("expBias", 127)
	// Minimax coefficients of (e^r − 1 − r)/r² on |r| ≤ ln2/2 (Cephes expf).
	for i, c := range []float32{5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.9875691500e-4} {
		expC.poly[i] = vec8("expP"+string(rune('0'+i)), f32bits(c))
	}
}

// expPS sets dst = e^x lane by lane (x is clobbered): x is clamped to
// [−87.3, 88.3], split as n·ln2 + r, e^r from a degree-7 polynomial and 2^n
// built in the exponent bits. Lanes below −87.3 (−Inf included) give 0;
// NaN stays NaN.
func expPS(x, dst VecVirtual) {
	under, n, t := YMM(), YMM(), YMM()
	VCMPPS(U8(1), expC.lo, x, under) // under = x < lo
	VMOVUPS(expC.hi, t)
	VMINPS(x, t, x) // min(hi, x), NaN from x kept
	VMOVUPS(expC.lo, t)
	VMAXPS(x, t, x)
	VMULPS(expC.log2e, x, n)
	VROUNDPS(U8(0), n, n)
	VFNMADD231PS(expC.ln2hi, n, x) // x −= n·ln2hi
	VFNMADD231PS(expC.ln2lo, n, x) // x −= n·ln2lo: x is now r
	VMOVUPS(expC.poly[5], dst)
	for i := 4; i >= 0; i-- {
		VFMADD213PS(expC.poly[i], x, dst) // dst = dst·r + c_i
	}
	VMULPS(x, x, t)
	VFMADD213PS(x, t, dst) // dst = dst·r² + r
	VADDPS(expC.one, dst, dst)
	VCVTPS2DQ(n, n)
	VPADDD(expC.bias, n, n)
	VPSLLD(U8(23), n, n)
	VMULPS(n, dst, dst)
	VANDNPS(dst, under, dst)
}

// loop8 emits a loop over n in steps of 8 (n a multiple of 8), calling body
// with the byte offset register, which it advances.
func loop8(name string, n Register, body func(off GPVirtual)) { loopLanes(name, n, 8, body) }

// loopLanes emits a loop over n floats, lanes at a time (n a multiple of
// lanes), calling body with the byte offset register, which it advances.
func loopLanes(name string, n Register, lanes int, body func(off GPVirtual)) {
	off := GP64()
	XORQ(off, off)
	SHLQ(U8(2), n)
	Label(name + "_loop")
	CMPQ(off, n)
	JGE(LabelRef(name + "_done"))
	body(off)
	ADDQ(U8(4*lanes), off)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
}

// hsum reduces the 8 lanes of v to its lowest lane ((0+4)+(2+6))+((1+5)+(3+7)).
func hsum(v VecVirtual) {
	hi := XMM()
	VEXTRACTF128(U8(1), v, hi)
	VADDPS(hi, v.AsX(), v.AsX())
	VMOVHLPS(v.AsX(), v.AsX(), hi)
	VADDPS(hi, v.AsX(), v.AsX())
	VMOVSHDUP(v.AsX(), hi)
	VADDSS(hi, v.AsX(), v.AsX())
}

func rowOps() {
	expConstants()

	TEXT("dotAVX2", NOSPLIT, "func(a, b []float32) float32")
	Pragma("noescape")
	Doc("dotAVX2 returns Σ a[i]·b[i] over len(a), a multiple of 8, with eight lanes × four accumulators.")
	{
		a := Mem{Base: Load(Param("a").Base(), GP64())}
		b := Mem{Base: Load(Param("b").Base(), GP64())}
		n := Load(Param("a").Len(), GP64())
		acc := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
		for _, r := range acc {
			VXORPS(r, r, r)
		}
		// 32 elements per step, then 8.
		Label("dot_loop32")
		CMPQ(n, U8(32))
		JL(LabelRef("dot_loop8"))
		for i, r := range acc {
			t := YMM()
			VMOVUPS(a.Offset(32*i), t)
			VFMADD231PS(b.Offset(32*i), t, r)
		}
		ADDQ(U8(128), a.Base)
		ADDQ(U8(128), b.Base)
		SUBQ(U8(32), n)
		JMP(LabelRef("dot_loop32"))
		Label("dot_loop8")
		TESTQ(n, n)
		JZ(LabelRef("dot_reduce"))
		t := YMM()
		VMOVUPS(a, t)
		VFMADD231PS(b, t, acc[0])
		ADDQ(U8(32), a.Base)
		ADDQ(U8(32), b.Base)
		SUBQ(U8(8), n)
		JMP(LabelRef("dot_loop8"))
		Label("dot_reduce")
		VADDPS(acc[1], acc[0], acc[0])
		VADDPS(acc[3], acc[2], acc[2])
		VADDPS(acc[2], acc[0], acc[0])
		hsum(acc[0])
		Store(acc[0].AsX(), ReturnIndex(0))
		VZEROUPPER()
		RET()
	}

	TEXT("axpyAVX2", NOSPLIT, "func(alpha float32, x, y []float32)")
	Pragma("noescape")
	Doc("axpyAVX2 sets y += alpha·x over len(x), a multiple of 8.")
	{
		alpha := YMM()
		VBROADCASTSS(paramAddr("alpha"), alpha)
		x := Load(Param("x").Base(), GP64())
		y := Load(Param("y").Base(), GP64())
		n := Load(Param("x").Len(), GP64())
		loop8("axpy", n, func(off GPVirtual) {
			t := YMM()
			VMOVUPS(Mem{Base: y, Index: off, Scale: 1}, t)
			VFMADD231PS(Mem{Base: x, Index: off, Scale: 1}, alpha, t)
			VMOVUPS(t, Mem{Base: y, Index: off, Scale: 1})
		})
		VZEROUPPER()
		RET()
	}

	TEXT("scaleMulAVX2", NOSPLIT, "func(out, x, w []float32, s float32)")
	Pragma("noescape")
	Doc("scaleMulAVX2 sets out = x·s·w over len(x), a multiple of 8.")
	{
		s := YMM()
		VBROADCASTSS(paramAddr("s"), s)
		out := Load(Param("out").Base(), GP64())
		x := Load(Param("x").Base(), GP64())
		w := Load(Param("w").Base(), GP64())
		n := Load(Param("x").Len(), GP64())
		loop8("scaleMul", n, func(off GPVirtual) {
			t := YMM()
			VMULPS(Mem{Base: x, Index: off, Scale: 1}, s, t)
			VMULPS(Mem{Base: w, Index: off, Scale: 1}, t, t)
			VMOVUPS(t, Mem{Base: out, Index: off, Scale: 1})
		})
		VZEROUPPER()
		RET()
	}

	TEXT("scaleAVX2", NOSPLIT, "func(x []float32, s float32)")
	Pragma("noescape")
	Doc("scaleAVX2 sets x *= s over len(x), a multiple of 8.")
	{
		s := YMM()
		VBROADCASTSS(paramAddr("s"), s)
		x := Load(Param("x").Base(), GP64())
		n := Load(Param("x").Len(), GP64())
		loop8("scale", n, func(off GPVirtual) {
			t := YMM()
			VMULPS(Mem{Base: x, Index: off, Scale: 1}, s, t)
			VMOVUPS(t, Mem{Base: x, Index: off, Scale: 1})
		})
		VZEROUPPER()
		RET()
	}

	TEXT("maxAVX2", NOSPLIT, "func(x []float32) float32")
	Pragma("noescape")
	Doc("maxAVX2 returns the largest element of x; len(x) is a positive multiple of 8.")
	{
		x := Load(Param("x").Base(), GP64())
		n := Load(Param("x").Len(), GP64())
		m := YMM()
		VMOVUPS(Mem{Base: x}, m)
		loop8("max", n, func(off GPVirtual) {
			VMAXPS(Mem{Base: x, Index: off, Scale: 1}, m, m)
		})
		hi := XMM()
		VEXTRACTF128(U8(1), m, hi)
		VMAXPS(hi, m.AsX(), m.AsX())
		VMOVHLPS(m.AsX(), m.AsX(), hi)
		VMAXPS(hi, m.AsX(), m.AsX())
		VMOVSHDUP(m.AsX(), hi)
		VMAXSS(hi, m.AsX(), m.AsX())
		Store(m.AsX(), ReturnIndex(0))
		VZEROUPPER()
		RET()
	}

	for _, write := range []bool{true, false} {
		name, doc := "expSubSumAVX2", "expSubSumAVX2 sets x[i] = e^(x[i]−mx) and returns their sum; len(x) is a multiple of 8."
		if !write {
			name, doc = "sumExpSubAVX2", "sumExpSubAVX2 returns Σ e^(x[i]−mx) without writing x; len(x) is a multiple of 8."
		}
		TEXT(name, NOSPLIT, "func(x []float32, mx float32) float32")
		Pragma("noescape")
		Doc(doc)
		mx := YMM()
		VBROADCASTSS(paramAddr("mx"), mx)
		x := Load(Param("x").Base(), GP64())
		n := Load(Param("x").Len(), GP64())
		sum := YMM()
		VXORPS(sum, sum, sum)
		loop8(name, n, func(off GPVirtual) {
			t, e := YMM(), YMM()
			VMOVUPS(Mem{Base: x, Index: off, Scale: 1}, t)
			VSUBPS(mx, t, t)
			expPS(t, e)
			VADDPS(e, sum, sum)
			if write {
				VMOVUPS(e, Mem{Base: x, Index: off, Scale: 1})
			}
		})
		hsum(sum)
		Store(sum.AsX(), ReturnIndex(0))
		VZEROUPPER()
		RET()
	}

	TEXT("swigluAVX2", NOSPLIT, "func(out, gate, up []float32)")
	Pragma("noescape")
	Doc("swigluAVX2 sets out = gate·σ(gate)·up over len(out), a multiple of 8.")
	{
		out := Load(Param("out").Base(), GP64())
		gate := Load(Param("gate").Base(), GP64())
		up := Load(Param("up").Base(), GP64())
		n := Load(Param("out").Len(), GP64())
		loop8("swiglu", n, func(off GPVirtual) {
			swigluBody(ymmLanes(), out, gate, up, off)
		})
		VZEROUPPER()
		RET()
	}

	TEXT("swigluBackwardAVX2", NOSPLIT, "func(dgate, dup, dout, gate, up []float32)")
	Pragma("noescape")
	Doc("swigluBackwardAVX2 sets dup = dout·silu(gate) and dgate = dout·up·σ·(1+gate·(1−σ)) over len(dgate), a multiple of 8.")
	{
		dgate := Load(Param("dgate").Base(), GP64())
		dup := Load(Param("dup").Base(), GP64())
		dout := Load(Param("dout").Base(), GP64())
		gate := Load(Param("gate").Base(), GP64())
		up := Load(Param("up").Base(), GP64())
		n := Load(Param("dgate").Len(), GP64())
		loop8("swigluBack", n, func(off GPVirtual) {
			swigluBackwardBody(ymmLanes(), dgate, dup, dout, gate, up, off)
		})
		VZEROUPPER()
		RET()
	}

	adamwKernel(false)
	adamwKernel(true)
}

// adamwKernel emits adamwAVX2 or, with consume, adamwConsumeAVX2: the same
// step on the gradient times gscale (one float32 product, as a separate
// scaling pass would give), leaving zeros in g, so that clipping and
// clearing the gradient cost no passes over memory of their own.
func adamwKernel(consume bool) {
	if consume {
		TEXT("adamwConsumeAVX2", NOSPLIT, "func(p, g, m, v []float32, lr, beta1, beta2, eps, wd, invBC1, invBC2, gscale float32)")
		Pragma("noescape")
		Doc("adamwConsumeAVX2 is adamwAVX2 on g·gscale that then zeroes g; len(p) is a multiple of 8.")
	} else {
		TEXT("adamwAVX2", NOSPLIT, "func(p, g, m, v []float32, lr, beta1, beta2, eps, wd, invBC1, invBC2 float32)")
		Pragma("noescape")
		Doc("adamwAVX2 applies one AdamW step over len(p), a multiple of 8 (see adamwGeneric).")
	}
	{
		bc := func(name string) VecVirtual {
			r := YMM()
			VBROADCASTSS(paramAddr(name), r)
			return r
		}
		lr, b1, b2, eps, wd, i1, i2 := bc("lr"), bc("beta1"), bc("beta2"), bc("eps"), bc("wd"), bc("invBC1"), bc("invBC2")
		var gs, zero VecVirtual
		if consume {
			gs, zero = bc("gscale"), YMM()
			VXORPS(zero, zero, zero)
		}
		omb1, omb2 := YMM(), YMM()
		VMOVUPS(expC.one, omb1)
		VSUBPS(b1, omb1, omb1)
		VMOVUPS(expC.one, omb2)
		VSUBPS(b2, omb2, omb2)
		p := Load(Param("p").Base(), GP64())
		g := Load(Param("g").Base(), GP64())
		m := Load(Param("m").Base(), GP64())
		v := Load(Param("v").Base(), GP64())
		n := Load(Param("p").Len(), GP64())
		name := "adamw"
		if consume {
			name = "adamwConsume"
		}
		loop8(name, n, func(off GPVirtual) {
			gi, mi, vi, t, u := YMM(), YMM(), YMM(), YMM(), YMM()
			VMOVUPS(Mem{Base: g, Index: off, Scale: 1}, gi)
			if consume {
				VMULPS(gs, gi, gi)
				VMOVUPS(zero, Mem{Base: g, Index: off, Scale: 1})
			}
			// m = β1·m + (1−β1)·g
			VMULPS(gi, omb1, mi)
			VFMADD231PS(Mem{Base: m, Index: off, Scale: 1}, b1, mi)
			VMOVUPS(mi, Mem{Base: m, Index: off, Scale: 1})
			// v = β2·v + (1−β2)·g²
			VMULPS(gi, omb2, vi)
			VMULPS(gi, vi, vi)
			VFMADD231PS(Mem{Base: v, Index: off, Scale: 1}, b2, vi)
			VMOVUPS(vi, Mem{Base: v, Index: off, Scale: 1})
			// p −= lr·(m·i1/(√(v·i2)+eps) + wd·p)
			VMULPS(i2, vi, t)
			VSQRTPS(t, t)
			VADDPS(eps, t, t)
			VMULPS(i1, mi, u)
			VDIVPS(t, u, u)
			VMOVUPS(Mem{Base: p, Index: off, Scale: 1}, t)
			VFMADD231PS(t, wd, u)
			VFNMADD231PS(u, lr, t)
			VMOVUPS(t, Mem{Base: p, Index: off, Scale: 1})
		})
		VZEROUPPER()
		RET()
	}
}
