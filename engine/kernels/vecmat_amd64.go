//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

var vecMatAVX = cpu.X86.HasAVX512F

// vecMat runs the AVX-512 block kernel over blocks of 64 columns; the masks
// of the last block keep it to the columns that exist.
func vecMat(y, x, m []float32, ld int) {
	if !vecMatAVX {
		vecMatGeneric(y, x, m, ld)
		return
	}
	for j0 := 0; j0 < len(y); j0 += 64 {
		var masks uint64
		if cols := len(y) - j0; cols < 64 {
			masks = 1<<cols - 1
		} else {
			masks = ^uint64(0)
		}
		vecMatAVX512(&y[j0], &x[0], len(x), &m[j0], ld, masks)
	}
}

func vecMatPrefetch(y, x, m []float32, ld int, next []float32) {
	if !vecMatAVX {
		vecMatGeneric(y, x, m, ld)
		return
	}
	for j0 := 0; j0 < len(y); j0 += 64 {
		var masks uint64
		cols := len(y) - j0
		if cols < 64 {
			masks = 1<<cols - 1
		} else {
			masks = ^uint64(0)
		}
		vecMatPfAVX512(&y[j0], &x[0], len(x), &m[j0], ld, masks, &next[j0], (min(cols, 64)+15)/16)
	}
}
