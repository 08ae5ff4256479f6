package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// vecMat emits the AVX-512 kernel of a vector-matrix product over one block
// of up to 64 columns: y[j] = Σ_i x[i]·m[i·ld+j]. The block is four zmm
// wide; four 16-bit lane masks (packed in one uint64) cut it to the columns
// that exist, so a short block runs the very instructions a full one does
// and every column gets the same arithmetic wherever it falls. Each column
// is two FMA chains, over the even and over the odd rows in ascending
// order, added at the end: the split halves the chain latency of the short
// reductions attention makes (positions of one head, dimensions of one
// value head).
func vecMat() {
	TEXT("vecMatAVX512", NOSPLIT, "func(y, x *float32, rows int, m *float32, ld int, masks uint64)")
	Pragma("noescape")
	Doc("vecMatAVX512 sets y[j] = Σ_i x[i]·m[i·ld+j] over rows rows for the columns of a 64-wide block whose bits are set in masks (16 per zmm, lowest first).")
	y := Load(Param("y"), GP64())
	x := Load(Param("x"), GP64())
	rows := Load(Param("rows"), GP64())
	m := Load(Param("m"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	bits := GP64()
	Load(Param("masks"), bits)
	var k [4]OpmaskVirtual
	for z := range k {
		k[z] = K()
		KMOVW(bits.As32(), k[z])
		if z < 3 {
			SHRQ(U8(16), bits)
		}
	}
	var even, odd [4]VecVirtual
	for z := range even {
		even[z], odd[z] = ZMM(), ZMM()
		VXORPS(even[z], even[z], even[z])
		VXORPS(odd[z], odd[z], odd[z])
	}
	xe, xo := ZMM(), ZMM()

	Label("vecmat_pairs")
	CMPQ(rows, U8(2))
	JL(LabelRef("vecmat_last"))
	VBROADCASTSS(Mem{Base: x}, xe)
	VBROADCASTSS(Mem{Base: x, Disp: 4}, xo)
	for z := 0; z < 4; z++ {
		VFMADD231PS(Mem{Base: m, Disp: 64 * z}, xe, k[z], even[z])
	}
	for z := 0; z < 4; z++ {
		VFMADD231PS(Mem{Base: m, Index: ld, Scale: 1, Disp: 64 * z}, xo, k[z], odd[z])
	}
	LEAQ(Mem{Base: m, Index: ld, Scale: 2}, m)
	ADDQ(U8(8), x)
	SUBQ(U8(2), rows)
	JMP(LabelRef("vecmat_pairs"))

	Label("vecmat_last")
	TESTQ(rows, rows)
	JZ(LabelRef("vecmat_store"))
	VBROADCASTSS(Mem{Base: x}, xe)
	for z := 0; z < 4; z++ {
		VFMADD231PS(Mem{Base: m, Disp: 64 * z}, xe, k[z], even[z])
	}

	Label("vecmat_store")
	for z := 0; z < 4; z++ {
		VADDPS(odd[z], even[z], even[z])
		VMOVUPS(even[z], k[z], Mem{Base: y, Disp: 64 * z})
	}
	VZEROUPPER()
	RET()
}

// vecMatPrefetch emits vecMatAVX512 (the same FMA chains) that also asks
// for the cache lines at pf with the offsets of the lines it reads, for the
// first zn zmm columns of each row: the caller points pf at the matrix it
// will multiply next, so its lines arrive while this one is computed.
// Attention reads a different slice of the cache for every head and token,
// each once per step, so its cost is memory latency unless the next
// slice's requests are in flight.
//
// Its pairs of rows also load and multiply only those zn columns, the ones
// masks leaves any lane of (the last row, alone, takes all four, masked).
// Every lane of the others is masked off, so the bits are the same, but a
// load whose lanes are all masked off still costs its cache line: a head's
// transposed keys are rows of up to 64 positions, of which a step before
// position 48 reads 1-3 zmm. (The reference generation's decoding attention,
// `go test -bench DecodeAttention ./engine`: 758-791 µs against 848-905 with
// all four.)
func vecMatPrefetch() {
	TEXT("vecMatPfAVX512", NOSPLIT, "func(y, x *float32, rows int, m *float32, ld int, masks uint64, pf *float32, zn int)")
	Pragma("noescape")
	Doc("vecMatPfAVX512 is vecMatAVX512 that also prefetches, for zn (1 to 4) zmm columns, the lines of pf at the offsets it reads from m; masks must have no bit set beyond those zn columns.")
	y := Load(Param("y"), GP64())
	x := Load(Param("x"), GP64())
	rows := Load(Param("rows"), GP64())
	m := Load(Param("m"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	pf := Load(Param("pf"), GP64())
	zn := Load(Param("zn"), GP64())
	bits := GP64()
	Load(Param("masks"), bits)
	var k [4]OpmaskVirtual
	for z := range k {
		k[z] = K()
		KMOVW(bits.As32(), k[z])
		if z < 3 {
			SHRQ(U8(16), bits)
		}
	}
	var even, odd [4]VecVirtual
	for z := range even {
		even[z], odd[z] = ZMM(), ZMM()
		VXORPS(even[z], even[z], even[z])
		VXORPS(odd[z], odd[z], odd[z])
	}
	xe, xo := ZMM(), ZMM()

	for lines := 1; lines <= 4; lines++ {
		CMPQ(zn, U8(lines))
		JLE(LabelRef(fmt.Sprintf("vecmatpf_pairs%d", lines)))
	}
	JMP(LabelRef("vecmatpf_pairs4"))
	for lines := 1; lines <= 4; lines++ {
		loop := fmt.Sprintf("vecmatpf_pairs%d", lines)
		Label(loop)
		CMPQ(rows, U8(2))
		JL(LabelRef("vecmatpf_last"))
		VBROADCASTSS(Mem{Base: x}, xe)
		VBROADCASTSS(Mem{Base: x, Disp: 4}, xo)
		for z := 0; z < lines; z++ {
			PREFETCHT0(Mem{Base: pf, Disp: 64 * z})
			PREFETCHT0(Mem{Base: pf, Index: ld, Scale: 1, Disp: 64 * z})
		}
		for z := 0; z < lines; z++ {
			VFMADD231PS(Mem{Base: m, Disp: 64 * z}, xe, k[z], even[z])
		}
		for z := 0; z < lines; z++ {
			VFMADD231PS(Mem{Base: m, Index: ld, Scale: 1, Disp: 64 * z}, xo, k[z], odd[z])
		}
		LEAQ(Mem{Base: m, Index: ld, Scale: 2}, m)
		LEAQ(Mem{Base: pf, Index: ld, Scale: 2}, pf)
		ADDQ(U8(8), x)
		SUBQ(U8(2), rows)
		JMP(LabelRef(loop))
	}

	Label("vecmatpf_last")
	TESTQ(rows, rows)
	JZ(LabelRef("vecmatpf_store"))
	VBROADCASTSS(Mem{Base: x}, xe)
	for z := 0; z < 4; z++ {
		VFMADD231PS(Mem{Base: m, Disp: 64 * z}, xe, k[z], even[z])
	}

	Label("vecmatpf_store")
	for z := 0; z < 4; z++ {
		VADDPS(odd[z], even[z], even[z])
		VMOVUPS(even[z], k[z], Mem{Base: y, Disp: 64 * z})
	}
	VZEROUPPER()
	RET()
}
