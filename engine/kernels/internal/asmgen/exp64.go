package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// expPD is math.Exp, eight lanes at a time, bit for bit: the engine's
// attention softmax and LM-head statistics take float64 exponentials, and
// their results are part of every seeded run, so a faster exponential must
// round exactly as the standard library's does. It repeats, lane by lane,
// the operations of Go's amd64 math.Exp on its FMA path (the range
// reduction x = k·ln2 + r with k rounded to nearest, r/16, the Taylor
// polynomial by FMA, four squarings, the scale by 2^k), in the same order
// and with the same constants. Only its normal-range branch is vectorised:
// lanes with |x| > 700 or NaN are reported and the caller recomputes them
// with math.Exp.
func expPD() {
	c := func(name string, v float64) Mem {
		m := GLOBL(name, RODATA|NOPTR)
		DATA(0, U64(math.Float64bits(v)))
		return m
	}
	log2e := c("exp64Log2e", 1.4426950408889634073599246810018920)
	ln2u := c("exp64Ln2U", 0.69314718055966295651160180568695068359375)
	ln2l := c("exp64Ln2L", 0.28235290563031577122588448175013436025525412068e-12)
	sixteenth := c("exp64Sixteenth", 0.0625)
	limit := c("exp64Limit", 700)
	absMask := GLOBL("exp64AbsMask", RODATA|NOPTR)
	DATA(0, U64(^uint64(1<<63)))
	bias := GLOBL("exp64Bias", RODATA|NOPTR)
	DATA(0, U64(0x3FF))
	// Taylor coefficients in the order math.Exp applies them.
	coef := []float64{
		2.4801587301587301587e-5, 1.9841269841269841270e-4, 1.3888888888888888889e-3,
		8.3333333333333333333e-3, 4.1666666666666666667e-2, 1.6666666666666666667e-1, 0.5, 1.0,
	}
	two := c("exp64Two", 2.0)
	one := c("exp64One", 1.0)

	TEXT("expPDAVX512", NOSPLIT, "func(dst, src []float64) bool")
	Pragma("noescape")
	Doc("expPDAVX512 sets dst[i] = math.Exp(src[i]) over len(src), a multiple of 8, with",
		"the rounding of math.Exp; it returns false if a lane had |src[i]| > 700",
		"or NaN, whose result it leaves undefined.")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	n := Load(Param("src").Len(), GP64())
	bcast := func(m Mem) VecVirtual {
		z := ZMM()
		VBROADCASTSD(m, z)
		return z
	}
	zLog2e, zLn2u, zLn2l, zSixteenth := bcast(log2e), bcast(ln2u), bcast(ln2l), bcast(sixteenth)
	zLimit, zAbs, zTwo, zOne := bcast(limit), bcast(absMask), bcast(two), bcast(one)
	zBias := ZMM()
	VPBROADCASTQ(bias, zBias)
	zCoef := make([]VecVirtual, len(coef))
	for i, v := range coef {
		zCoef[i] = bcast(c("exp64C"+string(rune('0'+i)), v))
	}
	bad := GP64()
	XORQ(bad, bad)
	off := GP64()
	XORQ(off, off)
	SHLQ(U8(3), n)
	Label("expPD_loop")
	CMPQ(off, n)
	JGE(LabelRef("expPD_done"))
	{
		x, ax, x1, p, t := ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
		kInt := YMM()
		k := K()
		m := GP64()
		VMOVUPD(Mem{Base: src, Index: off, Scale: 1}, x)
		VANDPD(zAbs, x, ax)
		VCMPPD(U8(6), zLimit, ax, k) // !(|x| <= 700), NaN included
		KMOVB(k, m.As32())
		ORQ(m, bad)
		VMULPD(zLog2e, x, x1)      // x·log2e
		VCVTPD2DQ(x1, kInt)        // k = round(x·log2e)
		VCVTDQ2PD(kInt, x1)        // float64(k)
		VFNMADD231PD(zLn2u, x1, x) // x −= k·ln2u
		VFNMADD231PD(zLn2l, x1, x) // x −= k·ln2l
		VMULPD(zSixteenth, x, x)   // r = x/16
		VMOVAPD(zCoef[0], p)
		for _, zc := range zCoef[1:] {
			VFMADD213PD(zc, x, p) // p = p·r + c
		}
		VMULPD(p, x, x) // x = r·p
		for i := 0; i < 3; i++ {
			VADDPD(zTwo, x, t) // t = x + 2
			VMULPD(t, x, x)    // x = x·t
		}
		VADDPD(zTwo, x, t)
		VFMADD213PD(zOne, t, x) // x = x·t + 1
		VPMOVSXDQ(kInt, p)      // int64(k)
		VPADDQ(zBias, p, p)
		VPSLLQ(U8(52), p, p) // 2^k
		VMULPD(p, x, x)
		VMOVUPD(x, Mem{Base: dst, Index: off, Scale: 1})
	}
	ADDQ(U8(64), off)
	JMP(LabelRef("expPD_loop"))
	Label("expPD_done")
	VZEROUPPER()
	ok := GP8()
	TESTQ(bad, bad)
	SETEQ(ok)
	Store(ok, ReturnIndex(0))
	RET()
}
