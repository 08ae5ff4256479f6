//go:build amd64 && !purego

package kernels

import "math"

// softmaxRows4 runs maxf per row as softmaxRow does, then the four rows'
// exponentials and eight-lane sums in one loop (expSubSum4AVX2) and their
// scalar tails side by side, then the scaling: each row's operations and
// their order are softmaxRow's.
func softmaxRows4(x []float32, ld, n int) {
	n8 := n &^ 7
	if !rowAVX2 || n8 == 0 {
		softmaxRows4Generic(x, ld, n)
		return
	}
	var mx, sums [4]float32
	for h := range 4 {
		mx[h] = maxf(x[h*ld : h*ld+n])
		if math.IsInf(float64(mx[h]), -1) {
			softmaxRows4Generic(x, ld, n)
			return
		}
	}
	expSubSum4AVX2(&x[0], ld, n8, &mx, &sums)
	// The tails: expSubSumGeneric's chain per row, the rows side by side.
	var tails [4]float32
	for i := n8; i < n; i++ {
		for h := range 4 {
			e := exp32(x[h*ld+i] - mx[h])
			x[h*ld+i] = e
			tails[h] += e
		}
	}
	for h := range 4 {
		scale(x[h*ld:h*ld+n], 1/(sums[h]+tails[h]))
	}
}

func vecMat4x16(y, x []float32, ldx, rows int, m0, m1, m2, m3 []float32) {
	if !vecMatAVX {
		vecMat4Generic(16, y, x, ldx, rows, m0, m1, m2, m3)
		return
	}
	vecMat4x16AVX512(&y[0], &x[0], ldx, rows, &m0[0], &m1[0], &m2[0], &m3[0])
}

func vecMat4x32(y, x []float32, ldx, rows int, m0, m1, m2, m3 []float32) {
	if !vecMatAVX {
		vecMat4Generic(32, y, x, ldx, rows, m0, m1, m2, m3)
		return
	}
	vecMat4x32AVX512(&y[0], &x[0], ldx, rows, &m0[0], &m1[0], &m2[0], &m3[0])
}
