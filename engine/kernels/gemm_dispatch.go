package kernels

// archs lists the usable micro-kernels, fastest first; the amd64 file
// replaces it at start-up according to the CPU.
var archs = []*gemmArch{&genericArch}

// smallRows is the row count up to which packing B costs more than it saves.
const smallRows = 4

// gemm is the multiplication behind MatMul, MatMulBT and MatMulAT. The path
// depends only on the shape, so results do not depend on the core count.
func gemm(workers int, transA, transB bool, c, a, b []float32, m, k, n int, acc bool) {
	gemmWith(archs[0], workers, transA, transB, c, a, b, m, k, n, acc)
}

// gemmWith multiplies with one micro-kernel; the portable one takes the
// portable row loops on the small-row path too.
func gemmWith(arch *gemmArch, workers int, transA, transB bool, c, a, b []float32, m, k, n int, acc bool) {
	if m <= smallRows {
		gemmSimple(arch == &genericArch, workers, transA, transB, c, a, b, m, k, n, acc)
		return
	}
	if transB && arch.kernelRowA != nil && swapPays(m, k, n, arch.kc) {
		// C = A·Bᵀ  ⇔  Cᵀ = B·Aᵀ: B [n×k] is read in place as the left
		// operand and only the few rows of A are packed.
		gemmBlocked(arch, workers, false, true, c, b, a, n, k, m, acc, true)
		return
	}
	gemmBlocked(arch, workers, transA, transB, c, a, b, m, k, n, acc, false)
}

// swapPays reports whether computing A·Bᵀ as (B·Aᵀ)ᵀ moves less memory:
// packing costs one pass over the packed operand (n×k, or m×k swapped),
// while the swapped product writes C through a scratch tile once per K
// block, at about twice the cost per element.
func swapPays(m, k, n, kc int) bool {
	kBlocks := (k + kc - 1) / kc
	return m*k+2*m*n*kBlocks < n*k
}
