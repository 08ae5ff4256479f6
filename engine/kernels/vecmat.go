package kernels

// VecMat computes y[j] = Σ_i x[i]·m[i·ld+j] for j < len(y), i < len(x): the
// row vector x times the matrix m [len(x) × len(y)] stored with row stride
// ld. It runs on the calling goroutine. Decode-time attention makes two of
// these per head and token: the scores of one query against a key cache kept
// transposed ([D × positions]), and the mix of value rows ([positions × D])
// by the attention weights.
//
// Each y[j] is the sum of two chains over the rows, one over the even rows
// and one over the odd rows, each in ascending order, so y[j] depends only
// on column j of m and on x: not on len(y), nor on where j falls in a vector.
func VecMat(y, x, m []float32, ld int) {
	n, rows := len(y), len(x)
	if n == 0 {
		return
	}
	needDims("VecMat", ld)
	if rows == 0 {
		clear(y)
		return
	}
	need("VecMat", "m", len(m), (rows-1)*ld+n)
	vecMat(y, x, m, ld)
}

// vecMatGeneric is the portable VecMat, 16 columns at a time.
func vecMatGeneric(y, x, m []float32, ld int) {
	const w = 16
	for j0 := 0; j0 < len(y); j0 += w {
		cols := min(w, len(y)-j0)
		var even, odd [w]float32
		i := 0
		for ; i+1 < len(x); i += 2 {
			xe, xo := x[i], x[i+1]
			re := m[i*ld+j0 : i*ld+j0+cols]
			ro := m[(i+1)*ld+j0 : (i+1)*ld+j0+cols]
			for q := range re {
				even[q] += xe * re[q]
			}
			for q := range ro {
				odd[q] += xo * ro[q]
			}
		}
		if i < len(x) {
			xe := x[i]
			for q, v := range m[i*ld+j0 : i*ld+j0+cols] {
				even[q] += xe * v
			}
		}
		for q := range cols {
			y[j0+q] = even[q] + odd[q]
		}
	}
}

// VecMatPrefetch is VecMat (with the same results) that also asks the
// processor to fetch the elements of next that a VecMat over next with the
// same shape would read: a caller that walks through many matrices, each
// read once (attention over a key/value cache), has the next one's memory
// requests in flight while it computes on this one. A next too short for
// the shape is not fetched.
func VecMatPrefetch(y, x, m []float32, ld int, next []float32) {
	n, rows := len(y), len(x)
	if n == 0 || rows == 0 || len(next) < (rows-1)*ld+n {
		VecMat(y, x, m, ld)
		return
	}
	needDims("VecMatPrefetch", ld)
	need("VecMatPrefetch", "m", len(m), (rows-1)*ld+n)
	vecMatPrefetch(y, x, m, ld, next)
}
