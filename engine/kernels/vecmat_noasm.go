//go:build !amd64 || purego

package kernels

func vecMat(y, x, m []float32, ld int) { vecMatGeneric(y, x, m, ld) }

func vecMatPrefetch(y, x, m []float32, ld int, next []float32) { vecMatGeneric(y, x, m, ld) }
