package modelserver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/serve/internal/tinymodel"
)

// FuzzCompletionRequest sends arbitrary bodies to both generation
// endpoints: each is answered 200, 400 or 404 (an unknown model) with a JSON
// body, never a 500 (temperature 1e-308 once gave "logits are not finite")
// and never more generated tokens than the request budget.
func FuzzCompletionRequest(f *testing.F) {
	for _, s := range []string{
		`{"prompt": "q: 1+1=?", "max_tokens": 4, "temperature": 1e-308}`,
		`{"prompt": ["a", "b"], "n": 256, "max_tokens": 16}`,
		`{"prompt": [[1, 2, 3]], "n": 2, "max_tokens": 3, "seed": 5, "logprobs": 1}`,
		`{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "temperature": 5e-324}`,
		`{"prompt": "x", "temperature": -0.0, "top_p": 1e-300, "top_k": 1, "max_tokens": 2}`,
		`{"prompt": "x", "stop": ["1"], "stop_token_ids": [0], "max_tokens": 2, "model": "other"}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	dir := f.TempDir()
	if err := tinymodel.Write(dir, 7); err != nil {
		f.Fatal(err)
	}
	m, err := engine.Load(dir)
	if err != nil {
		f.Fatal(err)
	}
	tok, err := tokenizer.LoadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	const budget = 256
	srv, err := New(Config{Model: m, Tokenizer: tok, Name: "tiny", MaxRequestTokens: budget, AlternativesBudget: 1 << 14,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte, chat bool) {
		path := "/v1/completions"
		if chat {
			path = "/v1/chat/completions"
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)))
		switch rec.Code {
		case 200, 400, 404:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
		var out struct {
			Usage *usage `json:"usage"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer is not JSON: %s", rec.Body.String())
		}
		if rec.Code == 200 && (out.Usage == nil || out.Usage.CompletionTokens > budget) {
			t.Fatalf("usage %+v over the budget of %d", out.Usage, budget)
		}
	})
}
