package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// vecMatCheck compares y with the float64 product within the rounding bound
// of a length-rows sum, as gemmCheck does.
func vecMatCheck(t *testing.T, name string, y, x, m []float32, ld int) {
	t.Helper()
	for j := range y {
		var s, g float64
		for i := range x {
			p := float64(x[i]) * float64(m[i*ld+j])
			s += p
			g += math.Abs(p)
		}
		if tol := float64(len(x)+2) * u32 * g; math.Abs(float64(y[j])-s) > tol || math.IsNaN(float64(y[j])) {
			t.Fatalf("%s rows=%d cols=%d ld=%d: y[%d] = %g, want %g (tolerance %.3g)", name, len(x), len(y), ld, j, y[j], s, tol)
		}
	}
}

func TestVecMat(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, rows := range []int{1, 2, 3, 7, 64, 65, 300} {
		for _, cols := range []int{1, 5, 16, 17, 63, 64, 65, 130} {
			for _, pad := range []int{0, 3, 16} {
				ld := cols + pad
				x, m := randSlice(rng, rows), randSlice(rng, (rows-1)*ld+cols)
				next := randSlice(rng, len(m))
				prefetching := func(y, x, m []float32, ld int) { VecMatPrefetch(y, x, m, ld, next) }
				short := func(y, x, m []float32, ld int) { VecMatPrefetch(y, x, m, ld, next[:len(next)-1]) }
				for name, f := range map[string]func(y, x, m []float32, ld int){
					"VecMat": VecMat, "generic": vecMatGeneric, "reference": refVecMat,
					"VecMatPrefetch": prefetching, "VecMatPrefetch, short next": short,
				} {
					y := make([]float32, cols+1)
					y[cols] = 7
					f(y[:cols], x, m, ld)
					if y[cols] != 7 {
						t.Fatalf("%s rows=%d cols=%d: wrote past y", name, rows, cols)
					}
					vecMatCheck(t, name, y[:cols], x, m, ld)
				}
			}
		}
	}
}

// Column j gets the same bits whatever the number of columns asked for and
// wherever j falls in a vector: attention scores do not depend on how many
// positions a head attends to.
func TestVecMatColumnsIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	rows, ld := 37, 150
	x, m := randSlice(rng, rows), randSlice(rng, rows*ld)
	all := make([]float32, ld)
	VecMat(all, x, m, ld)
	for j0 := 0; j0 < ld; j0 += 7 {
		for _, cols := range []int{1, 9, 16, 33, 64, 100} {
			if j0+cols > ld {
				continue
			}
			y, yp := make([]float32, cols), make([]float32, cols)
			VecMat(y, x, m[j0:], ld)
			VecMatPrefetch(yp, x, m[j0:], ld, m)
			for q := range y {
				if math.Float32bits(y[q]) != math.Float32bits(all[j0+q]) {
					t.Fatalf("columns %d..%d: y[%d] = %g, %g among all %d", j0, j0+cols, q, y[q], all[j0+q], ld)
				}
				if math.Float32bits(yp[q]) != math.Float32bits(y[q]) {
					t.Fatalf("columns %d..%d: VecMatPrefetch gives y[%d] = %g, VecMat %g", j0, j0+cols, q, yp[q], y[q])
				}
			}
		}
	}
}

func TestVecMatEdges(t *testing.T) {
	y := []float32{3, 4}
	VecMat(y, nil, nil, 2)
	if y[0] != 0 || y[1] != 0 {
		t.Fatalf("no rows: y = %v, want zeros", y)
	}
	VecMat(nil, []float32{1}, nil, 0)
	for name, f := range map[string]func(){
		"short m":     func() { VecMat(make([]float32, 4), make([]float32, 2), make([]float32, 7), 4) },
		"negative ld": func() { VecMat(make([]float32, 4), make([]float32, 2), make([]float32, 8), -1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
