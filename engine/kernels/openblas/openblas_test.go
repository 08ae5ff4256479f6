package openblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/urlvr/urlvr/engine/kernels"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}

// OpenBLAS and the package kernels agree on every layout, with accumulation.
func TestAgreesWithKernels(t *testing.T) {
	ob, ok := Backend()
	if !ok {
		t.Skip("built without the openblas tag")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	m, k, n := 37, 129, 65
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	def := kernels.Backends()[0]
	for _, pair := range [][2]func(c, a, b []float32, m, k, n int, acc bool){
		{ob.MatMul, def.MatMul}, {ob.MatMulBT, def.MatMulBT}, {ob.MatMulAT, def.MatMulAT},
	} {
		c0 := randSlice(rng, m*n)
		x, y := append([]float32(nil), c0...), append([]float32(nil), c0...)
		pair[0](x, a, b, m, k, n, true)
		pair[1](y, a, b, m, k, n, true)
		for i := range x {
			if math.Abs(float64(x[i]-y[i])) > 1e-4 {
				t.Fatalf("C[%d]: openblas %v, kernels %v", i, x[i], y[i])
			}
		}
	}
}

// BenchmarkSgemm runs OpenBLAS and the default kernels on the same shapes.
func BenchmarkSgemm(b *testing.B) {
	ob, ok := Backend()
	if !ok {
		b.Skip("built without the openblas tag")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range [][3]int{{512, 256, 256}, {2048, 256, 256}, {2048, 256, 1024}, {2048, 1024, 256}, {2048, 384, 1536}} {
		m, k, n := s[0], s[1], s[2]
		x, y, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		for _, be := range []kernels.Backend{ob, kernels.Backends()[0]} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, k, n, be.Name), func(b *testing.B) {
				for b.Loop() {
					be.MatMulBT(c, x, y, m, k, n, false)
				}
				b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
