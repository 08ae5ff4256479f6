// Package workpool runs numbered jobs a few at a time: the studies' runs
// and the suite's pretraining jobs share it, so that a machine with a few
// cores trains several small models side by side without oversubscribing
// them.
package workpool

import (
	"context"
	"errors"
	"sync"
)

// Run calls do(ctx, i) for every i in [0, n), starting them in order of i
// with at most workers (at least 1) running at once; no call starts once
// the context is cancelled. With failFast, the first error cancels the
// context the running calls were given, so no further call starts;
// without it, every job runs and the errors are collected. Run returns the jobs' errors joined, or the caller's context
// error when that context ended before every job had started and no job
// failed.
func Run(ctx context.Context, n, workers int, failFast bool, do func(ctx context.Context, i int) error) error {
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	workers = max(1, min(workers, n))
	next := make(chan int)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if inner.Err() != nil {
					continue // cancelled while the job was handed over
				}
				if err := do(inner, i); err != nil {
					errs[i] = err
					if failFast {
						cancel()
					}
				}
			}
		})
	}
feed:
	for i := range n {
		if inner.Err() != nil {
			break
		}
		select {
		case next <- i:
		case <-inner.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}
