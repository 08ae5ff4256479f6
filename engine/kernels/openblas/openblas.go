//go:build openblas && cgo

package openblas

/*
#cgo pkg-config: openblas
#include <cblas.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/urlvr/urlvr/engine/kernels"
)

// Available reports whether this build links OpenBLAS.
const Available = true

// Backend returns cblas_sgemm in the kernels.Backend shape.
func Backend() (kernels.Backend, bool) {
	return kernels.Backend{
		Name: "openblas",
		MatMul: func(c, a, b []float32, m, k, n int, acc bool) {
			checkGemm("MatMul", c, a, b, m, k, n)
			openblasSgemm(false, false, c, a, b, m, k, n, acc)
		},
		MatMulBT: func(c, a, b []float32, m, k, n int, acc bool) {
			checkGemm("MatMulBT", c, a, b, m, k, n)
			openblasSgemm(false, true, c, a, b, m, k, n, acc)
		},
		MatMulAT: func(c, a, b []float32, m, k, n int, acc bool) {
			checkGemm("MatMulAT", c, a, b, m, k, n)
			openblasSgemm(true, false, c, a, b, m, k, n, acc)
		},
	}, true
}

func checkGemm(kernel string, c, a, b []float32, m, k, n int) {
	if m < 0 || k < 0 || n < 0 || len(c) < m*n || len(a) < m*k || len(b) < k*n {
		panic(fmt.Sprintf("openblas.%s: slices too short for %d×%d×%d", kernel, m, k, n))
	}
}

var openblasThreads int

func openblasSgemm(transA, transB bool, c, a, b []float32, m, k, n int, acc bool) {
	if m == 0 || n == 0 {
		return
	}
	if t := runtime.GOMAXPROCS(0); t != openblasThreads {
		C.openblas_set_num_threads(C.int(t))
		openblasThreads = t
	}
	ta, lda := uint32(C.CblasNoTrans), k
	if transA {
		ta, lda = C.CblasTrans, m
	}
	tb, ldb := uint32(C.CblasNoTrans), n
	if transB {
		tb, ldb = C.CblasTrans, k
	}
	beta := C.float(0)
	if acc {
		beta = 1
	}
	var pa, pb *float32
	if k > 0 {
		pa, pb = &a[0], &b[0]
	}
	C.cblas_sgemm(C.CblasRowMajor, ta, tb, C.blasint(m), C.blasint(n), C.blasint(k),
		1, (*C.float)(unsafe.Pointer(pa)), C.blasint(max(lda, 1)),
		(*C.float)(unsafe.Pointer(pb)), C.blasint(max(ldb, 1)),
		beta, (*C.float)(unsafe.Pointer(&c[0])), C.blasint(n))
}
