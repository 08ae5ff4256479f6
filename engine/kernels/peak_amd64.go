//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// peakLoop picks the widest FMA loop the CPU runs.
func peakLoop() (loop func(iters int), flopsPerIter float64, isa string) {
	switch {
	case cpu.X86.HasAVX512F:
		return fmaPeakAVX512, 2 * 24 * 16, "avx512"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return fmaPeakAVX2, 2 * 12 * 8, "avx2"
	}
	return nil, 0, ""
}
