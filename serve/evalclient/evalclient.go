// Package evalclient evaluates a model behind any OpenAI-compatible server
// (vLLM, SGLang, llama.cpp's server, or urlvr's own) on a problem set: N
// samples per problem, graded against the gold answer, summarised as avg@k,
// maj@k and pass@k (paper Sec. 4-5 and Appendix B.1 report these, e.g.
// avg@32 on AIME) by the evaluator of package metrics, the one that scores
// validation during training, with its bootstrap intervals over problems.
// Requests run concurrently, are retried with backoff when the server is
// busy or unreachable, and progress is shown as a bar.
package evalclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/urlvr/urlvr/data"
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/runlog"
)

// Options configure an evaluation.
type Options struct {
	// Endpoint is the server's base URL, with or without /v1.
	Endpoint string
	// Token, when set, is sent as "Authorization: Bearer <token>" (urlvr's
	// model server with --token, or an OpenAI API key).
	Token string `json:"-"`
	// Model is the model id to request; "" takes the first of /v1/models.
	Model string
	// Dataset is a problem file that package data reads (JSONL or Parquet,
	// the layouts of MATH-500, AIME, AMC, DAPO, or plain prompt/answer);
	// Limit reads only its first problems (0: all).
	Dataset string
	Limit   int
	// N samples per problem; PerRequest samples are asked for in one
	// request (0: all N; 1 for servers that ignore "n").
	N          int
	PerRequest int
	// Ks are the k of avg@k, maj@k and pass@k (default 1, 2, 4, ... up to
	// N, and N); each must be at most N. avg@k and maj@k use the first k
	// samples, pass@k is the unbiased estimate from all N.
	Ks []int
	// Chat uses /v1/chat/completions with the problem's messages (or its
	// prompt as one user message, after System); otherwise
	// /v1/completions with Template, where {prompt} stands for the prompt.
	Chat     bool
	System   string
	Template string
	// Sampling settings.
	Temperature float64
	TopP        float64
	MaxTokens   int
	Stop        []string
	// Seed makes every request's seed (Seed + problem * 1000 + part), so a
	// run can be repeated; NoSeed leaves seeds out, which lets servers
	// batch requests together.
	Seed   uint64
	NoSeed bool
	// Concurrency requests at once; each is tried up to Retries+1 times,
	// waiting Backoff, 2*Backoff, ... (at most MaxBackoff) in between, and
	// given Timeout to answer.
	Concurrency int
	Retries     int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	Timeout     time.Duration
	// Progress receives a progress bar (nil: none).
	Progress io.Writer
	// Grader grades the responses (nil: grade.Default()).
	Grader *grade.Grader
	// Client sends the requests (nil: a default client).
	Client *http.Client
}

func (o Options) withDefaults() (Options, error) {
	if o.Endpoint == "" {
		return o, errors.New("no endpoint")
	}
	o.Endpoint = strings.TrimSuffix(strings.TrimSuffix(o.Endpoint, "/"), "/v1")
	if o.N == 0 {
		o.N = 32
	}
	if o.N < 1 {
		return o, fmt.Errorf("n = %d: want at least 1", o.N)
	}
	if o.PerRequest <= 0 || o.PerRequest > o.N {
		o.PerRequest = o.N
	}
	if len(o.Ks) == 0 {
		for k := 1; k < o.N; k *= 2 {
			o.Ks = append(o.Ks, k)
		}
		o.Ks = append(o.Ks, o.N)
	}
	for _, k := range o.Ks {
		if k < 1 || k > o.N {
			return o, fmt.Errorf("k = %d: want 1 to n = %d", k, o.N)
		}
	}
	if o.Template == "" {
		o.Template = "{prompt}"
	}
	if o.TopP == 0 {
		o.TopP = 1
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = 1024
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff == 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Grader == nil {
		o.Grader = grade.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency}}
	}
	return o, nil
}

// ProblemResult is the outcome for one problem: its samples, their grades
// and scores, or the error that left it out of the report.
type ProblemResult struct {
	Index      int       `json:"index"`
	ID         string    `json:"id"`
	DataSource string    `json:"data_source"`
	Gold       string    `json:"gold"`
	Responses  []string  `json:"responses,omitempty"`
	Answers    []string  `json:"answers,omitempty"`
	Correct    []float64 `json:"correct,omitempty"`
	// Metrics holds avg@k, maj@k and pass@k of the problem.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Tokens counts the completion tokens the server reported.
	Tokens int    `json:"completion_tokens"`
	Error  string `json:"error,omitempty"`

	// samples are the graded samples as the evaluator takes them (answer
	// classes and correctness), kept for the set's score.
	samples metrics.Samples
}

// Report summarises an evaluation: each metric is the mean over the
// problems evaluated, overall and per data source.
type Report struct {
	Endpoint string                        `json:"endpoint"`
	Model    string                        `json:"model"`
	Dataset  string                        `json:"dataset"`
	N        int                           `json:"n"`
	Problems int                           `json:"problems"`
	Failed   int                           `json:"failed"`
	Metrics  map[string]float64            `json:"metrics"`
	BySource map[string]map[string]float64 `json:"by_source,omitempty"`
	// Intervals are the 95% intervals of Metrics: percentile bootstrap
	// over the problems, 1000 resamples, from Options.Seed.
	Intervals map[string]metrics.Interval `json:"intervals,omitempty"`
	// Requests sent (retries included) and retries; completion tokens.
	Requests         int     `json:"requests"`
	Retries          int     `json:"retries"`
	CompletionTokens int     `json:"completion_tokens"`
	Seconds          float64 `json:"seconds"`
}

// MetricNames lists the report's metric names in order: avg@k, maj@k and
// pass@k for each k (the ks include n), named as in the run log.
func MetricNames(n int, ks []int) []string {
	var names []string
	for _, name := range []func(int) string{runlog.Avg, runlog.Maj, runlog.Pass} {
		for _, k := range ks {
			names = append(names, name(k))
		}
	}
	return names
}

// Run evaluates o.Model on o.Dataset. It returns the report and every
// problem's outcome; problems that failed after their retries are counted
// in Report.Failed, carry their error and are left out of the means.
func Run(ctx context.Context, o Options) (*Report, []ProblemResult, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	recs, err := data.Load(o.Dataset, data.Options{Limit: o.Limit})
	if err != nil {
		return nil, nil, err
	}
	if len(recs) == 0 {
		return nil, nil, fmt.Errorf("%s: no problems", o.Dataset)
	}
	start := time.Now()
	c := &client{o: o}
	if o.Model == "" {
		if o.Model, err = c.firstModel(ctx); err != nil {
			return nil, nil, err
		}
		c.o.Model = o.Model
	}

	problems := make([]ProblemResult, len(recs))
	var bar *progressbar.ProgressBar
	if o.Progress != nil {
		bar = progressbar.NewOptions(len(recs), progressbar.OptionSetWriter(o.Progress),
			progressbar.OptionSetDescription("eval "+o.Model), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("problems"), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(o.Progress) }))
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(o.Seed, uint64(w)+1)) // backoff jitter
			for i := range jobs {
				problems[i] = c.evaluate(ctx, i, recs[i], rng)
				if bar != nil {
					bar.Add(1)
				}
			}
		}()
	}
	for i := range recs {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}
	if err := ctx.Err(); err != nil {
		return nil, problems, err
	}

	rep := &Report{Endpoint: o.Endpoint, Model: o.Model, Dataset: o.Dataset, N: o.N, Problems: len(recs),
		Requests: c.requests, Retries: c.retries, Seconds: time.Since(start).Seconds()}
	var scored []metrics.Samples
	for _, p := range problems {
		rep.CompletionTokens += p.Tokens
		if p.Error != "" {
			rep.Failed++
			continue
		}
		scored = append(scored, p.samples)
	}
	if len(scored) > 0 {
		sets, err := metrics.EvaluateAtK(scored, o.Ks, metrics.BootstrapConfig{Seed: o.Seed})
		if err != nil {
			return nil, problems, err
		}
		rep.Metrics = map[string]float64{}
		rep.Intervals = map[string]metrics.Interval{}
		for i, k := range o.Ks {
			for name, e := range metricsAt(k, sets[i]) {
				rep.Metrics[name], rep.Intervals[name] = e.Mean, e.CI
			}
		}
		rep.BySource = sourceMeans(problems, MetricNames(o.N, o.Ks))
	}
	return rep, problems, nil
}

// metricsAt names a set's scores at k: avg@k, maj@k and pass@k.
func metricsAt(k int, s metrics.SetScore) map[string]metrics.Estimate {
	return map[string]metrics.Estimate{runlog.Avg(k): s.Avg, runlog.Maj(k): s.Maj, runlog.Pass(k): s.Pass[k]}
}

// sourceMeans averages the problems' metrics per data source, when the
// dataset has more than one.
func sourceMeans(problems []ProblemResult, names []string) map[string]map[string]float64 {
	sum := map[string]map[string]float64{}
	count := map[string]int{}
	for _, p := range problems {
		if p.Error != "" {
			continue
		}
		if sum[p.DataSource] == nil {
			sum[p.DataSource] = map[string]float64{}
		}
		count[p.DataSource]++
		for _, n := range names {
			sum[p.DataSource][n] += p.Metrics[n]
		}
	}
	if len(sum) < 2 {
		return nil
	}
	for src, m := range sum {
		for _, n := range names {
			m[n] /= float64(count[src])
		}
	}
	return sum
}

type client struct {
	o                 Options
	mu                sync.Mutex
	requests, retries int
}

// firstModel asks the server which model it serves.
func (c *client) firstModel(ctx context.Context) (string, error) {
	var resp struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	rng := rand.New(rand.NewPCG(c.o.Seed, 0))
	if err := c.do(ctx, http.MethodGet, "/v1/models", nil, &resp, rng); err != nil {
		return "", fmt.Errorf("listing models: %w", err)
	}
	if len(resp.Data) == 0 {
		return "", errors.New("the server lists no models; give the model name")
	}
	return resp.Data[0].ID, nil
}

// evaluate samples, grades and scores one problem.
func (c *client) evaluate(ctx context.Context, i int, rec data.Record, rng *rand.Rand) ProblemResult {
	p := ProblemResult{Index: i, ID: rec.ID, DataSource: rec.DataSource, Gold: rec.Answer}
	for part, got := 0, 0; got < c.o.N; part++ {
		n := min(c.o.PerRequest, c.o.N-got)
		texts, tokens, err := c.sample(ctx, rec, n, uint64(i)*1000+uint64(part), rng)
		if err != nil {
			p.Error = err.Error()
			return p
		}
		if len(texts) != n {
			p.Error = fmt.Sprintf("asked for %d samples, the server returned %d", n, len(texts))
			return p
		}
		p.Responses = append(p.Responses, texts...)
		p.Tokens += tokens
		got += n
	}
	p.Answers = make([]string, len(p.Responses))
	p.Correct = make([]float64, len(p.Responses))
	for j, r := range p.Responses {
		res := c.o.Grader.Grade(r, rec.Answer)
		p.Answers[j] = res.Answer
		if res.Correct {
			p.Correct[j] = 1
		}
	}
	p.samples = metrics.Samples{Classes: c.o.Grader.Classes(p.Answers).Class, Correct: p.Correct}
	scores, err := metrics.ScoreProblemAtK(p.samples, c.o.Ks)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Metrics = map[string]float64{}
	for i, k := range c.o.Ks {
		s := scores[i]
		p.Metrics[runlog.Avg(k)], p.Metrics[runlog.Maj(k)], p.Metrics[runlog.Pass(k)] = s.Avg, s.Maj, s.Pass[k]
	}
	return p
}

// sample asks for n samples of one problem and returns their texts.
func (c *client) sample(ctx context.Context, rec data.Record, n int, seedOffset uint64, rng *rand.Rand) ([]string, int, error) {
	body := map[string]any{
		"model": c.o.Model, "n": n, "temperature": c.o.Temperature, "top_p": c.o.TopP, "max_tokens": c.o.MaxTokens,
	}
	if len(c.o.Stop) > 0 {
		body["stop"] = c.o.Stop
	}
	if !c.o.NoSeed {
		body["seed"] = int64(c.o.Seed + seedOffset)
	}
	path := "/v1/completions"
	if c.o.Chat {
		path = "/v1/chat/completions"
		var msgs []map[string]string
		if c.o.System != "" {
			msgs = append(msgs, map[string]string{"role": "system", "content": c.o.System})
		}
		if rec.IsChat() {
			for _, m := range rec.Messages {
				msgs = append(msgs, map[string]string{"role": m.Role, "content": m.Content})
			}
		} else {
			msgs = append(msgs, map[string]string{"role": "user", "content": rec.Prompt})
		}
		body["messages"] = msgs
	} else {
		body["prompt"] = strings.ReplaceAll(c.o.Template, "{prompt}", rec.Prompt)
	}
	var resp struct {
		Choices []struct {
			Index   int    `json:"index"`
			Text    string `json:"text"`
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := c.do(ctx, http.MethodPost, path, body, &resp, rng); err != nil {
		return nil, 0, err
	}
	sort.SliceStable(resp.Choices, func(i, j int) bool { return resp.Choices[i].Index < resp.Choices[j].Index })
	texts := make([]string, len(resp.Choices))
	for i, ch := range resp.Choices {
		texts[i] = ch.Text
		if c.o.Chat {
			texts[i] = ch.Message.Content
		}
	}
	return texts, resp.Usage.CompletionTokens, nil
}

// StatusError is an answer the server gave with a non-200 status.
type StatusError struct {
	Status     int
	Message    string
	retryAfter time.Duration
}

func (e *StatusError) Error() string { return fmt.Sprintf("status %d: %s", e.Status, e.Message) }

// retryable says whether an answer may succeed when sent again.
func retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// do sends a request, retrying transport errors and retryable statuses
// with exponential backoff (with jitter, or the server's Retry-After).
func (c *client) do(ctx context.Context, method, path string, body, out any, rng *rand.Rand) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	delay := c.o.Backoff
	var last error
	for attempt := 0; attempt <= c.o.Retries; attempt++ {
		if attempt > 0 {
			c.mu.Lock()
			c.retries++
			c.mu.Unlock()
			wait := delay/2 + time.Duration(rng.Int64N(int64(delay/2)+1))
			var se *StatusError
			if errors.As(last, &se) && se.retryAfter > 0 {
				wait = max(wait, se.retryAfter)
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
			delay = min(delay*2, c.o.MaxBackoff)
		}
		c.mu.Lock()
		c.requests++
		c.mu.Unlock()
		err := c.once(ctx, method, path, raw, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		last = err
		var se *StatusError
		if errors.As(err, &se) && !retryable(se.Status) {
			return err
		}
	}
	return fmt.Errorf("%s %s: gave up after %d tries: %w", method, path, c.o.Retries+1, last)
}

func (c *client) once(ctx context.Context, method, path string, raw []byte, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.o.Endpoint+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.o.Token)
	}
	resp, err := c.o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		se := &StatusError{Status: resp.StatusCode, Message: errorMessage(data)}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.retryAfter = time.Duration(s) * time.Second
		}
		return se
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	return nil
}

// errorMessage digs the message out of an OpenAI-style error body.
func errorMessage(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil {
		if e.Error.Message != "" {
			return e.Error.Message
		}
		if e.Message != "" {
			return e.Message
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
