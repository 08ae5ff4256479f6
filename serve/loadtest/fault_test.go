package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/serve"
	"github.com/urlvr/urlvr/serve/internal/tinymodel"
	"github.com/urlvr/urlvr/serve/modelserver"
	"github.com/urlvr/urlvr/serve/rewardserver"
)

// rssGrowthBound is how much the test process's resident memory may grow
// over the load-and-fault test. Generous on purpose: the test holds both
// services, their clients and Go's heap headroom (GOGC doubles the live
// heap before collecting), and must not fail on a busy machine; what it
// catches is memory that grows with the attack, as 20 bodies of 60 MB took
// the reward service from 234 MB to 1.32 GB when bodies were read before
// admission. Here 24 bodies of 4 MiB would be 96 MiB on their own, more
// than the budget lets in.
const rssGrowthBound = 256 << 20

// residentBytes is the process's resident set size (VmRSS) on Linux, else
// the memory Go has obtained from the system.
func residentBytes() uint64 {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				f := strings.Fields(rest)
				if kb, err := strconv.ParseUint(f[0], 10, 64); err == nil && len(f) == 2 && f[1] == "kB" {
					return kb << 10
				}
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Sys
}

const faultToken = "load-and-fault-token-0123456789"

// serveOn runs h on a loopback port until the test ends.
func serveOn(t *testing.T, h http.Handler, lim serve.Limits, onShutdown func()) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- serve.Serve(ctx, ln, h, lim, log, onShutdown) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// authed sends a request with the fault test's token.
func authed(ctx context.Context, method, url, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+faultToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// TestLoadAndFault puts both services under bounded load and attack on
// loopback, in the CI run: the reward service under the load test's phases
// (every reward checked against the library), oversized and slow bodies;
// the model server under concurrent seeded requests (every answer checked
// against the same request run alone), over-budget requests and clients
// that leave. It asserts zero wrong answers, healthy services afterwards
// and bounded memory growth.
func TestLoadAndFault(t *testing.T) {
	if testing.Short() {
		t.Skip("load-and-fault test skipped in -short mode")
	}
	runtime.GC()
	before := residentBytes()

	// The reward service, with a token and a small body budget.
	lim := serve.Limits{MaxBodyBytes: 8 << 20, MaxBodyInFlight: 8 << 20, MaxConcurrent: 4, QueueTimeout: 5 * time.Second,
		BodyGrace: 300 * time.Millisecond, MinBodyRate: 1 << 20}
	rs, err := rewardserver.New(rewardserver.Config{Estimator: reward.MajorityVoting{}, GroupSize: 8, Split: rewardserver.SplitWait,
		GroupWait: 5 * time.Second, Tokens: []string{faultToken}, Limits: lim, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rURL := serveOn(t, rs.Handler(), lim, rs.Close)
	for _, shape := range []string{"verl", "openrlhf-split"} {
		rep, err := Run(context.Background(), Options{URL: rURL, Token: faultToken, Shape: shape, Prompts: 8, N: 8, ResponseChars: 200,
			Batches: 2, Concurrency: []int{1, 4}, Requests: 24, Baseline: 3, Disconnects: 8, Fuzz: 60})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() || rep.Mismatches != 0 || !rep.AuthRefused {
			var b strings.Builder
			rep.WriteText(&b)
			t.Fatalf("%s load test:\n%s", shape, b.String())
		}
	}

	// Oversized bodies: 24 connections of 4 MiB each at once. The budget
	// lets two in at a time; the rest are refused before their bodies are
	// read. A refused client still uploading may see the connection reset
	// instead of the 503 (the server closes rather than read the upload);
	// either way it knows to retry.
	big := `{"responses": ["` + strings.Repeat("x", 4<<20) + `"], "group_ids": [1]}`
	var wg sync.WaitGroup
	codes := make(chan int, 24)
	for range 24 {
		wg.Go(func() {
			code, _, err := authed(context.Background(), "POST", rURL+"/v1/rewards?run=fault-big", big)
			if err != nil {
				codes <- -1
				return
			}
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[200]+count[503]+count[-1] != 24 || count[200] == 0 {
		t.Errorf("large bodies answered %v; want 200, 503 or a reset each, some 200", count)
	}

	// Slow senders, as many as work slots: cut off (408), slots free again.
	var slow []net.Conn
	for range 4 {
		conn, err := net.Dial("tcp", strings.TrimPrefix(rURL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/rewards HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{", faultToken)
		slow = append(slow, conn)
	}
	for i, conn := range slow {
		conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a guard against hanging
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("slow sender %d: %v %v", i, resp, err)
		}
	}

	// The model server, with a token and a token budget per request.
	dir := t.TempDir()
	if err := tinymodel.Write(dir, 7); err != nil {
		t.Fatal(err)
	}
	m, err := engine.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	mlim := serve.Limits{MaxConcurrent: 8, MaxQueue: 64, QueueTimeout: 30 * time.Second}
	ms, err := modelserver.New(modelserver.Config{Model: m, Tokenizer: tok, Name: "tiny", MaxRequestTokens: 1 << 14,
		Tokens: []string{faultToken}, Limits: mlim, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ms.Close)
	mURL := serveOn(t, ms.Handler(), mlim, ms.Close)
	request := func(seed int) string {
		return fmt.Sprintf(`{"prompt": ["q: %d+%d=?", "q: 7*%d=?"], "n": 4, "max_tokens": 24, "temperature": 0.9, "seed": %d}`, seed%10, seed%7, seed%5, seed)
	}
	const distinct = 8
	want := make([]string, distinct)
	for i := range distinct {
		code, data, err := authed(context.Background(), "POST", mURL+"/v1/completions", request(i))
		if err != nil || code != 200 {
			t.Fatalf("reference request %d: %d %v %s", i, code, err, data)
		}
		want[i] = choiceTexts(t, data)
	}
	var wrong, failed sync.Map
	ctx, cancel := context.WithCancel(context.Background())
	for k := range 64 {
		wg.Go(func() {
			i := k % distinct
			if k%8 == 7 {
				// A client that leaves mid-request.
				c, stop := context.WithTimeout(ctx, time.Millisecond)
				defer stop()
				authed(c, "POST", mURL+"/v1/completions", request(i))
				return
			}
			code, data, err := authed(ctx, "POST", mURL+"/v1/completions", request(i))
			switch {
			case err != nil || code != 200:
				failed.Store(k, fmt.Sprint(code, err, string(data)))
			case choiceTexts(t, data) != want[i]:
				wrong.Store(k, true)
			}
		})
	}
	wg.Wait()
	cancel()
	wrong.Range(func(k, _ any) bool { t.Errorf("request %v: a different answer than alone", k); return true })
	failed.Range(func(k, v any) bool { t.Errorf("request %v failed: %v", k, v); return true })
	over := `{"prompt": [` + strings.TrimSuffix(strings.Repeat(`"q: 1+1=?",`, 1000), ",") + `], "n": 256, "max_tokens": 16}`
	if code, data, _ := authed(context.Background(), "POST", mURL+"/v1/completions", over); code != 400 || !bytes.Contains(data, []byte("--max-request-tokens")) {
		t.Errorf("over-budget request: %d %s", code, data)
	}
	if resp, err := http.Get(mURL + "/v1/models"); err != nil || resp.StatusCode != 401 {
		t.Errorf("model list without a token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	for _, u := range []string{rURL + "/healthz", mURL + "/health"} {
		if resp, err := http.Get(u); err != nil || resp.StatusCode != 200 {
			t.Errorf("%s after the test: %v %v", u, resp, err)
		} else {
			resp.Body.Close()
		}
	}

	runtime.GC()
	after := residentBytes()
	growth := int64(after) - int64(before)
	t.Logf("resident memory %d MiB before, %d MiB after (growth %d MiB, bound %d MiB)", before>>20, after>>20, growth>>20, rssGrowthBound>>20)
	if growth > rssGrowthBound {
		t.Errorf("resident memory grew by %d MiB, over the bound of %d MiB", growth>>20, rssGrowthBound>>20)
	}
}

// choiceTexts returns a completion answer's texts, in order, as one string
// (safe to call from any goroutine).
func choiceTexts(t *testing.T, data []byte) string {
	t.Helper()
	var resp modelserver.CompletionResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		t.Errorf("decoding %s: %v", data, err)
		return ""
	}
	var b strings.Builder
	for _, c := range resp.Choices {
		fmt.Fprintf(&b, "%d:%q;", c.Index, c.Text)
	}
	return b.String()
}
