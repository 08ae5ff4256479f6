package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// packTranspose8 emits packBT8AVX2, the inner loop of packing Bᵀ: eight rows
// of a row-major source (stride lds) become eight columns of a panel (row
// stride nr), eight k-steps at a time through an 8×8 register transpose.
func packTranspose8() {
	TEXT("packBT8AVX2", NOSPLIT, "func(dst *float32, nr int, src *float32, lds int, kc int)")
	Doc("packBT8AVX2 sets dst[p·nr+i] = src[i·lds+p] for i < 8, p < kc; kc is a multiple of 8.")
	Pragma("noescape")
	d0 := Load(Param("dst"), GP64())
	nr := Load(Param("nr"), GP64())
	s0 := Load(Param("src"), GP64())
	lds := Load(Param("lds"), GP64())
	kc := Load(Param("kc"), GP64())
	SHLQ(U8(2), nr)
	SHLQ(U8(2), lds)
	// Source rows 0,1,2,4 from s0; 3,5,7 from s3 = s0+3·lds; 6 from s6.
	s3, s6 := GP64(), GP64()
	LEAQ(Mem{Base: s0, Index: lds, Scale: 2}, s3)
	ADDQ(lds, s3)
	LEAQ(Mem{Base: s3, Index: lds, Scale: 2}, s6)
	ADDQ(lds, s6)
	d3, d6 := GP64(), GP64()
	LEAQ(Mem{Base: d0, Index: nr, Scale: 2}, d3)
	ADDQ(nr, d3)
	LEAQ(Mem{Base: d3, Index: nr, Scale: 2}, d6)
	ADDQ(nr, d6)
	step := GP64()
	MOVQ(nr, step)
	SHLQ(U8(3), step) // 8 panel rows

	Label("packBT8_loop")
	CMPQ(kc, U8(8))
	JL(LabelRef("packBT8_done"))
	r := make([]VecVirtual, 8)
	for i := range r {
		r[i] = YMM()
		VMOVUPS(row(i, s0, s3, s6, lds), r[i])
	}
	out := transpose8x8(r)
	for c := 0; c < 8; c++ {
		VMOVUPS(out[c], row(c, d0, d3, d6, nr))
	}
	for _, b := range []Register{s0, s3, s6} {
		ADDQ(U8(32), b)
	}
	for _, b := range []Register{d0, d3, d6} {
		ADDQ(step, b)
	}
	SUBQ(U8(8), kc)
	JMP(LabelRef("packBT8_loop"))
	Label("packBT8_done")
	VZEROUPPER()
	RET()
}

// row addresses row i of eight with stride from three bases: rows 0,1,2,4
// from b0, rows 3,5,7 from b3 = b0+3·stride, row 6 from b6 = b0+6·stride.
func row(i int, b0, b3, b6 Register, stride Register) Mem {
	switch i {
	case 0:
		return Mem{Base: b0}
	case 1:
		return Mem{Base: b0, Index: stride, Scale: 1}
	case 2:
		return Mem{Base: b0, Index: stride, Scale: 2}
	case 3:
		return Mem{Base: b3}
	case 4:
		return Mem{Base: b0, Index: stride, Scale: 4}
	case 5:
		return Mem{Base: b3, Index: stride, Scale: 2}
	case 6:
		return Mem{Base: b6}
	default:
		return Mem{Base: b3, Index: stride, Scale: 4}
	}
}

// transpose8x8 returns the columns of the eight rows r as eight registers.
func transpose8x8(r []VecVirtual) []VecVirtual {
	t := make([]VecVirtual, 8)
	for i := range t {
		t[i] = YMM()
	}
	for pair := 0; pair < 4; pair++ {
		VUNPCKLPS(r[2*pair+1], r[2*pair], t[2*pair])
		VUNPCKHPS(r[2*pair+1], r[2*pair], t[2*pair+1])
	}
	// s[0..3] from rows 0-3, s[4..7] from rows 4-7: column c (and c+4) of
	// four rows each.
	s := make([]VecVirtual, 8)
	for half := 0; half < 2; half++ {
		ta, tb, tc, td := t[4*half], t[4*half+1], t[4*half+2], t[4*half+3]
		for i := 0; i < 4; i++ {
			s[4*half+i] = YMM()
		}
		VSHUFPS(U8(0x44), tc, ta, s[4*half+0])
		VSHUFPS(U8(0xEE), tc, ta, s[4*half+1])
		VSHUFPS(U8(0x44), td, tb, s[4*half+2])
		VSHUFPS(U8(0xEE), td, tb, s[4*half+3])
	}
	out := make([]VecVirtual, 8)
	for c := 0; c < 4; c++ {
		out[c], out[c+4] = YMM(), YMM()
		VPERM2F128(U8(0x20), s[4+c], s[c], out[c])
		VPERM2F128(U8(0x31), s[4+c], s[c], out[c+4])
	}
	return out
}

// addTransposed emits addT8x8AVX2 and addT4x8AVX2: they write the transpose
// of a tile block into c, c[q·ldc+r] (+)= t[r·ldt+q] for q < 8 and r < 8
// (or r < 4: only the low four lanes of each transposed row are stored;
// rows 4-7 of t are read but unused). This is the merge of the transposed
// product A·Bᵀ = (B·Aᵀ)ᵀ.
func addTransposed() {
	for _, rows := range []int{8, 4} {
		name := "addT8x8AVX2"
		if rows == 4 {
			name = "addT4x8AVX2"
		}
		TEXT(name, NOSPLIT, "func(c *float32, ldc int, t *float32, ldt int, add bool)")
		Doc(name + " sets c[q·ldc+r] = t[r·ldt+q] (or adds it when add) for q < 8, r < " + string(rune('0'+rows)) + ".")
		Pragma("noescape")
		c0 := Load(Param("c"), GP64())
		ldc := Load(Param("ldc"), GP64())
		t0 := Load(Param("t"), GP64())
		ldt := Load(Param("ldt"), GP64())
		SHLQ(U8(2), ldc)
		SHLQ(U8(2), ldt)
		bases := func(b0 Register, stride Register) (Register, Register) {
			b3, b6 := GP64(), GP64()
			LEAQ(Mem{Base: b0, Index: stride, Scale: 2}, b3)
			ADDQ(stride, b3)
			LEAQ(Mem{Base: b3, Index: stride, Scale: 2}, b6)
			ADDQ(stride, b6)
			return b3, b6
		}
		t3, t6 := bases(t0, ldt)
		c3, c6 := bases(c0, ldc)
		r := make([]VecVirtual, 8)
		for i := range r {
			r[i] = YMM()
			VMOVUPS(row(i, t0, t3, t6, ldt), r[i])
		}
		out := transpose8x8(r)
		add := Load(Param("add"), GP8())
		TESTB(add, add)
		JZ(LabelRef(name + "_store"))
		for q := 0; q < 8; q++ {
			if rows == 8 {
				VADDPS(row(q, c0, c3, c6, ldc), out[q], out[q])
			} else {
				VADDPS(row(q, c0, c3, c6, ldc), out[q].AsX(), out[q].AsX())
			}
		}
		Label(name + "_store")
		for q := 0; q < 8; q++ {
			if rows == 8 {
				VMOVUPS(out[q], row(q, c0, c3, c6, ldc))
			} else {
				VMOVUPS(out[q].AsX(), row(q, c0, c3, c6, ldc))
			}
		}
		VZEROUPPER()
		RET()
	}
}
