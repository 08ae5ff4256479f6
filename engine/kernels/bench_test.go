package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchShapes are M×K×N: the range and the engine's training shapes
// (2048 tokens, d_model 256, MLP 1024, 64-wide heads and vocabulary; weight
// gradients summing over 2048 tokens; generation steps of 64 and 1 rows).
var benchShapes = [][3]int{
	{512, 256, 256}, {1024, 256, 1024}, {2048, 384, 1536},
	{2048, 256, 256}, {2048, 256, 1024}, {2048, 1024, 256}, {2048, 256, 64},
	{256, 2048, 256}, {1024, 2048, 256}, {64, 2048, 256},
	{64, 256, 1024}, {64, 1024, 256}, {1, 256, 1024},
}

func BenchmarkMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, be := range Backends() {
		for l := layoutAB; l <= layoutATB; l++ {
			fn := [...]func(c, a, b []float32, m, k, n int, acc bool){be.MatMul, be.MatMulBT, be.MatMulAT}[l]
			for _, s := range benchShapes {
				m, k, n := s[0], s[1], s[2]
				if be.Portable && m*k*n > 1<<28 {
					continue
				}
				x, y, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
				b.Run(fmt.Sprintf("%s/%v/%dx%dx%d", be.Name, l, m, k, n), func(b *testing.B) {
					for b.Loop() {
						fn(c, x, y, m, k, n, false)
					}
					b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// Row-loop benchmarks: the dispatched loop (assembly on amd64) beside the
// portable one, on the engine's sizes (head dim 64, 2048 tokens × MLP 1024,
// a 4M-parameter AdamW step).
func BenchmarkRowOps(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	x, y := randSlice(rng, 1<<22), randSlice(rng, 1<<22)
	z, w := randSlice(rng, 1<<22), randSlice(rng, 1<<22)
	for i := range w {
		w[i] *= w[i]
	}
	type impl struct {
		name string
		fn   func()
	}
	cases := []struct {
		name  string
		elems int
		impls []impl
	}{
		{"Dot64", 64, []impl{{"dispatch", func() { dot(x[:64], y[:64]) }}, {"go", func() { dotGeneric(x[:64], y[:64]) }}}},
		{"Axpy64", 64, []impl{{"dispatch", func() { axpy(0.5, x[:64], y[:64]) }}, {"go", func() { axpyGeneric(0.5, x[:64], y[:64]) }}}},
		{"SwiGLU2M", 1 << 21, []impl{{"dispatch", func() { swiglu(z[:1<<21], x[:1<<21], y[:1<<21]) }}, {"go", func() { swigluGeneric(z[:1<<21], x[:1<<21], y[:1<<21]) }}}},
		{"SwiGLUBackward2M", 1 << 21, []impl{{"dispatch", func() { swigluBackward(z[:1<<21], w[:1<<21], x[1<<21:], x[:1<<21], y[:1<<21]) }}, {"go", func() { swigluBackwardGeneric(z[:1<<21], w[:1<<21], x[1<<21:], x[:1<<21], y[:1<<21]) }}}},
		{"AdamW4M", 1 << 22, []impl{{"dispatch", func() { adamw(x, y, z, w, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1.1, 1.01) }}, {"go", func() { adamwGeneric(x, y, z, w, 1e-3, 0.9, 0.95, 1e-8, 0.1, 1.1, 1.01) }}}},
		{"SoftmaxRow1024", 1024, []impl{{"dispatch", func() { copy(z[:1024], x[:1024]); softmaxRow(z[:1024]) }}, {"go", func() {
			copy(z[:1024], x[:1024])
			refSoftmaxRows(z[:1024], 1, 1024)
		}}}},
	}
	for _, c := range cases {
		for _, im := range c.impls {
			b.Run(c.name+"/"+im.name, func(b *testing.B) {
				for b.Loop() {
					im.fn()
				}
				b.ReportMetric(float64(c.elems)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
			})
		}
	}
}

// BenchmarkColdOutput: one worker's 1024×256×1024 A·Bᵀ (a half batch's gate
// projection) writing, round by round, each of 16 outputs of 4 MB in turn,
// 64 MB in all, so that the output's lines come from memory as in a
// training pass, against the same product always writing one output that
// stays in cache.
func BenchmarkColdOutput(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, k, n := 1024, 256, 1024
	a, w := randSlice(rng, m*k), randSlice(rng, n*k)
	outs := make([][]float32, 16)
	for i := range outs {
		outs[i] = make([]float32, m*n)
		Workers(1).MatMulBT(outs[i], a, w, m, k, n, false) // pages touched
	}
	for _, cold := range []bool{false, true} {
		b.Run(fmt.Sprintf("cold=%v", cold), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if cold {
					i = (i + 1) % len(outs)
				}
				Workers(1).MatMulBT(outs[i], a, w, m, k, n, false)
			}
			b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
