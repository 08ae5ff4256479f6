package kernels

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// The blocked multiplication follows the GotoBLAS/BLIS scheme. B is packed
// once into column panels nr wide, stored K-block by K-block; each tile of C
// (a range of mr-row panels × a range of nr-column panels) packs its rows of
// A, one K block at a time, into mr-row panels; a register-blocked micro-kernel
// then computes each mr×nr block of C from one A panel and one B panel.
//
// Determinism: every element of C is the sum over K blocks, in order, of an
// FMA (or multiply-add) chain over that block in ascending k, added to C
// once per block. The K block size is a constant of the micro-kernel, and no
// element is ever split between goroutines, so the tile grid (which adapts to
// the core count) cannot change any bit of the result.

// microKernel computes, for an mr×nr block, acc[r][j] = Σ_{p<kc} a[p·MR+r]·b[p·nr+j]
// (each element a chain in ascending p) and stores acc into c[r·ldc+j], or
// adds it when add is set. a is an A panel with row stride MR (only the first
// mr ≤ MR rows are read); b is a B panel nr wide; c has room for mr rows.
type microKernel func(mr, kc int, a, b, c *float32, ldc int, add bool)

// rowAKernel is a micro-kernel that reads A in place from a row-major
// matrix, element (r, p) at a[r·lda+p], instead of from a packed panel; it
// must run exactly the chains of the packed kernel.
type rowAKernel func(mr, kc int, a *float32, lda int, b, c *float32, ldc int, add bool)

// gemmArch is one micro-kernel with its blocking.
type gemmArch struct {
	name   string
	mr, nr int // micro-tile
	kc     int // K block: fixed, part of the reduction order
	// Largest tile, in micro-panels: A tile mc = mcPanels·mr rows (kept in
	// L2 with kc), B columns nc = ncPanels·nr per tile.
	mcPanels, ncPanels int
	kernel             microKernel
	kernelRowA         rowAKernel // optional: skips packing A for MatMul and MatMulBT
	// strided, optional, reads A row-major or (colA) transposed and B
	// row-major, both in place; vecs (1 or 2) sets the width, 16 or 32
	// columns (nr must be 32).
	strided stridedKernel
}

// stridedKernel computes an mr×(16·vecs) block c (+)= Σ_{p<kc} A(r, p)·b[p·ldb+j],
// with A(r, p) = a[r·lda+p], or a[p·lda+r] when colA, running the chains of
// the packed kernel.
type stridedKernel func(vecs int, colA bool, mr, kc int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, add bool)

// bufCache keeps packing buffers between calls so that a training step
// allocates nothing: a few are enough (one B buffer, one A buffer per
// worker). Unlike sync.Pool it survives garbage collections, and it hands
// out the smallest buffer that fits.
var bufCache struct {
	sync.Mutex
	free []*[]float32
}

const maxCachedBufs = 16

func getFloats(n int) *[]float32 {
	bufCache.Lock()
	best := -1
	for i, p := range bufCache.free {
		if cap(*p) >= n && (best < 0 || cap(*p) < cap(*bufCache.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		p := bufCache.free[best]
		bufCache.free = append(bufCache.free[:best], bufCache.free[best+1:]...)
		bufCache.Unlock()
		*p = (*p)[:n]
		return p
	}
	bufCache.Unlock()
	s := make([]float32, n)
	return &s
}

func putFloats(p *[]float32) {
	bufCache.Lock()
	defer bufCache.Unlock()
	if len(bufCache.free) < maxCachedBufs {
		bufCache.free = append(bufCache.free, p)
		return
	}
	// Full: replace the smallest if this one is larger.
	small := 0
	for i, q := range bufCache.free {
		if cap(*q) < cap(*bufCache.free[small]) {
			small = i
		}
	}
	if cap(*p) > cap(*bufCache.free[small]) {
		bufCache.free[small] = p
	}
}

// gemmBlocked computes C[m×n] (+)= op(A)·op(B). With outT it writes the
// transpose instead: C is [n×m] and receives (op(A)·op(B))ᵀ.
func gemmBlocked(arch *gemmArch, workers int, transA, transB bool, c, a, b []float32, m, k, n int, acc, outT bool) {
	gemmBlockedSegs(arch, workers, transA, transB, c, a, b, m, k, n, acc, outT, nil)
}

// gemmBlockedSegs is gemmBlocked with the K blocks given: bounds (from 0
// to k, ascending, each block at most kc long) replace the uniform blocks
// of kc, or nil keeps them.
func gemmBlockedSegs(arch *gemmArch, workers int, transA, transB bool, c, a, b []float32, m, k, n int, acc, outT bool, bounds []int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !acc {
			clear(c[:m*n])
		}
		return
	}
	mr, nr, kc := arch.mr, arch.nr, arch.kc
	rowPanels := (m + mr - 1) / mr
	colPanels := (n + nr - 1) / nr
	// blockEnd is the end of the K block that starts at pc.
	blockEnd := func(pc int) int {
		if bounds == nil {
			return min(k, pc+kc)
		}
		i, _ := slices.BinarySearch(bounds, pc+1)
		return bounds[i]
	}

	// A column-major kernel reads a row-major B in place too, when every
	// panel is whole and B's rows are short: a weight gradient's [tokens ×
	// 64] input then multiplies about 10% faster than packed, while rows of
	// 4 KiB (1024 columns) alias in the L1 cache and run about 3% slower.
	// Otherwise B is packed once for all tiles.
	colA := transA && arch.strided != nil && nr == 32
	inPlaceB := colA && !transB && n%nr == 0 && n <= 256
	var bp []float32
	// packCols packs B's column panels j0..j1, every K block.
	packCols := func(j0, j1 int) {
		for jp := j0; jp < j1; jp++ {
			for pc := 0; pc < k; {
				end := blockEnd(pc)
				kcur := end - pc
				dst := bp[pc*colPanels*nr+jp*kcur*nr : pc*colPanels*nr+(jp+1)*kcur*nr]
				packB(dst, b, transB, k, n, pc, kcur, jp*nr, nr)
				pc = end
			}
		}
	}
	if !inPlaceB {
		bBuf := getFloats(k * colPanels * nr)
		defer putFloats(bBuf)
		bp = *bBuf
	}

	if OneWorker(m, k, n) {
		workers = 1
	}
	tr, tc := tileGrid(rowPanels, colPanels, workers, arch.mcPanels, arch.ncPanels)
	// Packed B shared by the workers crosses between cores: every worker
	// reads every panel, half of them packed (and so held) by the other
	// core, and on a machine whose cores do not share a cache close by
	// that traffic halves the speed of two workers (a 256×2048×1024
	// weight gradient ran at 290-300 GFLOP/s on two cores and 230 on one).
	// So when B is packed, the columns split into one group of panels per
	// worker, each packing and then multiplying its own, in row tiles of
	// the usual height; a worker that finishes early takes tiles of the
	// others once their panels are packed. Tiles only group the same
	// micro-kernel calls differently, so the results do not change.
	groups := 1
	if !inPlaceB && workers > 1 && tr*tc > 1 {
		groups = min(workers, colPanels)
	}
	if groups > 1 {
		tr = (rowPanels + arch.mcPanels - 1) / arch.mcPanels
		tc = groups
	} else if !inPlaceB {
		parallelFor(workers, colPanels, k*n, packCols)
	}
	// Tiles t = ti·tc + tj in claim order; group g holds the tiles whose
	// column tile tj is g (all of them when groups is 1).
	var next atomic.Int64
	claims := make([]atomic.Int64, groups)
	packed := make([]chan struct{}, groups)
	for g := range packed {
		packed[g] = make(chan struct{})
	}
	// claim returns the next tile worker w should compute, or -1.
	claim := func(w int) int {
		if groups == 1 {
			if t := int(next.Add(1)) - 1; t < tr*tc {
				return t
			}
			return -1
		}
		for i := range groups {
			g := (w + i) % groups
			if i > 0 {
				<-packed[g] // another worker's panels: wait until they are packed
			}
			if ti := int(claims[g].Add(1)) - 1; ti < tr {
				return ti*tc + g
			}
		}
		return -1
	}
	// A is read in place by a row-major kernel, or by a column-major one
	// when transposed (A is then [k×m]).
	inPlaceA := !transA && arch.kernelRowA != nil || colA
	work := func(w int) {
		if groups > 1 && w < groups {
			packCols(w*colPanels/groups, (w+1)*colPanels/groups)
			close(packed[w])
		}
		var aBuf *[]float32
		if !inPlaceA {
			tileRows := (rowPanels + tr - 1) / tr
			aBuf = getFloats(tileRows * mr * min(kc, k)) // every block is at most kc
			defer putFloats(aBuf)
		}
		// micro runs the kernel on row panel ip (rows i..i+mcur) of the
		// current K block, from the packed tile or from A itself.
		var ap []float32
		var pc, kcur, rp0 int
		micro := func(ip, i, mcur int, bpanel, c *float32, ldc int, add bool) {
			if colA {
				ldb := nr
				if inPlaceB {
					ldb = n
				}
				arch.strided(2, true, mcur, kcur, &a[pc*m+i], m, bpanel, ldb, c, ldc, add)
				return
			}
			if inPlaceA {
				arch.kernelRowA(mcur, kcur, &a[i*k+pc], k, bpanel, c, ldc, add)
				return
			}
			arch.kernel(mcur, kcur, &ap[(ip-rp0)*kcur*mr], bpanel, c, ldc, add)
		}
		edgeBuf := getFloats((mr + 8) * nr) // addT4x8 reads 8 rows from row 8
		defer putFloats(edgeBuf)
		edge := *edgeBuf
		for {
			t := claim(w)
			if t < 0 {
				return
			}
			ti, tj := t/tc, t%tc
			var rp1 int
			rp0, rp1 = ti*rowPanels/tr, (ti+1)*rowPanels/tr
			cp0, cp1 := tj*colPanels/tc, (tj+1)*colPanels/tc
			for pc = 0; pc < k; pc += kcur {
				kcur = blockEnd(pc) - pc
				for ip := rp0; ip < rp1 && !inPlaceA; ip++ {
					ap = *aBuf
					i := ip * mr
					packA(ap[(ip-rp0)*kcur*mr:(ip-rp0+1)*kcur*mr], a, transA, m, k, i, min(mr, m-i), pc, kcur, mr)
				}
				add := acc || pc > 0
				for jp := cp0; jp < cp1; jp++ {
					var bpanel *float32
					if inPlaceB {
						bpanel = &b[pc*n+jp*nr]
					} else {
						bpanel = &bp[pc*colPanels*nr+jp*kcur*nr]
					}
					j := jp * nr
					ncur := min(nr, n-j)
					for ip := rp0; ip < rp1; ip++ {
						i := ip * mr
						mcur := min(mr, m-i)
						if ncur == nr && !outT {
							micro(ip, i, mcur, bpanel, &c[i*n+j], n, add)
							continue
						}
						// Right edge or transposed output: compute the
						// full-width block into a scratch tile, then keep the
						// columns that exist with the same single add.
						micro(ip, i, mcur, bpanel, &edge[0], nr, false)
						if outT {
							mergeTransposed(c, m, edge, nr, i, j, mcur, ncur, add)
							continue
						}
						mergeEdge(c, n, edge, nr, i, j, mcur, ncur, add)
					}
				}
			}
		}
	}
	if workers > 1 && tr*tc > 1 {
		var wg sync.WaitGroup
		for w := 1; w < min(workers, tr*tc); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				work(w)
			}()
		}
		work(0)
		wg.Wait()
	} else {
		work(0)
	}
}

// addT8x8 and addT4x8, when set, write the transpose of an 8×8 (4×8) block
// of a tile t (row stride ldt) into c (row stride ldc), adding when add:
// c[q·ldc+r] (+)= t[r·ldt+q]. addT4x8 reads eight rows of t.
var addT8x8, addT4x8 func(c *float32, ldc int, t *float32, ldt int, add bool)

// mergeTransposed stores (or adds) the mcur×ncur block of the scratch tile
// edge (row stride nr) transposed into c (row stride ldc) at column i, row j:
// c[(j+q)·ldc+i+r] (+)= edge[r·nr+q].
func mergeTransposed(c []float32, ldc int, edge []float32, nr, i, j, mcur, ncur int, add bool) {
	scalar := func(r0, r1, q0, q1 int) {
		if r0 >= r1 {
			return
		}
		for q := q0; q < q1; q++ {
			ccol := c[(j+q)*ldc+i+r0 : (j+q)*ldc+i+r1]
			for r := range ccol {
				if add {
					ccol[r] += edge[(r0+r)*nr+q]
				} else {
					ccol[r] = edge[(r0+r)*nr+q]
				}
			}
		}
	}
	r0 := 0
	if addT8x8 != nil {
		q8 := ncur &^ 7
		need("mergeTransposed", "c", len(c), (j+ncur-1)*ldc+i+mcur)
		for ; r0+8 <= mcur; r0 += 8 {
			for q := 0; q < q8; q += 8 {
				addT8x8(&c[(j+q)*ldc+i+r0], ldc, &edge[r0*nr+q], nr, add)
			}
			scalar(r0, r0+8, q8, ncur)
		}
		if r0+4 <= mcur {
			need("mergeTransposed", "edge", len(edge), (r0+8)*nr)
			for q := 0; q < q8; q += 8 {
				addT4x8(&c[(j+q)*ldc+i+r0], ldc, &edge[r0*nr+q], nr, add)
			}
			scalar(r0, r0+4, q8, ncur)
			r0 += 4
		}
	}
	scalar(r0, mcur, 0, ncur)
}

// tileGrid splits rowPanels×colPanels micro-panels into tr×tc tiles no
// larger than mcPanels×ncPanels, with enough tiles to keep every worker busy.
func tileGrid(rowPanels, colPanels, workers, mcPanels, ncPanels int) (tr, tc int) {
	tr = (rowPanels + mcPanels - 1) / mcPanels
	tc = (colPanels + ncPanels - 1) / ncPanels
	if workers <= 1 {
		return tr, tc
	}
	// Round the tile count up to a multiple of the workers, preferring more
	// row tiles (each packs its own A, B is shared).
	for tr*tc%workers != 0 || tr*tc < workers {
		switch {
		case tr < rowPanels:
			tr++
		case tc < colPanels:
			tc++
		default:
			return tr, tc
		}
	}
	return tr, tc
}

// packA copies rows i..i+mcur of A's K block [pc, pc+kcur) into dst as a
// panel with row stride mr: dst[p·mr+r] = A[i+r][pc+p]. A is m×k, or k×m
// when transA.
func packA(dst, a []float32, transA bool, m, k, i, mcur, pc, kcur, mr int) {
	if transA {
		for p := 0; p < kcur; p++ {
			copy(dst[p*mr:p*mr+mcur], a[(pc+p)*m+i:(pc+p)*m+i+mcur])
		}
		return
	}
	for r := 0; r < mcur; r++ {
		src := a[(i+r)*k+pc : (i+r)*k+pc+kcur]
		for p, v := range src {
			dst[p*mr+r] = v
		}
	}
}

// packBT8, when set, transposes eight rows of a row-major matrix (stride
// lds) into eight columns of a panel (row stride nr) for kc steps, kc a
// multiple of 8.
var packBT8 func(dst *float32, nr int, src *float32, lds, kc int)

// packRows32, when set, copies rows rows of 32 floats from a row-major
// source (stride lds) into a panel 32 wide.
var packRows32 func(dst, src *float32, lds, rows int)

// packB copies columns j..j+nr of B's K block [pc, pc+kcur) into dst as a
// panel nr wide, zero-padded past column n: dst[p·nr+q] = B[pc+p][j+q].
// B is k×n, or n×k when transB.
func packB(dst, b []float32, transB bool, k, n, pc, kcur, j, nr int) {
	ncur := min(nr, n-j)
	if ncur < nr {
		clear(dst)
	}
	if transB {
		q := 0
		if packBT8 != nil && kcur >= 8 {
			// Eight columns at a time through a register transpose.
			k8 := kcur &^ 7
			for ; q+8 <= ncur; q += 8 {
				need("packB", "b", len(b), (j+q+7)*k+pc+k8)
				packBT8(&dst[q], nr, &b[(j+q)*k+pc], k, k8)
				for i := 0; i < 8; i++ {
					src := b[(j+q+i)*k+pc+k8 : (j+q+i)*k+pc+kcur]
					for p, v := range src {
						dst[(k8+p)*nr+q+i] = v
					}
				}
			}
		}
		for ; q < ncur; q++ {
			src := b[(j+q)*k+pc : (j+q)*k+pc+kcur]
			for p, v := range src {
				dst[p*nr+q] = v
			}
		}
		return
	}
	if packRows32 != nil && nr == 32 && ncur == 32 && kcur > 0 {
		need("packB", "b", len(b), (pc+kcur-1)*n+j+32)
		need("packB", "dst", len(dst), kcur*32)
		packRows32(&dst[0], &b[pc*n+j], n, kcur)
		return
	}
	for p := 0; p < kcur; p++ {
		copy(dst[p*nr:p*nr+ncur], b[(pc+p)*n+j:(pc+p)*n+j+ncur])
	}
}

// floats views n float32s at p as a slice.
func floats(p *float32, n int) []float32 { return unsafe.Slice(p, n) }

// mergeEdge keeps the ncur columns that exist of an mcur×nr scratch tile
// (row stride nr) computed for C's block at row i, column j (row stride
// ldc): stored, or added with a single add each when add is set.
func mergeEdge(c []float32, ldc int, edge []float32, nr, i, j, mcur, ncur int, add bool) {
	for r := range mcur {
		crow := c[(i+r)*ldc+j : (i+r)*ldc+j+ncur]
		erow := edge[r*nr : r*nr+ncur]
		if add {
			for q := range crow {
				crow[q] += erow[q]
			}
		} else {
			copy(crow, erow)
		}
	}
}

// OneWorker reports whether a product of an m×k and a k×n matrix (in any
// of the layouts) runs on one worker: a caller with independent products
// that small can run them side by side to keep every core busy.
func OneWorker(m, k, n int) bool { return 2*m*n*k < minParallelFLOPs }

// minParallelFLOPs is the smallest product that runs on more than one
// worker. Below it the workers' start, their wait for each other and the
// output and operands crossing between cores cost more than the second
// core gives: measured with two workers against one on a 2-core AVX-512
// machine, 64×256×1024 (34 MFLOP) took 226 µs against 159 µs,
// 128×256×1024 (67 MFLOP) 323 against 285 µs and 1024×64×192 (25 MFLOP)
// 113 against 103 µs, while 256×256×1024 (134 MFLOP) took 490 against
// 596 µs and 2048×64×256 (67 MFLOP) 226 against 276 µs. Most of that start
// is the second core waking: on that virtual machine a goroutine woken
// while the other core slept ran 135-171 µs later. Helpers that spin
// between calls make two workers win on every size, but did not speed up
// the training passes, whose cores are rarely idle (docs/speed.md).
var minParallelFLOPs = 1 << 26
