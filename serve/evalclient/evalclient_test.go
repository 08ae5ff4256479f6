package evalclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/serve"
	"github.com/urlvr/urlvr/serve/internal/tinymodel"
	"github.com/urlvr/urlvr/serve/modelserver"
)

// world is a tiny model served on a real loopback socket, optionally
// behind a handler that fails some requests.
type world struct {
	url   string
	model *engine.Model
	tok   tokenizer.Tokenizer
	calls atomic.Int64
}

// worldToken is the model server's bearer token in these tests.
const worldToken = "eval-world-token-0123456789"

func startWorld(t *testing.T, failEvery int64) *world {
	t.Helper()
	dir := t.TempDir()
	if err := tinymodel.Write(dir, 11); err != nil {
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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := modelserver.New(modelserver.Config{Model: m, Tokenizer: tok, Name: "tiny", Tokens: []string{worldToken}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{model: m, tok: tok}
	inner := srv.Handler()
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		// Every failEvery-th generation request is refused as if the server
		// were saturated: the client must retry.
		if n := w.calls.Add(1); failEvery > 0 && r.Method == http.MethodPost && n%failEvery == 0 {
			// No Retry-After, which the client would honour (a second).
			rw.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(rw, `{"error": {"message": "busy", "code": 503}}`)
			return
		}
		inner.ServeHTTP(rw, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve.Serve(ctx, ln, h, serve.Limits{}, log, srv.Close) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	w.url = "http://" + ln.Addr().String()
	return w
}

// greedy returns the model's greedy answer to a prompt, as the server
// returns it.
func (w *world) greedy(t *testing.T, prompt string, maxNew int) string {
	eos, _ := w.tok.Special(tokenizer.RoleEOS)
	g, err := w.model.Sample(context.Background(), [][]int{w.tok.Encode(prompt)}, engine.SampleOptions{MaxNewTokens: maxNew, StopTokens: []int{eos}})
	if err != nil {
		t.Fatal(err)
	}
	toks := g[0].Tokens
	if g[0].FinishReason == engine.FinishStop {
		toks = toks[:len(toks)-1]
	}
	return w.tok.Decode(toks)
}

func writeDataset(t *testing.T, rows []map[string]string) string {
	path := filepath.Join(t.TempDir(), "problems.jsonl")
	var b strings.Builder
	for _, r := range rows {
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEvalAgainstModelServer: greedy answers make every metric exact. The
// gold answer of the first problems is what the model says (every sample
// correct), of the others something it never says (every sample wrong).
func TestEvalAgainstModelServer(t *testing.T) {
	w := startWorld(t, 0)
	const maxNew = 12
	var rows []map[string]string
	right := 0
	for i := 0; len(rows) < 6 && i < 50; i++ {
		prompt := fmt.Sprintf("q%d: %d+%d=?", i, i, 2*i)
		gold := w.greedy(t, prompt, maxNew)
		if len(rows) >= 4 {
			gold = "not what it says"
		} else if strings.TrimSpace(gold) == "" || !grade.Default().Grade(gold, gold).Correct {
			continue // an answer the grader cannot read back
		} else {
			right++
		}
		rows = append(rows, map[string]string{"prompt": prompt, "answer": gold})
	}
	if right != 4 {
		t.Fatalf("found %d usable greedy answers", right)
	}
	path := writeDataset(t, rows)
	rep, problems, err := Run(context.Background(), Options{Endpoint: w.url + "/v1", Token: worldToken, Dataset: path, N: 4, Temperature: 0, MaxTokens: maxNew, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Model != "tiny" || rep.Problems != 6 || rep.Failed != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, name := range MetricNames(4, []int{1, 2, 4}) {
		if got := rep.Metrics[name]; math.Abs(got-4.0/6) > 1e-12 {
			t.Errorf("%s = %v, want 4/6", name, got)
		}
		// Four problems right and two wrong: the interval holds the mean
		// and is not a point.
		if ci := rep.Intervals[name]; !(ci.Lo < 4.0/6 && 4.0/6 < ci.Hi) || ci.Lo < 0 || ci.Hi > 1 {
			t.Errorf("%s: interval %+v", name, ci)
		}
	}
	for i, p := range problems {
		want := 0.0
		if i < 4 {
			want = 1
		}
		if len(p.Responses) != 4 || p.Metrics["avg@4"] != want || p.Metrics["avg@2"] != want || p.Metrics["pass@1"] != want {
			t.Errorf("problem %d: %d responses, metrics %v", i, len(p.Responses), p.Metrics)
		}
	}
}

// TestEvalSamplingRetriesAndSplitting: sampled answers, a server that
// refuses every third request, samples asked for one by one as for servers
// without "n": the report must be what the metrics package gives for the
// samples returned, and a repeated run with the same seed the same.
func TestEvalSamplingRetriesAndSplitting(t *testing.T) {
	w := startWorld(t, 3)
	var rows []map[string]string
	for i := range 5 {
		prompt := fmt.Sprintf("p%d:", i)
		rows = append(rows, map[string]string{"prompt": prompt, "answer": w.greedy(t, prompt, 3)})
	}
	path := writeDataset(t, rows)
	opts := Options{Endpoint: w.url, Token: worldToken, Dataset: path, N: 6, PerRequest: 2, Ks: []int{1, 3, 6}, Temperature: 1, MaxTokens: 3,
		Concurrency: 2, Retries: 4, Backoff: 1e6, Seed: 9}
	rep, problems, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || rep.Retries == 0 || rep.Requests != 5*3+rep.Retries+1 {
		t.Fatalf("report %+v (want no failures, some retries, 15 generation requests plus retries and the model listing)", rep)
	}
	g := grade.Default()
	sums := map[string]float64{}
	for _, p := range problems {
		if len(p.Responses) != 6 {
			t.Fatalf("problem %d: %d responses", p.Index, len(p.Responses))
		}
		var correct []float64
		var answers []string
		c := 0
		for _, r := range p.Responses {
			res := g.Grade(r, p.Gold)
			answers = append(answers, res.Answer)
			if res.Correct {
				correct = append(correct, 1)
				c++
			} else {
				correct = append(correct, 0)
			}
		}
		classes := g.Classes(answers).Class
		for _, k := range []int{1, 3, 6} {
			avg, _ := metrics.AvgAtK(correct[:k])
			sums[fmt.Sprintf("avg@%d", k)] += avg
			maj, _ := metrics.MajAtK(classes[:k], correct[:k])
			pass, _ := metrics.PassAtK(6, c, k)
			sums[fmt.Sprintf("maj@%d", k)] += maj
			sums[fmt.Sprintf("pass@%d", k)] += pass
		}
	}
	for name, s := range sums {
		if got := rep.Metrics[name]; math.Abs(got-s/5) > 1e-12 {
			t.Errorf("%s = %v, recomputed %v", name, got, s/5)
		}
	}
	_, again, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range problems {
		if strings.Join(problems[i].Responses, "|") != strings.Join(again[i].Responses, "|") {
			t.Errorf("problem %d: a repeated run with the same seed differs", i)
		}
	}
}

func TestEvalReportsRefusals(t *testing.T) {
	w := startWorld(t, 0)
	path := writeDataset(t, []map[string]string{{"prompt": "a", "answer": "1"}})
	// max_tokens beyond the context: a 400, not retried, and the problem fails.
	rep, problems, err := Run(context.Background(), Options{Endpoint: w.url, Token: worldToken, Dataset: path, N: 2, MaxTokens: 1000, Retries: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || rep.Retries != 0 || !strings.Contains(problems[0].Error, "maximum context length") {
		t.Errorf("report %+v, error %q", rep, problems[0].Error)
	}
	// An unreachable server: retried, then an error.
	_, _, err = Run(context.Background(), Options{Endpoint: "http://127.0.0.1:1", Dataset: path, Retries: 1, Backoff: 1e6})
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 tries") {
		t.Errorf("unreachable server: %v", err)
	}
}

// TestEvalWithoutTheToken: a server that wants a token refuses the client
// at once (401 is not retried) with a message that says what to send.
func TestEvalWithoutTheToken(t *testing.T) {
	w := startWorld(t, 0)
	path := writeDataset(t, []map[string]string{{"prompt": "q: 1+1=?", "answer": "2"}})
	_, _, err := Run(context.Background(), Options{Endpoint: w.url, Dataset: path, N: 2, MaxTokens: 4, Retries: 3})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "bearer token") {
		t.Fatalf("without the token: %v", err)
	}
}
