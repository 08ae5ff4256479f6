package serve

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// oneByOne is a body of unknown length that returns a byte per Read.
type oneByOne struct{ r io.Reader }

func (o oneByOne) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

func readWithin(t *testing.T, body io.Reader, length int64, p BodyPolicy) ([]byte, func(), error) {
	t.Helper()
	req := httptest.NewRequest("POST", "/", body)
	req.ContentLength = length
	return ReadBodyWithin(httptest.NewRecorder(), req, p)
}

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

func TestReadBodyWithinBudget(t *testing.T) {
	budget := NewByteBudget(1000)
	p := BodyPolicy{MaxBytes: 800, Budget: budget}
	body := bytes.Repeat([]byte("x"), 600)
	got, release, err := readWithin(t, bytes.NewReader(body), 600, p)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("first body: %v", err)
	}
	if used, _ := budget.InUse(); used != 600 {
		t.Errorf("%d bytes reserved, want 600", used)
	}
	// A second body that does not fit beside the first is refused before
	// it is read, and leaves nothing reserved.
	_, _, err = readWithin(t, bytes.NewReader(body), 600, p)
	if statusOf(err) != 503 || !strings.Contains(err.Error(), "--max-body-in-flight") {
		t.Errorf("second body: %v", err)
	}
	if used, _ := budget.InUse(); used != 600 {
		t.Errorf("%d bytes reserved after a refusal, want 600", used)
	}
	release()
	if used, _ := budget.InUse(); used != 0 {
		t.Errorf("%d bytes reserved after release", used)
	}
	if _, release, err = readWithin(t, bytes.NewReader(body), 600, p); err != nil {
		t.Errorf("after release: %v", err)
	} else {
		release()
	}
	// Too large, declared or not.
	if _, _, err := readWithin(t, bytes.NewReader(make([]byte, 900)), 900, p); statusOf(err) != 413 {
		t.Errorf("declared 900 bytes: %v", err)
	}
	if _, _, err := readWithin(t, oneByOne{bytes.NewReader(make([]byte, 801))}, -1, p); statusOf(err) != 413 {
		t.Errorf("801 bytes of unknown length: %v", err)
	}
	if used, _ := budget.InUse(); used != 0 {
		t.Errorf("%d bytes reserved after refusals", used)
	}
	// A body of unknown length within the limit reads whole.
	got, release, err = readWithin(t, oneByOne{bytes.NewReader(make([]byte, 800))}, -1, p)
	if err != nil || len(got) != 800 {
		t.Fatalf("800 bytes of unknown length: %d, %v", len(got), err)
	}
	release()
	// A body cut short.
	if _, _, err := readWithin(t, bytes.NewReader(body[:10]), 600, p); !errors.Is(err, ErrClientGone) {
		t.Errorf("short body: %v", err)
	}
}

// TestSlowBodyIsCutOff is the slow-sender reproduction: a client that sends
// a byte at a time is answered 408 once the grace period is over, instead of
// holding its work slot for as long as it likes.
func TestSlowBodyIsCutOff(t *testing.T) {
	errc := make(chan error, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, release, err := ReadBodyWithin(w, r, BodyPolicy{MaxBytes: 1 << 20, MinRate: 1 << 20, Grace: 100 * time.Millisecond})
		errc <- err
		if err != nil {
			WriteError(w, err)
			return
		}
		release()
		w.WriteHeader(204)
	}))
	defer ts.Close()
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	stop := make(chan struct{})
	go func() {
		for range 1000 {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	err = <-errc
	close(stop)
	if statusOf(err) != http.StatusRequestTimeout || !strings.Contains(err.Error(), "--min-body-rate") {
		t.Fatalf("slow body: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// FuzzReadBodyWithin reads bodies of every length, declared or not, in
// reads of any size: the result is the body itself, or 413 when it is over
// the limit, and the budget is whole again after release.
func FuzzReadBodyWithin(f *testing.F) {
	f.Add([]byte(`{"a": 1}`), true, uint16(100), false)
	f.Add([]byte(""), false, uint16(0), true)
	f.Add(bytes.Repeat([]byte("y"), 300), false, uint16(299), true)
	f.Fuzz(func(t *testing.T, body []byte, declared bool, limit uint16, byteAtATime bool) {
		budget := NewByteBudget(1 << 20)
		p := BodyPolicy{MaxBytes: int64(limit), Budget: budget}
		var r io.Reader = bytes.NewReader(body)
		if byteAtATime {
			r = oneByOne{r}
		}
		length := int64(-1)
		if declared {
			length = int64(len(body))
		}
		got, release, err := readWithin(t, r, length, p)
		if len(body) > int(limit) {
			if statusOf(err) != 413 {
				t.Fatalf("%d bytes over a limit of %d: %v", len(body), limit, err)
			}
		} else {
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%d bytes within %d: %d bytes back, %v", len(body), limit, len(got), err)
			}
			release()
		}
		if used, _ := budget.InUse(); used != 0 {
			t.Fatalf("%d bytes still reserved", used)
		}
	})
}
