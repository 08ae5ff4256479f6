package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPackedBT: the generation step's products (rows × d_model 256 ×
// outputs: stacked q/k/v 768, MLP gate/up 2048, down and o 256) on one
// goroutine with B packed ahead or viewed, beside MatMulBT on all cores,
// and the cost of packing.
func BenchmarkPackedBT(b *testing.B) {
	rng := rand.New(rand.NewPCG(31, 31))
	for _, s := range [][3]int{{32, 256, 768}, {64, 256, 768}, {32, 256, 2048}, {32, 1024, 256}, {64, 256, 256}, {512, 256, 2048}} {
		m, k, n := s[0], s[1], s[2]
		x, w, c := randSlice(rng, m*k), randSlice(rng, n*k), make([]float32, m*n)
		flops := 2 * float64(m*k*n)
		var p, v PackedBT
		p.Pack(k, w)
		v.View(k, w)
		for name, q := range map[string]*PackedBT{"packed": &p, "view": &v} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, m, k, n), func(b *testing.B) {
				for b.Loop() {
					q.MulBT(c, n, x, k, m, false)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		b.Run(fmt.Sprintf("MatMulBT/%dx%dx%d", m, k, n), func(b *testing.B) {
			for b.Loop() {
				MatMulBT(c, x, w, m, k, n, false)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("pack/%dx%d", n, k), func(b *testing.B) {
			for b.Loop() {
				p.Pack(k, w)
			}
			b.ReportMetric(float64(n*k)*4*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkVecMat: one head's attention scores (64 dims × 64 positions,
// keys transposed) and its value mix (64 positions × 64 dims).
func BenchmarkVecMat(b *testing.B) {
	rng := rand.New(rand.NewPCG(32, 32))
	x, m, y := randSlice(rng, 64), randSlice(rng, 64*64), make([]float32, 64)
	for _, cols := range []int{64, 40} {
		b.Run(fmt.Sprintf("64x%d", cols), func(b *testing.B) {
			for b.Loop() {
				VecMat(y[:cols], x, m, 64)
			}
			b.ReportMetric(2*64*float64(cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
