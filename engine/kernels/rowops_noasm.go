//go:build !amd64 || purego

package kernels

// Without assembly the row loops are the portable ones.

func dot(a, b []float32) float32              { return dotGeneric(a, b) }
func axpy(alpha float32, x, y []float32)      { axpyGeneric(alpha, x, y) }
func scaleMul(out, x, w []float32, s float32) { scaleMulGeneric(out, x, w, s) }
func maxf(x []float32) float32                { return maxGeneric(x) }
func expSubSum(x []float32, mx float32) float32 {
	return expSubSumGeneric(x, mx)
}
func sumExpSub(x []float32, mx float32) float32 { return sumExpSubGeneric(x, mx) }
func scale(x []float32, s float32)              { scaleGeneric(x, s) }
func swiglu(out, gate, up []float32)            { swigluGeneric(out, gate, up) }
func swigluBackward(dgate, dup, dout, gate, up []float32) {
	swigluBackwardGeneric(dgate, dup, dout, gate, up)
}
func adamw(p, g, m, v []float32, lr, b1, b2, eps, wd, i1, i2 float32) {
	adamwGeneric(p, g, m, v, lr, b1, b2, eps, wd, i1, i2)
}

func adamwConsume(p, g, m, v []float32, lr, b1, b2, eps, wd, i1, i2, gs float32) {
	adamwConsumeGeneric(p, g, m, v, lr, b1, b2, eps, wd, i1, i2, gs)
}

func scaleMaxRow(x []float32, s float32) float32 { return scaleMaxGeneric(x, s) }

func ropeVector(x, cos, sin []float32, nTok, nHeads, h int, inverse bool) bool { return false }

func rmsDx(dx, dr, w, x []float32, s, mean float32) { rmsDxGeneric(dx, dr, w, x, s, mean) }
func rmsDw(dw, dr, x []float32, s float32)          { rmsDwGeneric(dw, dr, x, s) }

func scaleMaxArgsRow(x []float32, s float32, arg []float64) float32 {
	return scaleMaxArgsGeneric(x, s, arg)
}

func narrowScale(dst []float32, src []float64, s float32) { narrowScaleGeneric(dst, src, s) }

func softmaxGrad(d, p []float32, dot, scale float32) { softmaxGradGeneric(d, p, dot, scale) }
