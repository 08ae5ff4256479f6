package kernels

// MatMulStrided is the product of the small matrices of attention: one
// (sequence, head) pair's queries, keys and values are column slices of
// the [rows × heads·D] projection buffers, and its products are too small
// for MatMul's packing, tiling and threading to pay. It reads every
// operand in place through a row stride, packs only what the micro-kernel
// needs into the caller's scratch, runs on the calling goroutine and
// allocates nothing once the scratch has grown.
//
// It computes C[m×n] (+)= op(A)·op(B), where op(A) is A [m×k] (row stride
// lda), or Aᵀ for A [k×m] with TransA, and op(B) is B [k×n] (row stride
// ldb), or Bᵀ for B [n×k] with TransB; C has row stride ldc. Every element
// it computes has exactly the bits MatMul, MatMulBT or MatMulAT give for
// the same matrices stored contiguously: the same FMA chain over k, added
// to C once (with Acc) or stored. Only columns n of each row of C are
// written, so C may be a column slice of a wider buffer.
//
// The triangular flags let a causal product skip work that cannot change a
// bit. LowerA asserts op(A)[r][p] = 0 for p > r and UpperA asserts
// op(A)[r][p] = 0 for p < r: a chain then runs only over the terms that
// can be nonzero, which is exact because adding an exact-zero product to a
// chain that starts at +0 leaves it unchanged (for finite operands).
// LowerC asks only for C[r][j] with j ≤ r: whole micro-tiles above the
// diagonal are skipped, and elements above it in the tiles computed hold
// unspecified values.
func MatMulStrided(s *StridedScratch, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, f StridedFlags) {
	needDims("MatMulStrided", m, k, n)
	if m == 0 || n == 0 {
		return
	}
	acc := f&Acc != 0
	transA, transB := f&TransA != 0, f&TransB != 0
	ar, ac := m, k // A's stored shape
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	needStrided("a", len(a), ar, ac, lda)
	needStrided("b", len(b), br, bc, ldb)
	needStrided("c", len(c), m, n, ldc)
	arch := archs[0]
	if m <= smallRows || k > arch.kc || k == 0 {
		// MatMul's small-row path (and a product of several K blocks)
		// has other chains: run MatMul itself on contiguous copies.
		s.contiguous(transA, transB, c, ldc, a, lda, b, ldb, m, k, n, acc)
		return
	}
	if arch.strided != nil {
		s.inPlace(arch, c, ldc, a, lda, b, ldb, m, k, n, f)
		return
	}
	mr, nr := arch.mr, arch.nr
	colPanels := (n + nr - 1) / nr
	bp := grow(&s.b, colPanels*k*nr)
	for jp := 0; jp < colPanels; jp++ {
		packStridedB(bp[jp*k*nr:(jp+1)*k*nr], b, ldb, transB, k, n, jp*nr, nr)
	}
	rowA := !transA && arch.kernelRowA != nil
	var ap []float32
	if !rowA {
		ap = grow(&s.a, k*mr)
	}
	edge := grow(&s.edge, mr*nr)
	for i := 0; i < m; i += mr {
		mcur := min(mr, m-i)
		klo, khi := kRange(f, i, mcur, k)
		kcur := khi - klo
		if kcur > 0 && !rowA {
			packStridedA(ap[:kcur*mr], a, lda, transA, i, mcur, klo, kcur, mr)
		}
		for j := 0; j < n; j += nr {
			if f&LowerC != 0 && j > i+mcur-1 {
				break
			}
			ncur := min(nr, n-j)
			if kcur == 0 {
				if !acc {
					zeroTile(c, ldc, i, j, mcur, ncur)
				}
				continue
			}
			bpanel := &bp[(j/nr)*k*nr+klo*nr]
			dst, ldd, add := &edge[0], nr, false
			if ncur == nr {
				dst, ldd, add = &c[i*ldc+j], ldc, acc
			}
			if rowA {
				arch.kernelRowA(mcur, kcur, &a[i*lda+klo], lda, bpanel, dst, ldd, add)
			} else {
				arch.kernel(mcur, kcur, &ap[0], bpanel, dst, ldd, add)
			}
			if ncur == nr {
				continue
			}
			// Right edge: keep the columns that exist, with the same
			// single add MatMul makes.
			mergeEdge(c, ldc, edge, nr, i, j, mcur, ncur, acc)
		}
	}
}

// inPlace is MatMulStrided on a kernel that reads A in place in either
// layout and B in place when it is row-major: only a transposed B, or a
// panel narrower than the kernel, is packed. A product at most 16 columns
// wide (a head's output) takes the one-vector kernels, which write those
// columns directly.
func (s *StridedScratch) inPlace(arch *gemmArch, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, f StridedFlags) {
	acc := f&Acc != 0
	transA, transB := f&TransA != 0, f&TransB != 0
	mr := arch.mr
	w, vecs := 32, 2
	if n <= 16 {
		w, vecs = 16, 1
	}
	colPanels := (n + w - 1) / w
	// Each panel of op(B) is read in place, or packed at offset
	// packed[jp] of s.b (-1: in place).
	packed := s.offsets[:0]
	need := 0
	for j := 0; j < n; j += w {
		if !transB && j+w <= n {
			packed = append(packed, -1)
			continue
		}
		packed = append(packed, need)
		need += k * w
	}
	s.offsets = packed
	bp := grow(&s.b, need)
	for jp, off := range packed {
		if off >= 0 {
			packStridedB(bp[off:off+k*w], b, ldb, transB, k, n, jp*w, w)
		}
	}
	edge := grow(&s.edge, mr*w)
	for i := 0; i < m; i += mr {
		mcur := min(mr, m-i)
		klo, khi := kRange(f, i, mcur, k)
		kcur := khi - klo
		for jp := 0; jp < colPanels; jp++ {
			j := jp * w
			if f&LowerC != 0 && j > i+mcur-1 {
				break
			}
			ncur := min(w, n-j)
			if kcur == 0 {
				if !acc {
					zeroTile(c, ldc, i, j, mcur, ncur)
				}
				continue
			}
			var ap *float32
			if transA {
				ap = &a[klo*lda+i]
			} else {
				ap = &a[i*lda+klo]
			}
			var bpanel *float32
			bld := w
			if off := packed[jp]; off >= 0 {
				bpanel = &bp[off+klo*w]
			} else {
				bpanel, bld = &b[klo*ldb+j], ldb
			}
			if ncur == w {
				arch.strided(vecs, transA, mcur, kcur, ap, lda, bpanel, bld, &c[i*ldc+j], ldc, acc)
				continue
			}
			// Right edge: keep the columns that exist, with the same
			// single add MatMul makes.
			arch.strided(vecs, transA, mcur, kcur, ap, lda, bpanel, bld, &edge[0], w, false)
			mergeEdge(c, ldc, edge, w, i, j, mcur, ncur, acc)
		}
	}
}

// StridedFlags choose MatMulStrided's operands and the triangular structure
// it may exploit.
type StridedFlags uint8

const (
	TransA StridedFlags = 1 << iota // A is stored [k×m]
	TransB                          // B is stored [n×k]
	Acc                             // add into C instead of storing
	LowerA                          // op(A)[r][p] = 0 for p > r
	UpperA                          // op(A)[r][p] = 0 for p < r
	LowerC                          // only C[r][j] with j ≤ r is wanted
)

// StridedScratch is one goroutine's packing memory for MatMulStrided; the
// zero value is ready, and it grows to the largest product seen.
type StridedScratch struct {
	a, b, edge []float32
	offsets    []int
	ga, gb, gc []float32 // contiguous copies for the fallback
}

// grow returns (*buf)[:n], reallocating when it is too short.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// needStrided checks that a [rows × cols] matrix of row stride ld fits.
func needStrided(arg string, have, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic("kernels.MatMulStrided: row stride of " + arg + " is shorter than its rows")
	}
	need("MatMulStrided", arg, have, (rows-1)*ld+cols)
}

// packStridedB packs columns j..j+nr of op(B) [k×n] into dst as one panel
// nr wide, zero-padded past column n: dst[p·nr+q] = op(B)[p][j+q].
func packStridedB(dst, b []float32, ldb int, transB bool, k, n, j, nr int) {
	ncur := min(nr, n-j)
	if ncur < nr {
		clear(dst)
	}
	if transB {
		q := 0
		if packBT8 != nil && k >= 8 {
			// Eight columns at a time through a register transpose.
			k8 := k &^ 7
			for ; q+8 <= ncur; q += 8 {
				need("packStridedB", "b", len(b), (j+q+7)*ldb+k8)
				packBT8(&dst[q], nr, &b[(j+q)*ldb], ldb, k8)
				for i := 0; i < 8; i++ {
					for p, v := range b[(j+q+i)*ldb+k8 : (j+q+i)*ldb+k] {
						dst[(k8+p)*nr+q+i] = v
					}
				}
			}
		}
		for ; q < ncur; q++ {
			src := b[(j+q)*ldb : (j+q)*ldb+k]
			for p, v := range src {
				dst[p*nr+q] = v
			}
		}
		return
	}
	if ncur == 16 {
		// A head of 16: whole-array moves instead of calls to copy.
		for p := 0; p < k; p++ {
			*(*[16]float32)(dst[p*nr:]) = [16]float32(b[p*ldb+j:])
		}
		return
	}
	for p := 0; p < k; p++ {
		copy(dst[p*nr:p*nr+ncur], b[p*ldb+j:p*ldb+j+ncur])
	}
}

// packStridedA packs rows i..i+mcur of op(A) over k range [klo, klo+kcur)
// into dst as a panel of row stride mr: dst[p·mr+r] = op(A)[i+r][klo+p].
func packStridedA(dst, a []float32, lda int, transA bool, i, mcur, klo, kcur, mr int) {
	if transA {
		if mcur == 12 && mr == 12 {
			// The AVX-512 panel: whole-array moves instead of calls to copy.
			for p := 0; p < kcur; p++ {
				*(*[12]float32)(dst[p*12:]) = [12]float32(a[(klo+p)*lda+i:])
			}
			return
		}
		for p := 0; p < kcur; p++ {
			copy(dst[p*mr:p*mr+mcur], a[(klo+p)*lda+i:(klo+p)*lda+i+mcur])
		}
		return
	}
	for r := 0; r < mcur; r++ {
		src := a[(i+r)*lda+klo : (i+r)*lda+klo+kcur]
		for p, v := range src {
			dst[p*mr+r] = v
		}
	}
}

// contiguous runs the product through gemm on contiguous copies of the
// operands and copies C back.
func (s *StridedScratch) contiguous(transA, transB bool, c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	gather := func(buf *[]float32, x []float32, ld, rows, cols int) []float32 {
		g := grow(buf, rows*cols)
		for r := 0; r < rows; r++ {
			copy(g[r*cols:(r+1)*cols], x[r*ld:r*ld+cols])
		}
		return g
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	ga := gather(&s.ga, a, lda, ar, ac)
	gb := gather(&s.gb, b, ldb, br, bc)
	var gc []float32
	if acc {
		gc = gather(&s.gc, c, ldc, m, n)
	} else {
		gc = grow(&s.gc, m*n)
	}
	gemm(AllCores.Count(), transA, transB, gc, ga, gb, m, k, n, acc)
	for r := 0; r < m; r++ {
		copy(c[r*ldc:r*ldc+n], gc[r*n:(r+1)*n])
	}
}

// zeroTile writes +0 to the mcur×ncur tile of c at row i, column j: a
// product over no terms, whose chain is +0.
func zeroTile(c []float32, ldc, i, j, mcur, ncur int) {
	for r := range mcur {
		clear(c[(i+r)*ldc+j : (i+r)*ldc+j+ncur])
	}
}

// kRange is the range of k that rows i..i+mcur-1 of a triangular A can
// hold non-zero terms in: below the diagonal for LowerA, from it for
// UpperA, all of 0..k otherwise.
func kRange(f StridedFlags, i, mcur, k int) (klo, khi int) {
	klo, khi = 0, k
	if f&LowerA != 0 {
		khi = min(k, i+mcur)
	}
	if f&UpperA != 0 {
		klo = min(i, khi)
	}
	return klo, khi
}
