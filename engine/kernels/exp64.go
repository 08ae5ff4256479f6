package kernels

import "math"

// ExpF64 sets dst[i] = math.Exp(src[i]) for every i, with exactly the
// rounding of math.Exp: the engine's attention softmax and LM-head
// statistics are computed in float64 through math.Exp, and seeded runs (and
// the models pre-trained with them) reproduce only while every bit stays
// the same. On CPUs with AVX-512 it evaluates eight lanes at a time the same
// operations math.Exp runs on one; elsewhere it calls math.Exp.
func ExpF64(dst, src []float64) {
	dst = dst[:len(src)]
	n8 := 0
	if expPDVector {
		n8 = len(src) &^ 7
		if n8 > 0 && !expPD(dst[:n8], src[:n8]) {
			n8 = 0 // a lane out of the vector range: redo all of them one by one
		}
	}
	for i := n8; i < len(src); i++ {
		dst[i] = math.Exp(src[i])
	}
}
