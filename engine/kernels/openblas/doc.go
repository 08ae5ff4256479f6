// Package openblas exposes the system OpenBLAS cblas_sgemm as a
// kernels.Backend, so `urlvr bench kernels` and the benchmarks here can
// measure the pure-Go kernels against it on one machine at one time. It links
// OpenBLAS only when built with the openblas tag (and cgo; Debian package
// libopenblas-dev); otherwise Backend reports false and nothing is linked.
// The engine never calls it.
package openblas
