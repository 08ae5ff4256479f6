package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The single-row kernels give, bit for bit, the rows of the batched ones,
// and agree with the references.
func TestSerialRowsMatchBatched(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, n := range []int{1, 6, 8, 13, 64, 256, 1030} {
		rows := 3
		x, w := randSlice(rng, rows*n), randSlice(rng, n)
		gate, up := randSlice(rng, rows*n), randSlice(rng, rows*n)

		out, rstd := make([]float32, rows*n), make([]float32, rows)
		RMSNorm(out, rstd, x, w, rows, n, 1e-5)
		refOut, refRstd := make([]float32, rows*n), make([]float32, rows)
		refRMSNorm(refOut, refRstd, x, w, rows, n, 1e-5)
		sm := slices.Clone(x)
		SoftmaxRows(sm, rows, n)
		refSm := slices.Clone(x)
		refSoftmaxRows(refSm, rows, n)
		sw := make([]float32, rows*n)
		SwiGLU(sw, gate, up)
		refSw := make([]float32, rows*n)
		refSwiGLU(refSw, gate, up)
		for r := 0; r < rows; r++ {
			row := x[r*n : (r+1)*n]
			o := make([]float32, n)
			s := RMSNormRow(o, row, w, 1e-5)
			sameBits(t, "RMSNormRow rstd", []float32{s}, rstd[r:r+1])
			sameBits(t, "RMSNormRow", o, out[r*n:(r+1)*n])
			nearRef(t, "RMSNormRow", o, refOut[r*n:(r+1)*n], 1e-5)
			nearRef(t, "RMSNormRow rstd", []float32{s}, refRstd[r:r+1], 1e-5)

			p := slices.Clone(row)
			SoftmaxRow(p)
			sameBits(t, "SoftmaxRow", p, sm[r*n:(r+1)*n])
			nearRef(t, "SoftmaxRow", p, refSm[r*n:(r+1)*n], 1e-6)

			g := make([]float32, n)
			SwiGLURow(g, gate[r*n:(r+1)*n], up[r*n:(r+1)*n])
			nearRef(t, "SwiGLURow", g, refSw[r*n:(r+1)*n], 1e-5)
		}
	}
	for _, hd := range []struct{ heads, dim int }{{1, 2}, {3, 6}, {4, 64}} {
		toks := 2
		x := randSlice(rng, toks*hd.heads*hd.dim)
		cos, sin := randSlice(rng, toks*hd.dim/2), randSlice(rng, toks*hd.dim/2)
		batched, ref := slices.Clone(x), slices.Clone(x)
		RoPE(batched, cos, sin, toks, hd.heads, hd.dim)
		refRoPE(ref, cos, sin, toks, hd.heads, hd.dim, false)
		for tk := 0; tk < toks; tk++ {
			span := hd.heads * hd.dim
			row := slices.Clone(x[tk*span : (tk+1)*span])
			RoPERow(row, cos[tk*hd.dim/2:], sin[tk*hd.dim/2:], hd.heads, hd.dim)
			sameBits(t, "RoPERow", row, batched[tk*span:(tk+1)*span])
			nearRef(t, "RoPERow", row, ref[tk*span:(tk+1)*span], 1e-6)
		}
	}
}

func sameBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %g, the batched kernel gives %g", name, i, got[i], want[i])
		}
	}
}

func nearRef(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: [%d] = %g, reference %g", name, i, got[i], want[i])
		}
	}
}
