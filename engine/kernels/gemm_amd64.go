//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// The amd64 micro-kernels, one assembly function per row count so that an
// edge panel of A runs exactly the FMA chains a full one would.

var sgemmAVX512 = [...]func(kc int, a, b, c *float32, ldc int, add bool){
	nil, sgemmAVX512x1, sgemmAVX512x2, sgemmAVX512x3, sgemmAVX512x4, sgemmAVX512x5, sgemmAVX512x6,
	sgemmAVX512x7, sgemmAVX512x8, sgemmAVX512x9, sgemmAVX512x10, sgemmAVX512x11, sgemmAVX512x12,
}

var sgemmAVX512RowA = [...]func(kc int, a *float32, lda int, b, c *float32, ldc int, add bool){
	nil, sgemmAVX512RowA1, sgemmAVX512RowA2, sgemmAVX512RowA3, sgemmAVX512RowA4, sgemmAVX512RowA5, sgemmAVX512RowA6,
	sgemmAVX512RowA7, sgemmAVX512RowA8, sgemmAVX512RowA9, sgemmAVX512RowA10, sgemmAVX512RowA11, sgemmAVX512RowA12,
}

// sgemmAVX512Strided[vecs-1][colA][mr] read both operands in place.
var sgemmAVX512Strided = [2][2]stridedKernels{
	{
		{nil, sgemmAVX512RowAN16_1, sgemmAVX512RowAN16_2, sgemmAVX512RowAN16_3, sgemmAVX512RowAN16_4, sgemmAVX512RowAN16_5, sgemmAVX512RowAN16_6,
			sgemmAVX512RowAN16_7, sgemmAVX512RowAN16_8, sgemmAVX512RowAN16_9, sgemmAVX512RowAN16_10, sgemmAVX512RowAN16_11, sgemmAVX512RowAN16_12},
		{nil, sgemmAVX512ColAN16_1, sgemmAVX512ColAN16_2, sgemmAVX512ColAN16_3, sgemmAVX512ColAN16_4, sgemmAVX512ColAN16_5, sgemmAVX512ColAN16_6,
			sgemmAVX512ColAN16_7, sgemmAVX512ColAN16_8, sgemmAVX512ColAN16_9, sgemmAVX512ColAN16_10, sgemmAVX512ColAN16_11, sgemmAVX512ColAN16_12},
	},
	{
		{nil, sgemmAVX512RowAN32_1, sgemmAVX512RowAN32_2, sgemmAVX512RowAN32_3, sgemmAVX512RowAN32_4, sgemmAVX512RowAN32_5, sgemmAVX512RowAN32_6,
			sgemmAVX512RowAN32_7, sgemmAVX512RowAN32_8, sgemmAVX512RowAN32_9, sgemmAVX512RowAN32_10, sgemmAVX512RowAN32_11, sgemmAVX512RowAN32_12},
		sgemmAVX512ColAN32,
	},
}

// stridedKernels is one set of in-place kernels, indexed by row count.
type stridedKernels = [13]func(kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, add bool)

// sgemmAVX512ColAN32 are the column-A kernels two vectors wide, the weight
// gradients' products.
var sgemmAVX512ColAN32 = stridedKernels{
	nil, sgemmAVX512ColAN32_1, sgemmAVX512ColAN32_2, sgemmAVX512ColAN32_3, sgemmAVX512ColAN32_4, sgemmAVX512ColAN32_5, sgemmAVX512ColAN32_6,
	sgemmAVX512ColAN32_7, sgemmAVX512ColAN32_8, sgemmAVX512ColAN32_9, sgemmAVX512ColAN32_10, sgemmAVX512ColAN32_11, sgemmAVX512ColAN32_12,
}

// sgemmAVX512ColAPfN32 are the ColAN32 kernels with their operands fetched
// ahead: the same FMAs and bits, for processors whose prefetchers do not
// follow a weight gradient's strides (see useColAPrefetch).
var sgemmAVX512ColAPfN32 = stridedKernels{
	nil, sgemmAVX512ColAPfN32_1, sgemmAVX512ColAPfN32_2, sgemmAVX512ColAPfN32_3, sgemmAVX512ColAPfN32_4, sgemmAVX512ColAPfN32_5, sgemmAVX512ColAPfN32_6,
	sgemmAVX512ColAPfN32_7, sgemmAVX512ColAPfN32_8, sgemmAVX512ColAPfN32_9, sgemmAVX512ColAPfN32_10, sgemmAVX512ColAPfN32_11, sgemmAVX512ColAPfN32_12,
}

// useColAPrefetch swaps in the column-A kernels that fetch ahead on Intel
// processors. Measured with each set on each host: on an Intel Xeon
// (Sapphire Rapids class) the fetches took the reference training step
// from 214-222 to 201-206 ms, and Aᵀ·B 2048×2048×256 on one core from
// 98-120 to 139-142 GFLOP/s; on an AMD EPYC (Zen 5 class) they cost Aᵀ·B
// 2048×384×1536 a tenth or more (374 against 324 GFLOP/s, medians, two
// cores). Other makers keep the kernels without them.
func useColAPrefetch() {
	if ebx, edx, ecx := cpuVendor(); vendorString(ebx, edx, ecx) == "GenuineIntel" {
		sgemmAVX512Strided[1][1] = sgemmAVX512ColAPfN32
	}
}

// vendorString spells CPUID leaf 0's vendor from its three registers.
func vendorString(ebx, edx, ecx uint32) string {
	var b [12]byte
	for i, r := range [3]uint32{ebx, edx, ecx} {
		for j := range 4 {
			b[4*i+j] = byte(r >> (8 * j))
		}
	}
	return string(b[:])
}

var sgemmAVX2RowA = [...]func(kc int, a *float32, lda int, b, c *float32, ldc int, add bool){
	nil, sgemmAVX2RowA1, sgemmAVX2RowA2, sgemmAVX2RowA3, sgemmAVX2RowA4, sgemmAVX2RowA5, sgemmAVX2RowA6,
}

var sgemmAVX2 = [...]func(kc int, a, b, c *float32, ldc int, add bool){
	nil, sgemmAVX2x1, sgemmAVX2x2, sgemmAVX2x3, sgemmAVX2x4, sgemmAVX2x5, sgemmAVX2x6,
}

// avx512Arch: 12×32 micro-tile (24 zmm accumulators). kc = 256 keeps the
// 32 KiB B micro-panel in L1 while the 12 KiB A panels stream from L2.
var avx512Arch = gemmArch{
	name: "avx512", mr: 12, nr: 32, kc: 256,
	mcPanels: 8, ncPanels: 48,
	kernel: func(mr, kc int, a, b, c *float32, ldc int, add bool) {
		sgemmAVX512[mr](kc, a, b, c, ldc, add)
	},
	kernelRowA: func(mr, kc int, a *float32, lda int, b, c *float32, ldc int, add bool) {
		sgemmAVX512RowA[mr](kc, a, lda, b, c, ldc, add)
	},
	strided: func(vecs int, colA bool, mr, kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, add bool) {
		col := 0
		if colA {
			col = 1
		}
		sgemmAVX512Strided[vecs-1][col][mr](kc, a, lda, b, ldb, c, ldc, add)
	},
}

// avx2Arch: 6×16 micro-tile (12 ymm accumulators).
var avx2Arch = gemmArch{
	name: "avx2", mr: 6, nr: 16, kc: 256,
	mcPanels: 16, ncPanels: 96,
	kernel: func(mr, kc int, a, b, c *float32, ldc int, add bool) {
		sgemmAVX2[mr](kc, a, b, c, ldc, add)
	},
	kernelRowA: func(mr, kc int, a *float32, lda int, b, c *float32, ldc int, add bool) {
		sgemmAVX2RowA[mr](kc, a, lda, b, c, ldc, add)
	},
}

func init() {
	hasAVX2 := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 := hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ
	if hasAVX2 {
		packBT8 = packBT8AVX2
		addT8x8, addT4x8 = addT8x8AVX2, addT4x8AVX2
	}
	if hasAVX512 {
		packRows32 = packRows32AVX512
		useColAPrefetch()
	}
	switch {
	case hasAVX512:
		archs = []*gemmArch{&avx512Arch, &avx2Arch, &genericArch}
	case hasAVX2:
		archs = []*gemmArch{&avx2Arch, &genericArch}
	}
}
