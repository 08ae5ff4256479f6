// Command asmgen writes the amd64 assembly of package kernels with avo:
// the SGEMM micro-kernels (AVX-512 12×32 and AVX2+FMA 6×16, one function per
// row count so edge panels run the same FMA chains) and the vectorised row
// loops. Run through go generate in package kernels.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!purego")
	for mr := 1; mr <= 12; mr++ {
		gemmKernel(fmt.Sprintf("sgemmAVX512x%d", mr), mr, 12, zmmBank, false, false)
		gemmKernel(fmt.Sprintf("sgemmAVX512RowA%d", mr), mr, 12, zmmBank, true, false)
	}
	for mr := 1; mr <= 6; mr++ {
		gemmKernel(fmt.Sprintf("sgemmAVX2x%d", mr), mr, 6, ymmBank, false, false)
		gemmKernel(fmt.Sprintf("sgemmAVX2RowA%d", mr), mr, 6, ymmBank, true, false)
	}
	rowOps()
	packTranspose8()
	addTransposed()
	vecMat()
	vecMatPrefetch()
	rowAPrefetchKernels()
	expPD()
	peakKernels()
	stridedKernels()
	scaleMaxKernel()
	narrowScaleKernel()
	softmaxGradKernel()
	ropeKernel()
	packRowsKernel()
	rmsNormBackwardKernels()
	swiglu512()
	headsKernels()
	Generate()
}

// vecBank names a register file: its vector width in bytes and register n.
type vecBank struct {
	bytes int
	reg   func(n int) VecPhysical
	count int
}

var zmmBank = vecBank{64, func(n int) VecPhysical { return zmmRegs[n] }, 32}
var ymmBank = vecBank{32, func(n int) VecPhysical { return ymmRegs[n] }, 16}

var zmmRegs = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
var ymmRegs = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

// gemmKernel emits a micro-kernel for an mr-row block two vectors wide.
// Accumulator (r, h) holds row r, half h; B's two vectors for step p are
// loaded once and each A element broadcast once per step.
//
// With rowMajorA false, A is a packed panel: element (r, p) at a[p·strideMR+r].
// With rowMajorA true, A is read in place from a row-major matrix: element
// (r, p) at a[r·lda+p], so no packing is needed for MatMul and MatMulBT.
//
// With prefetch (row-major A only), the kernel also takes pf, the B panel's
// successor, and asks for two of its cache lines per step, so that a
// product whose packed weights stream from memory (each panel read once,
// by the first row panel) computes on one panel while the next arrives.
func gemmKernel(name string, mr, strideMR int, bank vecBank, rowMajorA, prefetch bool) {
	nr := 2 * bank.bytes / 4
	sig := "func(kc int, a, b, c *float32, ldc int, add bool)"
	layout := fmt.Sprintf("a[p·%d+r]", strideMR)
	if rowMajorA {
		sig = "func(kc int, a *float32, lda int, b, c *float32, ldc int, add bool)"
		layout = "a[r·lda+p]"
	}
	doc := fmt.Sprintf("%s computes a %d×%d block of c (row stride ldc): c (+)= Σ_p %s·b[p·%d+j] over kc steps.", name, mr, nr, layout, nr)
	if prefetch {
		if !rowMajorA {
			panic("gemmKernel: prefetch needs row-major A")
		}
		sig = "func(kc int, a *float32, lda int, b, c *float32, ldc int, add bool, pf *float32)"
		doc = fmt.Sprintf("%s is sgemmAVX512RowA%d that also prefetches the kc×%d panel at pf.", name, mr, nr)
	}
	TEXT(name, NOSPLIT, sig)
	Doc(doc)
	Pragma("noescape")
	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	var pf Register
	if prefetch {
		pf = Load(Param("pf"), GP64())
	}
	SHLQ(U8(2), ldc)
	prefetchTile(c, ldc, mr, 2*bank.bytes)

	// aAt is the address of A element (r, p) relative to the current step.
	var aAt func(r, p int) Mem
	var advanceA func(steps int)
	if rowMajorA {
		lda := Load(Param("lda"), GP64())
		SHLQ(U8(2), lda)
		aAt, advanceA = rowMajorAddressing(a, lda, mr)
	} else {
		aAt = func(r, p int) Mem { return Mem{Base: a, Disp: (p*strideMR + r) * 4} }
		advanceA = func(steps int) { ADDQ(U32(steps*strideMR*4), a) }
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
		if prefetch {
			PREFETCHT1(Mem{Base: pf, Disp: p * nr * 4})
			PREFETCHT1(Mem{Base: pf, Disp: p*nr*4 + bank.bytes})
		}
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
	if prefetch {
		ADDQ(U32(unroll*nr*4), pf)
	}
	SUBQ(U8(unroll), kc)
	JMP(LabelRef(name + "_loop4"))

	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_store"))
	step(0)
	advanceA(1)
	ADDQ(U32(nr*4), b)
	if prefetch {
		ADDQ(U32(nr*4), pf)
	}
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

// prefetchTile asks, before a micro-kernel's FMA loop, for the cache lines
// of its mr-row block of C, width bytes wide, at c with row stride ldc (in
// bytes). A product's output is often memory it has not touched lately (a
// layer's activations are written once per pass), so each row's stores at
// the end of the block would wait for their lines, and the accumulating
// form's loads too; asked for now, they arrive while the loop runs. A
// prefetch changes no result.
func prefetchTile(c, ldc Register, mr, width int) {
	p := GP64()
	MOVQ(c, p)
	for r := 0; r < mr; r++ {
		for d := 0; d < width; d += 64 {
			PREFETCHT0(Mem{Base: p, Disp: d})
		}
		// A row that does not start on a line boundary ends in one more.
		PREFETCHT0(Mem{Base: p, Disp: width - 1})
		if r < mr-1 {
			ADDQ(ldc, p)
		}
	}
}

// rowMajorAddressing reads mr rows of a row-major A in place (lda in bytes):
// rows 3q, 3q+1, 3q+2 are base[q], base[q]+lda, base[q]+2·lda, so each
// element is one addressing mode away. It returns the address of element
// (r, p) relative to the current step and the advance by some steps.
func rowMajorAddressing(a, lda Register, mr int) (aAt func(r, p int) Mem, advanceA func(steps int)) {
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
	aAt = func(r, p int) Mem {
		m := Mem{Base: base[r/3], Disp: 4 * p}
		if r%3 != 0 {
			m.Index, m.Scale = lda, uint8(r%3)
		}
		return m
	}
	advanceA = func(steps int) {
		for _, r := range base {
			ADDQ(U32(4*steps), r)
		}
	}
	return aAt, advanceA
}
