//go:build amd64 && !purego

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSwiGLUAVX512MatchesAVX2: the sixteen-lane loops give the eight-lane
// ones' bits, forward and backward, over gates from deep underflow of the
// exponential to past its overflow clamp, zeros of both signs, infinities
// and NaN.
func TestSwiGLUAVX512MatchesAVX2(t *testing.T) {
	if !rowAVX512 {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const n = 4096
	gate, up, dout := make([]float32, n), make([]float32, n), make([]float32, n)
	special := []float32{0, float32(math.Copysign(0, -1)), 87, 88.3, 89, -87.3, -88, -100, 200,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for i := range gate {
		gate[i] = float32(rng.NormFloat64() * 20)
		if i < len(special) {
			gate[i] = special[i]
		}
		up[i] = float32(rng.NormFloat64())
		dout[i] = float32(rng.NormFloat64())
	}
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
	}
	o512, o2 := make([]float32, n), make([]float32, n)
	swigluAVX512(o512, gate, up)
	swigluAVX2(o2, gate, up)
	for i := range o2 {
		if !same(o512[i], o2[i]) {
			t.Fatalf("swiglu gate %v: AVX-512 %v, AVX2 %v", gate[i], o512[i], o2[i])
		}
	}
	dg512, du512, dg2, du2 := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	swigluBackwardAVX512(dg512, du512, dout, gate, up)
	swigluBackwardAVX2(dg2, du2, dout, gate, up)
	for i := range dg2 {
		if !same(dg512[i], dg2[i]) || !same(du512[i], du2[i]) {
			t.Fatalf("swiglu backward gate %v: AVX-512 (%v, %v), AVX2 (%v, %v)", gate[i], dg512[i], du512[i], dg2[i], du2[i])
		}
	}
}
