package kernels

// The portable micro-kernel computes a 4×4 block of C two rows at a time:
// eight scalar accumulators plus the two A and four B values of a step fit
// the sixteen floating-point registers of amd64 without spilling, and each
// element is still one chain over k.

const genericMR, genericNR = 4, 4

var genericArch = gemmArch{
	name: "go", mr: genericMR, nr: genericNR, kc: 256,
	mcPanels: 32, ncPanels: 256,
	kernel: microGeneric,
}

func microGeneric(mr, kc int, ap, bp, cp *float32, ldc int, add bool) {
	a := floats(ap, kc*genericMR)
	b := floats(bp, kc*genericNR)
	c := floats(cp, (mr-1)*ldc+genericNR)
	r := 0
	for ; r+2 <= mr; r += 2 {
		var c00, c01, c02, c03, c10, c11, c12, c13 float32
		for p := 0; p < kc; p++ {
			av := a[p*genericMR+r : p*genericMR+r+2 : p*genericMR+r+2]
			bv := b[p*genericNR : p*genericNR+4 : p*genericNR+4]
			a0, a1 := av[0], av[1]
			b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
			c00 += a0 * b0
			c01 += a0 * b1
			c02 += a0 * b2
			c03 += a0 * b3
			c10 += a1 * b0
			c11 += a1 * b1
			c12 += a1 * b2
			c13 += a1 * b3
		}
		storeRow4(c[r*ldc:r*ldc+4], c00, c01, c02, c03, add)
		storeRow4(c[(r+1)*ldc:(r+1)*ldc+4], c10, c11, c12, c13, add)
	}
	if r < mr {
		var c00, c01, c02, c03 float32
		for p := 0; p < kc; p++ {
			a0 := a[p*genericMR+r]
			bv := b[p*genericNR : p*genericNR+4 : p*genericNR+4]
			c00 += a0 * bv[0]
			c01 += a0 * bv[1]
			c02 += a0 * bv[2]
			c03 += a0 * bv[3]
		}
		storeRow4(c[r*ldc:r*ldc+4], c00, c01, c02, c03, add)
	}
}

func storeRow4(c []float32, v0, v1, v2, v3 float32, add bool) {
	c = c[:4:4]
	if add {
		c[0] += v0
		c[1] += v1
		c[2] += v2
		c[3] += v3
		return
	}
	c[0], c[1], c[2], c[3] = v0, v1, v2, v3
}
