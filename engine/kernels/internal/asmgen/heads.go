package main

import (
	"fmt"

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
	vecMat4(16)
	vecMat4(32)
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

// vecMat4 emits vecMat4x<width>AVX512 (width 16 or 32): four
// vector-matrix products of width columns, y[h·width+j] = Σ_i
// x[h·ldx+i]·m_h[i·width+j] for h < 4, each column the two chains of
// vecMatAVX512 (even rows, odd rows, ascending, added at the end): the mix of
// a decoding token's values over four heads of width dimensions.
func vecMat4(width int) {
	name := fmt.Sprintf("vecMat4x%dAVX512", width)
	TEXT(name, NOSPLIT, "func(y, x *float32, ldx int, rows int, m0, m1, m2, m3 *float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets y[h·%d+j] = Σ_i x[h·ldx+i]·m_h[i·%d+j] for h < 4, j < %d, over rows rows, each as two chains (even and odd rows).", name, width, width, width))
	zs := width / 16 // zmm columns per head
	row := 4 * width // bytes per row of a head's matrix
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
	var even, odd [4][]VecVirtual
	for h := range even {
		for range zs {
			e, o := ZMM(), ZMM()
			VXORPS(e, e, e)
			VXORPS(o, o, o)
			even[h], odd[h] = append(even[h], e), append(odd[h], o)
		}
	}
	pairs, last, store := fmt.Sprintf("vecmat4x%d_pairs", width), fmt.Sprintf("vecmat4x%d_last", width), fmt.Sprintf("vecmat4x%d_store", width)
	Label(pairs)
	CMPQ(rows, U8(2))
	JL(LabelRef(last))
	for h := 0; h < 4; h++ {
		xe, xo := ZMM(), ZMM()
		VBROADCASTSS(Mem{Base: xs[h]}, xe)
		VBROADCASTSS(Mem{Base: xs[h], Disp: 4}, xo)
		for z := range zs {
			VFMADD231PS(Mem{Base: ms[h], Disp: 64 * z}, xe, even[h][z])
		}
		for z := range zs {
			VFMADD231PS(Mem{Base: ms[h], Disp: row + 64*z}, xo, odd[h][z])
		}
		ADDQ(U8(8), xs[h])
		ADDQ(U32(2*row), ms[h])
	}
	SUBQ(U8(2), rows)
	JMP(LabelRef(pairs))

	Label(last)
	TESTQ(rows, rows)
	JZ(LabelRef(store))
	for h := 0; h < 4; h++ {
		xe := ZMM()
		VBROADCASTSS(Mem{Base: xs[h]}, xe)
		for z := range zs {
			VFMADD231PS(Mem{Base: ms[h], Disp: 64 * z}, xe, even[h][z])
		}
	}

	Label(store)
	for h := 0; h < 4; h++ {
		for z := range zs {
			VADDPS(odd[h][z], even[h][z], even[h][z])
			VMOVUPS(even[h][z], Mem{Base: y, Disp: 64 * (h*zs + z)})
		}
	}
	VZEROUPPER()
	RET()
}
