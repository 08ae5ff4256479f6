package kernels

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of scalar operations below which a kernel
// runs on the calling goroutine: starting goroutines costs about a
// microsecond each, which dominates small row operations.
const minParallelWork = 1 << 15

// Workers caps the goroutines one kernel call spreads its work over. The
// package-level functions use every core (GOMAXPROCS). A caller that already
// runs independent calls side by side, one per core, calls the methods of
// its share instead, so that each call keeps to its own core rather than
// queueing for the other's. The cap never changes a result: kernels split
// only independent outputs, or work in a fixed chunking.
type Workers int

// AllCores lets a call use GOMAXPROCS goroutines.
const AllCores Workers = 0

// Count is the number of goroutines a call with this cap may use: the cap,
// or GOMAXPROCS when that is smaller or the cap is AllCores.
func (w Workers) Count() int {
	p := runtime.GOMAXPROCS(0)
	if w > 0 && int(w) < p {
		return int(w)
	}
	return p
}

// parallelFor calls body(lo, hi) over [0, n) in chunks run concurrently on
// at most workers goroutines. Callers only split independent outputs, so
// the chunking (which depends on the worker count) never changes a result.
// work is the approximate scalar operation count of the whole loop, used to
// decide whether to go parallel.
func parallelFor(workers, n, work int, body func(lo, hi int)) {
	parallelForAligned(workers, n, 1, work, body)
}

// parallelForAligned is parallelFor with every chunk boundary a multiple of
// align. Elementwise loops use align 8 (or more): their vector code handles
// whole groups of 8 and scalar code the rest, and aligned boundaries keep
// each element on the same side of that split whatever the core count.
func parallelForAligned(workers, n, align, work int, body func(lo, hi int)) {
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
