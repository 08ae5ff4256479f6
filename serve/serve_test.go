package serve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPromWriterFormat(t *testing.T) {
	var b bytes.Buffer
	p := NewPromWriter(&b)
	p.Family("x_total", "counter", "Things\\counted\nover time.")
	p.Sample("x_total", []Label{{"run", `a"b\c` + "\nd"}}, 3)
	p.Sample("x_total", nil, 0.25)
	p.Family("x_total", "counter", "written once")
	h := NewHistogram([]float64{0.01, 0.1})
	for _, v := range []float64{0.005, 0.01, 0.05, 2} {
		h.Observe(v)
	}
	p.Family("lat_seconds", "histogram", "Latency.")
	h.Write(p, "lat_seconds", []Label{{"route", "r"}})
	p.Metric("g", "gauge", "Inf.", -1/zero())
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `# HELP x_total Things\\counted\nover time.
# TYPE x_total counter
x_total{run="a\"b\\c\nd"} 3
x_total 0.25
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{route="r",le="0.01"} 2
lat_seconds_bucket{route="r",le="0.1"} 3
lat_seconds_bucket{route="r",le="+Inf"} 4
lat_seconds_sum{route="r"} 2.065
lat_seconds_count{route="r"} 4
# HELP g Inf.
# TYPE g gauge
g -Inf
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func zero() float64 { return 0 }

func TestLimiter(t *testing.T) {
	l := NewLimiter(1, 1, 50*time.Millisecond)
	release, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// One waiter fits the queue and times out; a second one is refused at once.
	errc := make(chan error, 1)
	go func() {
		_, err := l.Acquire(context.Background())
		errc <- err
	}()
	for {
		if _, q := l.Busy(); q == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if _, err := l.Acquire(context.Background()); !errors.Is(err, ErrSaturated) || time.Since(start) > 40*time.Millisecond {
		t.Errorf("full queue: %v after %v, want ErrSaturated at once", err, time.Since(start))
	}
	if err := <-errc; !errors.Is(err, ErrSaturated) {
		t.Errorf("queued waiter: %v, want ErrSaturated after the timeout", err)
	}
	// A waiter gets the slot when it is released.
	go func() {
		time.Sleep(10 * time.Millisecond)
		release()
	}()
	r2, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	r2()
	if w, q := l.Busy(); w != 0 || q != 0 {
		t.Errorf("busy %d queued %d at the end", w, q)
	}
}

func TestLimitListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := LimitListener(ln, 1)
	defer ll.Close()
	c1, _ := net.Dial("tcp", ln.Addr().String())
	defer c1.Close()
	s1, err := ll.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := net.Dial("tcp", ln.Addr().String())
	defer c2.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ll.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	select {
	case <-accepted:
		t.Fatal("a second connection was accepted while the first is open")
	case <-time.After(30 * time.Millisecond):
	}
	s1.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("the second connection was not accepted after the first closed")
	}
}

func TestMiddlewareRecoversAndCounts(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("bad") })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { WriteJSON(w, 200, "ok") })
	stats := NewStats()
	h := Middleware(mux, stats, discardLogger())
	for _, path := range []string{"/boom", "/ok", "/ok"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if path == "/boom" && (rec.Code != 500 || !strings.Contains(rec.Body.String(), "internal error: bad")) {
			t.Errorf("panic answered %d %s", rec.Code, rec.Body)
		}
	}
	var b bytes.Buffer
	p := NewPromWriter(&b)
	stats.WriteProm(p, "t")
	p.Flush()
	for _, line := range []string{`t_http_requests_total{route="GET /boom",code="500"} 1`, `t_http_requests_total{route="GET /ok",code="200"} 2`, "t_http_panics_total 1"} {
		if !strings.Contains(b.String(), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, b.String())
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]string{
		``:                  "request body is empty",
		`{"a": }`:           "malformed JSON at byte 7",
		`"x"`:               "request body is a JSON string; want a JSON object",
		`{"a": 1} {}`:       "malformed JSON",
		"{\"a\": \"\xff\"}": "",
	}
	for body, want := range cases {
		_, err := DecodeObject([]byte(body))
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", body, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Message, want) {
			t.Errorf("%q: %v, want a 400 containing %q", body, err, want)
		}
	}
	o, _ := DecodeObject([]byte(`{"l": ["a", 2], "n": 1.5, "s": 3}`))
	if _, _, err := o.StringList("l"); err == nil || !strings.Contains(err.Error(), "l[1]: got number, want a string") {
		t.Errorf("StringList: %v", err)
	}
	if _, _, err := o.Int("n"); err == nil || !strings.Contains(err.Error(), `field "n": got 1.5, want an integer`) {
		t.Errorf("Int: %v", err)
	}
	if _, _, err := o.String("s"); err == nil || !strings.Contains(err.Error(), `field "s": got number, want a string`) {
		t.Errorf("String: %v", err)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
