package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// headsKernels emits the kernels that run four attention heads of one
// decoding token together. Each head's arithmetic is exactly that of the
// one-head kernels (expSubSumAVX2, vecMatAVX512): only the heads' chains
// are interleaved, so that the processor overlaps four short dependent
// chains instead of waiting on one at a time.
func headsKernels() {
	expSubSum4()
	vecMat4x16()
}

// fourRows returns registers holding base and the three rows after it,
// each ld bytes past the last: the four heads' rows of a kernel here.
func fourRows(base, ld Register) [4]Register {
	rows := [4]Register{base}
	for h := 1; h < 4; h++ {
		r := GP64()
		LEAQ(Mem{Base: rows[h-1], Index: ld, Scale: 1}, r)
		rows[h] = r
	}
	return rows
}

// expSubSum4 emits expSubSum4AVX2: expSubSumAVX2 over four rows of n8
// floats at once (rows ld floats apart), each with its own maximum, its
// own eight-lane sum and the same final reduction.
func expSubSum4() {
	TEXT("expSubSum4AVX2", NOSPLIT, "func(x *float32, ld int, n8 int, mx *[4]float32, sums *[4]float32)")
	Pragma("noescape")
	Doc("expSubSum4AVX2 sets x[h·ld+i] = e^(x[h·ld+i]−mx[h]) for h < 4, i < n8 (a multiple of 8), and sums[h] to the row's sum as expSubSumAVX2 adds it.")
	x := Load(Param("x"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	n := Load(Param("n8"), GP64())
	mxp := Load(Param("mx"), GP64())
	rows := fourRows(x, ld)
	var mx, sum [4]VecVirtual
	for h := range mx {
		mx[h], sum[h] = YMM(), YMM()
		VBROADCASTSS(Mem{Base: mxp, Disp: 4 * h}, mx[h])
		VXORPS(sum[h], sum[h], sum[h])
	}
	loop8("expSubSum4", n, func(off GPVirtual) {
		for h := 0; h < 4; h++ {
			t, e := YMM(), YMM()
			VMOVUPS(Mem{Base: rows[h], Index: off, Scale: 1}, t)
			VSUBPS(mx[h], t, t)
			expPS(t, e)
			VADDPS(e, sum[h], sum[h])
			VMOVUPS(e, Mem{Base: rows[h], Index: off, Scale: 1})
		}
	})
	sp := Load(Param("sums"), GP64())
	for h := 0; h < 4; h++ {
		hsum(sum[h])
		VMOVSS(sum[h].AsX(), Mem{Base: sp, Disp: 4 * h})
	}
	VZEROUPPER()
	RET()
}

// vecMat4x16 emits vecMat4x16AVX512: four vector-matrix products of 16
// columns, y[h·16+j] = Σ_i x[h·ldx+i]·m_h[i·16+j] for h < 4, each column the
// two chains of vecMatAVX512 (even rows, odd rows, ascending, added at the
// end): the mix of a decoding token's values over four heads of 16
// dimensions.
func vecMat4x16() {
	TEXT("vecMat4x16AVX512", NOSPLIT, "func(y, x *float32, ldx int, rows int, m0, m1, m2, m3 *float32)")
	Pragma("noescape")
	Doc("vecMat4x16AVX512 sets y[h·16+j] = Σ_i x[h·ldx+i]·m_h[i·16+j] for h < 4, j < 16, over rows rows, each as two chains (even and odd rows).")
	y := Load(Param("y"), GP64())
	x := Load(Param("x"), GP64())
	ldx := Load(Param("ldx"), GP64())
	SHLQ(U8(2), ldx)
	rows := Load(Param("rows"), GP64())
	xs := fourRows(x, ldx)
	var ms [4]Register
	for h, name := range []string{"m0", "m1", "m2", "m3"} {
		ms[h] = Load(Param(name), GP64())
	}
	var even, odd [4]VecVirtual
	for h := range even {
		even[h], odd[h] = ZMM(), ZMM()
		VXORPS(even[h], even[h], even[h])
		VXORPS(odd[h], odd[h], odd[h])
	}
	Label("vecmat4_pairs")
	CMPQ(rows, U8(2))
	JL(LabelRef("vecmat4_last"))
	for h := 0; h < 4; h++ {
		xe, xo := ZMM(), ZMM()
		VBROADCASTSS(Mem{Base: xs[h]}, xe)
		VBROADCASTSS(Mem{Base: xs[h], Disp: 4}, xo)
		VFMADD231PS(Mem{Base: ms[h]}, xe, even[h])
		VFMADD231PS(Mem{Base: ms[h], Disp: 64}, xo, odd[h])
		ADDQ(U8(8), xs[h])
		ADDQ(U8(128), ms[h])
	}
	SUBQ(U8(2), rows)
	JMP(LabelRef("vecmat4_pairs"))

	Label("vecmat4_last")
	TESTQ(rows, rows)
	JZ(LabelRef("vecmat4_store"))
	for h := 0; h < 4; h++ {
		xe := ZMM()
		VBROADCASTSS(Mem{Base: xs[h]}, xe)
		VFMADD231PS(Mem{Base: ms[h]}, xe, even[h])
	}

	Label("vecmat4_store")
	for h := 0; h < 4; h++ {
		VADDPS(odd[h], even[h], even[h])
		VMOVUPS(even[h], Mem{Base: y, Disp: 64 * h})
	}
	VZEROUPPER()
	RET()
}
