package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// peakKernels emit the FMA loops that measure a core's peak FLOP/s: acc
// independent accumulators, enough to hide the FMA latency on both FMA
// ports, each updated once per iteration from registers only, so the loop
// is bound by nothing but the FMA units.
func peakKernels() {
	peakKernel("fmaPeakAVX512", zmmBank, 24)
	peakKernel("fmaPeakAVX2", ymmBank, 12)
	cpuVendorKernel()
}

// cpuVendorKernel emits cpuVendor: CPUID leaf 0's vendor string, in the
// order the processor returns it (EBX, EDX, ECX spell e.g. "GenuineIntel").
// Kernels whose speed differs by maker, not by feature flag, pick on it.
func cpuVendorKernel() {
	TEXT("cpuVendor", NOSPLIT, "func() (ebx, edx, ecx uint32)")
	Doc("cpuVendor returns the registers of CPUID leaf 0 that spell the vendor string.")
	XORL(EAX, EAX)
	XORL(ECX, ECX)
	CPUID()
	Store(EBX, ReturnIndex(0))
	Store(EDX, ReturnIndex(1))
	Store(ECX, ReturnIndex(2))
	RET()
}

func peakKernel(name string, bank vecBank, acc int) {
	lanes := bank.bytes / 4
	TEXT(name, NOSPLIT, "func(iters int)")
	Doc(name+" runs iters iterations of "+itoa(acc)+" independent "+itoa(lanes)+"-lane FMAs", "("+itoa(2*acc*lanes)+" FLOPs per iteration).")
	n := Load(Param("iters"), GP64())
	regs := make([]VecPhysical, acc+2)
	for i := range regs {
		regs[i] = bank.reg(i)
		VXORPS(regs[i], regs[i], regs[i])
	}
	a, b := regs[acc], regs[acc+1]
	Label(name + "_loop")
	TESTQ(n, n)
	JZ(LabelRef(name + "_done"))
	for i := 0; i < acc; i++ {
		VFMADD231PS(a, b, regs[i])
	}
	DECQ(n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}
