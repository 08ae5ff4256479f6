//go:build amd64 && !purego

package kernels

var sgemmAVX512RowAPf = [...]func(kc int, a *float32, lda int, b, c *float32, ldc int, add bool, pf *float32){
	nil, sgemmAVX512RowAPf1, sgemmAVX512RowAPf2, sgemmAVX512RowAPf3, sgemmAVX512RowAPf4, sgemmAVX512RowAPf5, sgemmAVX512RowAPf6,
	sgemmAVX512RowAPf7, sgemmAVX512RowAPf8, sgemmAVX512RowAPf9, sgemmAVX512RowAPf10, sgemmAVX512RowAPf11, sgemmAVX512RowAPf12,
}

// rowAPrefetchKernel returns arch's row-major-A micro-kernel that also
// prefetches the next B panel, if it has one.
func rowAPrefetchKernel(arch *gemmArch) rowAPrefetch {
	if arch != &avx512Arch {
		return nil
	}
	return func(mr, kc int, a *float32, lda int, b, c *float32, ldc int, add bool, pf *float32) {
		sgemmAVX512RowAPf[mr](kc, a, lda, b, c, ldc, add, pf)
	}
}
