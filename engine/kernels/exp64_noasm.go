//go:build !amd64 || purego

package kernels

const expPDVector = false

func expPD(dst, src []float64) bool { return false }
