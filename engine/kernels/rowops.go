package kernels

import (
	"fmt"
	"math"
	"sync/atomic"
)

// Dot returns Σ a[i]·b[i] over len(a); b must be at least as long. It runs on
// the calling goroutine: attention calls it many times on short vectors.
func Dot(a, b []float32) float32 {
	need("Dot", "b", len(b), len(a))
	return dot(a, b[:len(a)])
}

// Axpy computes y += alpha·x over len(x) on the calling goroutine.
func Axpy(alpha float32, x, y []float32) {
	need("Axpy", "y", len(y), len(x))
	axpy(alpha, x, y[:len(x)])
}

// RMSNorm normalises each row of x [rows×dim] by its root mean square and
// scales by w [dim]: out = x·rstd·w with rstd[r] = 1/√(mean(x[r]²)+eps).
// rstd [rows] is kept for the backward pass.
func RMSNorm(out, rstd, x, w []float32, rows, dim int, eps float32) {
	AllCores.RMSNorm(out, rstd, x, w, rows, dim, eps)
}

// RMSNorm is RMSNorm on at most wk goroutines.
func (wk Workers) RMSNorm(out, rstd, x, w []float32, rows, dim int, eps float32) {
	needDims("RMSNorm", rows, dim)
	need("RMSNorm", "out", len(out), rows*dim)
	need("RMSNorm", "rstd", len(rstd), rows)
	need("RMSNorm", "x", len(x), rows*dim)
	need("RMSNorm", "w", len(w), dim)
	parallelFor(wk.Count(), rows, rows*dim*4, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			row := x[r*dim : (r+1)*dim]
			s := float32(1 / math.Sqrt(float64(dot(row, row)/float32(dim)+eps)))
			rstd[r] = s
			scaleMul(out[r*dim:(r+1)*dim], row, w[:dim], s)
		}
	})
}

// RMSNormBackward takes dout [rows×dim] and the forward's x, w, rstd, writes
// dx [rows×dim] and adds the weight gradient into dw [dim]: RMSNormInputGrad
// then RMSNormWeightGrad.
func RMSNormBackward(dx, dw, dout, x, w, rstd []float32, rows, dim int) {
	AllCores.RMSNormInputGrad(dx, dout, x, w, rstd, rows, dim)
	RMSNormWeightGrad(dw, dout, x, rstd, rows, dim)
}

// RMSNormInputGrad is the input half of RMSNormBackward: it writes dx
// [rows×dim] from dout [rows×dim] and the forward's x, w, rstd, each row on
// its own, on at most wk goroutines.
func (wk Workers) RMSNormInputGrad(dx, dout, x, w, rstd []float32, rows, dim int) {
	needDims("RMSNormInputGrad", rows, dim)
	need("RMSNormInputGrad", "dx", len(dx), rows*dim)
	need("RMSNormInputGrad", "dout", len(dout), rows*dim)
	need("RMSNormInputGrad", "x", len(x), rows*dim)
	need("RMSNormInputGrad", "w", len(w), dim)
	need("RMSNormInputGrad", "rstd", len(rstd), rows)
	// dx: rows are independent.
	// Each row's dot product is one float32 chain in order; four rows at a
	// time keep four chains in flight.
	w = w[:dim]
	parallelFor(wk.Count(), rows, rows*dim*6, func(r0, r1 int) {
		var ds [4]float32
		for q := r0; q < r1; q += 4 {
			n := min(4, r1-q)
			if n == 4 {
				x0, x1, x2, x3 := x[q*dim:][:dim], x[(q+1)*dim:][:dim], x[(q+2)*dim:][:dim], x[(q+3)*dim:][:dim]
				d0, d1, d2, d3 := dout[q*dim:][:dim], dout[(q+1)*dim:][:dim], dout[(q+2)*dim:][:dim], dout[(q+3)*dim:][:dim]
				var s0, s1, s2, s3 float32
				for i, wi := range w {
					s0 += d0[i] * wi * x0[i]
					s1 += d1[i] * wi * x1[i]
					s2 += d2[i] * wi * x2[i]
					s3 += d3[i] * wi * x3[i]
				}
				ds = [4]float32{s0, s1, s2, s3}
			} else {
				for k := 0; k < n; k++ {
					r := q + k
					xr, dr := x[r*dim:(r+1)*dim], dout[r*dim:(r+1)*dim]
					var d float32
					for i := range xr {
						d += dr[i] * w[i] * xr[i]
					}
					ds[k] = d
				}
			}
			for k := 0; k < n; k++ {
				r := q + k
				s := rstd[r]
				xr, dr := x[r*dim:(r+1)*dim], dout[r*dim:(r+1)*dim]
				mean := ds[k] * s / float32(dim)
				rmsDx(dx[r*dim:(r+1)*dim], dr, w, xr, s, mean)
			}
		}
	})
}

// RMSNormWeightGrad is the weight half of RMSNormBackward: it adds into dw
// [dim] the sum over rows of dout·x·rstd, each column summed in row order.
func RMSNormWeightGrad(dw, dout, x, rstd []float32, rows, dim int) {
	needDims("RMSNormWeightGrad", rows, dim)
	need("RMSNormWeightGrad", "dw", len(dw), dim)
	need("RMSNormWeightGrad", "dout", len(dout), rows*dim)
	need("RMSNormWeightGrad", "x", len(x), rows*dim)
	need("RMSNormWeightGrad", "rstd", len(rstd), rows)
	// The columns are split between the goroutines, so each column is
	// summed in row order by one of them whatever the core count.
	parallelFor(AllCores.Count(), dim, rows*dim*2, func(c0, c1 int) {
		for r := 0; r < rows; r++ {
			s := rstd[r]
			rmsDw(dw[c0:c1], dout[r*dim+c0:r*dim+c1], x[r*dim+c0:r*dim+c1], s)
		}
	})
}

// SwiGLU computes out = silu(gate)·up = gate·σ(gate)·up elementwise over len(out).
func SwiGLU(out, gate, up []float32) { AllCores.SwiGLU(out, gate, up) }

// SwiGLU is SwiGLU on at most w goroutines.
func (w Workers) SwiGLU(out, gate, up []float32) {
	n := len(out)
	need("SwiGLU", "gate", len(gate), n)
	need("SwiGLU", "up", len(up), n)
	parallelForAligned(w.Count(), n, 64, n*16, func(lo, hi int) {
		swiglu(out[lo:hi], gate[lo:hi], up[lo:hi])
	})
}

// SwiGLUBackward writes dgate and dup (overwriting both) from dout and the
// forward inputs, over len(dout).
func SwiGLUBackward(dgate, dup, dout, gate, up []float32) {
	AllCores.SwiGLUBackward(dgate, dup, dout, gate, up)
}

// SwiGLUBackward is SwiGLUBackward on at most w goroutines.
func (w Workers) SwiGLUBackward(dgate, dup, dout, gate, up []float32) {
	n := len(dout)
	need("SwiGLUBackward", "dgate", len(dgate), n)
	need("SwiGLUBackward", "dup", len(dup), n)
	need("SwiGLUBackward", "gate", len(gate), n)
	need("SwiGLUBackward", "up", len(up), n)
	parallelForAligned(w.Count(), n, 64, n*20, func(lo, hi int) {
		swigluBackward(dgate[lo:hi], dup[lo:hi], dout[lo:hi], gate[lo:hi], up[lo:hi])
	})
}

// RoPE applies rotary position embeddings in place to x [nTok×nHeads×headDim]
// with the Hugging Face rotate_half convention: for i < h = headDim/2 the pair
// (x_i, x_{i+h}) is rotated by the angle whose cos/sin are cos[t·h+i],
// sin[t·h+i] (cos, sin [nTok×h]). headDim must be even.
func RoPE(x, cos, sin []float32, nTok, nHeads, headDim int) {
	AllCores.RoPE(x, cos, sin, nTok, nHeads, headDim)
}

// RoPE is RoPE on at most w goroutines.
func (w Workers) RoPE(x, cos, sin []float32, nTok, nHeads, headDim int) {
	checkRoPE("RoPE", x, cos, sin, nTok, nHeads, headDim)
	rope(w.Count(), x, cos, sin, nTok, nHeads, headDim, false)
}

// RoPEBackward turns the gradient with respect to RoPE's output into the
// gradient with respect to its input, in place: the inverse rotation.
func RoPEBackward(dx, cos, sin []float32, nTok, nHeads, headDim int) {
	AllCores.RoPEBackward(dx, cos, sin, nTok, nHeads, headDim)
}

// RoPEBackward is RoPEBackward on at most w goroutines.
func (w Workers) RoPEBackward(dx, cos, sin []float32, nTok, nHeads, headDim int) {
	checkRoPE("RoPEBackward", dx, cos, sin, nTok, nHeads, headDim)
	rope(w.Count(), dx, cos, sin, nTok, nHeads, headDim, true)
}

func checkRoPE(kernel string, x, cos, sin []float32, nTok, nHeads, headDim int) {
	needDims(kernel, nTok, nHeads, headDim)
	if headDim%2 != 0 {
		panic(fmt.Sprintf("kernels.%s: odd headDim %d", kernel, headDim))
	}
	need(kernel, "x", len(x), nTok*nHeads*headDim)
	need(kernel, "cos", len(cos), nTok*headDim/2)
	need(kernel, "sin", len(sin), nTok*headDim/2)
}

func rope(workers int, x, cos, sin []float32, nTok, nHeads, headDim int, inverse bool) {
	h := headDim / 2
	parallelFor(workers, nTok, nTok*nHeads*headDim*3, func(t0, t1 int) {
		if ropeVector(x[t0*nHeads*headDim:t1*nHeads*headDim], cos[t0*h:t1*h], sin[t0*h:t1*h], t1-t0, nHeads, h, inverse) {
			return
		}
		for t := t0; t < t1; t++ {
			ct, st := cos[t*h:(t+1)*h], sin[t*h:(t+1)*h]
			for hd := 0; hd < nHeads; hd++ {
				v := x[(t*nHeads+hd)*headDim : (t*nHeads+hd+1)*headDim]
				x1, x2 := v[:h], v[h:]
				if inverse {
					for i := range x1 {
						a, b := x1[i], x2[i]
						x1[i] = a*ct[i] + b*st[i]
						x2[i] = b*ct[i] - a*st[i]
					}
				} else {
					for i := range x1 {
						a, b := x1[i], x2[i]
						x1[i] = a*ct[i] - b*st[i]
						x2[i] = b*ct[i] + a*st[i]
					}
				}
			}
		}
	})
}

// SoftmaxRows replaces each row of x [rows×cols] by its softmax, subtracting
// the row maximum first. A row that is entirely −Inf (fully masked) becomes
// zeros rather than NaN.
func SoftmaxRows(x []float32, rows, cols int) {
	needDims("SoftmaxRows", rows, cols)
	need("SoftmaxRows", "x", len(x), rows*cols)
	parallelFor(AllCores.Count(), rows, rows*cols*16, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			softmaxRow(x[r*cols : (r+1)*cols])
		}
	})
}

// LogSumExpRows writes out[r] = log Σ_j exp(x[r][j]) for x [rows×cols],
// computed as max + log Σ exp(x−max). A row that is entirely −Inf gives −Inf.
func LogSumExpRows(out, x []float32, rows, cols int) {
	needDims("LogSumExpRows", rows, cols)
	need("LogSumExpRows", "out", len(out), rows)
	need("LogSumExpRows", "x", len(x), rows*cols)
	parallelFor(AllCores.Count(), rows, rows*cols*16, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			out[r] = logSumExpRow(x[r*cols : (r+1)*cols])
		}
	})
}

// AdamW applies one AdamW step (decoupled weight decay, bias-corrected
// moments; step counts from 1) to parameters p with gradient g and moment
// buffers m, v, all of len(p):
//
//	m = β1·m + (1−β1)·g,  v = β2·v + (1−β2)·g²
//	p −= lr·( m̂/(√v̂ + eps) + weightDecay·p ),  m̂ = m/(1−β1^step), v̂ = v/(1−β2^step)
func AdamW(p, g, m, v []float32, lr, beta1, beta2, eps, weightDecay float32, step int) {
	AdamWSpans(p, g, m, v, []AdamWSpan{{Size: len(p), WeightDecay: weightDecay}}, lr, beta1, beta2, eps, step)
}

// AdamWSpan is one tensor of a flat parameter vector for AdamWSpans: the
// elements Offset..Offset+Size and the weight decay they take.
type AdamWSpan struct {
	Offset, Size int
	WeightDecay  float32
}

// adamwChunk is the most elements of one AdamWSpans work unit: large
// enough that the fan-out costs nothing, small enough that the workers
// finish together.
const adamwChunk = 1 << 15

// AdamWSpans applies AdamW to every span of the flat vectors p, g, m, v in
// one parallel pass, with the results of one AdamW call per span: a
// model's small tensors (norm weights, biases) then cost no fan-out of
// their own. Spans must lie within p and must not overlap.
func AdamWSpans(p, g, m, v []float32, spans []AdamWSpan, lr, beta1, beta2, eps float32, step int) {
	adamwSpans("AdamWSpans", p, g, m, v, spans, lr, beta1, beta2, eps, step, false, 1)
}

// AdamWSpansConsume is AdamWSpans on the gradient g·gradScale, each element
// one float32 product (the bits a separate scaling pass would give), and
// leaves the spans of g zero. An optimiser step that clips the gradient to
// a norm and then discards it so makes one pass over memory instead of
// three.
func AdamWSpansConsume(p, g, m, v []float32, spans []AdamWSpan, gradScale, lr, beta1, beta2, eps float32, step int) {
	adamwSpans("AdamWSpansConsume", p, g, m, v, spans, lr, beta1, beta2, eps, step, true, gradScale)
}

func adamwSpans(kernel string, p, g, m, v []float32, spans []AdamWSpan, lr, beta1, beta2, eps float32, step int, consume bool, gradScale float32) {
	n := len(p)
	need(kernel, "g", len(g), n)
	need(kernel, "m", len(m), n)
	need(kernel, "v", len(v), n)
	if step < 1 {
		panic(fmt.Sprintf("kernels.%s: step %d, steps count from 1", kernel, step))
	}
	bc1 := float32(1 - math.Pow(float64(beta1), float64(step)))
	bc2 := float32(1 - math.Pow(float64(beta2), float64(step)))
	// Units split each span at multiples of 64 from its start, as AdamW
	// splits a tensor, so every element takes the same code path.
	type unit struct{ lo, hi, span int }
	var units []unit
	total := 0
	for i, s := range spans {
		if s.Offset < 0 || s.Size < 0 || s.Offset+s.Size > n {
			panic(fmt.Sprintf("kernels.%s: span %d [%d, %d) outside %d parameters", kernel, i, s.Offset, s.Offset+s.Size, n))
		}
		for lo := 0; lo < s.Size; lo += adamwChunk {
			units = append(units, unit{s.Offset + lo, s.Offset + min(s.Size, lo+adamwChunk), i})
		}
		total += s.Size
	}
	var next atomic.Int64
	parallelFor(AllCores.Count(), len(units), total*12, func(int, int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(units) {
				return
			}
			u := units[i]
			wd := spans[u.span].WeightDecay
			if consume {
				adamwConsume(p[u.lo:u.hi], g[u.lo:u.hi], m[u.lo:u.hi], v[u.lo:u.hi], lr, beta1, beta2, eps, wd, 1/bc1, 1/bc2, gradScale)
			} else {
				adamw(p[u.lo:u.hi], g[u.lo:u.hi], m[u.lo:u.hi], v[u.lo:u.hi], lr, beta1, beta2, eps, wd, 1/bc1, 1/bc2)
			}
		}
	})
}

// Scale multiplies x by s in place, each element one float32 product (the
// bits of x[i] *= s). It runs on the calling goroutine, for short rows such
// as one attention query.
func Scale(x []float32, s float32) { scale(x, s) }

// ScaleMax multiplies x by s in place (each element one float32 product)
// and returns the largest product. When a product is NaN, or the largest is
// a zero of either sign, which of the candidates it returns is unspecified:
// a caller that subtracts the maximum and exponentiates (a softmax) gets
// the same results either way. It runs on the calling goroutine, for short
// rows such as attention's. x must not be empty.
func ScaleMax(x []float32, s float32) float32 {
	if len(x) == 0 {
		panic("kernels.ScaleMax: empty x")
	}
	return scaleMaxRow(x, s)
}

// scaleMaxGeneric is ScaleMax over four running maxima, so that the
// comparisons form four independent chains.
func scaleMaxGeneric(x []float32, s float32) float32 {
	x[0] *= s
	m0 := x[0]
	m1, m2, m3 := m0, m0, m0
	i := 1
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		v0, v1, v2, v3 := v[0]*s, v[1]*s, v[2]*s, v[3]*s
		v[0], v[1], v[2], v[3] = v0, v1, v2, v3
		m0, m1, m2, m3 = max(m0, v0), max(m1, v1), max(m2, v2), max(m3, v3)
	}
	for ; i < len(x); i++ {
		x[i] *= s
		m0 = max(m0, x[i])
	}
	return max(max(m0, m1), max(m2, m3))
}

// rmsDxGeneric sets dx = s·(dr·w − x·s·mean), RMSNorm's input gradient of
// one row given its mean term.
func rmsDxGeneric(dx, dr, w, x []float32, s, mean float32) {
	dr, w, x = dr[:len(dx)], w[:len(dx)], x[:len(dx)]
	for i := range dx {
		dx[i] = s * (dr[i]*w[i] - x[i]*s*mean)
	}
}

// rmsDwGeneric adds one row's share dr·(x·s) into RMSNorm's weight
// gradient dw.
func rmsDwGeneric(dw, dr, x []float32, s float32) {
	dr, x = dr[:len(dw)], x[:len(dw)]
	for i := range dw {
		dw[i] += dr[i] * (x[i] * s)
	}
}

// ScaleMaxArgs is ScaleMax that also writes a softmax's arguments: with m
// the maximum it returns, arg[i] = float64(x[i] − m) (the difference in
// float32, widened exactly). arg must hold len(x) values.
func ScaleMaxArgs(x []float32, s float32, arg []float64) float32 {
	if len(x) == 0 {
		panic("kernels.ScaleMaxArgs: empty x")
	}
	need("ScaleMaxArgs", "arg", len(arg), len(x))
	return scaleMaxArgsRow(x, s, arg)
}

// NarrowScale sets dst[i] = float32(src[i])·s: float64 values rounded to
// float32, then scaled in float32 (a softmax's exponentials, normalised).
// dst must hold len(src) values.
func NarrowScale(dst []float32, src []float64, s float32) {
	need("NarrowScale", "dst", len(dst), len(src))
	if len(src) == 0 {
		return
	}
	narrowScale(dst[:len(src)], src, s)
}

// SoftmaxGradRow finishes one softmax row's backward: with dot = Σ p·d
// (the caller's sum, whose order it fixes), it sets
// d[i] = p[i]·(d[i] − dot)·scale, rounding after each operation in that
// order. p must hold len(d) values.
func SoftmaxGradRow(d, p []float32, dot, scale float32) {
	need("SoftmaxGradRow", "p", len(p), len(d))
	if len(d) == 0 {
		return
	}
	softmaxGrad(d, p[:len(d)], dot, scale)
}

func softmaxGradGeneric(d, p []float32, dot, scale float32) {
	p = p[:len(d)]
	for i := range d {
		d[i] = p[i] * (d[i] - dot) * scale
	}
}

func narrowScaleGeneric(dst []float32, src []float64, s float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(v) * s
	}
}

func scaleMaxArgsGeneric(x []float32, s float32, arg []float64) float32 {
	m := scaleMaxRow(x, s)
	arg = arg[:len(x)]
	for i, v := range x {
		arg[i] = float64(v - m)
	}
	return m
}
