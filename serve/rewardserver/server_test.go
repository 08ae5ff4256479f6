package rewardserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/serve"
)

// testServer is a reward service on a real loopback socket.
type testServer struct {
	*Server
	url  string
	stop func() // shuts down gracefully and waits
}

func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	if cfg.Estimator == nil {
		cfg.Estimator = reward.MajorityVoting{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
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
	go func() { done <- serve.Serve(ctx, ln, srv.Handler(), cfg.Limits, cfg.Logger, srv.Close) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &testServer{Server: srv, url: "http://" + ln.Addr().String(), stop: stop}
}

// post sends body as JSON and decodes a 200 answer into out; it returns
// the status and, for errors, the message.
func post(t testing.TB, url string, body any, out any) (int, string) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("status %d with a body that is not a JSON error: %s", resp.StatusCode, data)
		}
		return resp.StatusCode, e.Error.Message
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("decoding %s: %v", data, err)
		}
	}
	return resp.StatusCode, ""
}

func get(t testing.TB, url string, out any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if s, ok := out.(*string); ok {
			*s = string(data)
		} else if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("decoding %s: %v", data, err)
		}
	}
	return resp.StatusCode
}

// fixture is a batch of prompts with n rollouts each: boxed answers drawn
// from a few candidates so that groups have clear, split and absent
// majorities, and gold answers for every prompt.
type fixture struct {
	prompts   []string
	golds     []string
	n         int
	responses [][]string // [prompt][rollout]
}

func makeFixture(seed uint64, prompts, n int) fixture {
	rng := rand.New(rand.NewPCG(seed, 7))
	f := fixture{n: n}
	for k := range prompts {
		gold := fmt.Sprint(rng.IntN(50))
		f.prompts = append(f.prompts, fmt.Sprintf("<|im_start|>user\nProblem %d: compute %s. Put the answer in \\boxed{}.<|im_end|>\n<|im_start|>assistant\n", k, gold))
		f.golds = append(f.golds, gold)
		var rs []string
		for range n {
			var ans string
			switch u := rng.Float64(); {
			case u < 0.5:
				ans = gold
			case u < 0.65:
				ans = fmt.Sprintf("\\frac{%s}{1}", gold) // equivalent spelling
			case u < 0.9:
				ans = fmt.Sprint(rng.IntN(3) + 100)
			default:
				ans = "" // no answer
			}
			text := fmt.Sprintf("Let me think step by step about problem %d. ", k)
			if ans != "" {
				text += fmt.Sprintf("The answer is \\boxed{%s}.<|im_end|>", ans)
			} else {
				text += "I am not sure.<|im_end|>"
			}
			rs = append(rs, text)
		}
		f.responses = append(f.responses, rs)
	}
	return f
}

// records are the fixture as `urlvr reward` would read it.
func (f fixture) records() []reward.Item {
	var items []reward.Item
	for k, p := range f.prompts {
		for _, r := range f.responses[k] {
			items = append(items, reward.Item{Record: rollout.Record{PromptID: p, Gold: f.golds[k], HasGold: true, Rollout: rollout.Rollout{Text: r}}})
		}
	}
	return items
}

// direct scores the fixture with the library, the reference for the service.
func (f fixture) direct(t testing.TB, e reward.Estimator) *reward.ScoredBatch {
	t.Helper()
	b, err := reward.ScoreRecords(context.Background(), e, f.records(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Failed() > 0 {
		t.Fatalf("%d records failed", b.Failed())
	}
	return b
}

// hasTies reports whether some group's two largest answer classes tie.
func hasTies(t testing.TB, f fixture) bool {
	for _, g := range f.direct(t, reward.MajorityVoting{}).Groups {
		p := reward.Voting{}.Partition(g.Answers())
		top, second := 0, 0
		for _, n := range p.Size {
			if n > top {
				top, second = n, top
			} else if n > second {
				second = n
			}
		}
		if top == second {
			return true
		}
	}
	return false
}

func (f fixture) openRLHF() map[string]any {
	var q, p, l []string
	for k := range f.prompts {
		for _, r := range f.responses[k] {
			q = append(q, f.prompts[k]+r)
			p = append(p, f.prompts[k])
			l = append(l, f.golds[k])
		}
	}
	return map[string]any{"query": q, "prompts": p, "labels": l}
}

func (f fixture) columns() map[string]any {
	var resp, gold []string
	var ids []int
	for k := range f.prompts {
		for _, r := range f.responses[k] {
			resp = append(resp, r)
			ids = append(ids, k)
			gold = append(gold, f.golds[k])
		}
	}
	return map[string]any{"responses": resp, "group_ids": ids, "golds": gold}
}

type openRLHFAnswer struct {
	Rewards   []float64            `json:"rewards"`
	Scores    []float64            `json:"scores"`
	ExtraLogs map[string][]float64 `json:"extra_logs"`
	Urlvr     struct {
		Answers  []string        `json:"answers"`
		Groups   []GroupInfo     `json:"groups"`
		Metrics  json.RawMessage `json:"metrics"`
		Run      RunStatus       `json:"run"`
		Warnings []string        `json:"warnings"`
	} `json:"urlvr"`
}

func sameFloats(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestOpenRLHFBatchMatchesLibrary(t *testing.T) {
	f := makeFixture(1, 6, 8)
	want := f.direct(t, reward.MajorityVoting{})
	ts := startServer(t, Config{GroupSize: 8})

	var got openRLHFAnswer
	if code, msg := post(t, ts.url+"/get_reward?run=orl", f.openRLHF(), &got); code != 200 {
		t.Fatalf("status %d: %s", code, msg)
	}
	var wantRewards, wantGT []float64
	for i, r := range want.Results {
		wantRewards = append(wantRewards, r.Reward)
		if got.Urlvr.Answers[i] != r.Answer {
			t.Errorf("answer %d = %q, want %q", i, got.Urlvr.Answers[i], r.Answer)
		}
	}
	sameFloats(t, "rewards", got.Rewards, wantRewards)
	sameFloats(t, "scores", got.Scores, wantRewards)
	// Ground truth: every rollout graded against its gold directly.
	gt := reward.GroundTruth{}
	for k, g := range want.Groups {
		s, err := gt.Score(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		_ = k
		wantGT = append(wantGT, s.Rewards...)
	}
	sameFloats(t, "extra_logs ground truth", got.ExtraLogs["urlvr/ground_truth_reward"], wantGT)
	if len(got.ExtraLogs["urlvr/majority_ratio"]) != len(got.Rewards) || len(got.ExtraLogs["urlvr/stop"]) != len(got.Rewards) {
		t.Errorf("extra_logs lists must have one entry per query: %v", got.ExtraLogs)
	}
	// The request's metrics are the library's B.2 metrics of the batch.
	wantMetrics, _ := json.Marshal(want.Metrics)
	if !bytes.Equal(bytes.TrimSpace(got.Urlvr.Metrics), wantMetrics) {
		t.Errorf("metrics\n got %s\nwant %s", got.Urlvr.Metrics, wantMetrics)
	}
	if got.Urlvr.Run.RunID != "orl" || got.Urlvr.Run.Step != 1 {
		t.Errorf("run status %+v, want run orl step 1", got.Urlvr.Run)
	}
	if len(got.Urlvr.Groups) != 6 || got.Urlvr.Groups[0].Size != 8 || got.Urlvr.Groups[0].Label == nil {
		t.Errorf("groups %+v", got.Urlvr.Groups)
	}
}

func TestVerlColumnsAndRecordsMatchLibrary(t *testing.T) {
	f := makeFixture(2, 5, 4)
	want := f.direct(t, reward.MajorityVoting{})
	ts := startServer(t, Config{GroupSize: 4})
	var got BatchResponse
	if code, msg := post(t, ts.url+"/v1/rewards", f.columns(), &got); code != 200 {
		t.Fatalf("status %d: %s", code, msg)
	}
	var wantRewards []float64
	for _, r := range want.Results {
		wantRewards = append(wantRewards, r.Reward)
	}
	sameFloats(t, "column rewards", got.Rewards, wantRewards)
	if got.Metrics == nil || got.Metrics.LabelAccuracy != want.Metrics.LabelAccuracy || got.Metrics.RewardAccuracy != want.Metrics.RewardAccuracy {
		t.Errorf("metrics %+v, want %+v", got.Metrics, want.Metrics)
	}

	// Records with per-token statistics, scored by a certainty estimator.
	rng := rand.New(rand.NewPCG(3, 3))
	var recs []map[string]any
	var items []reward.Item
	for k := range 3 {
		for range 4 {
			n := 1 + rng.IntN(6)
			sc := make([]float32, n)
			for i := range sc {
				sc[i] = float32(rng.Float64() * 5)
			}
			recs = append(recs, map[string]any{"group_id": k, "response": "x", "token_self_certainty": sc})
			items = append(items, reward.Item{Record: rollout.Record{PromptID: fmt.Sprint(k), Rollout: rollout.Rollout{Text: "x", SelfCertainty: sc}}})
		}
	}
	sc := reward.SelfCertainty{}
	ref, err := reward.ScoreRecords(context.Background(), sc, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts2 := startServer(t, Config{Estimator: sc})
	var got2 BatchResponse
	if code, msg := post(t, ts2.url+"/v1/rewards", map[string]any{"rollouts": recs, "run_id": "cert"}, &got2); code != 200 {
		t.Fatalf("status %d: %s", code, msg)
	}
	var wantSC []float64
	for _, r := range ref.Results {
		wantSC = append(wantSC, r.Reward)
	}
	sameFloats(t, "self-certainty rewards", got2.Rewards, wantSC)
}

func TestSplitGroups(t *testing.T) {
	f := makeFixture(4, 2, 8)
	body := f.openRLHF()
	// Drop the last three rollouts: the second prompt keeps 5 of 8.
	for _, k := range []string{"query", "prompts", "labels"} {
		body[k] = body[k].([]string)[:13]
	}

	t.Run("reject", func(t *testing.T) {
		ts := startServer(t, Config{GroupSize: 8, Split: SplitReject})
		code, msg := post(t, ts.url+"/get_reward", body, nil)
		if code != 400 || !strings.Contains(msg, "has 5 rollouts, not a multiple of the group size 8") {
			t.Fatalf("status %d %q", code, msg)
		}
	})
	t.Run("partial", func(t *testing.T) {
		ts := startServer(t, Config{GroupSize: 8, Split: SplitPartial})
		var got openRLHFAnswer
		if code, msg := post(t, ts.url+"/get_reward?run=p", body, &got); code != 200 {
			t.Fatalf("status %d: %s", code, msg)
		}
		if len(got.Urlvr.Warnings) != 1 || !strings.Contains(got.Urlvr.Warnings[0], "5 of 8 rollouts in this request; scored as a partial group") {
			t.Errorf("warnings %q", got.Urlvr.Warnings)
		}
		if !got.Urlvr.Groups[1].Partial || got.Urlvr.Groups[1].Size != 5 {
			t.Errorf("group %+v, want partial of 5", got.Urlvr.Groups[1])
		}
		// The partial group is scored as the group of the rollouts present.
		part := f
		part.responses = [][]string{f.responses[0], f.responses[1][:5]}
		want := part.direct(t, reward.MajorityVoting{})
		var wantRewards []float64
		for _, r := range want.Results {
			wantRewards = append(wantRewards, r.Reward)
		}
		sameFloats(t, "rewards", got.Rewards, wantRewards)
		rep, _ := ts.Run("p")
		if rep.PartialGroups != 1 {
			t.Errorf("partial groups %d, want 1", rep.PartialGroups)
		}
	})
	t.Run("wait", func(t *testing.T) {
		// OpenRLHF's executor: one rollout per request, all at once.
		ts := startServer(t, Config{GroupSize: 8, Split: SplitWait, GroupWait: 10 * time.Second})
		// Rollouts arrive in any order, and majority voting depends on
		// order only through ties: take the first fixture without ties.
		f := makeFixture(4, 2, 8)
		for seed := uint64(100); hasTies(t, f); seed++ {
			f = makeFixture(seed, 2, 8)
		}
		want := f.direct(t, reward.MajorityVoting{})
		full := f.openRLHF()
		q, p, l := full["query"].([]string), full["prompts"].([]string), full["labels"].([]string)
		got := make([]float64, len(q))
		var wg sync.WaitGroup
		for i := range q {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var a openRLHFAnswer
				code, msg := post(t, ts.url+"/get_reward?run=w", map[string]any{"query": q[i : i+1], "prompts": p[i : i+1], "labels": l[i : i+1]}, &a)
				if code != 200 {
					t.Errorf("rollout %d: status %d: %s", i, code, msg)
					return
				}
				got[i] = a.Rewards[0]
			}()
		}
		wg.Wait()
		var wantRewards []float64
		for _, r := range want.Results {
			wantRewards = append(wantRewards, r.Reward)
		}
		sameFloats(t, "rewards", got, wantRewards)
		rep, _ := ts.Run("w")
		if rep.Groups != 2 || rep.PartialGroups != 0 {
			t.Errorf("run totals %+v", rep)
		}
	})
	t.Run("wait times out", func(t *testing.T) {
		ts := startServer(t, Config{GroupSize: 8, Split: SplitWait, GroupWait: 50 * time.Millisecond})
		var got openRLHFAnswer
		start := time.Now()
		if code, msg := post(t, ts.url+"/get_reward", body, &got); code != 200 {
			t.Fatalf("status %d: %s", code, msg)
		}
		if time.Since(start) < 50*time.Millisecond {
			t.Errorf("answered before the wait ran out")
		}
		if len(got.Urlvr.Warnings) != 1 || !strings.Contains(got.Urlvr.Warnings[0], "5 of 8 rollouts arrived within 50ms") {
			t.Errorf("warnings %q", got.Urlvr.Warnings)
		}
	})
	t.Run("shutdown answers held groups", func(t *testing.T) {
		ts := startServer(t, Config{GroupSize: 8, Split: SplitWait, GroupWait: time.Minute})
		res := make(chan openRLHFAnswer, 1)
		go func() {
			var got openRLHFAnswer
			post(t, ts.url+"/get_reward", body, &got)
			res <- got
		}()
		for ts.rv.stats().rollouts == 0 {
			time.Sleep(time.Millisecond)
		}
		ts.stop()
		got := <-res
		if len(got.Urlvr.Warnings) != 1 || !strings.Contains(got.Urlvr.Warnings[0], "shutting down") {
			t.Errorf("warnings %q", got.Urlvr.Warnings)
		}
	})
}

func TestRunTrackingAndCollapse(t *testing.T) {
	ts := startServer(t, Config{GroupSize: 4, Tracker: TrackerConfig{StopOnCollapse: true}})
	healthy := makeFixture(5, 4, 4)
	want := healthy.direct(t, reward.MajorityVoting{})
	// A collapsed batch: every rollout gives the same wrong answer, so the
	// majority reward is 1 where the ground truth is 0: reward accuracy 0.
	collapsed := makeFixture(6, 4, 4)
	for k := range collapsed.responses {
		for i := range collapsed.responses[k] {
			collapsed.responses[k][i] = `\boxed{999}`
		}
	}
	steps := []fixture{healthy, healthy, collapsed, collapsed}
	var last BatchResponse
	for s, f := range steps {
		body := f.columns()
		body["run_id"] = "r1"
		body["step"] = s + 1
		if code, msg := post(t, ts.url+"/v1/rewards", body, &last); code != 200 {
			t.Fatalf("step %d: status %d: %s", s+1, code, msg)
		}
	}
	// Step 3 collapsed, but a step closes when the next one starts, so the
	// answer to step 4 already knows.
	if !last.Run.Collapsed || last.Run.CollapseStep != 3 || !last.Run.Stop {
		t.Errorf("status after step 4: %+v", last.Run)
	}
	var rep RunReport
	if code := get(t, ts.url+"/runs/r1", &rep); code != 200 {
		t.Fatalf("status %d", code)
	}
	if rep.Steps != 3 || rep.Current == nil || rep.Current.Step != 4 || len(rep.History) != 3 {
		t.Fatalf("report steps %d current %+v history %d", rep.Steps, rep.Current, len(rep.History))
	}
	h := rep.History[0].Dynamics
	if h == nil || h.LabelAccuracy != want.Metrics.LabelAccuracy || h.RewardAccuracy != want.Metrics.RewardAccuracy ||
		h.GroundTruthReward != want.Metrics.GroundTruthReward || h.ProxyReward != want.Metrics.ProxyReward {
		t.Errorf("step 1 dynamics %+v, want %+v", h, want.Metrics)
	}
	if d := rep.History[2].Dynamics; d == nil || d.RewardAccuracy != 0 || d.ProxyReward != 1 || d.GroundTruthReward != 0 {
		t.Errorf("step 3 dynamics %+v", d)
	}
	if !rep.Stop || !strings.Contains(rep.StopReason, "model collapse at step 3") {
		t.Errorf("stop %v %q", rep.Stop, rep.StopReason)
	}

	var text string
	get(t, ts.url+"/metrics", &text)
	for _, line := range []string{
		`urlvr_run_collapsed{run="r1"} 1`,
		`urlvr_run_collapse_step{run="r1"} 3`,
		`urlvr_run_stop{run="r1"} 1`,
		`urlvr_run_reward_accuracy{run="r1"} 0`,
		`urlvr_run_rollouts_total{run="r1"} 64`,
		`urlvr_http_requests_total{route="POST /v1/rewards",code="200"} 4`,
		"# TYPE urlvr_http_request_duration_seconds histogram",
		`urlvr_http_request_duration_seconds_bucket{route="POST /v1/rewards",le="+Inf"} 4`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}

	// Rewinding to step 2 (a restart from a checkpoint) drops the collapse.
	body := healthy.columns()
	body["run_id"], body["step"] = "r1", 2
	if code, msg := post(t, ts.url+"/v1/rewards", body, &last); code != 200 {
		t.Fatalf("status %d: %s", code, msg)
	}
	if last.Run.Collapsed || last.Run.Stop || last.Run.Step != 2 {
		t.Errorf("after rewind: %+v", last.Run)
	}
	// A manual stop holds whatever the metrics say.
	var st RunStatus
	if code, _ := post(t, ts.url+"/runs/r1/stop?reason=operator", "", &st); code != 200 || !st.Stop || st.StopReason != "operator" {
		t.Errorf("manual stop: %+v", st)
	}
	if code := get(t, ts.url+"/runs/nope", nil); code != 404 {
		t.Errorf("unknown run: status %d", code)
	}
}

func TestStepsWithoutNumbers(t *testing.T) {
	// Without explicit steps each batch request is a step ...
	f := makeFixture(8, 2, 4)
	ts := startServer(t, Config{GroupSize: 4})
	for range 3 {
		post(t, ts.url+"/v1/rewards?run=auto", f.columns(), nil)
	}
	rep, _ := ts.Run("auto")
	if rep.Steps != 3 || rep.LastStep != 3 {
		t.Errorf("batch steps: %d, last %d", rep.Steps, rep.LastStep)
	}
	// ... while groups arriving one by one are counted GroupsPerStep at a time.
	ts2 := startServer(t, Config{GroupSize: 4, Split: SplitWait, Tracker: TrackerConfig{GroupsPerStep: 2}})
	body := f.openRLHF()
	for range 2 {
		post(t, ts2.url+"/get_reward?run=acc", body, nil)
	}
	rep, _ = ts2.Run("acc")
	if rep.Steps != 2 || rep.History[0].Groups != 2 || rep.History[1].Rollouts != 8 {
		t.Errorf("accumulated steps: %+v", rep.History)
	}
}

func TestBadRequests(t *testing.T) {
	ts := startServer(t, Config{GroupSize: 2, Limits: serve.Limits{MaxBodyBytes: 4096}})
	cases := []struct {
		name, path string
		body       any
		code       int
		msg        string
	}{
		{"empty body", "/get_reward", "", 400, "request body is empty"},
		{"malformed", "/get_reward", `{"query": [1,}`, 400, "malformed JSON at byte 14"},
		{"not an object", "/get_reward", `[1, 2]`, 400, "request body is a JSON array; want a JSON object"},
		{"missing query", "/get_reward", `{"prompts": ["a"]}`, 400, `missing field "query"`},
		{"query wrong type", "/get_reward", `{"query": "a"}`, 400, `field "query": got string, want an array of strings`},
		{"query element wrong type", "/get_reward", `{"query": ["a", 3], "prompts": ["a", "b"]}`, 400, "query[1]: got number, want a string"},
		{"mismatched lengths", "/get_reward", `{"query": ["pa", "pb"], "prompts": ["p"]}`, 400, `"prompts" has 1 entries but "query" has 2`},
		{"labels mismatched", "/get_reward", `{"query": ["pa", "pb"], "prompts": ["p", "p"], "labels": ["1"]}`, 400, `"labels" has 1 entries but "query" has 2`},
		{"label wrong type", "/get_reward", `{"query": ["pa", "pb"], "prompts": ["p", "p"], "labels": ["1", [2]]}`, 400, "labels[1]: got array, want a string, a number or null"},
		{"no grouping", "/get_reward", `{"query": ["pa", "pb"]}`, 400, `neither "prompts" nor "group_ids"`},
		{"golds disagree", "/get_reward", `{"query": ["pa", "pb"], "prompts": ["p", "p"], "labels": ["1", "2"]}`, 400, `rollout 1 (group "p"): gold "2" differs from gold "1" of rollout 0`},
		{"bad run id", "/get_reward?run=a/b", `{"query": ["pa", "pb"], "prompts": ["p", "p"]}`, 400, `run id "a/b"`},
		{"bad step", "/get_reward?step=x", `{"query": ["pa", "pb"], "prompts": ["p", "p"]}`, 400, `query parameter step: "x" is not an integer`},
		{"step wrong type", "/v1/rewards", `{"step": "3", "responses": ["a"], "group_ids": [1]}`, 400, `field "step": got string, want an integer`},
		{"both shapes", "/v1/rewards", `{"responses": ["a"], "rollouts": [{}]}`, 400, "not both"},
		{"neither shape", "/v1/rewards", `{"run_id": "x"}`, 400, `missing field "responses"`},
		{"record not object", "/v1/rewards", `{"rollouts": [3]}`, 400, "rollouts[0]: got number, want an object"},
		{"record without group", "/v1/rewards", `{"rollouts": [{"response": "a"}]}`, 400, `rollouts[0]: missing "group_id"`},
		{"record bad stats", "/v1/rewards", `{"rollouts": [{"group_id": 1, "response": "a", "token_logprobs": [0.5]}]}`, 400, "rollouts[0]: token_logprobs[0] = 0.5 is outside"},
		{"record stat type", "/v1/rewards", `{"rollouts": [{"group_id": 1, "response": "a", "token_entropies": "x"}]}`, 400, `rollouts[0]: field "token_entropies": got JSON string, want []float32`},
		{"bad countdown gold", "/v1/rewards", `{"responses": ["a"], "group_ids": [1], "golds": [{"target": 3}]}`, 400, `golds[0]: an object gold must be a Countdown problem`},
		{"group size", "/v1/rewards", `{"group_size": 0, "responses": ["a"], "group_ids": [1]}`, 400, "group_size 0: want at least 1"},
		{"too large", "/get_reward", `{"query": ["` + strings.Repeat("x", 5000) + `"]}`, 413, "exceeds the limit of 4096 bytes"},
		{"unknown route", "/nope", `{}`, 404, "no route POST /nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, msg := post(t, ts.url+c.path, c.body, nil)
			if code != c.code || !strings.Contains(msg, c.msg) {
				t.Errorf("got %d %q, want %d containing %q", code, msg, c.code, c.msg)
			}
		})
	}
	// Missing per-token statistics are the client's fault too.
	ts2 := startServer(t, Config{Estimator: reward.SelfCertainty{}})
	code, msg := post(t, ts2.url+"/v1/rewards", `{"responses": ["a", "b"], "group_ids": [1, 1]}`, nil)
	if code != 400 || !strings.Contains(msg, `rollout 0 (group "1"): missing input: self_certainty has no "token_self_certainty"`) {
		t.Errorf("got %d %q", code, msg)
	}
}

func TestSaturationAnd503(t *testing.T) {
	// One work slot, no queue: while one request waits for its group while
	// scoring... a held request does not keep its slot, so use a slow
	// estimator instead.
	gate := make(chan struct{})
	ts := startServer(t, Config{Estimator: blockingEstimator{gate}, Limits: serve.Limits{MaxConcurrent: 1, MaxQueue: -1}})
	body := `{"responses": ["a"], "group_ids": [1]}`
	first := make(chan int, 1)
	go func() {
		code, _ := post(t, ts.url+"/v1/rewards", body, nil)
		first <- code
	}()
	for {
		if w, _ := ts.limiter.Busy(); w == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	code, msg := post(t, ts.url+"/v1/rewards", body, nil)
	if code != 503 || !strings.Contains(msg, "server saturated") {
		t.Errorf("second request: %d %q", code, msg)
	}
	close(gate)
	if c := <-first; c != 200 {
		t.Errorf("first request: %d", c)
	}
	var text string
	get(t, ts.url+"/metrics", &text)
	if !strings.Contains(text, "urlvr_http_rejected_total 1\n") {
		t.Errorf("rejected counter missing:\n%s", text)
	}
}

// blockingEstimator waits for its gate, then rewards everything 1.
type blockingEstimator struct{ gate chan struct{} }

func (blockingEstimator) Name() string { return "blocking" }
func (b blockingEstimator) Score(ctx context.Context, g *rollout.Group) (reward.Scores, error) {
	select {
	case <-b.gate:
	case <-ctx.Done():
		return reward.Scores{}, ctx.Err()
	}
	r := make([]float64, len(g.Rollouts))
	for i := range r {
		r[i] = 1
	}
	return reward.Scores{Rewards: r}, nil
}

func TestPanicIsRecovered(t *testing.T) {
	ts := startServer(t, Config{Estimator: panickyEstimator{}})
	code, msg := post(t, ts.url+"/v1/rewards", `{"responses": ["a"], "group_ids": [1]}`, nil)
	if code != 500 || !strings.Contains(msg, "internal error: estimator bug") {
		t.Errorf("got %d %q", code, msg)
	}
	if code := get(t, ts.url+"/healthz", nil); code != 200 {
		t.Errorf("healthz after panic: %d", code)
	}
}

type panickyEstimator struct{}

func (panickyEstimator) Name() string { return "panicky" }
func (panickyEstimator) Score(context.Context, *rollout.Group) (reward.Scores, error) {
	panic(errors.New("estimator bug"))
}

func TestClientDisconnectsMidRequest(t *testing.T) {
	gate := make(chan struct{})
	ts := startServer(t, Config{Estimator: blockingEstimator{gate}})
	// A client that sends its request and hangs up while it is scored.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"responses": ["a"], "group_ids": [1]}`
	fmt.Fprintf(conn, "POST /v1/rewards HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	for {
		if w, _ := ts.limiter.Busy(); w == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	conn.Close()
	// The scorer sees the cancelled context and gives its slot back.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if w, _ := ts.limiter.Busy(); w == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("slot not released after the client left")
		}
		time.Sleep(time.Millisecond)
	}
	// A client that sends half a body and leaves.
	conn, err = net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/rewards HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"responses\": [")
	conn.Close()
	close(gate)
	deadline = time.Now().Add(5 * time.Second)
	for {
		var text string
		get(t, ts.url+"/metrics", &text)
		if strings.Contains(text, "urlvr_http_client_disconnects_total 2\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disconnects not counted:\n%s", text)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, _ := post(t, ts.url+"/v1/rewards", body, nil); code != 200 {
		t.Errorf("server unwell after disconnects: %d", code)
	}
}
