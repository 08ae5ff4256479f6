package evalclient

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/urlvr/urlvr/metrics"
)

// scriptedServer answers /v1/completions with fixed responses per prompt
// (the n asked for are taken in order from the script, so split requests
// see the same samples) and refuses the prompt "broken".
func scriptedServer(t *testing.T, script map[string][]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			fmt.Fprint(w, `{"data": [{"id": "scripted"}]}`)
			return
		}
		var req struct {
			Prompt string `json:"prompt"`
			N      int    `json:"n"`
			Seed   int64  `json:"seed"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Prompt == "broken" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": {"message": "refused"}}`)
			return
		}
		// The seed says which request of the problem this is (part, in
		// units of PerRequest samples).
		part := int(req.Seed) % 1000
		var choices []map[string]any
		for i := range req.N {
			choices = append(choices, map[string]any{"index": i, "text": script[req.Prompt][part*req.N+i]})
		}
		json.NewEncoder(w).Encode(map[string]any{"choices": choices, "usage": map[string]int{"completion_tokens": 3 * req.N}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEvalHandComputed: a hand-made set of three problems of four samples
// (and one the server refuses), scored by hand.
//
//	A, gold 3: 3 5 5 3       correct 1 0 0 1   (ties go to the answer seen first)
//	  avg@1,2,4 = 1, 1/2, 1/2   maj@1,2,4 = 1, 1, 1   pass@1,2,4 = 1/2, 5/6, 1
//	B, gold 7: 2 7 2 other   correct 0 1 0 0   ("I give up" is an answer of its own)
//	  avg = 0, 1/2, 1/4         maj = 0, 0, 0         pass = 1/4, 1/2, 1
//	C, gold 1: 1 1 1 1
//	  every metric 1
//
// pass@2 of A is 1 - C(2,2)/C(4,2) = 5/6, of B 1 - C(3,2)/C(4,2) = 1/2.
// The report's metrics are the means over A, B and C; A and B come from
// source s1, C from s2.
func TestEvalHandComputed(t *testing.T) {
	srv := scriptedServer(t, map[string][]string{
		"A": {`\boxed{3}`, `\boxed{5}`, `\boxed{5}`, `\boxed{3}`},
		"B": {`\boxed{2}`, `\boxed{7}`, `\boxed{2}`, `I give up`},
		"C": {`\boxed{1}`, `\boxed{1}`, `\boxed{1}`, `\boxed{1}`},
	})
	path := writeDataset(t, []map[string]string{
		{"prompt": "A", "answer": "3", "data_source": "s1"},
		{"prompt": "B", "answer": "7", "data_source": "s1"},
		{"prompt": "broken", "answer": "0", "data_source": "s1"},
		{"prompt": "C", "answer": "1", "data_source": "s2"},
	})
	want := [][]float64{ // avg@1 avg@2 avg@4 maj@1 maj@2 maj@4 pass@1 pass@2 pass@4, per problem
		{1, 0.5, 0.5, 1, 1, 1, 0.5, 5.0 / 6, 1},
		{0, 0.5, 0.25, 0, 0, 0, 0.25, 0.5, 1},
		nil,
		{1, 1, 1, 1, 1, 1, 1, 1, 1},
	}
	names := MetricNames(4, []int{1, 2, 4})
	for _, perRequest := range []int{4, 2} {
		rep, problems, err := Run(context.Background(), Options{Endpoint: srv.URL, Dataset: path, N: 4, PerRequest: perRequest,
			Ks: []int{1, 2, 4}, Seed: 5000, Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Problems != 4 || rep.Failed != 1 || problems[2].Error == "" || rep.CompletionTokens != 3*4*3 {
			t.Fatalf("report %+v, problem 2 %+v", rep, problems[2])
		}
		series := make([][]float64, len(names))
		for i, w := range want {
			if w == nil {
				if problems[i].Metrics != nil {
					t.Errorf("the failed problem has metrics %v", problems[i].Metrics)
				}
				continue
			}
			for j, name := range names {
				if got := problems[i].Metrics[name]; math.Abs(got-w[j]) > 1e-15 {
					t.Errorf("per request %d, problem %d: %s = %v, want %v", perRequest, i, name, got, w[j])
				}
				series[j] = append(series[j], w[j])
			}
		}
		if len(problems[1].Answers) != 4 || problems[1].Answers[3] != "I give up" || problems[1].Correct[1] != 1 {
			t.Errorf("problem B: answers %q, correct %v", problems[1].Answers, problems[1].Correct)
		}
		means := []float64{2.0 / 3, 2.0 / 3, 7.0 / 12, 2.0 / 3, 2.0 / 3, 2.0 / 3, 7.0 / 12, 7.0 / 9, 1}
		s1 := []float64{0.5, 0.5, 0.375, 0.5, 0.5, 0.5, 0.375, 2.0 / 3, 1}
		cis, err := metrics.BootstrapCI(series, metrics.BootstrapConfig{Seed: 5000})
		if err != nil {
			t.Fatal(err)
		}
		for j, name := range names {
			if got := rep.Metrics[name]; math.Abs(got-means[j]) > 1e-15 {
				t.Errorf("%s = %v, want %v", name, got, means[j])
			}
			if got := rep.BySource["s1"][name]; math.Abs(got-s1[j]) > 1e-15 {
				t.Errorf("s1 %s = %v, want %v", name, got, s1[j])
			}
			if got := rep.BySource["s2"][name]; got != 1 {
				t.Errorf("s2 %s = %v, want 1", name, got)
			}
			// The intervals bootstrap the problems' values above (seed
			// Options.Seed, 1000 resamples).
			if got := rep.Intervals[name]; got != cis[j] || !(got.Lo <= means[j] && means[j] <= got.Hi) {
				t.Errorf("%s: interval %+v, want %+v", name, got, cis[j])
			}
		}
		if ci := rep.Intervals["pass@4"]; ci != (metrics.Interval{Lo: 1, Hi: 1}) {
			t.Errorf("pass@4 is 1 on every problem; interval %+v", ci)
		}
	}
}
