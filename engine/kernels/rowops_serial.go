package kernels

import (
	"fmt"
	"math"
)

// Single-row forms of the row kernels. They run on the calling goroutine and
// allocate nothing, for callers that already split their work between
// goroutines (the decoder runs each worker's rows through whole layers),
// where the fan-out of the batched forms would only cost. Each computes a
// row exactly as the batched form computes each of its rows.

// RMSNormRow normalises one row: out = x·rstd·w with rstd = 1/√(mean(x²)+eps),
// which it returns; out, x and w have the same length.
func RMSNormRow(out, x, w []float32, eps float32) float32 {
	n := len(x)
	need("RMSNormRow", "out", len(out), n)
	need("RMSNormRow", "w", len(w), n)
	if n == 0 {
		panic("kernels.RMSNormRow: empty row")
	}
	s := float32(1 / math.Sqrt(float64(dot(x, x)/float32(n)+eps)))
	scaleMul(out[:n], x, w[:n], s)
	return s
}

// SoftmaxRow replaces x by its softmax, subtracting the maximum first; a row
// that is entirely −Inf becomes zeros.
func SoftmaxRow(x []float32) { softmaxRow(x) }

// SwiGLURow computes out = silu(gate)·up elementwise over len(out).
func SwiGLURow(out, gate, up []float32) {
	n := len(out)
	need("SwiGLURow", "gate", len(gate), n)
	need("SwiGLURow", "up", len(up), n)
	swiglu(out, gate[:n], up[:n])
}

// RoPERow applies rotary position embeddings in place to one token's heads,
// x [nHeads×headDim], with that token's cos, sin [headDim/2] (the
// convention of RoPE).
func RoPERow(x, cos, sin []float32, nHeads, headDim int) {
	needDims("RoPERow", nHeads, headDim)
	if headDim%2 != 0 {
		panic(fmt.Sprintf("kernels.RoPERow: odd headDim %d", headDim))
	}
	h := headDim / 2
	need("RoPERow", "x", len(x), nHeads*headDim)
	need("RoPERow", "cos", len(cos), h)
	need("RoPERow", "sin", len(sin), h)
	if ropeVector(x, cos, sin, 1, nHeads, h, false) {
		return
	}
	ct, st := cos[:h], sin[:h]
	for hd := 0; hd < nHeads; hd++ {
		v := x[hd*headDim : (hd+1)*headDim]
		x1, x2 := v[:h], v[h:]
		for i := range x1 {
			a, b := x1[i], x2[i]
			x1[i] = a*ct[i] - b*st[i]
			x2[i] = b*ct[i] + a*st[i]
		}
	}
}
