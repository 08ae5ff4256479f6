package kernels

import "math"

// Portable loops behind the row operations. The amd64 files replace the
// ones that pay for vectorising; these stay as the fallback and the purego
// build.

func dotGeneric(a, b []float32) float32 {
	// Four partial sums break the add dependency chain.
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// scaleMulGeneric: out = x·s·w.
func scaleMulGeneric(out, x, w []float32, s float32) {
	out = out[:len(x)]
	w = w[:len(x)]
	for i, v := range x {
		out[i] = v * s * w[i]
	}
}

func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

func swigluGeneric(out, gate, up []float32) {
	gate = gate[:len(out)]
	up = up[:len(out)]
	for i := range out {
		g := gate[i]
		out[i] = g * sigmoid32(g) * up[i]
	}
}

func swigluBackwardGeneric(dgate, dup, dout, gate, up []float32) {
	dup = dup[:len(dgate)]
	dout = dout[:len(dgate)]
	gate = gate[:len(dgate)]
	up = up[:len(dgate)]
	for i := range dgate {
		g := gate[i]
		sg := sigmoid32(g)
		dup[i] = dout[i] * g * sg
		dgate[i] = dout[i] * up[i] * sg * (1 + g*(1-sg))
	}
}

func maxGeneric(x []float32) float32 {
	mx := float32(math.Inf(-1))
	for _, v := range x {
		if v > mx {
			mx = v
		}
	}
	return mx
}

// expSubSumGeneric: x[i] = exp(x[i]−mx), returns Σ.
func expSubSumGeneric(x []float32, mx float32) float32 {
	var s float32
	for i, v := range x {
		e := exp32(v - mx)
		x[i] = e
		s += e
	}
	return s
}

// sumExpSubGeneric: returns Σ exp(x[i]−mx) without writing.
func sumExpSubGeneric(x []float32, mx float32) float32 {
	var s float32
	for _, v := range x {
		s += exp32(v - mx)
	}
	return s
}

func scaleGeneric(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

func softmaxRow(row []float32) {
	mx := maxf(row)
	if math.IsInf(float64(mx), -1) || len(row) == 0 {
		clear(row)
		return
	}
	s := expSubSum(row, mx)
	scale(row, 1/s)
}

func logSumExpRow(row []float32) float32 {
	mx := maxf(row)
	if math.IsInf(float64(mx), 0) || len(row) == 0 {
		return mx
	}
	return mx + float32(math.Log(float64(sumExpSub(row, mx))))
}

func adamwGeneric(p, g, m, v []float32, lr, beta1, beta2, eps, wd, invBC1, invBC2 float32) {
	adamwStepGeneric(p, g, m, v, lr, beta1, beta2, eps, wd, invBC1, invBC2, 1, false)
}

// adamwConsumeGeneric is adamwGeneric on g·gs that then zeroes g.
func adamwConsumeGeneric(p, g, m, v []float32, lr, beta1, beta2, eps, wd, invBC1, invBC2, gs float32) {
	adamwStepGeneric(p, g, m, v, lr, beta1, beta2, eps, wd, invBC1, invBC2, gs, true)
}

func adamwStepGeneric(p, g, m, v []float32, lr, beta1, beta2, eps, wd, invBC1, invBC2, gs float32, consume bool) {
	g = g[:len(p)]
	m = m[:len(p)]
	v = v[:len(p)]
	for i := range p {
		gi := g[i]
		if consume {
			gi *= gs
			g[i] = 0
		}
		mi := beta1*m[i] + (1-beta1)*gi
		vi := beta2*v[i] + (1-beta2)*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= lr * (mi*invBC1/(sqrt32(vi*invBC2)+eps) + wd*p[i])
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// exp32 is e^x in float32 by the same method as the vector code: clamp to
// [−87.3, 88.3], x = n·ln2 + r with |r| ≤ ln2/2, e^r from a degree-7
// polynomial (Cephes expf coefficients), 2^n built in the exponent bits.
// Within 2 ulp of e^x on the range; 0 below it, e^88.3 above it (callers
// pass x ≤ 0, or use it inside σ where the clamp is invisible); NaN stays NaN.
func exp32(x float32) float32 {
	if x < -87.3 {
		return 0
	}
	if x != x {
		return x
	}
	x = min(x, 88.3)
	// Round to nearest by truncation (the argument is within ±128).
	t := x * 1.44269504088896341
	var n float32
	if t >= 0 {
		n = float32(int32(t + 0.5))
	} else {
		n = float32(int32(t - 0.5))
	}
	r := x - n*0.693359375
	r -= n * -2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}
