package modelserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/serve"
	"github.com/urlvr/urlvr/serve/internal/tinymodel"
)

type testServer struct {
	*Server
	url   string
	model *engine.Model
	tok   tokenizer.Tokenizer
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
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
	cfg.Model, cfg.Tokenizer = m, tok
	if cfg.Name == "" {
		cfg.Name = "tiny"
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Logger = log
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Serve(ctx, ln, srv.Handler(), cfg.Limits, log, srv.Close) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &testServer{Server: srv, url: "http://" + ln.Addr().String(), model: m, tok: tok}
}

func call(t testing.TB, url string, body any, out any) (int, string) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := body.(string); ok {
		raw = []byte(s)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		json.Unmarshal(data, &e)
		return resp.StatusCode, e.Error.Message
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return 200, ""
}

func TestCompletionsMatchEngine(t *testing.T) {
	ts := startServer(t, Config{})
	prompt := "q: 12+7=?"
	var got CompletionResponse
	code, msg := call(t, ts.url+"/v1/completions", map[string]any{
		"model": "tiny", "prompt": prompt, "n": 3, "temperature": 0.8, "top_p": 0.9, "max_tokens": 12,
		"seed": 42, "logprobs": 2, "return_token_ids": true,
	}, &got)
	if code != 200 {
		t.Fatalf("%d: %s", code, msg)
	}
	if got.Object != "text_completion" || got.Model != "tiny" || len(got.Choices) != 3 {
		t.Fatalf("response %+v", got)
	}
	// The same generation, straight from the engine: a seeded request runs
	// alone, as one call with the request's seed.
	ids := ts.tok.Encode(prompt)
	eos, _ := ts.tok.Special(tokenizer.RoleEOS)
	gens, err := ts.model.Sample(context.Background(), [][]int{ids, ids, ids}, engine.SampleOptions{
		MaxNewTokens: 12, Temperature: 0.8, TopP: 0.9, StopTokens: []int{eos}, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	completion := 0
	for i, c := range got.Choices {
		g := gens[i]
		if !equalInts(c.TokenIDs, g.Tokens) || !equalInts(c.PromptTokenIDs, ids) {
			t.Errorf("choice %d: tokens %v, engine %v", i, c.TokenIDs, g.Tokens)
		}
		keep := g.Tokens
		if g.FinishReason == engine.FinishStop {
			keep = keep[:len(keep)-1]
		}
		if want := ts.tok.Decode(keep); c.Text != want || c.FinishReason != g.FinishReason {
			t.Errorf("choice %d: text %q finish %s, engine %q %s", i, c.Text, c.FinishReason, want, g.FinishReason)
		}
		// Log-probs are those of the unmodified distribution (temperature 1).
		sc, err := ts.model.LogProbs(context.Background(), [][]int{append(append([]int{}, ids...), g.Tokens...)}, engine.ScoreOptions{Temperature: 1})
		if err != nil {
			t.Fatal(err)
		}
		lp := c.Logprobs
		if len(lp.TokenLogprobs) != len(g.Tokens) || len(lp.TopLogprobs) != len(g.Tokens) {
			t.Fatalf("choice %d: %d log-probs for %d tokens", i, len(lp.TokenLogprobs), len(g.Tokens))
		}
		for j := range g.Tokens {
			want := float64(sc[0].LogProbs[len(ids)+j])
			if math.Abs(lp.TokenLogprobs[j]-want) > 1e-6 {
				t.Errorf("choice %d token %d: logprob %v, engine %v", i, j, lp.TokenLogprobs[j], want)
			}
			// The two best alternatives bound the sampled token's log-prob
			// from above, and one of them is it when it was the best.
			best := math.Inf(-1)
			for _, v := range lp.TopLogprobs[j] {
				best = math.Max(best, v)
			}
			if len(lp.TopLogprobs[j]) != 2 || best < want-1e-6 {
				t.Errorf("choice %d token %d: alternatives %v, sampled %v", i, j, lp.TopLogprobs[j], want)
			}
		}
		completion += len(g.Tokens)
	}
	if got.Usage.PromptTokens != len(ids) || got.Usage.CompletionTokens != completion || got.Usage.TotalTokens != len(ids)+completion {
		t.Errorf("usage %+v", got.Usage)
	}
}

func TestGreedyAlternativesAndTokenPrompts(t *testing.T) {
	ts := startServer(t, Config{})
	ids := ts.tok.Encode("abc")
	var got CompletionResponse
	if code, msg := call(t, ts.url+"/v1/completions", map[string]any{
		"prompt": [][]int{ids, ids}, "temperature": 0, "max_tokens": 6, "logprobs": 3,
	}, &got); code != 200 {
		t.Fatalf("%d: %s", code, msg)
	}
	if len(got.Choices) != 2 || got.Choices[0].Text != got.Choices[1].Text {
		t.Fatalf("greedy answers differ: %+v", got.Choices)
	}
	// Greedy decoding takes the most likely token: the first alternative.
	lp := got.Choices[0].Logprobs
	for j, tok := range lp.Tokens {
		best, bestTok := math.Inf(-1), ""
		for k, v := range lp.TopLogprobs[j] {
			if v > best {
				best, bestTok = v, k
			}
		}
		if bestTok != tok || math.Abs(best-lp.TokenLogprobs[j]) > 1e-6 {
			t.Errorf("token %d %q (%v): best alternative %q (%v)", j, tok, lp.TokenLogprobs[j], bestTok, best)
		}
	}
	if got.Usage.PromptTokens != 2*len(ids) {
		t.Errorf("usage %+v", got.Usage)
	}
}

func TestChatAndStops(t *testing.T) {
	ts := startServer(t, Config{})
	var base ChatResponse
	req := map[string]any{
		"messages":    []map[string]any{{"role": "system", "content": "be brief"}, {"role": "user", "content": []map[string]string{{"type": "text", "text": "q: 3*4=?"}}}},
		"temperature": 0, "max_tokens": 20, "logprobs": true, "top_logprobs": 1, "return_token_ids": true,
	}
	if code, msg := call(t, ts.url+"/v1/chat/completions", req, &base); code != 200 {
		t.Fatalf("%d: %s", code, msg)
	}
	c := base.Choices[0]
	if base.Object != "chat.completion" || c.Message.Role != "assistant" || len(c.Logprobs.Content) != len(c.TokenIDs) {
		t.Fatalf("response %+v", base)
	}
	// The plain template: contents joined by newlines.
	if want := ts.tok.Encode("be brief\nq: 3*4=?"); !equalInts(base.PromptTokenIDs, want) {
		t.Errorf("prompt tokens %v, want %v", base.PromptTokenIDs, want)
	}
	for _, e := range c.Logprobs.Content {
		if len(e.TopLogprobs) != 1 || e.TopLogprobs[0].Token != e.Token || len(e.Bytes) == 0 {
			t.Errorf("greedy token %+v", e)
		}
	}
	text := c.Message.Content
	if len(text) < 3 {
		t.Skipf("greedy answer %q too short to test stop strings", text)
	}
	// A stop string cuts the text before it and ends the tokens with it.
	stop := text[1:3]
	req["stop"] = []string{stop, "@@"}
	var cut ChatResponse
	if code, msg := call(t, ts.url+"/v1/chat/completions", req, &cut); code != 200 {
		t.Fatalf("%d: %s", code, msg)
	}
	cc := cut.Choices[0]
	at := strings.Index(text, stop)
	if cc.Message.Content != text[:at] || cc.FinishReason != "stop" || cc.StopReason != stop {
		t.Errorf("with stop %q: %q %s %v; full text %q", stop, cc.Message.Content, cc.FinishReason, cc.StopReason, text)
	}
	if n := len(cc.TokenIDs); n != at+len(stop) || len(cc.Logprobs.Content) != n {
		t.Errorf("kept %d tokens (%d log-probs), want %d", n, len(cc.Logprobs.Content), at+len(stop))
	}
}

func TestSeedsAndBatching(t *testing.T) {
	ts := startServer(t, Config{BatchWindow: 20 * 1e6})
	req := map[string]any{"prompt": "x=", "n": 4, "max_tokens": 8, "seed": 5}
	var a, b CompletionResponse
	call(t, ts.url+"/v1/completions", req, &a)
	call(t, ts.url+"/v1/completions", req, &b)
	for i := range a.Choices {
		if a.Choices[i].Text != b.Choices[i].Text {
			t.Errorf("seeded request not reproducible: %q vs %q", a.Choices[i].Text, b.Choices[i].Text)
		}
	}
	// Unseeded concurrent requests with the same settings share engine calls.
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r CompletionResponse
			if code, msg := call(t, ts.url+"/v1/completions", map[string]any{"prompt": "y=", "n": 2, "max_tokens": 4}, &r); code != 200 || len(r.Choices) != 2 {
				t.Errorf("%d %s", code, msg)
			}
		}()
	}
	wg.Wait()
	if ts.batch.merged.Load() == 0 {
		t.Errorf("no requests were merged (calls %d)", ts.batch.calls.Load())
	}
}

func TestBadRequests(t *testing.T) {
	ts := startServer(t, Config{AlternativesBudget: 1000})
	cases := []struct {
		path string
		body string
		code int
		msg  string
	}{
		{"/v1/completions", `{"prompt": "a", "model": "gpt-4"}`, 404, `the model "gpt-4" does not exist; this server serves "tiny"`},
		{"/v1/completions", `{}`, 400, `missing field "prompt"`},
		{"/v1/completions", `{"prompt": 3}`, 400, `"prompt": got number`},
		{"/v1/completions", `{"prompt": [1, 999]}`, 400, "prompt[1] = 999 is outside the vocabulary"},
		{"/v1/completions", `{"prompt": [[1], "a"]}`, 400, "prompt[1]: got string, want an array of token IDs"},
		{"/v1/completions", `{"prompt": "a", "n": 0}`, 400, `"n" = 0: want 1 to 256`},
		{"/v1/completions", `{"prompt": "a", "temperature": -1}`, 400, `"temperature" = -1`},
		{"/v1/completions", `{"prompt": "a", "top_p": 0}`, 400, `"top_p" = 0`},
		{"/v1/completions", `{"prompt": "a", "max_tokens": 500}`, 400, "maximum context length is 96 tokens; you requested 501 tokens (1 in the prompt, 500 in the completion)"},
		{"/v1/completions", `{"prompt": "a", "stream": true}`, 400, `"stream" = true is not supported`},
		{"/v1/completions", `{"prompt": "a", "stop": [""]}`, 400, `"stop"[0] is empty`},
		{"/v1/completions", `{"prompt": "a", "logprobs": 50}`, 400, `"logprobs" = 50: want 0 to 20`},
		{"/v1/completions", `{"prompt": "a", "seed": 1.5}`, 400, `"seed": got 1.5, want an integer`},
		{"/v1/completions", `{"prompt": "a", "max_tokens": 40, "logprobs": 1}`, 400, "top_logprobs for this request means scoring"},
		{"/v1/chat/completions", `{"messages": []}`, 400, `"messages" is empty`},
		{"/v1/chat/completions", `{"messages": [{"role": "wizard", "content": "a"}]}`, 400, `messages[0]: role "wizard"`},
		{"/v1/chat/completions", `{"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}`, 400, "only {\"type\": \"text\""},
		{"/v1/chat/completions", `{"messages": [{"role": "user", "content": "a"}], "top_logprobs": 2}`, 400, `"top_logprobs" needs "logprobs": true`},
		{"/v1/chat/completions", `{"messages": [{"role": "user", "content": "a"}`, 400, "malformed JSON"},
	}
	for _, c := range cases {
		code, msg := call(t, ts.url+c.path, c.body, nil)
		if code != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("%s %s: got %d %q, want %d containing %q", c.path, c.body, code, msg, c.code, c.msg)
		}
	}
	var models struct {
		Data []struct {
			ID          string `json:"id"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	resp, err := http.Get(ts.url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&models)
	resp.Body.Close()
	if len(models.Data) != 1 || models.Data[0].ID != "tiny" || models.Data[0].MaxModelLen != 96 {
		t.Errorf("models %+v", models)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
