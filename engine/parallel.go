package engine

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/urlvr/urlvr/engine/kernels"
)

// parallelFor calls body(worker, lo, hi) over [0, n) in contiguous chunks on
// at most maxWorkers goroutines (and no more than GOMAXPROCS); worker numbers
// the chunk's goroutine from 0 so that it can use per-worker scratch space.
// Callers split only independent units of work, each computed in a fixed
// order by one goroutine, so results never depend on the number of workers.
func parallelFor(n, maxWorkers int, body func(worker, lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n, maxWorkers)
	if workers <= 1 {
		if n > 0 {
			body(0, 0, n)
		}
		return
	}
	onWorkers(workers, func(w int) { body(w, w*n/workers, (w+1)*n/workers) })
}

// onWorkers calls run(w) for w in [0, workers), worker 0 on the calling
// goroutine and the others each on a goroutine of its own, and returns
// when all have.
func onWorkers(workers int, run func(w int)) {
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(w)
		}()
	}
	run(0)
	wg.Wait()
}

// maxWorkersNow is the number of workers to size per-worker scratch for.
func maxWorkersNow() int { return runtime.GOMAXPROCS(0) }

// claimUnits calls body(worker, unit) for every unit in [0, n) on at most
// maxWorkers goroutines (and no more than GOMAXPROCS), each goroutine
// claiming the next unclaimed unit when it finishes one. Units of uneven
// cost thus balance, and a goroutine slowed by a busy core holds up at
// most one unit. As with parallelFor, units must be independent: which
// goroutine runs a unit never changes its result.
func claimUnits(n, maxWorkers int, body func(worker, unit int)) {
	workers := min(runtime.GOMAXPROCS(0), n, maxWorkers)
	if workers <= 1 {
		for u := 0; u < n; u++ {
			body(0, u)
		}
		return
	}
	var next atomic.Int64
	run := func(w int) {
		for {
			u := int(next.Add(1) - 1)
			if u >= n {
				return
			}
			body(w, u)
		}
	}
	onWorkers(workers, run)
}

// sideBySide runs independent jobs, each a product of at most an m×k and
// a k×n matrix, within the worker budget w. Products that small run on one
// worker (kernels.OneWorker) and alone would leave the second core idle, so
// the jobs run on up to two goroutines, each claiming the next job when it
// finishes one; larger products spread over every core themselves and run
// in order, as do all jobs when the budget is one worker. A job computes
// the same bits on whichever goroutine runs it.
func sideBySide(w kernels.Workers, m, k, n int, jobs ...func()) {
	if !kernels.OneWorker(m, k, n) || w.Count() < 2 {
		for _, job := range jobs {
			job()
		}
		return
	}
	claimUnits(len(jobs), 2, func(_, i int) { jobs[i]() })
}
