package modelserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/serve"
)

// genJob is one request's generation: its prompts (each repeated n times)
// and the engine settings.
type genJob struct {
	ctx     context.Context
	prompts [][]int
	opts    engine.SampleOptions
	seeded  bool   // the request gave a seed: never merged
	key     string // jobs with equal keys may share an engine call
	done    chan genResult
}

type genResult struct {
	gens []engine.Generation
	err  error
}

// batcher runs generation jobs one engine call at a time (the engine uses
// every core for one call), merging queued jobs that sample alike.
type batcher struct {
	model    *engine.Model
	maxSeqs  int
	window   time.Duration
	maxQueue int

	mu     sync.Mutex
	queue  []*genJob
	rng    *rand.Rand // seeds of merged calls
	wake   chan struct{}
	closed bool

	calls, seqs, merged atomic.Uint64
}

func newBatcher(m *engine.Model, maxSeqs int, window time.Duration, maxQueue int, seed uint64) *batcher {
	return &batcher{model: m, maxSeqs: maxSeqs, window: window, maxQueue: maxQueue,
		rng: rand.New(rand.NewPCG(seed, 0xba7c4)), wake: make(chan struct{}, 1)}
}

// errQueueFull refuses a job when the engine's queue is full.
var errQueueFull = errors.New("engine queue full")

// submit queues a job; it fails with errQueueFull when the queue is full.
func (b *batcher) submit(j *genJob) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return serve.Errorf(503, "shutting down")
	}
	if len(b.queue) >= b.maxQueue {
		return errQueueFull
	}
	b.queue = append(b.queue, j)
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return nil
}

func (b *batcher) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// run serves the queue until ctx ends; queued jobs then fail.
func (b *batcher) run(ctx context.Context) {
	for {
		select {
		case <-b.wake:
		case <-ctx.Done():
			b.mu.Lock()
			b.closed = true
			q := b.queue
			b.queue = nil
			b.mu.Unlock()
			for _, j := range q {
				j.done <- genResult{err: serve.Errorf(503, "shutting down")}
			}
			return
		}
		for b.step(ctx) {
		}
	}
}

// step takes the first queued job and the later ones it can merge with,
// and runs them; it returns false when the queue is empty.
func (b *batcher) step(ctx context.Context) bool {
	b.mu.Lock()
	if len(b.queue) == 0 {
		b.mu.Unlock()
		return false
	}
	first := b.queue[0]
	b.mu.Unlock()
	if !first.seeded && b.window > 0 && len(first.prompts) < b.maxSeqs {
		// Give requests sent at the same moment a chance to join.
		time.Sleep(b.window)
	}
	b.mu.Lock()
	jobs := []*genJob{first}
	n := len(first.prompts)
	keep := b.queue[:0]
	for _, j := range b.queue[1:] {
		if !first.seeded && !j.seeded && j.key == first.key && n+len(j.prompts) <= b.maxSeqs {
			jobs = append(jobs, j)
			n += len(j.prompts)
			continue
		}
		keep = append(keep, j)
	}
	b.queue = keep
	seed := first.opts.Seed
	if !first.seeded {
		seed = b.rng.Uint64()
	}
	b.mu.Unlock()

	// Jobs whose clients left are not run.
	live := jobs[:0]
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.done <- genResult{err: err}
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return true
	}
	var prompts [][]int
	for _, j := range live {
		prompts = append(prompts, j.prompts...)
	}
	runCtx, cancel := anyAlive(ctx, live)
	opts := live[0].opts
	opts.Seed = seed
	gens, err := b.sample(runCtx, prompts, opts)
	cancel()
	b.calls.Add(1)
	b.seqs.Add(uint64(len(prompts)))
	if len(live) > 1 {
		b.merged.Add(uint64(len(live)))
	}
	off := 0
	for _, j := range live {
		if err != nil {
			j.done <- genResult{err: err}
			continue
		}
		j.done <- genResult{gens: gens[off : off+len(j.prompts)]}
		off += len(j.prompts)
	}
	return true
}

// anyAlive returns a context that ends with parent or once every job's
// context has ended: a shared engine call stops when none of its requests
// still wants the answer (the engine checks between decode steps).
func anyAlive(parent context.Context, jobs []*genJob) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	var left atomic.Int64
	left.Store(int64(len(jobs)))
	stops := make([]func() bool, len(jobs))
	for i, j := range jobs {
		stops[i] = context.AfterFunc(j.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}

// sample runs the engine in calls of at most maxSeqs sequences, the c-th
// with its own seed derived from opts.Seed, so that a request's result
// depends only on the request.
func (b *batcher) sample(ctx context.Context, prompts [][]int, opts engine.SampleOptions) ([]engine.Generation, error) {
	gens, err := b.model.SampleChunks(ctx, prompts, opts, b.maxSeqs)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("engine: %w", err)
	}
	return gens, nil
}
