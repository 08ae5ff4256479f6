package serve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// Limits are a service's production bounds. Zero fields take the defaults
// of WithDefaults.
type Limits struct {
	// MaxBodyBytes bounds a request body (413 beyond it); MaxBodyInFlight
	// bounds the body bytes of all requests together (503 beyond it).
	MaxBodyBytes    int64
	MaxBodyInFlight int64
	// A body must arrive at MinBodyRate bytes per second or faster after a
	// BodyGrace period (408 otherwise), so that slow senders cannot hold the
	// work slots they are admitted to.
	MinBodyRate int64
	BodyGrace   time.Duration
	// MaxConcurrent is the number of requests doing CPU work at once;
	// MaxQueue more may wait up to QueueTimeout for a slot, the rest get 503.
	MaxConcurrent int
	MaxQueue      int
	QueueTimeout  time.Duration
	// MaxConnections bounds open client connections; further connections
	// wait in the kernel's accept queue.
	MaxConnections int
	// Timeouts of the HTTP server: headers, the whole request (headers and
	// body), the answer, and an idle keep-alive connection.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// ShutdownTimeout bounds the graceful drain on SIGINT/SIGTERM; requests
	// still running after it are cut off.
	ShutdownTimeout time.Duration
}

// WithDefaults fills zero fields: 64 MiB bodies, twice that (at least
// 128 MiB) in flight, 64 KiB/s after a 2 s grace, 4 work slots per CPU with
// a queue of 1024 (or 4 per slot if more) and a 2 s queue timeout, 4096
// connections, 10 s for headers, 60 s to read a request, 120 s to answer,
// 120 s idle, 30 s drain.
func (l Limits) WithDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = 64 << 20
	}
	if l.MaxBodyInFlight == 0 {
		l.MaxBodyInFlight = max(2*l.MaxBodyBytes, 128<<20)
	}
	if l.MinBodyRate == 0 {
		l.MinBodyRate = 64 << 10
	}
	def(&l.BodyGrace, 2*time.Second)
	if l.MaxConcurrent == 0 {
		l.MaxConcurrent = 4 * runtime.GOMAXPROCS(0)
	}
	if l.MaxQueue == 0 {
		// Deep enough for a burst of one-rollout requests (OpenRLHF sends a
		// step's rollouts at once); QueueTimeout still bounds each wait.
		l.MaxQueue = max(4*l.MaxConcurrent, 1024)
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = 4096
	}
	def(&l.QueueTimeout, 2*time.Second)
	def(&l.ReadHeaderTimeout, 10*time.Second)
	def(&l.ReadTimeout, 60*time.Second)
	def(&l.WriteTimeout, 120*time.Second)
	def(&l.IdleTimeout, 120*time.Second)
	def(&l.ShutdownTimeout, 30*time.Second)
	return l
}

// Serve answers HTTP requests on ln with h until ctx is cancelled (the
// command cancels it on SIGINT or SIGTERM), then shuts down gracefully: it
// stops accepting, calls each onShutdown function (a service releases
// requests it holds), waits up to lim.ShutdownTimeout for requests in flight
// and closes what remains. It returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, lim Limits, log *slog.Logger, onShutdown ...func()) error {
	lim = lim.WithDefaults()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	for _, f := range onShutdown {
		srv.RegisterOnShutdown(f)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(LimitListener(ln, lim.MaxConnections)) }()
	log.Info("serving", "addr", ln.Addr().String(), "max_body_bytes", lim.MaxBodyBytes, "max_body_in_flight", lim.MaxBodyInFlight,
		"max_concurrent", lim.MaxConcurrent, "max_queue", lim.MaxQueue, "max_connections", lim.MaxConnections)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "drain_timeout", lim.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), lim.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		log.Warn("drain timed out; closing remaining connections")
		err = srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	log.Info("stopped")
	return err
}

// LimitListener returns a listener that keeps at most n connections open:
// Accept waits while n are open.
func LimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
