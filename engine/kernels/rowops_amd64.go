//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// The row loops run the AVX2+FMA assembly over the first len&^7 elements and
// the portable code over the rest.

var rowAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func dot(a, b []float32) float32 {
	n8 := len(a) &^ 7
	if !rowAVX2 || n8 == 0 {
		return dotGeneric(a, b)
	}
	s := dotAVX2(a[:n8], b[:n8])
	for i := n8; i < len(a); i++ {
		s += a[i] * b[i]
	}
	return s
}

func axpy(alpha float32, x, y []float32) {
	n8 := len(x) &^ 7
	if !rowAVX2 || n8 == 0 {
		axpyGeneric(alpha, x, y)
		return
	}
	axpyAVX2(alpha, x[:n8], y[:n8])
	axpyGeneric(alpha, x[n8:], y[n8:])
}

func scaleMul(out, x, w []float32, s float32) {
	n8 := len(x) &^ 7
	if rowAVX2 && n8 > 0 {
		scaleMulAVX2(out[:n8], x[:n8], w[:n8], s)
	} else {
		n8 = 0
	}
	scaleMulGeneric(out[n8:], x[n8:], w[n8:], s)
}

func maxf(x []float32) float32 {
	n8 := len(x) &^ 7
	if !rowAVX2 || n8 == 0 {
		return maxGeneric(x)
	}
	return max(maxAVX2(x[:n8]), maxGeneric(x[n8:]))
}

func expSubSum(x []float32, mx float32) float32 {
	n8 := len(x) &^ 7
	if !rowAVX2 || n8 == 0 {
		return expSubSumGeneric(x, mx)
	}
	return expSubSumAVX2(x[:n8], mx) + expSubSumGeneric(x[n8:], mx)
}

func sumExpSub(x []float32, mx float32) float32 {
	n8 := len(x) &^ 7
	if !rowAVX2 || n8 == 0 {
		return sumExpSubGeneric(x, mx)
	}
	return sumExpSubAVX2(x[:n8], mx) + sumExpSubGeneric(x[n8:], mx)
}

func scale(x []float32, s float32) {
	n8 := len(x) &^ 7
	if rowAVX2 && n8 > 0 {
		scaleAVX2(x[:n8], s)
	} else {
		n8 = 0
	}
	scaleGeneric(x[n8:], s)
}

// rowAVX512: the SwiGLU loops also run sixteen lanes at a time, with the
// AVX2 lanes' bits.
var rowAVX512 = rowAVX2 && cpu.X86.HasAVX512F

func swiglu(out, gate, up []float32) {
	n16 := 0
	if rowAVX512 {
		n16 = len(out) &^ 15
		if n16 > 0 {
			swigluAVX512(out[:n16], gate[:n16], up[:n16])
		}
	}
	out, gate, up = out[n16:], gate[n16:], up[n16:]
	n8 := len(out) &^ 7
	if rowAVX2 && n8 > 0 {
		swigluAVX2(out[:n8], gate[:n8], up[:n8])
	} else {
		n8 = 0
	}
	swigluGeneric(out[n8:], gate[n8:], up[n8:])
}

func swigluBackward(dgate, dup, dout, gate, up []float32) {
	n16 := 0
	if rowAVX512 {
		n16 = len(dgate) &^ 15
		if n16 > 0 {
			swigluBackwardAVX512(dgate[:n16], dup[:n16], dout[:n16], gate[:n16], up[:n16])
		}
	}
	dgate, dup, dout, gate, up = dgate[n16:], dup[n16:], dout[n16:], gate[n16:], up[n16:]
	n8 := len(dgate) &^ 7
	if rowAVX2 && n8 > 0 {
		swigluBackwardAVX2(dgate[:n8], dup[:n8], dout[:n8], gate[:n8], up[:n8])
	} else {
		n8 = 0
	}
	swigluBackwardGeneric(dgate[n8:], dup[n8:], dout[n8:], gate[n8:], up[n8:])
}

func adamw(p, g, m, v []float32, lr, b1, b2, eps, wd, i1, i2 float32) {
	n8 := len(p) &^ 7
	if rowAVX2 && n8 > 0 {
		adamwAVX2(p[:n8], g[:n8], m[:n8], v[:n8], lr, b1, b2, eps, wd, i1, i2)
	} else {
		n8 = 0
	}
	adamwGeneric(p[n8:], g[n8:], m[n8:], v[n8:], lr, b1, b2, eps, wd, i1, i2)
}

func adamwConsume(p, g, m, v []float32, lr, b1, b2, eps, wd, i1, i2, gs float32) {
	n8 := len(p) &^ 7
	if rowAVX2 && n8 > 0 {
		adamwConsumeAVX2(p[:n8], g[:n8], m[:n8], v[:n8], lr, b1, b2, eps, wd, i1, i2, gs)
	} else {
		n8 = 0
	}
	adamwConsumeGeneric(p[n8:], g[n8:], m[n8:], v[n8:], lr, b1, b2, eps, wd, i1, i2, gs)
}

// scaleMaxAVX512OK: the kernels' masked tails need AVX-512 (F, DQ and VL)
// and BMI2's BZHI.
var scaleMaxAVX512OK = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL && cpu.X86.HasBMI2

func scaleMaxRow(x []float32, s float32) float32 {
	if !scaleMaxAVX512OK {
		return scaleMaxGeneric(x, s)
	}
	return scaleMaxAVX512(&x[0], len(x), s)
}

func narrowScale(dst []float32, src []float64, s float32) {
	if !scaleMaxAVX512OK {
		narrowScaleGeneric(dst, src, s)
		return
	}
	narrowScaleAVX512(&dst[0], &src[0], len(src), s)
}

func softmaxGrad(d, p []float32, dot, scale float32) {
	if !scaleMaxAVX512OK {
		softmaxGradGeneric(d, p, dot, scale)
		return
	}
	softmaxGradAVX512(&d[0], &p[0], len(d), dot, scale)
}

// ropeVector rotates nTok whole rows with the AVX2 kernel when the half
// head is a multiple of 8, reporting whether it did.
func ropeVector(x, cos, sin []float32, nTok, nHeads, h int, inverse bool) bool {
	if !rowAVX2 || h%8 != 0 || nTok == 0 || nHeads == 0 {
		return false
	}
	need("RoPE", "x", len(x), nTok*nHeads*2*h)
	need("RoPE", "cos", len(cos), nTok*h)
	need("RoPE", "sin", len(sin), nTok*h)
	ropeAVX2(&x[0], &cos[0], &sin[0], nTok, nHeads, h, inverse)
	return true
}

func rmsDx(dx, dr, w, x []float32, s, mean float32) {
	n8 := len(dx) &^ 7
	if !rowAVX2 || n8 == 0 {
		rmsDxGeneric(dx, dr, w, x, s, mean)
		return
	}
	rmsDxAVX2(dx[:n8], dr[:n8], w[:n8], x[:n8], s, mean)
	rmsDxGeneric(dx[n8:], dr[n8:], w[n8:], x[n8:], s, mean)
}

func rmsDw(dw, dr, x []float32, s float32) {
	n8 := len(dw) &^ 7
	if !rowAVX2 || n8 == 0 {
		rmsDwGeneric(dw, dr, x, s)
		return
	}
	rmsDwAVX2(dw[:n8], dr[:n8], x[:n8], s)
	rmsDwGeneric(dw[n8:], dr[n8:], x[n8:], s)
}

func scaleMaxArgsRow(x []float32, s float32, arg []float64) float32 {
	if !scaleMaxAVX512OK {
		return scaleMaxArgsGeneric(x, s, arg)
	}
	return scaleMaxArgsAVX512(&x[0], len(x), s, &arg[0])
}
