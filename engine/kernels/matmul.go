package kernels

// MatMul computes C[m×n] = A[m×k]·B[k×n], or C += A·B when acc is true.
func MatMul(c, a, b []float32, m, k, n int, acc bool) {
	checkGemm("MatMul", c, a, b, m, k, n)
	gemm(false, false, c, a, b, m, k, n, acc)
}

// MatMulBT computes C[m×n] = A[m×k]·B[n×k]ᵀ (+= when acc): a linear layer's
// forward pass with a Hugging Face weight B laid out [out×in].
func MatMulBT(c, a, b []float32, m, k, n int, acc bool) {
	checkGemm("MatMulBT", c, a, b, m, k, n)
	gemm(false, true, c, a, b, m, k, n, acc)
}

// MatMulAT computes C[m×n] = A[k×m]ᵀ·B[k×n] (+= when acc): a linear layer's
// weight gradient, summing over the k tokens.
func MatMulAT(c, a, b []float32, m, k, n int, acc bool) {
	checkGemm("MatMulAT", c, a, b, m, k, n)
	gemm(true, false, c, a, b, m, k, n, acc)
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
