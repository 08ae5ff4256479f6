package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemmKernelPrefetch emits the AVX-512 row-major-A micro-kernel (the FMA
// chains of sgemmAVX512RowA, instruction for instruction) with one change:
// while it reads its B panel it asks for the panel's successor, pf, two
// cache lines per step, so that a product whose packed weights stream
// from memory (each panel read once, by the first row panel) computes on
// one panel while the next arrives.
func gemmKernelPrefetch(name string, mr int) {
	bank := zmmBank
	nr := 2 * bank.bytes / 4
	TEXT(name, NOSPLIT, "func(kc int, a *float32, lda int, b, c *float32, ldc int, add bool, pf *float32)")
	Doc(fmt.Sprintf("%s is sgemmAVX512RowA%d that also prefetches the kc×%d panel at pf.", name, mr, nr))
	Pragma("noescape")
	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	pf := Load(Param("pf"), GP64())
	SHLQ(U8(2), ldc)

	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	var base []Register
	for q := 0; 3*q < mr; q++ {
		if q == 0 {
			base = append(base, a)
			continue
		}
		r := GP64()
		LEAQ(Mem{Base: base[q-1], Index: lda, Scale: 2}, r)
		ADDQ(lda, r)
		base = append(base, r)
	}
	aAt := func(r, p int) Mem {
		m := Mem{Base: base[r/3], Disp: 4 * p}
		if r%3 != 0 {
			m.Index, m.Scale = lda, uint8(r%3)
		}
		return m
	}
	advanceA := func(steps int) {
		for _, r := range base {
			ADDQ(U32(4*steps), r)
		}
	}

	acc := func(r, h int) VecPhysical { return bank.reg(2*r + h) }
	b0, b1 := bank.reg(bank.count-2), bank.reg(bank.count-1)
	nTmp := bank.count - 2 - 2*mr
	if nTmp > 4 {
		nTmp = 4
	}
	tmp := func(i int) VecPhysical { return bank.reg(2*mr + i%nTmp) }

	for r := 0; r < mr; r++ {
		for h := 0; h < 2; h++ {
			VXORPS(acc(r, h), acc(r, h), acc(r, h))
		}
	}
	step := func(p int) {
		VMOVUPS(Mem{Base: b, Disp: p * nr * 4}, b0)
		VMOVUPS(Mem{Base: b, Disp: p*nr*4 + bank.bytes}, b1)
		PREFETCHT1(Mem{Base: pf, Disp: p * nr * 4})
		PREFETCHT1(Mem{Base: pf, Disp: p*nr*4 + bank.bytes})
		for r := 0; r < mr; r++ {
			t := tmp(r)
			VBROADCASTSS(aAt(r, p), t)
			VFMADD231PS(b0, t, acc(r, 0))
			VFMADD231PS(b1, t, acc(r, 1))
		}
	}
	const unroll = 4
	Label(name + "_loop4")
	CMPQ(kc, U8(unroll))
	JL(LabelRef(name + "_tail"))
	for p := 0; p < unroll; p++ {
		step(p)
	}
	advanceA(unroll)
	ADDQ(U32(unroll*nr*4), b)
	ADDQ(U32(unroll*nr*4), pf)
	SUBQ(U8(unroll), kc)
	JMP(LabelRef(name + "_loop4"))

	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_store"))
	step(0)
	advanceA(1)
	ADDQ(U32(nr*4), b)
	ADDQ(U32(nr*4), pf)
	DECQ(kc)
	JMP(LabelRef(name + "_tail"))

	Label(name + "_store")
	add := Load(Param("add"), GP8())
	TESTB(add, add)
	JZ(LabelRef(name + "_overwrite"))
	for r := 0; r < mr; r++ {
		VADDPS(Mem{Base: c}, acc(r, 0), acc(r, 0))
		VADDPS(Mem{Base: c, Disp: bank.bytes}, acc(r, 1), acc(r, 1))
		VMOVUPS(acc(r, 0), Mem{Base: c})
		VMOVUPS(acc(r, 1), Mem{Base: c, Disp: bank.bytes})
		if r < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
	Label(name + "_overwrite")
	for r := 0; r < mr; r++ {
		VMOVUPS(acc(r, 0), Mem{Base: c})
		VMOVUPS(acc(r, 1), Mem{Base: c, Disp: bank.bytes})
		if r < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

func rowAPrefetchKernels() {
	for mr := 1; mr <= 12; mr++ {
		gemmKernelPrefetch(fmt.Sprintf("sgemmAVX512RowAPf%d", mr), mr)
	}
}
