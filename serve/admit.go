package serve

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// ByteBudget bounds the request-body bytes that all requests together hold
// in memory. Without it the memory a service may need is its connection
// limit times its body limit (4096 × 64 MiB); with it, the budget.
type ByteBudget struct {
	mu        sync.Mutex
	used, cap int64
}

// NewByteBudget returns a budget of n bytes.
func NewByteBudget(n int64) *ByteBudget { return &ByteBudget{cap: n} }

// take reserves n bytes if they are free.
func (b *ByteBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.cap {
		return false
	}
	b.used += n
	return true
}

func (b *ByteBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// InUse returns the bytes reserved now and the budget.
func (b *ByteBudget) InUse() (used, capacity int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.cap
}

// BodyPolicy says how a request body may be read: at most MaxBytes, with
// room reserved in Budget first, and at least MinRate bytes per second after
// a Grace period (a client that sends slower loses its connection, so that
// slow senders cannot hold the work slots they were admitted to). The whole
// body must also arrive within ReadTimeout of the call, when it is set.
type BodyPolicy struct {
	MaxBytes    int64
	Budget      *ByteBudget
	MinRate     int64
	Grace       time.Duration
	ReadTimeout time.Duration
}

// Refuse marks a request answered before its body was read (a full queue,
// say): the connection is closed after the answer instead of being kept
// for the next request, which would first mean reading the unwanted body,
// for as long as the client takes to send it.
func Refuse(w http.ResponseWriter) { w.Header().Set("Connection", "close") }

// Body returns the body policy of the limits (defaults filled in) drawing on
// budget.
func (l Limits) Body(budget *ByteBudget) BodyPolicy {
	l = l.WithDefaults()
	return BodyPolicy{MaxBytes: l.MaxBodyBytes, Budget: budget, MinRate: l.MinBodyRate, Grace: l.BodyGrace, ReadTimeout: l.ReadTimeout}
}

// readChunk is how much of a body of unknown length is reserved and read at
// a time.
const readChunk = 64 << 10

// ReadBodyWithin reads a request body under p. Call release once the body
// and whatever was decoded from it are no longer needed: it returns the
// reserved bytes to the budget. Errors: 413 for a body over MaxBytes, 503
// when the budget has no room for it, 408 for a body that arrives too
// slowly, ErrClientGone when the client leaves, 400 for another read
// failure.
func ReadBodyWithin(w http.ResponseWriter, r *http.Request, p BodyPolicy) (body []byte, release func(), err error) {
	if r.ContentLength > p.MaxBytes {
		w.Header().Set("Connection", "close")
		return nil, nil, Errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes exceeds the limit of %d bytes (--max-body)", r.ContentLength, p.MaxBytes)
	}
	var reserved int64
	reserve := func(n int64) error {
		if p.Budget == nil || p.Budget.take(n) {
			reserved += n
			return nil
		}
		used, capacity := p.Budget.InUse()
		return Errorf(http.StatusServiceUnavailable, "server busy: %d of %d bytes of request bodies are in memory and this body needs %d more (--max-body-in-flight); retry later", used, capacity, n)
	}
	giveBack := func() {
		if p.Budget != nil && reserved > 0 {
			p.Budget.give(reserved)
			reserved = 0
		}
	}
	defer func() {
		if err != nil {
			giveBack()
			// The rest of the body is not wanted: close the connection after
			// the answer rather than let the server drain the upload first
			// (which a slow client would make last as long as it likes).
			w.Header().Set("Connection", "close")
		}
	}()

	known := r.ContentLength >= 0
	if known {
		if err := reserve(r.ContentLength); err != nil {
			return nil, nil, err
		}
		body = make([]byte, 0, r.ContentLength)
	}
	rc := http.NewResponseController(w)
	start := time.Now()
	deadlineOn := false
	// The deadline by which the first n bytes must have arrived.
	due := func(n int64) time.Time {
		d := start.Add(p.Grace)
		if p.MinRate > 0 {
			d = d.Add(time.Duration(float64(n) / float64(p.MinRate) * float64(time.Second)))
		}
		if p.ReadTimeout > 0 {
			if end := start.Add(p.ReadTimeout); end.Before(d) {
				d = end
			}
		}
		return d
	}
	defer func() {
		if deadlineOn {
			// Past the body, the connection's read side only watches for
			// the client leaving: no deadline, or the request would be
			// cancelled while it is being worked on.
			rc.SetReadDeadline(time.Time{})
		}
	}()
	for {
		if int64(len(body)) == int64(cap(body)) {
			if known {
				if int64(len(body)) == r.ContentLength {
					break
				}
			} else {
				if int64(len(body)) > p.MaxBytes {
					return nil, nil, Errorf(http.StatusRequestEntityTooLarge, "request body exceeds the limit of %d bytes (--max-body)", p.MaxBytes)
				}
				grow := min(int64(readChunk), p.MaxBytes+1-int64(len(body)))
				if err := reserve(grow); err != nil {
					return nil, nil, err
				}
				nb := make([]byte, len(body), int64(len(body))+grow)
				copy(nb, body)
				body = nb
			}
		}
		want := min(int64(cap(body)-len(body)), readChunk)
		if p.Grace > 0 || p.ReadTimeout > 0 {
			if rc.SetReadDeadline(due(int64(len(body))+want)) == nil {
				deadlineOn = true
			}
		}
		n, rerr := r.Body.Read(body[len(body) : len(body)+int(want)])
		body = body[:len(body)+n]
		if rerr == io.EOF {
			if known && int64(len(body)) < r.ContentLength {
				return nil, nil, fmt.Errorf("%w: the body ended after %d of %d bytes", ErrClientGone, len(body), r.ContentLength)
			}
			break
		}
		if rerr != nil {
			var ne net.Error
			switch {
			case errors.As(rerr, &ne) && ne.Timeout():
				return nil, nil, Errorf(http.StatusRequestTimeout, "request body too slow: %d bytes in %v, below the minimum of %d bytes/s after a %v grace (--min-body-rate, --body-grace)",
					len(body), time.Since(start).Round(time.Millisecond), p.MinRate, p.Grace)
			case errors.Is(rerr, io.ErrUnexpectedEOF) || r.Context().Err() != nil:
				return nil, nil, fmt.Errorf("%w: reading the request body: %v", ErrClientGone, rerr)
			}
			return nil, nil, BadRequest("reading the request body: %v", rerr)
		}
	}
	if int64(len(body)) > p.MaxBytes {
		return nil, nil, Errorf(http.StatusRequestEntityTooLarge, "request body exceeds the limit of %d bytes (--max-body)", p.MaxBytes)
	}
	return body, giveBack, nil
}
