package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urlvr/urlvr/reward"
)

// Options configure a load test.
type Options struct {
	// URL is the reward service's base URL (http://host:port).
	URL string
	// Prompts x N rollouts per batch, responses of about ResponseChars.
	Prompts, N, ResponseChars int
	// Batches distinct batches are drawn from Seed and sent in turn.
	Batches int
	Seed    uint64
	// Shape is "verl" (POST /v1/rewards), "openrlhf" (POST /get_reward,
	// a whole batch per request) or "openrlhf-split" (one rollout per
	// request, all of a batch at once, as OpenRLHF's single-turn executor
	// sends them; the service must hold split groups: --split wait).
	Shape string
	// Concurrency lists the numbers of concurrent clients to run the
	// sustained phase with, one phase each; every phase stops after
	// Requests requests or Duration, whichever comes first.
	Concurrency []int
	Requests    int
	Duration    time.Duration
	// Baseline is the number of in-process library calls timed.
	Baseline int
	// Disconnects clients leave mid-request (half of them during the body,
	// half while their batch is scored); Fuzz bodies are mutated requests.
	Disconnects, Fuzz int
	// Token is the service's bearer token ("" for a service without one).
	// With a token, the test also checks that a request without it is
	// refused (401).
	Token string `json:"-"`
	// Progress, when set, receives one line per phase.
	Progress io.Writer
}

// WithDefaults fills zero fields: 64 x 8 rollouts of 600 characters, 8
// batches, seed 1, verl shape, concurrency 1 and 4, 400 requests or 30 s
// per phase, 100 baseline calls, 20 disconnects, 500 fuzzed bodies.
func (o Options) WithDefaults() Options {
	if o.Prompts == 0 {
		o.Prompts = 64
	}
	if o.N == 0 {
		o.N = 8
	}
	if o.ResponseChars == 0 {
		o.ResponseChars = 600
	}
	if o.Batches == 0 {
		o.Batches = 8
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Shape == "" {
		o.Shape = "verl"
	}
	if len(o.Concurrency) == 0 {
		o.Concurrency = []int{1, 4}
	}
	if o.Requests == 0 {
		o.Requests = 400
	}
	if o.Duration == 0 {
		o.Duration = 30 * time.Second
	}
	if o.Baseline == 0 {
		o.Baseline = 100
	}
	if o.Disconnects == 0 {
		o.Disconnects = 20
	}
	if o.Fuzz == 0 {
		o.Fuzz = 500
	}
	return o
}

// Latency summarises one phase.
type Latency struct {
	Name        string  `json:"name"`
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Seconds     float64 `json:"seconds"`
	// Throughput in batches and rollouts per second.
	BatchesPerSec  float64 `json:"batches_per_sec"`
	RolloutsPerSec float64 `json:"rollouts_per_sec"`
	// Latency percentiles in milliseconds.
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// Report is the outcome of a load test.
type Report struct {
	Options Options `json:"options"`
	// Library is the in-process reference: reward.ScoreRecords (grouping,
	// answer extraction, majority voting, ground-truth grading and B.2
	// metrics) on the same batches, one at a time.
	Library Latency `json:"library"`
	// Service holds one sustained phase per concurrency.
	Service []Latency `json:"service"`
	// Overhead is service p50 and p99 over library p50 and p99, at
	// concurrency 1.
	OverheadP50 float64 `json:"overhead_p50"`
	OverheadP99 float64 `json:"overhead_p99"`
	// Mismatches counts answers whose rewards differ from the library's.
	Mismatches   int      `json:"mismatches"`
	ErrorSamples []string `json:"error_samples,omitempty"`
	// Disconnect and fuzz phases: how the server answered, and whether it
	// was still healthy (and scoring correctly) afterwards.
	Disconnects        int            `json:"disconnects"`
	DisconnectsCounted float64        `json:"disconnects_counted_by_server"`
	FuzzSent           int            `json:"fuzz_sent"`
	FuzzStatus         map[string]int `json:"fuzz_status"`
	FuzzFailures       int            `json:"fuzz_failures"`
	HealthyAfter       bool           `json:"healthy_after"`
	// AuthChecked says whether a request without the token was sent (only
	// with Token set); AuthRefused whether it got 401.
	AuthChecked bool `json:"auth_checked"`
	AuthRefused bool `json:"auth_refused"`
}

// Failed says whether the run broke the service's promises: an error or
// a wrong reward under load, a 5xx or a dropped connection for a fuzzed
// body, or an unhealthy server at the end.
func (r *Report) Failed() bool {
	errs := r.Mismatches + r.FuzzFailures
	for _, s := range r.Service {
		errs += s.Errors
	}
	return errs > 0 || !r.HealthyAfter || (r.AuthChecked && !r.AuthRefused)
}

// bearerTransport adds the Authorization header to every request.
type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token == "" {
		return b.next.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

type tester struct {
	o       Options
	sends   atomic.Int64 // numbers split sends, so concurrent batches never share a group
	batches []*RolloutBatch
	want    [][]float64 // library rewards per batch
	tied    [][]bool    // per batch and rollout: its group's vote is a tie
	client  *http.Client
	path    string
	mu      sync.Mutex
	samples []string
	mism    atomic.Int64
}

// Run drives the service at o.URL and returns the report. It stops early
// when ctx is cancelled.
func Run(ctx context.Context, o Options) (*Report, error) {
	o = o.WithDefaults()
	if o.URL == "" {
		return nil, errors.New("no service URL")
	}
	if _, err := url.Parse(o.URL); err != nil {
		return nil, fmt.Errorf("service URL: %w", err)
	}
	t := &tester{o: o, path: "/v1/rewards"}
	switch o.Shape {
	case "verl":
	case "openrlhf", "openrlhf-split":
		t.path = "/get_reward"
	default:
		return nil, fmt.Errorf("shape %q: want verl, openrlhf or openrlhf-split", o.Shape)
	}
	maxConc := 1
	for _, c := range o.Concurrency {
		maxConc = max(maxConc, c)
	}
	conns := maxConc * 2
	if o.Shape == "openrlhf-split" {
		conns = maxConc * o.Prompts * o.N
	}
	t.client = &http.Client{Transport: bearerTransport{o.Token, &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute,
	}}, Timeout: time.Minute}
	defer t.client.CloseIdleConnections()
	rep := &Report{Options: o, FuzzStatus: map[string]int{}}

	// Batches and the library's answers for them.
	for i := range o.Batches {
		b, err := MakeRolloutBatch(o.Seed+uint64(i), o.Prompts, o.N, o.ResponseChars)
		if err != nil {
			return nil, err
		}
		t.batches = append(t.batches, b)
		res, err := reward.ScoreRecords(ctx, reward.MajorityVoting{}, b.Items, nil)
		if err != nil {
			return nil, err
		}
		w := make([]float64, len(res.Results))
		for j, r := range res.Results {
			if r.Err != nil {
				return nil, fmt.Errorf("batch %d item %d: %w", i, j, r.Err)
			}
			w[j] = r.Reward
		}
		t.want = append(t.want, w)
		// When rollouts arrive one per request their order in the group is
		// the arrival order, and a tied vote may then go the other way.
		tied := make([]bool, len(w))
		for k, g := range res.Groups {
			if voteTied(g.Answers()) {
				for _, pos := range res.Index[k] {
					tied[pos] = true
				}
			}
		}
		t.tied = append(t.tied, tied)
	}
	if err := t.waitHealthy(ctx, 10*time.Second); err != nil {
		return nil, err
	}
	if o.Token != "" {
		rep.AuthChecked = true
		rep.AuthRefused = t.refusedWithoutToken(ctx)
		t.progress("request without the token refused: %v", rep.AuthRefused)
	}
	rep.Library = t.library(ctx)
	t.progress("library in-process: %s", rep.Library)

	// Warm up connections and the server's pools before timing.
	for i := range 10 {
		if err := t.send(ctx, i%len(t.batches)); err != nil {
			return nil, fmt.Errorf("warm-up request: %w", err)
		}
	}
	for _, c := range o.Concurrency {
		lat := t.sustained(ctx, c, fmt.Sprintf("service c=%d", c))
		rep.Service = append(rep.Service, lat)
		t.progress("%s", lat)
	}
	for _, s := range rep.Service {
		if s.Concurrency == 1 && rep.Library.P50 > 0 {
			rep.OverheadP50 = s.P50 / rep.Library.P50
			rep.OverheadP99 = s.P99 / rep.Library.P99
			break
		}
	}

	rep.Disconnects = t.disconnects(ctx)
	t.progress("disconnecting clients: %d", rep.Disconnects)
	t.fuzz(ctx, rep)
	t.progress("fuzzed bodies: %d sent, statuses %v, failures %d", rep.FuzzSent, rep.FuzzStatus, rep.FuzzFailures)

	// Healthy afterwards: probes answer and a batch still scores right.
	rep.HealthyAfter = t.waitHealthy(ctx, 5*time.Second) == nil && t.send(ctx, 0) == nil
	rep.DisconnectsCounted = t.scrape(ctx, "urlvr_http_client_disconnects_total")
	rep.Mismatches = int(t.mism.Load())
	rep.ErrorSamples = t.samples
	return rep, ctx.Err()
}

func (t *tester) progress(format string, args ...any) {
	if t.o.Progress != nil {
		fmt.Fprintf(t.o.Progress, format+"\n", args...)
	}
}

func (t *tester) errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.samples) < 10 {
		t.samples = append(t.samples, fmt.Sprintf(format, args...))
	}
}

// library times the in-process reference on the batches in turn.
func (t *tester) library(ctx context.Context) Latency {
	var lat []time.Duration
	start := time.Now()
	for i := 0; i < t.o.Baseline && ctx.Err() == nil; i++ {
		b := t.batches[i%len(t.batches)]
		t0 := time.Now()
		if _, err := reward.ScoreRecords(ctx, reward.MajorityVoting{}, b.Items, nil); err != nil {
			break
		}
		lat = append(lat, time.Since(t0))
	}
	return summarise("library in-process", 1, lat, 0, time.Since(start), t.o.Prompts*t.o.N)
}

// sustained runs c clients that send batches back to back.
func (t *tester) sustained(ctx context.Context, c int, name string) Latency {
	ctx, cancel := context.WithTimeout(ctx, t.o.Duration)
	defer cancel()
	var (
		next   atomic.Int64
		errs   atomic.Int64
		mu     sync.Mutex
		lat    []time.Duration
		wg     sync.WaitGroup
		limit  = int64(t.o.Requests)
		starts = time.Now()
	)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= limit {
					return
				}
				t0 := time.Now()
				err := t.send(ctx, int(i)%len(t.batches))
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						return // the phase's time ran out mid-request
					}
					errs.Add(1)
					t.errorf("%s: %v", name, err)
					continue
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return summarise(name, c, lat, int(errs.Load()), time.Since(starts), t.o.Prompts*t.o.N)
}

// send posts batch i and checks the rewards against the library's.
func (t *tester) send(ctx context.Context, i int) error {
	b := t.batches[i]
	var rewards []float64
	var err error
	switch t.o.Shape {
	case "openrlhf-split":
		rewards, err = t.sendSplit(ctx, b)
	case "openrlhf":
		rewards, err = t.post(ctx, b.OpenRLHF)
	default:
		rewards, err = t.post(ctx, b.Verl)
	}
	if err != nil {
		return err
	}
	return t.check(i, rewards)
}

// post sends one request and returns its rewards.
func (t *tester) post(ctx context.Context, body []byte) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.o.URL+t.path+"?run=loadtest", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, truncate(data))
	}
	var ans struct {
		Rewards []float64 `json:"rewards"`
	}
	if err := json.Unmarshal(data, &ans); err != nil {
		return nil, fmt.Errorf("decoding the answer: %w", err)
	}
	return ans.Rewards, nil
}

// sendSplit sends every rollout of a batch as its own request, all at once;
// the service holds each group until its last rollout arrives.
func (t *tester) sendSplit(ctx context.Context, b *RolloutBatch) ([]float64, error) {
	seq := t.sends.Add(1)
	rewards := make([]float64, len(b.Queries))
	errs := make([]error, len(b.Queries))
	var wg sync.WaitGroup
	for j := range b.Queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{
				"query": []string{b.Queries[j]}, "prompts": []string{b.PromptTexts[j]}, "labels": []string{b.Labels[j]},
				"group_ids": []string{fmt.Sprintf("%d-%d", seq, j/b.N)},
			})
			r, err := t.post(ctx, body)
			if err == nil && len(r) != 1 {
				err = fmt.Errorf("%d rewards for one rollout", len(r))
			}
			if err != nil {
				errs[j] = err
				return
			}
			rewards[j] = r[0]
		}()
	}
	wg.Wait()
	return rewards, errors.Join(errs...)
}

// check compares a batch's rewards with the library's.
func (t *tester) check(i int, rewards []float64) error {
	ans := struct{ Rewards []float64 }{rewards}
	want := t.want[i]
	if len(ans.Rewards) != len(want) {
		t.mism.Add(1)
		return fmt.Errorf("%d rewards for %d rollouts", len(ans.Rewards), len(want))
	}
	for j := range want {
		if ans.Rewards[j] != want[j] && !(t.o.Shape == "openrlhf-split" && t.tied[i][j]) {
			t.mism.Add(1)
			return fmt.Errorf("batch %d reward %d = %v, the library says %v", i, j, ans.Rewards[j], want[j])
		}
	}
	return nil
}

// voteTied reports whether the two largest answer classes have the same
// number of votes.
func voteTied(answers []string) bool {
	p := reward.Voting{}.Partition(answers)
	top, second := 0, 0
	for _, n := range p.Size {
		if n > top {
			top, second = n, top
		} else if n > second {
			second = n
		}
	}
	return top > 0 && top == second
}

// refusedWithoutToken sends a scoring request without the token and
// reports whether it was refused with 401.
func (t *tester) refusedWithoutToken(ctx context.Context) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.o.URL+t.path+"?run=loadtest-noauth", bytes.NewReader(t.batches[0].Verl))
	if err != nil {
		return false
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.errorf("request without token: %v", err)
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.errorf("request without token: status %d, want 401", resp.StatusCode)
	}
	return resp.StatusCode == http.StatusUnauthorized
}

// disconnects opens raw connections that leave mid-request: half after
// sending part of the body, half after sending all of it without reading
// the answer.
func (t *tester) disconnects(ctx context.Context) int {
	u, _ := url.Parse(t.o.URL)
	body := t.batches[0].Verl
	path := "/v1/rewards"
	done := 0
	for i := 0; i < t.o.Disconnects && ctx.Err() == nil; i++ {
		conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", u.Host)
		if err != nil {
			t.errorf("disconnect %d: %v", i, err)
			continue
		}
		auth := ""
		if t.o.Token != "" {
			auth = "Authorization: Bearer " + t.o.Token + "\r\n"
		}
		fmt.Fprintf(conn, "POST %s?run=loadtest-disconnect HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, u.Host, auth, len(body))
		if i%2 == 0 {
			conn.Write(body[:len(body)/2])
		} else {
			conn.Write(body)
			time.Sleep(2 * time.Millisecond) // let scoring start
		}
		conn.Close()
		done++
	}
	return done
}

// fuzz sends mutated request bodies: each must get a JSON answer with
// status 200, 400 or 413, on a connection that stays usable.
func (t *tester) fuzz(ctx context.Context, rep *Report) {
	rng := rand.New(rand.NewPCG(t.o.Seed, 0xf022))
	small, err := MakeRolloutBatch(t.o.Seed+1000, 3, t.o.N, 80)
	if err != nil {
		return
	}
	for i := 0; i < t.o.Fuzz && ctx.Err() == nil; i++ {
		base, path := small.Verl, "/v1/rewards"
		if i%2 == 1 {
			base, path = small.OpenRLHF, "/get_reward"
		}
		body := mutate(rng, base)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.o.URL+path+"?run=loadtest-fuzz", bytes.NewReader(body))
		if err != nil {
			continue
		}
		rep.FuzzSent++
		resp, err := t.client.Do(req)
		if err != nil {
			rep.FuzzFailures++
			rep.FuzzStatus["transport error"]++
			t.errorf("fuzz %d: %v (body %q)", i, err, truncate(body))
			continue
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		rep.FuzzStatus[fmt.Sprint(resp.StatusCode)]++
		switch resp.StatusCode {
		case 200, 400, 413:
			if !json.Valid(data) {
				rep.FuzzFailures++
				t.errorf("fuzz %d: status %d with a body that is not JSON", i, resp.StatusCode)
			}
		default:
			rep.FuzzFailures++
			t.errorf("fuzz %d: status %d: %s (body %q)", i, resp.StatusCode, truncate(data), truncate(body))
		}
	}
}

// mutate damages a valid JSON body in one of several ways.
func mutate(rng *rand.Rand, base []byte) []byte {
	b := append([]byte(nil), base...)
	switch rng.IntN(7) {
	case 0: // flip random bytes
		for range 1 + rng.IntN(8) {
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		}
	case 1: // truncate
		b = b[:rng.IntN(len(b))]
	case 2: // insert a JSON token somewhere
		tokens := []string{"null", "[", "]", "{", "}", ",", `"`, "1e999", "-", "true", `"\u0000"`, `{"a":1}`}
		at := rng.IntN(len(b))
		b = append(b[:at:at], append([]byte(tokens[rng.IntN(len(tokens))]), base[at:]...)...)
	case 3: // change a value's type
		s := string(b)
		repl := []string{`["x"]`, `3`, `null`, `{}`, `"s"`, `[[1]]`, `-1`}
		for _, key := range []string{`"golds":`, `"labels":`, `"group_ids":`, `"responses":`, `"query":`, `"prompts":`} {
			if i := strings.Index(s, key); i >= 0 && rng.IntN(2) == 0 {
				end := i + len(key)
				s = s[:end] + repl[rng.IntN(len(repl))] + "," + `"x":` + s[end:]
			}
		}
		b = []byte(s)
	case 4: // drop a list element: mismatched lengths
		s := string(b)
		if i := strings.Index(s, `","`); i >= 0 {
			s = s[:i] + s[i+2:]
		}
		b = []byte(s)
	case 5: // random bytes
		b = make([]byte, rng.IntN(256))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
	case 6: // deep nesting
		depth := 1 + rng.IntN(10000)
		b = []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
	}
	return b
}

func (t *tester) waitHealthy(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.o.URL+"/healthz", nil)
		resp, err := t.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("service at %s not healthy: %v", t.o.URL, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scrape reads one unlabelled sample from /metrics; -1 when absent.
func (t *tester) scrape(ctx context.Context, name string) float64 {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.o.URL+"/metrics", nil)
	resp, err := t.client.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return f
			}
		}
	}
	return -1
}

func summarise(name string, c int, lat []time.Duration, errs int, wall time.Duration, rollouts int) Latency {
	l := Latency{Name: name, Concurrency: c, Requests: len(lat), Errors: errs, Seconds: wall.Seconds()}
	if len(lat) == 0 {
		return l
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(p float64) float64 {
		i := int(float64(len(lat))*p+0.999999) - 1 // nearest-rank percentile
		return ms(lat[min(max(i, 0), len(lat)-1)])
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	l.P50, l.P90, l.P99, l.Max = pct(0.50), pct(0.90), pct(0.99), ms(lat[len(lat)-1])
	l.Mean = ms(sum) / float64(len(lat))
	l.BatchesPerSec = float64(len(lat)) / wall.Seconds()
	l.RolloutsPerSec = l.BatchesPerSec * float64(rollouts)
	return l
}

func (l Latency) String() string {
	return fmt.Sprintf("%-20s c=%d  %4d batches  %3d errors  %7.1f batches/s  %8.0f rollouts/s  p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %6.2f ms",
		l.Name, l.Concurrency, l.Requests, l.Errors, l.BatchesPerSec, l.RolloutsPerSec, l.P50, l.P90, l.P99, l.Max)
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// WriteText writes the report as a table.
func (r *Report) WriteText(w io.Writer) {
	o := r.Options
	fmt.Fprintf(w, "batches of %d prompts x %d rollouts (%d rollouts, ~%d-char responses), majority voting, %s shape\n",
		o.Prompts, o.N, o.Prompts*o.N, o.ResponseChars, o.Shape)
	fmt.Fprintln(w, r.Library)
	for _, s := range r.Service {
		fmt.Fprintln(w, s)
	}
	fmt.Fprintf(w, "service overhead at c=1: p50 x%.2f, p99 x%.2f of the library in-process\n", r.OverheadP50, r.OverheadP99)
	fmt.Fprintf(w, "reward mismatches against the library: %d\n", r.Mismatches)
	fmt.Fprintf(w, "disconnecting clients: %d sent, %.0f counted by the server\n", r.Disconnects, r.DisconnectsCounted)
	fmt.Fprintf(w, "fuzzed bodies: %d sent, statuses %v, failures %d\n", r.FuzzSent, r.FuzzStatus, r.FuzzFailures)
	fmt.Fprintf(w, "healthy afterwards: %v\n", r.HealthyAfter)
	if r.AuthChecked {
		fmt.Fprintf(w, "request without the token refused (401): %v\n", r.AuthRefused)
	}
	for _, s := range r.ErrorSamples {
		fmt.Fprintln(w, "  error:", s)
	}
}
