package main

import "fmt"

// rowAPrefetchKernels emits the AVX-512 row-major-A micro-kernels that also
// prefetch the next B panel (gemmKernel with prefetch), used when packed
// weights stream from memory.
func rowAPrefetchKernels() {
	for mr := 1; mr <= 12; mr++ {
		gemmKernel(fmt.Sprintf("sgemmAVX512RowAPf%d", mr), mr, 12, zmmBank, true, true)
	}
}
