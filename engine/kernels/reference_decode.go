package kernels

// refVecMat: y[j] = Σ_i x[i]·m[i·ld+j], one plain loop per column.
func refVecMat(y, x, m []float32, ld int) {
	for j := range y {
		var s float32
		for i, xi := range x {
			s += xi * m[i*ld+j]
		}
		y[j] = s
	}
}
