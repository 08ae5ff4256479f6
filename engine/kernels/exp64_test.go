package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpF64BitIdentical: every lane equals math.Exp bit for bit, across
// the vector range, at its edges, and on the inputs it must hand back to
// math.Exp (huge, infinite, NaN, subnormal results).
func TestExpF64BitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var src []float64
	for range 200_000 {
		src = append(src, (rng.Float64()*2-1)*720)
	}
	for range 50_000 {
		src = append(src, -rng.ExpFloat64()*3) // softmax-like arguments
	}
	for range 10_000 {
		src = append(src, float64(float32(rng.NormFloat64()))-float64(float32(rng.Float64()*10)))
	}
	src = append(src, 0, math.Copysign(0, -1), 1e-300, -1e-300, 700, -700, math.Nextafter(700, 800),
		-745, -708.4, 709.7, 710, math.Inf(1), math.Inf(-1), math.NaN(), 5e-324, math.Ln2/2, -math.Ln2/2)
	for len(src)%8 != 3 {
		src = append(src, -1.5)
	}
	dst := make([]float64, len(src))
	ExpF64(dst, src)
	for i, x := range src {
		want := math.Exp(x)
		if math.Float64bits(dst[i]) != math.Float64bits(want) && !(math.IsNaN(want) && math.IsNaN(dst[i])) {
			t.Fatalf("exp(%v) = %v (%#x), math.Exp gives %v (%#x)", x, dst[i], math.Float64bits(dst[i]), want, math.Float64bits(want))
		}
	}
	// Blocks that need the fallback and blocks that do not, separately.
	for _, x := range []float64{-701, 701, math.NaN()} {
		s := []float64{-1, -2, -3, x, -4, -5, -6, -7, -0.5}
		d := make([]float64, len(s))
		ExpF64(d, s)
		for i := range s {
			if w := math.Exp(s[i]); math.Float64bits(d[i]) != math.Float64bits(w) && !math.IsNaN(w) {
				t.Fatalf("with %v in the block: exp(%v) = %v, want %v", x, s[i], d[i], w)
			}
		}
	}
}

func BenchmarkExpF64(b *testing.B) {
	src := make([]float64, 64)
	for i := range src {
		src[i] = -float64(i) / 7
	}
	dst := make([]float64, 64)
	b.Run("vector", func(b *testing.B) {
		for b.Loop() {
			ExpF64(dst, src)
		}
	})
	b.Run("math.Exp", func(b *testing.B) {
		for b.Loop() {
			for i, x := range src {
				dst[i] = math.Exp(x)
			}
		}
	})
}
