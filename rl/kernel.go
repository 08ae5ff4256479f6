package rl

// Row kernels of Loss. Each keeps four independent accumulators so that a
// long row is not serialised on the latency of one floating-point add, and
// reads padding values only to skip them (padding may hold NaN or -Inf).

// masked returns x as float64 where m is non-zero, else 0.
func masked[F Float](x, m F) float64 {
	if m == 0 {
		return 0
	}
	return float64(x)
}

// maskedSum returns the sum of x over the tokens where mask is non-zero.
func maskedSum[F Float](x, mask []F) float64 {
	var s0, s1, s2, s3 float64
	n := len(mask)
	x = x[:n]
	t := 0
	for ; t+4 <= n; t += 4 {
		s0 += masked(x[t], mask[t])
		s1 += masked(x[t+1], mask[t+1])
		s2 += masked(x[t+2], mask[t+2])
		s3 += masked(x[t+3], mask[t+3])
	}
	for ; t < n; t++ {
		s0 += masked(x[t], mask[t])
	}
	return (s0 + s1) + (s2 + s3)
}

// fillMasked writes v where mask is non-zero and +0 elsewhere.
func fillMasked[F Float](dst, mask []F, v float64) {
	fv := F(v)
	dst = dst[:len(mask)]
	for t, m := range mask {
		if m == 0 {
			dst[t] = 0
		} else {
			dst[t] = fv
		}
	}
}

// countMask returns the number of non-zero mask values and the index of the
// first value other than 0 or 1 (-1 when there is none).
func countMask[F Float](mask []F) (count, bad int) {
	for t, m := range mask {
		if m != 0 {
			if m != 1 {
				return count, t
			}
			count++
		}
	}
	return count, -1
}

// onPolicyRow handles a row at ratio 1 without KL: each response token's
// loss is -A and its derivative -A*w. It writes the derivatives to dlp and
// returns the row's unweighted loss sum (NaN when an advantage is NaN).
func onPolicyRow[F Float](adv, mask, dlp []F, w float64) float64 {
	var s0, s1, s2, s3 float64
	n := len(mask)
	adv, dlp = adv[:n], dlp[:n]
	t := 0
	for ; t+4 <= n; t += 4 {
		a0, a1 := masked(adv[t], mask[t]), masked(adv[t+1], mask[t+1])
		a2, a3 := masked(adv[t+2], mask[t+2]), masked(adv[t+3], mask[t+3])
		s0 += a0
		s1 += a1
		s2 += a2
		s3 += a3
		// 0 - x rather than -x keeps padding at +0.
		dlp[t], dlp[t+1] = F(0-a0*w), F(0-a1*w)
		dlp[t+2], dlp[t+3] = F(0-a2*w), F(0-a3*w)
	}
	for ; t < n; t++ {
		a := masked(adv[t], mask[t])
		s0 += a
		dlp[t] = F(0 - a*w)
	}
	return -((s0 + s1) + (s2 + s3))
}
