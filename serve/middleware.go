package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts what the HTTP layer saw, for the /metrics page: requests by
// route and status, latency by route, requests in flight, requests turned
// away, panics recovered and clients that left before their answer.
type Stats struct {
	mu        sync.Mutex
	requests  map[routeCode]uint64
	latencies map[string]*Histogram

	inFlight    atomic.Int64
	rejected    atomic.Uint64
	panics      atomic.Uint64
	disconnects atomic.Uint64
}

type routeCode struct {
	route string
	code  int
}

// NewStats returns empty counters.
func NewStats() *Stats {
	return &Stats{requests: map[routeCode]uint64{}, latencies: map[string]*Histogram{}}
}

func (s *Stats) observe(route string, code int, d time.Duration) {
	s.mu.Lock()
	s.requests[routeCode{route, code}]++
	h := s.latencies[route]
	if h == nil {
		h = NewHistogram(LatencyBuckets)
		s.latencies[route] = h
	}
	s.mu.Unlock()
	h.Observe(d.Seconds())
}

// Disconnected counts a client that went away before its answer was written.
func (s *Stats) Disconnected() { s.disconnects.Add(1) }

// Rejected counts a request turned away because the server was saturated.
func (s *Stats) Rejected() { s.rejected.Add(1) }

// WriteProm writes the counters under the prefix (for example "urlvr").
func (s *Stats) WriteProm(p *PromWriter, prefix string) {
	s.mu.Lock()
	keys := make([]routeCode, 0, len(s.requests))
	for k := range s.requests {
		keys = append(keys, k)
	}
	counts := make(map[routeCode]uint64, len(keys))
	for _, k := range keys {
		counts[k] = s.requests[k]
	}
	routes := make([]string, 0, len(s.latencies))
	for r := range s.latencies {
		routes = append(routes, r)
	}
	hists := make(map[string]*Histogram, len(routes))
	for _, r := range routes {
		hists[r] = s.latencies[r]
	}
	s.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	sort.Strings(routes)

	name := prefix + "_http_requests_total"
	p.Family(name, "counter", "HTTP requests answered, by route and status code.")
	for _, k := range keys {
		p.Sample(name, []Label{{"route", k.route}, {"code", strconv.Itoa(k.code)}}, float64(counts[k]))
	}
	name = prefix + "_http_request_duration_seconds"
	p.Family(name, "histogram", "Time from the request's arrival at the handler to its answer, by route.")
	for _, r := range routes {
		hists[r].Write(p, name, []Label{{"route", r}})
	}
	p.Metric(prefix+"_http_in_flight_requests", "gauge", "Requests being handled now.", float64(s.inFlight.Load()))
	p.Metric(prefix+"_http_rejected_total", "counter", "Requests answered 503 because every work slot and the queue were taken.", float64(s.rejected.Load()))
	p.Metric(prefix+"_http_panics_total", "counter", "Handler panics recovered (each answered 500).", float64(s.panics.Load()))
	p.Metric(prefix+"_http_client_disconnects_total", "counter", "Clients that went away before their answer was written.", float64(s.disconnects.Load()))
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flushing,
// deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware wraps a ServeMux-routed handler: it recovers panics (answering
// 500 when nothing was written yet), counts requests and latencies per
// route pattern in stats, and logs one structured line per request (debug
// level for probes and metric scrapes, info otherwise, warn for 5xx).
func Middleware(next http.Handler, stats *Stats, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		stats.inFlight.Add(1)
		defer func() {
			stats.inFlight.Add(-1)
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				stats.panics.Add(1)
				log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					WriteError(sw, Errorf(http.StatusInternalServerError, "internal error: %v", v))
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			d := time.Since(start)
			stats.observe(route, sw.status, d)
			level := slog.LevelInfo
			switch {
			case sw.status >= 500:
				level = slog.LevelWarn
			case r.Method == http.MethodGet && (route == "GET /metrics" || route == "GET /healthz" || route == "GET /readyz"):
				level = slog.LevelDebug
			}
			if log.Enabled(r.Context(), level) {
				log.LogAttrs(r.Context(), level, "request",
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
					slog.Float64("ms", float64(d.Microseconds())/1000), slog.Int64("bytes_in", r.ContentLength),
					slog.Int64("bytes_out", sw.bytes), slog.String("remote", r.RemoteAddr))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// ErrSaturated is returned by Limiter.Acquire when no work slot frees up.
var ErrSaturated = errors.New("server saturated")

// Limiter bounds the requests doing CPU work at once. A request that finds
// every slot taken waits in a bounded queue for at most the queue timeout;
// beyond the queue, or after the timeout, it is refused (the handler answers
// 503 with Retry-After) rather than piling up latency for everyone.
type Limiter struct {
	slots    chan struct{}
	waiting  atomic.Int64
	maxQueue int64
	timeout  time.Duration
}

// NewLimiter returns a limiter with slots work slots, a queue of maxQueue
// waiters and the given queue timeout.
func NewLimiter(slots, maxQueue int, timeout time.Duration) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(slots, 1)), maxQueue: int64(max(maxQueue, 0)), timeout: timeout}
}

// Acquire takes a slot; call release when the work is done. It fails with
// ErrSaturated, or with the context's error when the client leaves.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	release = func() { <-l.slots }
	select {
	case l.slots <- struct{}{}:
		return release, nil
	default:
	}
	if l.waiting.Add(1) > l.maxQueue {
		l.waiting.Add(-1)
		return nil, ErrSaturated
	}
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.timeout)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, ErrSaturated
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Busy returns the slots taken and the requests queued.
func (l *Limiter) Busy() (working, queued int) {
	return len(l.slots), int(l.waiting.Load())
}

// Capacity returns the number of slots.
func (l *Limiter) Capacity() int { return cap(l.slots) }
