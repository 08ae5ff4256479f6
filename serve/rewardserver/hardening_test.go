package rewardserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urlvr/urlvr/serve"
)

const (
	victimToken   = "victim-token-0123456789"
	attackerToken = "attacker-token-0123456789"
)

// postAs sends body with the given bearer token (none when "") and decodes
// a 200 answer into out; it returns the status and an error's message (a
// failure of its own is status 0 or -1, so that it may run in a goroutine).
func postAs(t testing.TB, ctx context.Context, url, token, body string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		json.Unmarshal(data, &e)
		return resp.StatusCode, e.Error.Message
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return -1, fmt.Sprintf("decoding %s: %v", data, err)
		}
	}
	return resp.StatusCode, ""
}

// waitHeld waits until the service holds n rollouts.
func waitHeld(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.rv.stats().rollouts != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d rollouts held, want %d", s.rv.stats().rollouts, n)
		}
		time.Sleep(time.Millisecond)
	}
}

const (
	victimBody   = `{"run_id": "victim", "responses": ["\\boxed{2}"], "prompts": ["Q: 1+1=?"], "golds": ["2"]}`
	poisonBody   = `{"run_id": "victim", "responses": ["\\boxed{9}", "\\boxed{9}", "\\boxed{9}"], "prompts": ["Q: 1+1=?", "Q: 1+1=?", "Q: 1+1=?"]}`
	teammateBody = `{"run_id": "victim", "responses": ["\\boxed{9}", "\\boxed{9}", "\\boxed{9}"], "prompts": ["Q: 1+1=?", "Q: 1+1=?", "Q: 1+1=?"], "client_id": "%s"}`
)

// poisonAttempt posts the victim's one rollout, waits until it is held,
// posts the other three rollouts of the group as the second client and
// returns the victim's answer.
func poisonAttempt(t *testing.T, ts *testServer, victim, victimClient, second, secondBody string) BatchResponse {
	t.Helper()
	body := victimBody
	if victimClient != "" {
		body = strings.Replace(body, `"run_id"`, `"client_id": "`+victimClient+`", "run_id"`, 1)
	}
	var got BatchResponse
	done := make(chan string, 1)
	go func() {
		code, msg := postAs(t, context.Background(), ts.url+"/v1/rewards", victim, body, &got)
		done <- fmt.Sprint(code, " ", msg)
	}()
	waitHeld(t, ts.Server, 1)
	go postAs(t, context.Background(), ts.url+"/v1/rewards", second, secondBody, nil)
	if res := <-done; res != "200 " {
		t.Fatalf("victim: %s", res)
	}
	return got
}

// TestPoisoningFromAnotherClient is the reward-poisoning reproduction:
// under --split wait --group-size 4, three \boxed{9} rollouts for the
// victim's prompt, run and group, sent by another client, must not join the
// victim's group; its correct \boxed{2} keeps its reward.
func TestPoisoningFromAnotherClient(t *testing.T) {
	cfg := Config{GroupSize: 4, Split: SplitWait, GroupWait: 300 * time.Millisecond, Tokens: []string{victimToken, attackerToken}}

	t.Run("no token", func(t *testing.T) {
		ts := startServer(t, cfg)
		if code, msg := postAs(t, context.Background(), ts.url+"/v1/rewards", "", poisonBody, nil); code != 401 || !strings.Contains(msg, "bearer token") {
			t.Errorf("rollouts without a token: %d %q", code, msg)
		}
		if code, _ := postAs(t, context.Background(), ts.url+"/runs/victim/stop", "", "", nil); code != 401 {
			t.Errorf("stop without a token: %d", code)
		}
		if code := get(t, ts.url+"/healthz", nil); code != 200 {
			t.Errorf("health check: %d", code)
		}
		if code := get(t, ts.url+"/metrics", nil); code != 401 {
			t.Errorf("metrics without a token: %d", code)
		}
	})
	t.Run("another token", func(t *testing.T) {
		ts := startServer(t, cfg)
		got := poisonAttempt(t, ts, victimToken, "", attackerToken, poisonBody)
		if got.Rewards[0] != 1 || got.Groups[0].Size != 1 || !got.Groups[0].Partial {
			t.Errorf("victim scored %v in group %+v; the other token's rollouts joined it", got.Rewards, got.Groups)
		}
	})
	t.Run("another client id", func(t *testing.T) {
		ts := startServer(t, cfg)
		got := poisonAttempt(t, ts, victimToken, "trainer-a", victimToken, fmt.Sprintf(teammateBody, "trainer-b"))
		if got.Rewards[0] != 1 || got.Groups[0].Size != 1 {
			t.Errorf("victim scored %v in group %+v; another client's rollouts joined it", got.Rewards, got.Groups)
		}
	})
	// The control: rollouts of the same token and client do form one group,
	// so the cases above pass for the right reason.
	t.Run("same client", func(t *testing.T) {
		ts := startServer(t, cfg)
		got := poisonAttempt(t, ts, victimToken, "trainer-a", victimToken, fmt.Sprintf(teammateBody, "trainer-a"))
		if got.Rewards[0] != 0 || got.Groups[0].Size != 4 || got.Groups[0].Partial {
			t.Errorf("victim scored %v in group %+v; want the whole group of 4 voting 9", got.Rewards, got.Groups)
		}
	})
}

// TestNoTokenGroupsByAddress: without tokens, rollouts from different
// client addresses never share a group.
func TestNoTokenGroupsByAddress(t *testing.T) {
	ts := startServer(t, Config{GroupSize: 4, Split: SplitWait, GroupWait: 300 * time.Millisecond})
	h := ts.Handler()
	send := func(addr, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/rewards", strings.NewReader(body))
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var wg sync.WaitGroup
	var victim *httptest.ResponseRecorder
	wg.Go(func() { victim = send("10.0.0.1:40000", victimBody) })
	waitHeld(t, ts.Server, 1)
	wg.Go(func() { send("10.0.0.2:40000", poisonBody) })
	wg.Wait()
	var got BatchResponse
	if err := json.Unmarshal(victim.Body.Bytes(), &got); err != nil || victim.Code != 200 {
		t.Fatalf("victim: %d %s", victim.Code, victim.Body)
	}
	if got.Rewards[0] != 1 || got.Groups[0].Size != 1 {
		t.Errorf("victim scored %v in group %+v", got.Rewards, got.Groups)
	}
}

// TestAbandonedRolloutsAreWithdrawn: a client that leaves while its
// rollouts are held takes them out of the group (they must not vote on
// others' rewards) and adds nothing to its run.
func TestAbandonedRolloutsAreWithdrawn(t *testing.T) {
	ts := startServer(t, Config{GroupSize: 4, Split: SplitWait, GroupWait: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan struct{})
	go func() {
		postAs(t, ctx, ts.url+"/v1/rewards", "", strings.Replace(poisonBody, "victim", "shared", 1), nil)
		close(left)
	}()
	waitHeld(t, ts.Server, 3)
	cancel()
	<-left
	waitHeld(t, ts.Server, 0)
	var got BatchResponse
	if code, msg := postAs(t, context.Background(), ts.url+"/v1/rewards", "", strings.Replace(victimBody, "victim", "shared", 1), &got); code != 200 {
		t.Fatalf("%d %s", code, msg)
	}
	if got.Rewards[0] != 1 || got.Groups[0].Size != 1 {
		t.Errorf("scored %v in group %+v; the abandoned rollouts voted", got.Rewards, got.Groups)
	}
	rep, ok := ts.Run("shared")
	if !ok || rep.Rollouts != 1 || rep.Groups != 1 {
		t.Errorf("run counts %d rollouts in %d groups, want only the answered request's 1 in 1", rep.Rollouts, rep.Groups)
	}
	if rs := ts.rv.stats(); rs.withdrawn != 3 {
		t.Errorf("%d rollouts withdrawn, want 3", rs.withdrawn)
	}
}

// TestUnknownRunsCannotEvict is the eviction reproduction: stopping runs
// that do not exist is 404 and creates nothing, so 300 of them cannot push
// a real run out of --max-runs.
func TestUnknownRunsCannotEvict(t *testing.T) {
	ts := startServer(t, Config{GroupSize: 2, Tracker: TrackerConfig{MaxRuns: 4}})
	if code, _ := post(t, ts.url+"/runs/victim/stop", "", nil); code != 404 {
		t.Errorf("stopping a run before it exists: %d, want 404", code)
	}
	body := `{"run_id": "victim", "responses": ["\\boxed{2}", "\\boxed{2}"], "group_ids": [1, 1]}`
	if code, msg := post(t, ts.url+"/v1/rewards", body, nil); code != 200 {
		t.Fatalf("%d %s", code, msg)
	}
	for i := range 300 {
		if code, _ := post(t, ts.url+fmt.Sprintf("/runs/other-%d/stop", i), "", nil); code != 404 {
			t.Fatalf("stop of unknown run %d: %d", i, code)
		}
	}
	var runs struct{ Runs []RunReport }
	get(t, ts.url+"/runs", &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].RunID != "victim" || runs.Runs[0].Stop {
		t.Errorf("runs after 300 stops of unknown runs: %+v", runs.Runs)
	}
	var st RunStatus
	if code, _ := post(t, ts.url+"/runs/victim/stop?reason=operator", "", &st); code != 200 || !st.Stop {
		t.Errorf("stopping the real run: %d %+v", code, st)
	}
}

// rawRequest opens a connection, sends the head of a POST with the given
// Content-Length and the body bytes given, and returns the connection.
func rawRequest(t *testing.T, url string, length int, body string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/rewards HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", length, body)
	return conn
}

func readStatus(t *testing.T, conn net.Conn) (int, string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a guard against hanging, not a timing check
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestAdmittedBeforeTheBodyIsRead: a request is admitted (or refused)
// before its body is read, so a request that announces 60 MB while every
// work slot is taken is refused without the server reading a byte of it.
func TestAdmittedBeforeTheBodyIsRead(t *testing.T) {
	gate := make(chan struct{})
	ts := startServer(t, Config{Estimator: blockingEstimator{gate}, Limits: serve.Limits{MaxConcurrent: 1, MaxQueue: -1}})
	first := make(chan int, 1)
	go func() {
		code, _ := post(t, ts.url+"/v1/rewards", `{"responses": ["a"], "group_ids": [1]}`, nil)
		first <- code
	}()
	for w, _ := ts.limiter.Busy(); w != 1; w, _ = ts.limiter.Busy() {
		time.Sleep(time.Millisecond)
	}
	// A large body and a small one, neither sent: both are answered at
	// once, the connection closed rather than drained (a small unread body
	// would otherwise be read before the answer, as slowly as the client
	// sends it).
	for _, length := range []int{60 << 20, 100} {
		conn := rawRequest(t, ts.url, length, "")
		code, body := readStatus(t, conn)
		if code != 503 || !strings.Contains(body, "--max-concurrent 1") {
			t.Errorf("request of %d bytes over the limit: %d %s", length, code, body)
		}
	}
	// Only the first request's body is in memory.
	if used, _ := ts.budget.InUse(); used != int64(len(`{"responses": ["a"], "group_ids": [1]}`)) {
		t.Errorf("%d body bytes reserved", used)
	}
	close(gate)
	if c := <-first; c != 200 {
		t.Errorf("first request: %d", c)
	}
}

// TestBodyBytesInFlightAreBounded: bodies share one byte budget, so many
// connections with large bodies cannot take the service's memory.
func TestBodyBytesInFlightAreBounded(t *testing.T) {
	gate := make(chan struct{})
	ts := startServer(t, Config{Estimator: blockingEstimator{gate}, Limits: serve.Limits{MaxBodyBytes: 4000, MaxBodyInFlight: 6000}})
	big := `{"responses": ["` + strings.Repeat("x", 3000) + `"], "group_ids": [1]}`
	first := make(chan int, 1)
	go func() {
		code, _ := post(t, ts.url+"/v1/rewards", big, nil)
		first <- code
	}()
	for used, _ := ts.budget.InUse(); used == 0; used, _ = ts.budget.InUse() {
		time.Sleep(time.Millisecond)
	}
	code, msg := post(t, ts.url+"/v1/rewards", big, nil)
	if code != 503 || !strings.Contains(msg, "--max-body-in-flight") {
		t.Errorf("second large body while the first is held: %d %q", code, msg)
	}
	close(gate)
	if c := <-first; c != 200 {
		t.Errorf("first request: %d", c)
	}
	if code, msg := post(t, ts.url+"/v1/rewards", big, nil); code != 200 {
		t.Errorf("after the first finished: %d %q", code, msg)
	}
	if used, _ := ts.budget.InUse(); used != 0 {
		t.Errorf("%d bytes still reserved", used)
	}
}

// TestSlowBodiesCannotHoldEverySlot is the slow-sender reproduction: as
// many clients as there are work slots, each sending a byte at a time, are
// cut off (408) after the grace period, and a normal request is then
// served.
func TestSlowBodiesCannotHoldEverySlot(t *testing.T) {
	ts := startServer(t, Config{Limits: serve.Limits{MaxConcurrent: 2, MaxQueue: 4, QueueTimeout: time.Minute, BodyGrace: 200 * time.Millisecond, MinBodyRate: 1 << 20}})
	body := `{"responses": ["a"], "group_ids": [1]}`
	var conns []net.Conn
	for range 2 {
		conn := rawRequest(t, ts.url, len(body), "")
		conns = append(conns, conn)
		go func() {
			for i := range len(body) {
				if _, err := conn.Write([]byte{body[i]}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	for w, _ := ts.limiter.Busy(); w != 2; w, _ = ts.limiter.Busy() {
		time.Sleep(time.Millisecond)
	}
	// Queued behind the slow senders, it is served once they are cut off.
	if code, msg := post(t, ts.url+"/v1/rewards", body, nil); code != 200 {
		t.Errorf("normal request behind slow senders: %d %q", code, msg)
	}
	for i, conn := range conns {
		if code, msg := readStatus(t, conn); code != http.StatusRequestTimeout || !strings.Contains(msg, "--min-body-rate") {
			t.Errorf("slow sender %d: %d %s", i, code, msg)
		}
	}
}
