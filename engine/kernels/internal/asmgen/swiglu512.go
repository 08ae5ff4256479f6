package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX-512 SwiGLU loops: the AVX2 ones sixteen lanes at a time, every
// lane running the same operations (the exponential's clamps, rounding,
// polynomial and scaling, the division), so each gives the AVX2 kernel's
// bits; only the underflow mask lives in an opmask register.

// zexpConsts are expC's constants broadcast to zmm registers.
type zexpConsts struct {
	hi, lo, log2e, ln2hi, ln2lo, one, bias VecVirtual
	poly                                   [6]VecVirtual
}

func loadZExpConsts() zexpConsts {
	b := func(m Mem) VecVirtual {
		z := ZMM()
		VBROADCASTSS(m, z)
		return z
	}
	var c zexpConsts
	c.hi, c.lo, c.log2e = b(expC.hi), b(expC.lo), b(expC.log2e)
	c.ln2hi, c.ln2lo, c.one = b(expC.ln2hi), b(expC.ln2lo), b(expC.one)
	c.bias = ZMM()
	VPBROADCASTD(expC.bias, c.bias)
	for i := range c.poly {
		c.poly[i] = b(expC.poly[i])
	}
	return c
}

// expPS512 is expPS on sixteen lanes; it overwrites x.
func expPS512(c zexpConsts, x, dst VecVirtual) {
	n, t := ZMM(), ZMM()
	under := K()
	VCMPPS(U8(1), c.lo, x, under) // under = x < lo
	VMOVUPS(c.hi, t)
	VMINPS(x, t, x) // min(hi, x), NaN from x kept
	VMOVUPS(c.lo, t)
	VMAXPS(x, t, x)
	VMULPS(c.log2e, x, n)
	VRNDSCALEPS(U8(0), n, n) // round to nearest even, as VROUNDPS $0
	VFNMADD231PS(c.ln2hi, n, x)
	VFNMADD231PS(c.ln2lo, n, x)
	VMOVUPS(c.poly[5], dst)
	for i := 4; i >= 0; i-- {
		VFMADD213PS(c.poly[i], x, dst)
	}
	VMULPS(x, x, t)
	VFMADD213PS(x, t, dst)
	VADDPS(c.one, dst, dst)
	VCVTPS2DQ(n, n)
	VPADDD(c.bias, n, n)
	VPSLLD(U8(23), n, n)
	VMULPS(n, dst, dst)
	keep := K()
	KNOTW(under, keep)
	VMOVUPS_Z(dst, keep, dst) // +0 where under, as VANDNPS
}

// loop16 is loop8 sixteen floats at a time (n a multiple of 16).
func loop16(name string, n Register, body func(off GPVirtual)) { loopLanes(name, n, 16, body) }

func swiglu512() {
	TEXT("swigluAVX512", NOSPLIT, "func(out, gate, up []float32)")
	Pragma("noescape")
	Doc("swigluAVX512 is swigluAVX2 sixteen lanes at a time; len(out) is a multiple of 16.")
	{
		c := loadZExpConsts()
		out := Load(Param("out").Base(), GP64())
		gate := Load(Param("gate").Base(), GP64())
		up := Load(Param("up").Base(), GP64())
		n := Load(Param("out").Len(), GP64())
		loop16("swiglu512", n, func(off GPVirtual) {
			swigluBody(zmmLanes(c), out, gate, up, off)
		})
		VZEROUPPER()
		RET()
	}

	TEXT("swigluBackwardAVX512", NOSPLIT, "func(dgate, dup, dout, gate, up []float32)")
	Pragma("noescape")
	Doc("swigluBackwardAVX512 is swigluBackwardAVX2 sixteen lanes at a time; len(dgate) is a multiple of 16.")
	{
		c := loadZExpConsts()
		dgate := Load(Param("dgate").Base(), GP64())
		dup := Load(Param("dup").Base(), GP64())
		dout := Load(Param("dout").Base(), GP64())
		gate := Load(Param("gate").Base(), GP64())
		up := Load(Param("up").Base(), GP64())
		n := Load(Param("dgate").Len(), GP64())
		loop16("swigluBack512", n, func(off GPVirtual) {
			swigluBackwardBody(zmmLanes(c), dgate, dup, dout, gate, up, off)
		})
		VZEROUPPER()
		RET()
	}
}

// lanes is what a loop body needs of its register width: fresh registers,
// 1.0 in every lane and the exponential at that width.
type lanes struct {
	vec func() VecVirtual
	one Op
	exp func(x, dst VecVirtual) // overwrites x
}

// ymmLanes are eight lanes, with expC's constants read from memory.
func ymmLanes() lanes { return lanes{vec: YMM, one: expC.one, exp: expPS} }

// zmmLanes are sixteen lanes, with the constants held in c.
func zmmLanes(c zexpConsts) lanes {
	return lanes{vec: ZMM, one: c.one, exp: func(x, dst VecVirtual) { expPS512(c, x, dst) }}
}

// swigluBody sets out = gate·σ(gate)·up for the lanes at byte offset off.
func swigluBody(l lanes, out, gate, up Register, off GPVirtual) {
	g, t, e := l.vec(), l.vec(), l.vec()
	VMOVUPS(Mem{Base: gate, Index: off, Scale: 1}, g)
	VXORPS(t, t, t)
	VSUBPS(g, t, t) // −g
	l.exp(t, e)
	VADDPS(l.one, e, e) // 1 + e^−g
	VMULPS(Mem{Base: up, Index: off, Scale: 1}, g, g)
	VDIVPS(e, g, g) // g·up/(1+e^−g)
	VMOVUPS(g, Mem{Base: out, Index: off, Scale: 1})
}

// swigluBackwardBody sets dup = dout·silu(gate) and
// dgate = dout·up·σ·(1+gate·(1−σ)) for the lanes at byte offset off.
func swigluBackwardBody(l lanes, dgate, dup, dout, gate, up Register, off GPVirtual) {
	g, t, e, sg, d := l.vec(), l.vec(), l.vec(), l.vec(), l.vec()
	VMOVUPS(Mem{Base: gate, Index: off, Scale: 1}, g)
	VXORPS(t, t, t)
	VSUBPS(g, t, t)
	l.exp(t, e)
	VADDPS(l.one, e, e)
	VMOVUPS(l.one, sg)
	VDIVPS(e, sg, sg) // σ = 1/(1+e^−g)
	VMOVUPS(Mem{Base: dout, Index: off, Scale: 1}, d)
	VMULPS(g, sg, t) // silu
	VMULPS(d, t, t)
	VMOVUPS(t, Mem{Base: dup, Index: off, Scale: 1})
	// 1 + g·(1−σ)
	VMOVUPS(l.one, t)
	VSUBPS(sg, t, t)
	VFMADD213PS(l.one, g, t)
	VMULPS(sg, t, t)
	VMULPS(Mem{Base: up, Index: off, Scale: 1}, t, t)
	VMULPS(d, t, t)
	VMOVUPS(t, Mem{Base: dgate, Index: off, Scale: 1})
}
