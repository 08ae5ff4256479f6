//go:build !amd64 || purego

package kernels

func rowAPrefetchKernel(arch *gemmArch) rowAPrefetch { return nil }
