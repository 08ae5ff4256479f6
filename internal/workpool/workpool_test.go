package workpool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func TestRunsEveryJobWithBoundedConcurrency(t *testing.T) {
	var running, most atomic.Int32
	var mu sync.Mutex
	done := map[int]bool{}
	err := Run(context.Background(), 20, 3, true, func(ctx context.Context, i int) error {
		now := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if now <= m || most.CompareAndSwap(m, now) {
				break
			}
		}
		mu.Lock()
		done[i] = true
		mu.Unlock()
		return nil
	})
	if err != nil || len(done) != 20 || most.Load() > 3 {
		t.Fatalf("err %v, %d jobs done, %d at once (max 3)", err, len(done), most.Load())
	}
}

func TestFailFastStopsTheRest(t *testing.T) {
	var started atomic.Int32
	boom := errors.New("boom")
	err := Run(context.Background(), 100, 1, true, func(ctx context.Context, i int) error {
		started.Add(1)
		if i == 2 {
			return fmt.Errorf("job %d: %w", i, boom)
		}
		return nil
	})
	if !errors.Is(err, boom) || started.Load() != 3 {
		t.Fatalf("err %v after %d jobs started; want boom and no job after the failing third", err, started.Load())
	}
}

func TestWithoutFailFastEveryJobRunsAndErrorsJoin(t *testing.T) {
	var started atomic.Int32
	err := Run(context.Background(), 10, 2, false, func(ctx context.Context, i int) error {
		started.Add(1)
		if i%4 == 0 {
			return fmt.Errorf("job %d failed", i)
		}
		return nil
	})
	if started.Load() != 10 || err == nil || err.Error() != "job 0 failed\njob 4 failed\njob 8 failed" {
		t.Fatalf("%d started, err %q", started.Load(), err)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var started atomic.Int32
	err := Run(ctx, 10, 2, true, func(ctx context.Context, i int) error { started.Add(1); return nil })
	if !errors.Is(err, context.Canceled) || started.Load() != 0 {
		t.Fatalf("err %v, %d started", err, started.Load())
	}
}
