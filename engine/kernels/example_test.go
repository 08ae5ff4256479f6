package kernels_test

import (
	"fmt"
	"math"

	"github.com/urlvr/urlvr/engine/kernels"
)

// A linear layer's forward pass: two tokens with three features each,
// through a weight stored like a Hugging Face nn.Linear, [out×in] = [2×3].
func ExampleMatMulBT() {
	x := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	w := []float32{
		1, 0, -1, // output 0: x0 − x2
		0.5, 0.5, 0.5, // output 1: half the sum
	}
	y := make([]float32, 2*2)
	kernels.MatMulBT(y, x, w, 2, 3, 2, false)
	fmt.Println(y)
	// Output: [-2 3 -2 7.5]
}

// The weight gradient of that layer sums over tokens: dW[out×in] = dYᵀ·X.
func ExampleMatMulAT() {
	x := []float32{1, 2, 3, 4, 5, 6}
	dy := []float32{
		1, 0, // token 0 pushes output 0
		0, 2, // token 1 pushes output 1
	}
	dw := make([]float32, 2*3)
	kernels.MatMulAT(dw, dy, x, 2, 2, 3, false)
	fmt.Println(dw)
	// Output: [1 2 3 8 10 12]
}

func ExampleSoftmaxRows() {
	masked := float32(math.Inf(-1))
	logits := []float32{0, 0, 0, 0, masked, 0}
	kernels.SoftmaxRows(logits, 2, 3) // the second row has one masked entry
	fmt.Println(logits)
	// Output: [0.33333334 0.33333334 0.33333334 0.5 0 0.5]
}
