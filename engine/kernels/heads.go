package kernels

// Decoding attends one token over each of its heads: the scores, a softmax
// and a mix of values per head, each a short chain of dependent operations
// (a row of a few dozen positions, a head of 16 dimensions). One head at a
// time, the processor waits on each chain in turn; these run four heads'
// chains together, each with exactly the operations of the one-head
// kernel, so the results are the same bits.

// SoftmaxRows4 is SoftmaxRow over the four rows x[h·ld : h·ld+n], h < 4,
// with the same bits.
func SoftmaxRows4(x []float32, ld, n int) {
	needDims("SoftmaxRows4", ld, n)
	if n == 0 {
		return
	}
	if ld < n {
		panic("kernels.SoftmaxRows4: ld < n")
	}
	need("SoftmaxRows4", "x", len(x), 3*ld+n)
	softmaxRows4(x, ld, n)
}

// softmaxRows4Generic runs SoftmaxRow on each row.
func softmaxRows4Generic(x []float32, ld, n int) {
	for h := range 4 {
		softmaxRow(x[h*ld : h*ld+n])
	}
}

// VecMat4x16 is VecMat over four heads of 16 columns, with the same bits:
// y[h·16+j] = Σ_i x[h·ldx+i]·m_h[i·16+j] for h < 4, j < 16, i < rows, where
// m_0..m_3 are m0..m3 (each [rows × 16], rows contiguous).
func VecMat4x16(y, x []float32, ldx, rows int, m0, m1, m2, m3 []float32) {
	if checkVecMat4("VecMat4x16", 16, y, x, ldx, rows, m0, m1, m2, m3) {
		vecMat4x16(y, x, ldx, rows, m0, m1, m2, m3)
	}
}

// VecMat4x32 is VecMat4x16 for heads of 32 columns: y [128], each m_h
// [rows × 32].
func VecMat4x32(y, x []float32, ldx, rows int, m0, m1, m2, m3 []float32) {
	if checkVecMat4("VecMat4x32", 32, y, x, ldx, rows, m0, m1, m2, m3) {
		vecMat4x32(y, x, ldx, rows, m0, m1, m2, m3)
	}
}

// checkVecMat4 checks the operands of a four-head product of width columns
// and reports whether there is a product to run: with no rows it sets y to
// zeros.
func checkVecMat4(name string, width int, y, x []float32, ldx, rows int, m0, m1, m2, m3 []float32) bool {
	needDims(name, ldx, rows)
	need(name, "y", len(y), 4*width)
	if rows == 0 {
		clear(y[:4*width])
		return false
	}
	if ldx < rows {
		panic("kernels." + name + ": ldx < rows")
	}
	need(name, "x", len(x), 3*ldx+rows)
	for _, m := range [][]float32{m0, m1, m2, m3} {
		need(name, "m", len(m), rows*width)
	}
	return true
}

// vecMat4Generic runs VecMat on each head of width columns.
func vecMat4Generic(width int, y, x []float32, ldx, rows int, m0, m1, m2, m3 []float32) {
	for h, m := range [][]float32{m0, m1, m2, m3} {
		vecMat(y[h*width:(h+1)*width], x[h*ldx:h*ldx+rows], m, width)
	}
}
