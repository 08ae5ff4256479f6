package kernels

import "fmt"

// need panics when a slice is shorter than a kernel's shapes require. The
// assembly paths do not bounds-check, so every exported kernel checks first.
func need(kernel, arg string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("kernels.%s: len(%s) = %d, need %d", kernel, arg, have, want))
	}
}

// needDims panics on negative dimensions.
func needDims(kernel string, dims ...int) {
	for _, d := range dims {
		if d < 0 {
			panic(fmt.Sprintf("kernels.%s: negative dimension %d", kernel, d))
		}
	}
}
