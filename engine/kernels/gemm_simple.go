package kernels

// gemmSimple multiplies without packing: each element of C is a dot
// product (for Bᵀ, both operands contiguous in k) or is built by vector
// updates along the rows of B, in ascending k. It is the path for shapes
// too small to repay packing, such as a single row during generation. Work
// is split over rows of C, or over 64-aligned column ranges when C has few
// rows, so the split never moves an element between the vector and scalar
// parts of a loop. portable selects the pure-Go row loops.
func gemmSimple(portable bool, workers int, transA, transB bool, c, a, b []float32, m, k, n int, acc bool) {
	dot, axpy := dot, axpy
	if portable {
		dot, axpy = dotGeneric, axpyGeneric
	}
	rows := func(i0, i1, j0, j1 int) {
		for i := i0; i < i1; i++ {
			crow := c[i*n+j0 : i*n+j1]
			if !acc {
				clear(crow)
			}
			switch {
			case transB:
				arow := a[i*k : (i+1)*k]
				for j := range crow {
					crow[j] += dot(arow, b[(j0+j)*k:(j0+j+1)*k])
				}
			case transA:
				for p := 0; p < k; p++ {
					axpy(a[p*m+i], b[p*n+j0:p*n+j1], crow)
				}
			default:
				for p := 0; p < k; p++ {
					axpy(a[i*k+p], b[p*n+j0:p*n+j1], crow)
				}
			}
		}
	}
	parallelForAligned(workers, n, 64, m*k*n, func(j0, j1 int) { rows(0, m, j0, j1) })
}
