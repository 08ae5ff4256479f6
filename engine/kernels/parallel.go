package kernels

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of scalar operations below which a kernel
// runs on the calling goroutine: starting goroutines costs about a
// microsecond each, which dominates small row operations.
const minParallelWork = 1 << 15

// parallelFor calls body(lo, hi) over [0, n) in chunks run concurrently.
// Callers only split independent outputs, so the chunking (which depends on
// GOMAXPROCS) never changes a result. work is the approximate scalar
// operation count of the whole loop, used to decide whether to go parallel.
func parallelFor(n, work int, body func(lo, hi int)) {
	parallelForAligned(n, 1, work, body)
}

// parallelForAligned is parallelFor with every chunk boundary a multiple of
// align. Elementwise loops use align 8 (or more): their vector code handles
// whole groups of 8 and scalar code the rest, and aligned boundaries keep
// each element on the same side of that split whatever the core count.
func parallelForAligned(n, align, work int, body func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if units := (n + align - 1) / align; workers > units {
		workers = units
	}
	if workers <= 1 || work < minParallelWork {
		if n > 0 {
			body(0, n)
		}
		return
	}
	bound := func(w int) int {
		return min(n, (w*n/workers+align-1)/align*align)
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		lo, hi := bound(w), bound(w+1)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	body(0, bound(1))
	wg.Wait()
}
