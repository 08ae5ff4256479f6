package kernels

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// GemmShape is a multiplication C[M×N] = A[M×K]·B[K×N].
type GemmShape struct{ M, K, N int }

func (s GemmShape) String() string { return fmt.Sprintf("%dx%dx%d", s.M, s.K, s.N) }

// Flops is the floating-point operation count, 2·M·K·N.
func (s GemmShape) Flops() float64 { return 2 * float64(s.M) * float64(s.K) * float64(s.N) }

// Layout names the three multiplications: "AB" (MatMul), "ABT" (MatMulBT),
// "ATB" (MatMulAT).
var Layouts = []string{"AB", "ABT", "ATB"}

// GemmTiming is the measured throughput of one backend on one shape and
// layout, in GFLOP/s: Best is the fastest single call (on a busy machine, the
// closest to its unloaded speed), Median the median call. Calls is how many
// calls were timed over all rounds.
type GemmTiming struct {
	Backend      string
	Shape        GemmShape
	Layout       string
	Best, Median float64
	Calls        int
}

// MeasureGemm times every backend on every shape and layout. For each shape
// and layout the backends take turns round after round, so a burst of load
// from other processes affects them alike; in each round a backend repeats
// the multiplication for at least minRun, timing every call. Inputs are
// random (seeded).
func MeasureGemm(ctx context.Context, backends []Backend, shapes []GemmShape, layouts []string, rounds int, minRun time.Duration) ([]GemmTiming, error) {
	if rounds < 1 {
		return nil, fmt.Errorf("measuring matrix multiplication: rounds = %d, need at least 1", rounds)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var out []GemmTiming
	for _, s := range shapes {
		if s.M <= 0 || s.K <= 0 || s.N <= 0 {
			return nil, fmt.Errorf("measuring matrix multiplication: shape %v has a non-positive dimension", s)
		}
		a, b, c := randFloats(rng, s.M*s.K), randFloats(rng, s.K*s.N), make([]float32, s.M*s.N)
		for _, layout := range layouts {
			li := slices.Index(Layouts, layout)
			if li < 0 {
				return nil, fmt.Errorf("measuring matrix multiplication: unknown layout %q (want one of %v)", layout, Layouts)
			}
			rates := make([][]float64, len(backends))
			for round := 0; round < rounds; round++ {
				for bi, be := range backends {
					if err := ctx.Err(); err != nil {
						return nil, err
					}
					fn := [...]func(c, a, b []float32, m, k, n int, acc bool){be.MatMul, be.MatMulBT, be.MatMulAT}[li]
					fn(c, a, b, s.M, s.K, s.N, false) // warm caches and buffers
					start := time.Now()
					for len(rates[bi]) == 0 || time.Since(start) < minRun {
						t0 := time.Now()
						fn(c, a, b, s.M, s.K, s.N, false)
						rates[bi] = append(rates[bi], s.Flops()/time.Since(t0).Seconds()/1e9)
					}
				}
			}
			for bi, be := range backends {
				r := rates[bi]
				slices.Sort(r)
				out = append(out, GemmTiming{Backend: be.Name, Shape: s, Layout: layout, Best: r[len(r)-1], Median: median(r), Calls: len(r)})
			}
		}
	}
	return out, nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func randFloats(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}
