//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// expPDVector: the vector exponential replays math.Exp's FMA path, which
// math takes when the CPU has AVX and FMA; AVX-512 implies both.
var expPDVector = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasFMA && cpu.X86.HasAVX

func expPD(dst, src []float64) bool { return expPDAVX512(dst, src) }
