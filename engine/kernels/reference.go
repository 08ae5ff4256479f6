package kernels

import "math"

// This file holds the plain reference kernels: serial, one loop nest per
// formula, written to be read. The fast kernels must agree with them (see
// kernels_test.go); nothing in the engine calls them directly.

// refMatMul: C[m×n] (+)= A[m×k]·B[k×n].
func refMatMul(c, a, b []float32, m, k, n int, acc bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			if acc {
				c[i*n+j] += s
			} else {
				c[i*n+j] = s
			}
		}
	}
}

// refMatMulBT: C[m×n] (+)= A[m×k]·B[n×k]ᵀ.
func refMatMulBT(c, a, b []float32, m, k, n int, acc bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[j*k+p]
			}
			if acc {
				c[i*n+j] += s
			} else {
				c[i*n+j] = s
			}
		}
	}
}

// refMatMulAT: C[m×n] (+)= A[k×m]ᵀ·B[k×n].
func refMatMulAT(c, a, b []float32, m, k, n int, acc bool) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[p*m+i] * b[p*n+j]
			}
			if acc {
				c[i*n+j] += s
			} else {
				c[i*n+j] = s
			}
		}
	}
}

func refDot(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func refAxpy(alpha float32, x, y []float32) {
	for i := range x {
		y[i] += alpha * x[i]
	}
}

// refRMSNorm: x, out [rows×dim], w [dim], rstd [rows].
// rstd = 1/sqrt(mean(x²)+eps); out = x·rstd·w.
func refRMSNorm(out, rstd, x, w []float32, rows, dim int, eps float32) {
	for r := 0; r < rows; r++ {
		row := x[r*dim : (r+1)*dim]
		var ss float32
		for _, v := range row {
			ss += v * v
		}
		s := float32(1 / math.Sqrt(float64(ss/float32(dim)+eps)))
		rstd[r] = s
		for i, v := range row {
			out[r*dim+i] = v * s * w[i]
		}
	}
}

// refRMSNormBackward: with x̂ = x·rstd and y = x̂·w,
// dw += Σ_rows dout·x̂ and dx = rstd·(dout·w − x̂·mean(dout·w·x̂)).
func refRMSNormBackward(dx, dw, dout, x, w, rstd []float32, rows, dim int) {
	for r := 0; r < rows; r++ {
		s := rstd[r]
		var dot float32
		for i := 0; i < dim; i++ {
			dot += dout[r*dim+i] * w[i] * x[r*dim+i] * s
		}
		mean := dot / float32(dim)
		for i := 0; i < dim; i++ {
			xhat := x[r*dim+i] * s
			dw[i] += dout[r*dim+i] * xhat
			dx[r*dim+i] = s * (dout[r*dim+i]*w[i] - xhat*mean)
		}
	}
}

func refSigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// refSwiGLU: out = gate·σ(gate)·up.
func refSwiGLU(out, gate, up []float32) {
	for i := range out {
		g := gate[i]
		out[i] = g * refSigmoid(g) * up[i]
	}
}

// refSwiGLUBackward: dup = dout·silu(gate); dgate = dout·up·σ(gate)·(1+gate·(1−σ(gate))).
func refSwiGLUBackward(dgate, dup, dout, gate, up []float32) {
	for i := range dout {
		g := gate[i]
		sg := refSigmoid(g)
		dup[i] = dout[i] * g * sg
		dgate[i] = dout[i] * up[i] * sg * (1 + g*(1-sg))
	}
}

// refRoPE rotates each head of x [nTok×nHeads×headDim] in place with the
// rotate_half convention: for i < h = headDim/2, (x_i, x_{i+h}) becomes
// (x_i·cos − x_{i+h}·sin, x_{i+h}·cos + x_i·sin), cos/sin [nTok×h].
func refRoPE(x, cos, sin []float32, nTok, nHeads, headDim int, inverse bool) {
	h := headDim / 2
	for t := 0; t < nTok; t++ {
		for hd := 0; hd < nHeads; hd++ {
			v := x[(t*nHeads+hd)*headDim:]
			for i := 0; i < h; i++ {
				c, s := cos[t*h+i], sin[t*h+i]
				if inverse {
					s = -s
				}
				x1, x2 := v[i], v[i+h]
				v[i] = x1*c - x2*s
				v[i+h] = x2*c + x1*s
			}
		}
	}
}

// refSoftmaxRows: x[r] = exp(x[r]−max)/Σexp(x[r]−max); a row of −Inf becomes zeros.
func refSoftmaxRows(x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		mx := float32(math.Inf(-1))
		for _, v := range row {
			mx = max(mx, v)
		}
		if math.IsInf(float64(mx), -1) {
			clear(row)
			continue
		}
		var s float32
		for i, v := range row {
			e := float32(math.Exp(float64(v - mx)))
			row[i] = e
			s += e
		}
		for i := range row {
			row[i] /= s
		}
	}
}

// refLogSumExpRows: out[r] = max + log Σ exp(x[r]−max).
func refLogSumExpRows(out, x []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		row := x[r*cols : (r+1)*cols]
		mx := float32(math.Inf(-1))
		for _, v := range row {
			mx = max(mx, v)
		}
		if math.IsInf(float64(mx), 0) {
			out[r] = mx
			continue
		}
		var s float32
		for _, v := range row {
			s += float32(math.Exp(float64(v - mx)))
		}
		out[r] = mx + float32(math.Log(float64(s)))
	}
}

// refAdamW: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// p −= lr·( m̂/(√v̂+eps) + wd·p ) with m̂ = m/(1−β1^step), v̂ = v/(1−β2^step).
func refAdamW(p, g, m, v []float32, lr, beta1, beta2, eps, weightDecay float32, step int) {
	bc1 := float32(1 - math.Pow(float64(beta1), float64(step)))
	bc2 := float32(1 - math.Pow(float64(beta2), float64(step)))
	for i := range p {
		m[i] = beta1*m[i] + (1-beta1)*g[i]
		v[i] = beta2*v[i] + (1-beta2)*g[i]*g[i]
		mh := m[i] / bc1
		vh := v[i] / bc2
		p[i] -= lr * (mh/(float32(math.Sqrt(float64(vh)))+eps) + weightDecay*p[i])
	}
}
