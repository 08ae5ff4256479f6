package kernels

import "fmt"

// PackedBT is a matrix B [n×k] (linear-layer weights laid out [out×in], or
// several such matrices stacked) prepared for many products A·Bᵀ with few
// rows each, such as the steps of batched generation. MatMulBT repacks B on
// every call; a PackedBT either packs it once (Pack) into the column panels
// of the fastest micro-kernel, so that a 64-row product runs the
// micro-kernel on A in place and stores C directly, or keeps a view of it
// (View) and, on each product, packs only the few rows of A and writes C
// through a transposed tile: slower per product, but with no copy of B,
// which pays when B is large and used for few products.
//
// MulBT computes every element exactly as MatMulBT does for more than four
// rows (the same FMA chain per K block, the K blocks added in order), in
// both forms. So a row of C depends on nothing but the same row of A: the
// results are the same bits whatever the number of rows, their split
// between goroutines, the core count, or the form. A PackedBT may be read
// by several goroutines at once.
type PackedBT struct {
	arch   *gemmArch
	k, n   int
	panels []packedPanel
	data   []float32 // packed: K block after K block; block pc holds every panel, kcur×nr each
	parts  []viewPart
	view   bool
}

// rowAPrefetch is a rowAKernel that, while it reads its B panel, prefetches
// the panel of the same size at pf (a hint: pf may point anywhere).
type rowAPrefetch func(mr, kc int, a *float32, lda int, b, c *float32, ldc int, add bool, pf *float32)

// packedPanel is one column panel: columns col..col+cols of C (cols ≤ nr,
// fewer only at the end of a stacked part; the panel is zero-padded).
type packedPanel struct {
	col, cols int
}

// viewPart is one stacked part of a viewed B: rows col..col+rows of B.
type viewPart struct {
	b         []float32
	col, rows int
}

// Pack packs the rows of parts, stacked in order, as one matrix B [n×k]
// (n = Σ len(part)/k), reusing p's memory: C's columns are the rows of the
// first part, then of the second, and so on. Each part starts a new panel,
// so stacking costs no more than packing the parts one by one. The parts
// are copied: changing them later does not change p.
func (p *PackedBT) Pack(k int, parts ...[]float32) {
	p.packWith(archs[0], k, parts)
}

// View makes p the stacked parts, as Pack does, without copying them: later
// products read the parts in place, so they must not change while p is
// used.
func (p *PackedBT) View(k int, parts ...[]float32) {
	p.viewWith(archs[0], k, parts)
}

// checkParts validates the stacked parts and returns n.
func checkParts(k int, parts [][]float32) int {
	if k <= 0 {
		panic(fmt.Sprintf("kernels.PackedBT: k = %d", k))
	}
	n := 0
	for i, part := range parts {
		if len(part)%k != 0 {
			panic(fmt.Sprintf("kernels.PackedBT: part %d has %d elements, not a multiple of k = %d", i, len(part), k))
		}
		n += len(part) / k
	}
	return n
}

// viewWith views the parts for one micro-kernel.
func (p *PackedBT) viewWith(arch *gemmArch, k int, parts [][]float32) {
	p.n = checkParts(k, parts)
	p.arch, p.k, p.view = arch, k, true
	p.panels, p.data = p.panels[:0], p.data[:0]
	p.parts = p.parts[:0]
	col := 0
	for _, part := range parts {
		rows := len(part) / k
		p.parts = append(p.parts, viewPart{b: part, col: col, rows: rows})
		col += rows
	}
}

// packWith packs for one micro-kernel (tests run each one usable here).
func (p *PackedBT) packWith(arch *gemmArch, k int, parts [][]float32) {
	checkParts(k, parts)
	nr, kc := arch.nr, arch.kc
	p.arch, p.k, p.n, p.view = arch, k, 0, false
	p.panels, p.parts = p.panels[:0], p.parts[:0]
	type partPanel struct {
		part []float32
		rows int // rows of the part
		j    int // first row of the part in this panel
	}
	var src []partPanel
	for _, part := range parts {
		rows := len(part) / k
		for j := 0; j < rows; j += nr {
			p.panels = append(p.panels, packedPanel{col: p.n + j, cols: min(nr, rows-j)})
			src = append(src, partPanel{part: part, rows: rows, j: j})
		}
		p.n += rows
	}
	np := len(p.panels)
	if need := k * np * nr; cap(p.data) < need {
		p.data = make([]float32, need)
	} else {
		p.data = p.data[:need]
	}
	parallelFor(AllCores.Count(), np, k*np*nr, func(j0, j1 int) {
		for jp := j0; jp < j1; jp++ {
			s := src[jp]
			for pc := 0; pc < k; pc += kc {
				kcur := min(kc, k-pc)
				dst := p.data[pc*np*nr+jp*kcur*nr : pc*np*nr+(jp+1)*kcur*nr]
				packB(dst, s.part, true, k, s.rows, pc, kcur, s.j, nr)
			}
		}
	})
}

// Rows returns n, the rows of B (the columns of C).
func (p *PackedBT) Rows() int { return p.n }

// Cols returns k, the columns of B (the columns of A).
func (p *PackedBT) Cols() int { return p.k }

// maxEdge bounds the scratch tile of an edge or transposed block: (mr+8)×nr
// of the widest micro-kernel (12×32); addT4x8 reads eight rows from row mr-4.
const maxEdge = (12 + 8) * 32

// MulBT computes C (+)= A·Bᵀ for m rows on the calling goroutine: row i of
// A is a[i·lda : i·lda+k] and row i of C is c[i·ldc : i·ldc+n]; it adds
// into C when acc is set and overwrites it otherwise.
func (p *PackedBT) MulBT(c []float32, ldc int, a []float32, lda int, m int, acc bool) {
	if p.arch == nil {
		panic("kernels.PackedBT.MulBT: nothing packed")
	}
	k, n := p.k, p.n
	needDims("PackedBT.MulBT", m)
	if lda < k || ldc < n {
		panic(fmt.Sprintf("kernels.PackedBT.MulBT: lda %d < k %d or ldc %d < n %d", lda, k, ldc, n))
	}
	if m == 0 || n == 0 {
		return
	}
	need("PackedBT.MulBT", "a", len(a), (m-1)*lda+k)
	need("PackedBT.MulBT", "c", len(c), (m-1)*ldc+n)
	if p.view {
		p.mulView(c, ldc, a, lda, m, acc)
		return
	}
	arch := p.arch
	mr, nr, kc := arch.mr, arch.nr, arch.kc
	mc := arch.mcPanels * mr
	np := len(p.panels)
	var edgeBuf *[]float32 // scratch tile for panels narrower than nr, taken when first needed
	pfKernel := rowAPrefetchKernel(arch)
	var aPanel *[]float32 // packed rows of A for a micro-kernel that cannot read them in place
	if arch.kernelRowA == nil {
		aPanel = getFloats(mr * kc)
		defer putFloats(aPanel)
	}
	for i0 := 0; i0 < m; i0 += mc {
		i1 := min(m, i0+mc)
		for pc := 0; pc < k; pc += kc {
			kcur := min(kc, k-pc)
			add := acc || pc > 0
			for jp, pan := range p.panels {
				bpanel := &p.data[pc*np*nr+jp*kcur*nr]
				for i := i0; i < i1; i += mr {
					mcur := min(mr, i1-i)
					cAt, ldt, addT := &c[i*ldc+pan.col], ldc, add
					if pan.cols < nr {
						if edgeBuf == nil {
							edgeBuf = getFloats(maxEdge)
						}
						cAt, ldt, addT = &(*edgeBuf)[0], nr, false
					}
					switch {
					case aPanel != nil:
						ap := *aPanel
						packRowsA(ap, a, lda, i, mcur, pc, kcur, mr)
						arch.kernel(mcur, kcur, &ap[0], bpanel, cAt, ldt, addT)
					case pfKernel != nil && i == i0:
						// The block's first row panel meets this B panel
						// first, likely from memory: fetch the next one
						// (panels are stored in the order they are used).
						next := bpanel
						if at := pc*np*nr + (jp+1)*kcur*nr; at < len(p.data) {
							next = &p.data[at]
						}
						pfKernel(mcur, kcur, &a[i*lda+pc], lda, bpanel, cAt, ldt, addT, next)
					default:
						arch.kernelRowA(mcur, kcur, &a[i*lda+pc], lda, bpanel, cAt, ldt, addT)
					}
					if pan.cols == nr {
						continue
					}
					// Right edge of a part: keep the columns that exist,
					// with the single add the full-width store would do.
					for r := 0; r < mcur; r++ {
						crow := c[(i+r)*ldc+pan.col : (i+r)*ldc+pan.col+pan.cols]
						erow := (*edgeBuf)[r*nr : r*nr+pan.cols]
						if add {
							for q := range crow {
								crow[q] += erow[q]
							}
						} else {
							copy(crow, erow)
						}
					}
				}
			}
		}
	}
	if edgeBuf != nil {
		putFloats(edgeBuf)
	}
}

// packRowsA copies rows i..i+mcur of A's K block [pc, pc+kcur) (row stride
// lda) into dst as a panel with row stride mr: dst[p·mr+r] = A[i+r][pc+p].
func packRowsA(dst, a []float32, lda, i, mcur, pc, kcur, mr int) {
	for r := 0; r < mcur; r++ {
		for q, v := range a[(i+r)*lda+pc : (i+r)*lda+pc+kcur] {
			dst[q*mr+r] = v
		}
	}
}

// mulView is MulBT on a viewed B, computed as Cᵀ = B·Aᵀ: the rows of A are
// packed as the B panels of the micro-kernel, B's rows are its A operand,
// read in place, and each block comes back transposed into C. The products
// and their order per element are those of the packed form.
func (p *PackedBT) mulView(c []float32, ldc int, a []float32, lda int, m int, acc bool) {
	arch := p.arch
	k := p.k
	mr, nr, kc := arch.mr, arch.nr, arch.kc
	edgeBuf := getFloats(maxEdge)
	defer putFloats(edgeBuf)
	edge := *edgeBuf
	for i0 := 0; i0 < m; i0 += nr {
		rows := min(nr, m-i0)
		// A's rows i0..i0+rows, all K blocks: panel of block pc at pc·nr.
		aBuf := getFloats(k * nr)
		ap := *aBuf
		for pc := 0; pc < k; pc += kc {
			kcur := min(kc, k-pc)
			if lda == k {
				packB(ap[pc*nr:pc*nr+kcur*nr], a, true, k, m, pc, kcur, i0, nr)
				continue
			}
			dst := ap[pc*nr : pc*nr+kcur*nr]
			clear(dst)
			for q := 0; q < rows; q++ {
				for t, v := range a[(i0+q)*lda+pc : (i0+q)*lda+pc+kcur] {
					dst[t*nr+q] = v
				}
			}
		}
		var bPanel *[]float32 // packed rows of B for a micro-kernel that cannot read them in place
		if arch.kernelRowA == nil {
			bPanel = getFloats(mr * kc)
		}
		for _, part := range p.parts {
			for j := 0; j < part.rows; j += mr {
				jcur := min(mr, part.rows-j)
				for pc := 0; pc < k; pc += kc {
					kcur := min(kc, k-pc)
					if bPanel != nil {
						packRowsA(*bPanel, part.b, k, j, jcur, pc, kcur, mr)
						arch.kernel(jcur, kcur, &(*bPanel)[0], &ap[pc*nr], &edge[0], nr, false)
					} else {
						arch.kernelRowA(jcur, kcur, &part.b[j*k+pc], k, &ap[pc*nr], &edge[0], nr, false)
					}
					mergeTransposed(c[i0*ldc:], ldc, edge, nr, part.col+j, 0, jcur, rows, acc || pc > 0)
				}
			}
		}
		if bPanel != nil {
			putFloats(bPanel)
		}
		putFloats(aBuf)
	}
}
