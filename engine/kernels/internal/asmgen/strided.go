package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// stridedKernels emits the AVX-512 micro-kernels that read both operands in
// place through row strides: A row-major (element (r, p) at a[r·lda+p]) or
// column-major (at a[p·lda+r], a transposed operand), and B row-major (row
// p at b[p·ldb]), one or two vectors (16 or 32 columns) wide. Each element
// of C is the FMA chain over p in ascending order that the packed kernels
// run, so they give the same bits without packing either operand.
//
// The column-A kernels two vectors wide (the weight gradients' products)
// come twice: as ColAN32, and as ColAPfN32, which also fetches its
// operands ahead (see colAPrefetchSteps). Which one runs is the CPU's
// choice (package kernels picks at start-up); both give the same bits.
func stridedKernels() {
	for _, vecs := range []int{1, 2} {
		for _, colA := range []bool{false, true} {
			kind := "RowA"
			if colA {
				kind = "ColA"
			}
			for mr := 1; mr <= 12; mr++ {
				stridedKernel(fmt.Sprintf("sgemmAVX512%sN%d_%d", kind, 16*vecs, mr), mr, vecs, colA, false)
			}
		}
	}
	for mr := 1; mr <= 12; mr++ {
		stridedKernel(fmt.Sprintf("sgemmAVX512ColAPfN32_%d", mr), mr, 2, true, true)
	}
}

// stridedKernel emits one kernel: an mr×(16·vecs) block of C (row stride
// ldc) gets c (+)= Σ_p A(r, p)·b[p·ldb+j] over kc steps, fetching its
// operands colAPrefetchSteps ahead when prefetch is set (column-A only).
func stridedKernel(name string, mr, vecs int, colA, prefetch bool) {
	nr := 16 * vecs
	layout := "a[r·lda+p]"
	if colA {
		layout = "a[p·lda+r]"
	}
	TEXT(name, NOSPLIT, "func(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, add bool)")
	Doc(fmt.Sprintf("%s computes a %d×%d block of c (row stride ldc): c (+)= Σ_p %s·b[p·ldb+j] over kc steps.", name, mr, nr, layout))
	Pragma("noescape")
	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), lda)
	SHLQ(U8(2), ldb)
	ldb3 := GP64()
	LEAQ(Mem{Base: ldb, Index: ldb, Scale: 2}, ldb3)

	var aAt func(r, p int) Mem
	var advanceA func(steps int)
	if colA {
		lda3 := GP64()
		LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, lda3)
		aAt = func(r, p int) Mem {
			m := Mem{Base: a, Disp: 4 * r}
			switch p {
			case 1, 2:
				m.Index, m.Scale = lda, uint8(p)
			case 3:
				m.Index, m.Scale = lda3, 1
			}
			return m
		}
		advanceA = func(steps int) {
			if steps == 1 {
				ADDQ(lda, a)
				return
			}
			LEAQ(Mem{Base: a, Index: lda, Scale: 4}, a)
		}
	} else {
		aAt, advanceA = rowMajorAddressing(a, lda, mr)
	}
	bAt := func(p, h int) Mem {
		m := Mem{Base: b, Disp: 64 * h}
		switch p {
		case 1, 2:
			m.Index, m.Scale = ldb, uint8(p)
		case 3:
			m.Index, m.Scale = ldb3, 1
		}
		return m
	}

	acc := func(r, h int) VecPhysical { return zmmRegs[vecs*r+h] }
	bv := func(h int) VecPhysical { return zmmRegs[30+h] }
	nTmp := min(4, 30-vecs*mr)
	tmp := func(i int) VecPhysical { return zmmRegs[vecs*mr+i%nTmp] }

	{
		c := Load(Param("c"), GP64())
		ldc := Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		prefetchTile(c, ldc, mr, 64*vecs)
	}
	for r := 0; r < mr; r++ {
		for h := 0; h < vecs; h++ {
			VXORPS(acc(r, h), acc(r, h), acc(r, h))
		}
	}
	step := func(p int) {
		for h := 0; h < vecs; h++ {
			VMOVUPS(bAt(p, h), bv(h))
		}
		for r := 0; r < mr; r++ {
			t := tmp(r)
			VBROADCASTSS(aAt(r, p), t)
			for h := 0; h < vecs; h++ {
				VFMADD231PS(bv(h), t, acc(r, h))
			}
		}
	}
	const unroll = 4
	Label(name + "_loop4")
	CMPQ(kc, U8(unroll))
	JL(LabelRef(name + "_tail"))
	for p := 0; p < unroll; p++ {
		step(p)
	}
	if prefetch {
		prefetchColA(a, lda, b, ldb, mr, unroll)
	}
	advanceA(unroll)
	LEAQ(Mem{Base: b, Index: ldb, Scale: 4}, b)
	SUBQ(U8(unroll), kc)
	JMP(LabelRef(name + "_loop4"))

	Label(name + "_tail")
	TESTQ(kc, kc)
	JZ(LabelRef(name + "_store"))
	step(0)
	advanceA(1)
	ADDQ(ldb, b)
	DECQ(kc)
	JMP(LabelRef(name + "_tail"))

	Label(name + "_store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	add := Load(Param("add"), GP8())
	TESTB(add, add)
	JZ(LabelRef(name + "_overwrite"))
	for r := 0; r < mr; r++ {
		for h := 0; h < vecs; h++ {
			VADDPS(Mem{Base: c, Disp: 64 * h}, acc(r, h), acc(r, h))
			VMOVUPS(acc(r, h), Mem{Base: c, Disp: 64 * h})
		}
		if r < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
	Label(name + "_overwrite")
	for r := 0; r < mr; r++ {
		for h := 0; h < vecs; h++ {
			VMOVUPS(acc(r, h), Mem{Base: c, Disp: 64 * h})
		}
		if r < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// colAPrefetchSteps is how many K steps ahead a column-A kernel asks for
// its operands. A weight gradient reads A = dY [tokens × out] by columns:
// each step's chunk of A lies one row of dY (out floats, kilobytes) past
// the last, too far for the processor's own stride prefetchers, which
// also stop at page boundaries, so without a fetch every step waited on
// the last-level cache. Sixteen steps (about 200 cycles of FMAs) cover
// that latency; measured on an Intel Xeon host (Sapphire Rapids class),
// one core, Aᵀ·B 2048×2048×256 rose from 98-120 to 139-142 GFLOP/s
// (medians), where 8 steps gave 122-133 and 32 gave 126-127. On an AMD
// EPYC host (Zen 5 class), whose prefetchers do follow these strides, the
// same fetches cost: Aᵀ·B 2048×384×1536 on two cores fell from 374 to 324
// GFLOP/s (medians), so those kernels are a second set, not the only one.
const colAPrefetchSteps = 16

// prefetchColA emits, after steps K steps of a column-A kernel, fetches of
// the A chunks (mr floats, at most two lines) and B rows (two lines) that
// the kernel reads colAPrefetchSteps steps later. A prefetch never faults,
// so reading past the K block's end is harmless.
func prefetchColA(a, lda, b, ldb Register, mr, steps int) {
	pa, pb := GP64(), GP64()
	LEAQ(Mem{Base: a, Index: lda, Scale: 8}, pa)
	LEAQ(Mem{Base: b, Index: ldb, Scale: 8}, pb)
	for i := 8; i < colAPrefetchSteps; i += 8 {
		LEAQ(Mem{Base: pa, Index: lda, Scale: 8}, pa)
		LEAQ(Mem{Base: pb, Index: ldb, Scale: 8}, pb)
	}
	for p := 0; p < steps; p++ {
		PREFETCHT0(Mem{Base: pa})
		PREFETCHT0(Mem{Base: pa, Disp: 4*mr - 4})
		PREFETCHT0(Mem{Base: pb})
		PREFETCHT0(Mem{Base: pb, Disp: 64})
		if p < steps-1 {
			ADDQ(lda, pa)
			ADDQ(ldb, pb)
		}
	}
}

// scaleMaxKernel emits scaleMaxAVX512: x *= s over n elements (a masked
// tail, no scalar loop) and the largest of the products, by VMAXPS, which
// skips a NaN operand rather than returning it; and scaleMaxArgsAVX512,
// which also writes a softmax's arguments arg[i] = float64(x[i] − max).
func scaleMaxKernel() {
	scaleMax("scaleMaxAVX512", false)
	scaleMax("scaleMaxArgsAVX512", true)
}

func scaleMax(name string, args bool) {
	if args {
		TEXT(name, NOSPLIT, "func(x *float32, n int, s float32, arg *float64) float32")
		Doc(name + " sets x[i] *= s for i < n (n > 0), m to the largest x[i] (VMAXPS: NaNs are skipped) and arg[i] = float64(x[i] − m), and returns m.")
	} else {
		TEXT(name, NOSPLIT, "func(x *float32, n int, s float32) float32")
		Doc(name + " sets x[i] *= s for i < n (n > 0) and returns the largest x[i] (VMAXPS: NaNs are skipped).")
	}
	Pragma("noescape")
	x := Load(Param("x"), GP64())
	n := GP64()
	Load(Param("n"), n)
	var x0, n0 GPVirtual
	if args {
		x0, n0 = GP64(), GP64()
		MOVQ(x, x0)
		MOVQ(n, n0)
	}
	vs := ZMM()
	VBROADCASTSS(NewParamAddr("s", 16), vs)
	negInf := GP32()
	MOVL(U32(0xff800000), negInf)
	vm := ZMM()
	VPBROADCASTD(negInf, vm)
	v := ZMM()

	Label(name + "_loop")
	CMPQ(n, U8(16))
	JL(LabelRef(name + "_tail"))
	VMULPS(Mem{Base: x}, vs, v)
	VMOVUPS(v, Mem{Base: x})
	VMAXPS(v, vm, vm)
	ADDQ(U8(64), x)
	SUBQ(U8(16), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_reduce"))
	k := tailMask(n, 0xffffffff)
	VMOVUPS_Z(Mem{Base: x}, k, v)
	VMULPS(v, vs, v)
	VMOVUPS(v, k, Mem{Base: x})
	VMAXPS(v, vm, k, vm)

	Label(name + "_reduce")
	hi := YMM()
	VEXTRACTF32X8(U8(1), vm, hi)
	lo := vm.AsY()
	VMAXPS(hi, lo, lo)
	h4 := XMM()
	VEXTRACTF128(U8(1), lo, h4)
	l4 := vm.AsX()
	VMAXPS(h4, l4, l4)
	t := XMM()
	VPERMILPS(U8(0x4e), l4, t)
	VMAXPS(t, l4, l4)
	VPERMILPS(U8(0xb1), l4, t)
	VMAXPS(t, l4, l4)
	Store(l4, ReturnIndex(0))
	if args {
		// Second pass: eight differences at a time, widened exactly.
		arg := Load(Param("arg"), GP64())
		mx := YMM()
		VBROADCASTSS(l4, mx)
		d := ZMM()
		Label(name + "_args")
		CMPQ(n0, U8(8))
		JL(LabelRef(name + "_argtail"))
		dy := d.AsY()
		VMOVUPS(Mem{Base: x0}, dy)
		VSUBPS(mx, dy, dy)
		VCVTPS2PD(dy, d)
		VMOVUPD(d, Mem{Base: arg})
		ADDQ(U8(32), x0)
		ADDQ(U8(64), arg)
		SUBQ(U8(8), n0)
		JMP(LabelRef(name + "_args"))
		Label(name + "_argtail")
		TESTQ(n0, n0)
		JZ(LabelRef(name + "_done"))
		k2 := tailMask(n0, 0xffffffff)
		VMOVUPS_Z(Mem{Base: x0}, k2, dy)
		VSUBPS(mx, dy, dy)
		VCVTPS2PD(dy, d)
		VMOVUPD(d, k2, Mem{Base: arg})
		Label(name + "_done")
	}
	VZEROUPPER()
	RET()
}

// narrowScaleKernel emits narrowScaleAVX512: dst[i] = float32(src[i])·s,
// eight at a time with a masked tail. VCVTPD2PS and VMULPS round as the
// scalar conversion and product do, so the results are the portable
// loop's bits; the scalar conversion, which writes only the low lane of its
// register, makes each element wait on the one before it.
func narrowScaleKernel() {
	name := "narrowScaleAVX512"
	TEXT(name, NOSPLIT, "func(dst *float32, src *float64, n int, s float32)")
	Doc(name + " sets dst[i] = float32(src[i])·s for i < n.")
	Pragma("noescape")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := GP64()
	Load(Param("n"), n)
	vs := YMM()
	VBROADCASTSS(NewParamAddr("s", 24), vs)
	y := YMM()

	Label(name + "_loop")
	CMPQ(n, U8(8))
	JL(LabelRef(name + "_tail"))
	VCVTPD2PS(Mem{Base: src}, y)
	VMULPS(vs, y, y)
	VMOVUPS(y, Mem{Base: dst})
	ADDQ(U8(64), src)
	ADDQ(U8(32), dst)
	SUBQ(U8(8), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	k := tailMask(n, 0xff)
	z := ZMM()
	VMOVUPD_Z(Mem{Base: src}, k, z)
	VCVTPD2PS(z, y)
	VMULPS(vs, y, y)
	VMOVUPS(y, k, Mem{Base: dst})

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// softmaxGradKernel emits softmaxGradAVX512: d[i] = p[i]·(d[i] − dot)·scale,
// sixteen at a time with a masked tail, rounding after each operation in
// the order written, as the portable loop does.
func softmaxGradKernel() {
	name := "softmaxGradAVX512"
	TEXT(name, NOSPLIT, "func(d, p *float32, n int, dot, scale float32)")
	Doc(name + " sets d[i] = p[i]·(d[i] − dot)·scale for i < n, rounding after each operation.")
	Pragma("noescape")
	d := Load(Param("d"), GP64())
	p := Load(Param("p"), GP64())
	n := GP64()
	Load(Param("n"), n)
	vdot, vs := ZMM(), ZMM()
	VBROADCASTSS(NewParamAddr("dot", 24), vdot)
	VBROADCASTSS(NewParamAddr("scale", 28), vs)
	v := ZMM()

	Label(name + "_loop")
	CMPQ(n, U8(16))
	JL(LabelRef(name + "_tail"))
	VMOVUPS(Mem{Base: d}, v)
	VSUBPS(vdot, v, v)
	VMULPS(Mem{Base: p}, v, v)
	VMULPS(vs, v, v)
	VMOVUPS(v, Mem{Base: d})
	ADDQ(U8(64), d)
	ADDQ(U8(64), p)
	SUBQ(U8(16), n)
	JMP(LabelRef(name + "_loop"))

	Label(name + "_tail")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	k := tailMask(n, 0xffffffff)
	pv := ZMM()
	VMOVUPS_Z(Mem{Base: d}, k, v)
	VMOVUPS_Z(Mem{Base: p}, k, pv)
	VSUBPS(vdot, v, v)
	VMULPS(pv, v, v)
	VMULPS(vs, v, v)
	VMOVUPS(v, k, Mem{Base: d})

	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// ropeKernel emits ropeAVX2: rotary embeddings over whole rows of heads,
// eight pairs at a time, with the rounding of the portable loop (two
// products, then their difference or sum; no FMA).
func ropeKernel() {
	TEXT("ropeAVX2", NOSPLIT, "func(x, cos, sin *float32, nTok, nHeads, h int, inverse bool)")
	Doc("ropeAVX2 rotates the pairs (x_i, x_{i+h}) of every head of nTok rows of x [nTok×nHeads×2h] by cos, sin [nTok×h]; h is a positive multiple of 8. Forward: (a·c − b·s, b·c + a·s); inverse: (a·c + b·s, b·c − a·s).")
	Pragma("noescape")
	x := Load(Param("x"), GP64())
	cs := Load(Param("cos"), GP64())
	sn := Load(Param("sin"), GP64())
	nTok := Load(Param("nTok"), GP64())
	nHeads := Load(Param("nHeads"), GP64())
	h := Load(Param("h"), GP64())
	inv := Load(Param("inverse"), GP8())
	hb := GP64() // h in bytes: the offset of x2
	MOVQ(h, hb)
	SHLQ(U8(2), hb)
	a, b, c, s, t1, t2, t3, t4 := YMM(), YMM(), YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
	head, i := GP64(), GP64()

	Label("rope_tok")
	TESTQ(nTok, nTok)
	JZ(LabelRef("rope_done"))
	MOVQ(nHeads, head)
	Label("rope_head")
	XORQ(i, i)
	Label("rope_pair")
	VMOVUPS(Mem{Base: x, Index: i, Scale: 4}, a)
	x2 := GP64()
	LEAQ(Mem{Base: x, Index: hb, Scale: 1}, x2)
	VMOVUPS(Mem{Base: x2, Index: i, Scale: 4}, b)
	VMOVUPS(Mem{Base: cs, Index: i, Scale: 4}, c)
	VMOVUPS(Mem{Base: sn, Index: i, Scale: 4}, s)
	VMULPS(c, a, t1) // a·c
	VMULPS(s, b, t2) // b·s
	VMULPS(c, b, t3) // b·c
	VMULPS(s, a, t4) // a·s
	TESTB(inv, inv)
	JNZ(LabelRef("rope_inverse"))
	VSUBPS(t2, t1, t1) // a·c − b·s
	VADDPS(t4, t3, t3) // b·c + a·s
	JMP(LabelRef("rope_store"))
	Label("rope_inverse")
	VADDPS(t2, t1, t1) // a·c + b·s
	VSUBPS(t4, t3, t3) // b·c − a·s
	Label("rope_store")
	VMOVUPS(t1, Mem{Base: x, Index: i, Scale: 4})
	VMOVUPS(t3, Mem{Base: x2, Index: i, Scale: 4})
	ADDQ(U8(8), i)
	CMPQ(i, h)
	JL(LabelRef("rope_pair"))
	// Next head: 2h floats on.
	LEAQ(Mem{Base: x, Index: hb, Scale: 2}, x)
	DECQ(head)
	JNZ(LabelRef("rope_head"))
	// Next row of cos and sin.
	ADDQ(hb, cs)
	ADDQ(hb, sn)
	DECQ(nTok)
	JMP(LabelRef("rope_tok"))
	Label("rope_done")
	VZEROUPPER()
	RET()
}

// packRowsKernel emits packRows32AVX512, the copy of a row-major B's
// column panel into a packed panel 32 wide: two loads and two stores a
// row, where copy's call would cost more than the move.
func packRowsKernel() {
	TEXT("packRows32AVX512", NOSPLIT, "func(dst, src *float32, lds, rows int)")
	Doc("packRows32AVX512 sets dst[r·32+j] = src[r·lds+j] for r < rows, j < 32.")
	Pragma("noescape")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	rows := Load(Param("rows"), GP64())
	SHLQ(U8(2), lds)
	v0, v1, v2, v3 := ZMM(), ZMM(), ZMM(), ZMM()
	Label("packrows_two")
	CMPQ(rows, U8(2))
	JL(LabelRef("packrows_one"))
	VMOVUPS(Mem{Base: src}, v0)
	VMOVUPS(Mem{Base: src, Disp: 64}, v1)
	VMOVUPS(Mem{Base: src, Index: lds, Scale: 1}, v2)
	VMOVUPS(Mem{Base: src, Index: lds, Scale: 1, Disp: 64}, v3)
	VMOVUPS(v0, Mem{Base: dst})
	VMOVUPS(v1, Mem{Base: dst, Disp: 64})
	VMOVUPS(v2, Mem{Base: dst, Disp: 128})
	VMOVUPS(v3, Mem{Base: dst, Disp: 192})
	LEAQ(Mem{Base: src, Index: lds, Scale: 2}, src)
	ADDQ(U32(256), dst)
	SUBQ(U8(2), rows)
	JMP(LabelRef("packrows_two"))
	Label("packrows_one")
	TESTQ(rows, rows)
	JZ(LabelRef("packrows_done"))
	VMOVUPS(Mem{Base: src}, v0)
	VMOVUPS(Mem{Base: src, Disp: 64}, v1)
	VMOVUPS(v0, Mem{Base: dst})
	VMOVUPS(v1, Mem{Base: dst, Disp: 64})
	Label("packrows_done")
	VZEROUPPER()
	RET()
}

// rmsNormBackwardKernels emits the elementwise parts of RMSNorm's backward
// with the portable loops' rounding (separate products, no FMA).
func rmsNormBackwardKernels() {
	TEXT("rmsDxAVX2", NOSPLIT, "func(dx, dr, w, x []float32, s, mean float32)")
	Pragma("noescape")
	Doc("rmsDxAVX2 sets dx = s·(dr·w − x·s·mean) over len(dx), a multiple of 8.")
	{
		s, mean := YMM(), YMM()
		VBROADCASTSS(paramAddr("s"), s)
		VBROADCASTSS(paramAddr("mean"), mean)
		dx := Load(Param("dx").Base(), GP64())
		dr := Load(Param("dr").Base(), GP64())
		w := Load(Param("w").Base(), GP64())
		x := Load(Param("x").Base(), GP64())
		n := Load(Param("dx").Len(), GP64())
		loop8("rmsDx", n, func(off GPVirtual) {
			a, b := YMM(), YMM()
			VMOVUPS(Mem{Base: dr, Index: off, Scale: 1}, a)
			VMULPS(Mem{Base: w, Index: off, Scale: 1}, a, a) // dr·w
			VMOVUPS(Mem{Base: x, Index: off, Scale: 1}, b)
			VMULPS(s, b, b)    // x·s
			VMULPS(mean, b, b) // ·mean
			VSUBPS(b, a, a)
			VMULPS(s, a, a)
			VMOVUPS(a, Mem{Base: dx, Index: off, Scale: 1})
		})
		VZEROUPPER()
		RET()
	}

	TEXT("rmsDwAVX2", NOSPLIT, "func(dw, dr, x []float32, s float32)")
	Pragma("noescape")
	Doc("rmsDwAVX2 sets dw += dr·(x·s) over len(dw), a multiple of 8.")
	{
		s := YMM()
		VBROADCASTSS(paramAddr("s"), s)
		dw := Load(Param("dw").Base(), GP64())
		dr := Load(Param("dr").Base(), GP64())
		x := Load(Param("x").Base(), GP64())
		n := Load(Param("dw").Len(), GP64())
		loop8("rmsDw", n, func(off GPVirtual) {
			a := YMM()
			VMOVUPS(Mem{Base: x, Index: off, Scale: 1}, a)
			VMULPS(s, a, a)                                   // x·s
			VMULPS(Mem{Base: dr, Index: off, Scale: 1}, a, a) // dr·(x·s)
			VADDPS(Mem{Base: dw, Index: off, Scale: 1}, a, a)
			VMOVUPS(a, Mem{Base: dw, Index: off, Scale: 1})
		})
		VZEROUPPER()
		RET()
	}
}

// tailMask returns a mask register with the low n bits of all set: the
// lanes of a loop's last, partial vector.
func tailMask(n GPVirtual, all uint32) OpmaskVirtual {
	ones, mask := GP32(), GP32()
	MOVL(U32(all), ones)
	BZHIL(n.As32(), ones, mask)
	k := K()
	KMOVW(mask, k)
	return k
}
