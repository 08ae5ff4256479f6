package modelserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/serve"
)

func TestTokenRequired(t *testing.T) {
	const token = "model-server-token-0123456789"
	ts := startServer(t, Config{Tokens: []string{token}})
	body := `{"prompt": "q: 1+1=?", "max_tokens": 2}`
	for _, c := range []struct {
		method, path, auth, body string
		code                     int
	}{
		{"POST", "/v1/completions", "", body, 401},
		{"POST", "/v1/completions", "Bearer wrong-token-0123456789", body, 401},
		{"GET", "/v1/models", "", "", 401},
		{"GET", "/metrics", "", "", 401},
		{"GET", "/health", "", "", 200},
		{"GET", "/healthz", "", "", 200},
		{"POST", "/v1/completions", "Bearer " + token, body, 200},
		{"GET", "/v1/models", "Bearer " + token, "", 200},
	} {
		req, _ := http.NewRequest(c.method, ts.url+c.path, strings.NewReader(c.body))
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s (%q): %d, want %d", c.method, c.path, c.auth, resp.StatusCode, c.code)
		}
	}
}

// TestRequestTokenBudget is the reproduction of one request blocking
// everyone: 1000 prompts with n = 256 are refused at once, naming the limit
// and its flag; a request within the budget is served.
func TestRequestTokenBudget(t *testing.T) {
	ts := startServer(t, Config{MaxRequestTokens: 4096})
	prompts := make([]string, 1000)
	for i := range prompts {
		prompts[i] = "q: 1+1=?"
	}
	var got CompletionResponse
	code, msg := call(t, ts.url+"/v1/completions", map[string]any{"prompt": prompts, "n": 256, "max_tokens": 16}, &got)
	if code != 400 || !strings.Contains(msg, "4096000 tokens (1000 prompts × n = 256 × max_tokens = 16)") || !strings.Contains(msg, "limit of 4096 per request (--max-request-tokens)") {
		t.Errorf("over budget: %d %q", code, msg)
	}
	// Without max_tokens the completions default (16) counts.
	code, msg = call(t, ts.url+"/v1/completions", map[string]any{"prompt": prompts[:300]}, &got)
	if code != 400 || !strings.Contains(msg, "max_tokens = 16") {
		t.Errorf("default max_tokens over budget: %d %q", code, msg)
	}
	if code, msg := call(t, ts.url+"/v1/completions", map[string]any{"prompt": prompts[:4], "n": 8, "max_tokens": 16}, &got); code != 200 || len(got.Choices) != 32 {
		t.Errorf("within budget: %d %q", code, msg)
	}
	if n := ts.batch.seqs.Load(); n != 32 {
		t.Errorf("the engine sampled %d sequences; refused requests must not reach it", n)
	}
}

// TestQueueFlagsAreHonoured is the reproduction of --max-concurrent,
// --max-queue and --queue-timeout being ignored: with one slot taken and a
// queue of one, 40 concurrent requests see at most one of them wait; the
// rest are refused with 503 naming the flags.
func TestQueueFlagsAreHonoured(t *testing.T) {
	ts := startServer(t, Config{Limits: serve.Limits{MaxConcurrent: 1, MaxQueue: 1, QueueTimeout: 50 * time.Millisecond}})
	release, err := ts.limiter.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var refused, served atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			var got CompletionResponse
			code, msg := call(t, ts.url+"/v1/completions", map[string]any{"prompt": "q: 1+1=?", "max_tokens": 2}, &got)
			switch {
			case code == 503 && strings.Contains(msg, "--max-concurrent 1, --max-queue 1"):
				refused.Add(1)
			case code == 200:
				served.Add(1)
			default:
				t.Errorf("%d %q", code, msg)
			}
		})
	}
	wg.Wait()
	if refused.Load() != 40 || served.Load() != 0 {
		t.Errorf("with the only slot taken: %d refused, %d served; want all 40 refused", refused.Load(), served.Load())
	}
	// A request that waits gets the slot when it frees up.
	done := make(chan int, 1)
	ts2 := startServer(t, Config{Limits: serve.Limits{MaxConcurrent: 1, MaxQueue: 1, QueueTimeout: time.Minute}})
	release2, err := ts2.limiter.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		var got CompletionResponse
		code, _ := call(t, ts2.url+"/v1/completions", map[string]any{"prompt": "q: 1+1=?", "max_tokens": 2}, &got)
		done <- code
	}()
	for _, q := ts2.limiter.Busy(); q != 1; _, q = ts2.limiter.Busy() {
		time.Sleep(time.Millisecond)
	}
	release2()
	if code := <-done; code != 200 {
		t.Errorf("queued request: %d", code)
	}
	release()
}

// countdownCtx is a context whose Err turns to Canceled after k calls:
// the engine checks it between decode steps.
type countdownCtx struct {
	context.Context
	left atomic.Int64
}

func (c *countdownCtx) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// TestCancellationReachesTheEngine: a generation whose context ends stops
// between decode steps instead of running to max_tokens.
func TestCancellationReachesTheEngine(t *testing.T) {
	ts := startServer(t, Config{})
	ids := ts.tok.Encode("q: 1+1=?")
	ctx := &countdownCtx{Context: context.Background()}
	ctx.left.Store(3)
	_, err := ts.batch.sample(ctx, [][]int{ids, ids}, engine.SampleOptions{MaxNewTokens: 50, Temperature: 1, Seed: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("sampling under a cancelled context: %v", err)
	}
	if ctx.left.Load() > 0 {
		t.Errorf("the engine did not look at the context")
	}
}

// TestSharedCallStopsWhenNobodyWaits: an engine call shared by several
// requests goes on while any of them waits, and stops when none does.
func TestSharedCallStopsWhenNobodyWaits(t *testing.T) {
	a, cancelA := context.WithCancel(context.Background())
	b, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	ctx, stop := anyAlive(context.Background(), []*genJob{{ctx: a}, {ctx: b}})
	defer stop()
	cancelA()
	select {
	case <-ctx.Done():
		t.Fatal("the call stopped while a request still waits")
	case <-time.After(20 * time.Millisecond):
	}
	cancelB()
	<-ctx.Done() // the test times out if it never stops
}

// TestWriteTimeoutCancelsGeneration: work past the write timeout stops
// (its answer could no longer be written) and is reported as such.
func TestWriteTimeoutCancelsGeneration(t *testing.T) {
	ts := startServer(t, Config{Limits: serve.Limits{WriteTimeout: time.Nanosecond}})
	req, _ := http.NewRequest("POST", "/v1/completions", strings.NewReader(`{"prompt": "q: 1+1=?", "max_tokens": 40}`))
	ctx, done, err := ts.admit(httptest.NewRecorder(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	<-ctx.Done()
	_, err = ts.generate(ctx, [][]int{ts.tok.Encode("q: 1+1=?")}, sampling{n: 1, temperature: 1, topP: 1, maxTokens: 40}, 16)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("generation past the write timeout: %v", err)
	}
	if n := ts.batch.seqs.Load(); n != 0 {
		t.Errorf("the engine sampled %d sequences after the deadline", n)
	}
}

// TestTinyTemperatureIsGreedy: temperature 1e-308 used to make the logits
// infinite (500 "logits are not finite"); below 1e-5 it means greedy
// decoding, as in vLLM.
func TestTinyTemperatureIsGreedy(t *testing.T) {
	ts := startServer(t, Config{})
	var tiny, greedy CompletionResponse
	for _, c := range []struct {
		temp float64
		out  *CompletionResponse
	}{{1e-308, &tiny}, {0, &greedy}} {
		code, msg := call(t, ts.url+"/v1/completions", map[string]any{"prompt": "q: 12+7=?", "temperature": c.temp, "max_tokens": 12, "seed": 3, "return_token_ids": true}, c.out)
		if code != 200 {
			t.Fatalf("temperature %v: %d %q", c.temp, code, msg)
		}
	}
	if !equalInts(tiny.Choices[0].TokenIDs, greedy.Choices[0].TokenIDs) {
		t.Errorf("temperature 1e-308 gave %v, greedy %v", tiny.Choices[0].TokenIDs, greedy.Choices[0].TokenIDs)
	}
	eos, _ := ts.tok.Special(tokenizer.RoleEOS)
	gens, err := ts.model.Sample(context.Background(), [][]int{ts.tok.Encode("q: 12+7=?")}, engine.SampleOptions{MaxNewTokens: 12, StopTokens: []int{eos}})
	if err != nil || !equalInts(greedy.Choices[0].TokenIDs, gens[0].Tokens) {
		t.Errorf("greedy %v, engine %v (%v)", greedy.Choices[0].TokenIDs, gens[0].Tokens, err)
	}
}
