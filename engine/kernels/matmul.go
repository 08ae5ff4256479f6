package kernels

// MatMul computes C[m×n] = A[m×k]·B[k×n], or C += A·B when acc is true.
func MatMul(c, a, b []float32, m, k, n int, acc bool) { AllCores.MatMul(c, a, b, m, k, n, acc) }

// MatMul is MatMul on at most w goroutines.
func (w Workers) MatMul(c, a, b []float32, m, k, n int, acc bool) {
	checkGemm("MatMul", c, a, b, m, k, n)
	gemm(w.Count(), false, false, c, a, b, m, k, n, acc)
}

// MatMulBT computes C[m×n] = A[m×k]·B[n×k]ᵀ (+= when acc): a linear layer's
// forward pass with a Hugging Face weight B laid out [out×in].
func MatMulBT(c, a, b []float32, m, k, n int, acc bool) { AllCores.MatMulBT(c, a, b, m, k, n, acc) }

// MatMulBT is MatMulBT on at most w goroutines.
func (w Workers) MatMulBT(c, a, b []float32, m, k, n int, acc bool) {
	checkGemm("MatMulBT", c, a, b, m, k, n)
	gemm(w.Count(), false, true, c, a, b, m, k, n, acc)
}

// MatMulAT computes C[m×n] = A[k×m]ᵀ·B[k×n] (+= when acc): a linear layer's
// weight gradient, summing over the k tokens.
func MatMulAT(c, a, b []float32, m, k, n int, acc bool) {
	checkGemm("MatMulAT", c, a, b, m, k, n)
	gemm(AllCores.Count(), true, false, c, a, b, m, k, n, acc)
}

func checkGemm(kernel string, c, a, b []float32, m, k, n int) {
	needDims(kernel, m, k, n)
	need(kernel, "c", len(c), m*n)
	need(kernel, "a", len(a), m*k)
	need(kernel, "b", len(b), k*n)
}

// GemmKBlock is the K block of the products: MatMul, MatMulBT and MatMulAT
// sum each element over k in blocks of this many terms, each an FMA chain in
// ascending k added to C in order (the small-row path sums one chain over
// all of k). A caller that splits a product over k at these bounds, adding
// the parts in order, gets the same bits as one call.
func GemmKBlock() int { return archs[0].kc }

// MatMulATSegs is MatMulAT with the sum over k split at the given bounds
// (ascending, from 0 to k): it gives exactly the bits of one MatMulAT call
// per segment, each adding into C in order (a segment longer than
// GemmKBlock split into such blocks), in one pass over C. A weight
// gradient summed over the K blocks of a padded layout whose padding rows
// are left out is such a product.
func MatMulATSegs(c, a, b []float32, m, k, n int, acc bool, bounds []int) {
	checkGemm("MatMulATSegs", c, a, b, m, k, n)
	if len(bounds) < 2 || bounds[0] != 0 || bounds[len(bounds)-1] != k {
		panic("kernels.MatMulATSegs: bounds must run from 0 to k")
	}
	kc := archs[0].kc
	if m <= smallRows || len(bounds) == 2 && k <= kc {
		for i := 1; i < len(bounds); i++ {
			r0, r1 := bounds[i-1], bounds[i]
			if r1 < r0 {
				panic("kernels.MatMulATSegs: bounds must ascend")
			}
			gemm(AllCores.Count(), true, false, c, a[r0*m:r1*m], b[r0*n:r1*n], m, r1-r0, n, acc || i > 1)
		}
		return
	}
	// The K blocks: every segment, cut into pieces of at most kc; an
	// empty segment adds nothing.
	blocks := make([]int, 1, len(bounds)+k/kc+1)
	for i := 1; i < len(bounds); i++ {
		r0, r1 := bounds[i-1], bounds[i]
		if r1 < r0 {
			panic("kernels.MatMulATSegs: bounds must ascend")
		}
		for p := r0; p < r1; p = min(r1, p+kc) {
			blocks = append(blocks, min(r1, p+kc))
		}
	}
	gemmBlockedSegs(archs[0], AllCores.Count(), true, false, c, a, b, m, k, n, acc, false, blocks)
}
