package rewardserver

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/serve"
)

// FuzzRequestDecoding sends arbitrary bodies to both scoring endpoints. A
// body is answered 200, 400 or 413, always with a JSON body, never a 500 or a
// crash; a 200 has one reward per rollout.
func FuzzRequestDecoding(f *testing.F) {
	seeds := []string{
		`{"query": ["pa \\boxed{1}", "pb \\boxed{2}"], "prompts": ["p", "p"], "labels": ["1", "1"]}`,
		`{"query": ["x"], "prompts": ["x"], "labels": [null], "group_ids": [7]}`,
		`{"query": ["q"], "prompts": ["q"], "labels": [{"numbers": [1, 2], "target": 3}]}`,
		`{"responses": ["\\boxed{3}", "\\boxed{3}"], "group_ids": [1, 1], "golds": [3, "3"], "run_id": "r", "step": 2}`,
		`{"rollouts": [{"group_id": "g", "response": "<answer>1+2</answer>", "numbers": [1, 2], "target": 3}]}`,
		`{"rollouts": [{"prompt_id": 1, "response": "a", "token_logprobs": [-0.5], "answer_token_mask": [1]}]}`,
		`{"responses": ["\\boxed{2}"], "prompts": ["Q: 1+1=?"], "client_id": "trainer-1", "run_id": "victim"}`,
		`{"responses": ["a"], "group_ids": [1], "client_id": "../bad id"}`, `{"responses": ["a"], "group_ids": [1], "client_id": 7}`,
		`{"query": [], "prompts": []}`, `[]`, `null`, `{"query": [1e400]}`, `{"responses": ["a"], "group_size": 2.5}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	srv, err := New(Config{
		Estimator: reward.MajorityVoting{}, GroupSize: 2, Split: SplitPartial,
		Limits: serve.Limits{MaxBodyBytes: 1 << 16},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body []byte, openrlhf bool) {
		path := "/v1/rewards"
		if openrlhf {
			path = "/get_reward"
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 413:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", rec.Body.Bytes())
		}
		if rec.Code != 200 {
			return
		}
		var ans struct {
			Rewards []float64 `json:"rewards"`
			Answers []string  `json:"answers"`
			Urlvr   struct {
				Answers []string `json:"answers"`
			} `json:"urlvr"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
			t.Fatal(err)
		}
		n := len(ans.Answers) + len(ans.Urlvr.Answers)
		if len(ans.Rewards) == 0 || len(ans.Rewards) != n {
			t.Fatalf("%d rewards for %d answers: %s", len(ans.Rewards), n, rec.Body.Bytes())
		}
	})
}
