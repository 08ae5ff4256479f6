package kernels

// Backend is one implementation of the three matrix multiplications, for
// benchmarks that set implementations side by side. MatMul, MatMulBT and
// MatMulAT always use the first of Backends().
type Backend struct {
	Name string
	// Portable is true for the pure-Go implementation that runs everywhere.
	Portable                   bool
	MatMul, MatMulBT, MatMulAT func(c, a, b []float32, m, k, n int, acc bool)
}

// Backends lists the implementations usable on this machine: the one the
// package uses first, then the other instruction sets, the portable Go
// micro-kernel. (Package kernels/openblas offers the system BLAS in the same
// shape.)
func Backends() []Backend {
	var out []Backend
	for _, arch := range archs {
		out = append(out, archBackend(arch))
	}
	return out
}

func archBackend(arch *gemmArch) Backend {
	return Backend{
		Name:     arch.name,
		Portable: arch == &genericArch,
		MatMul: func(c, a, b []float32, m, k, n int, acc bool) {
			checkGemm("MatMul", c, a, b, m, k, n)
			gemmWith(arch, AllCores.Count(), false, false, c, a, b, m, k, n, acc)
		},
		MatMulBT: func(c, a, b []float32, m, k, n int, acc bool) {
			checkGemm("MatMulBT", c, a, b, m, k, n)
			gemmWith(arch, AllCores.Count(), false, true, c, a, b, m, k, n, acc)
		},
		MatMulAT: func(c, a, b []float32, m, k, n int, acc bool) {
			checkGemm("MatMulAT", c, a, b, m, k, n)
			gemmWith(arch, AllCores.Count(), true, false, c, a, b, m, k, n, acc)
		},
	}
}
