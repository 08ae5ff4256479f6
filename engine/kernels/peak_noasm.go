//go:build !amd64 || purego

package kernels

func peakLoop() (loop func(iters int), flopsPerIter float64, isa string) { return nil, 0, "" }
