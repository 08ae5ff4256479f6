//go:build !amd64 || purego

package kernels

func softmaxRows4(x []float32, ld, n int) { softmaxRows4Generic(x, ld, n) }

func vecMat4x16(y, x []float32, ldx, rows int, m0, m1, m2, m3 []float32) {
	vecMat4Generic(16, y, x, ldx, rows, m0, m1, m2, m3)
}

func vecMat4x32(y, x []float32, ldx, rows int, m0, m1, m2, m3 []float32) {
	vecMat4Generic(32, y, x, ldx, rows, m0, m1, m2, m3)
}
