package modelserver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/serve"
)

// Config configures a model server.
type Config struct {
	Model     *engine.Model
	Tokenizer tokenizer.Tokenizer
	// Name is the model id clients send and /v1/models lists.
	Name string
	// Template lays out chat messages (default Auto).
	Template ChatTemplate
	// AddBOS puts the tokenizer's BOS token before every text prompt.
	AddBOS bool
	// MaxSeqsPerCall bounds the sequences of one engine call (default 256);
	// BatchWindow is how long the first of several concurrent requests
	// waits for others to join its call (default 2 ms); MaxQueue bounds the
	// requests waiting for the engine (default 256; 503 beyond).
	MaxSeqsPerCall int
	BatchWindow    time.Duration
	MaxQueue       int
	// Seed seeds the generator that seeds requests without a seed.
	Seed uint64
	// AlternativesBudget bounds the token positions one request may score to
	// find top_logprobs alternatives (default 2^21); see alternatives.
	AlternativesBudget int
	// MaxRequestTokens bounds the tokens one request may ask to generate:
	// prompts × n × max_tokens (default 2^18). A larger request is refused
	// with 400 rather than holding the engine for everyone.
	MaxRequestTokens int
	// Limits are the HTTP bounds; MaxConcurrent (default 64), MaxQueue and
	// QueueTimeout bound the requests being handled (503 beyond),
	// WriteTimeout the time a request's generation may take.
	Limits serve.Limits
	// Tokens, when any are given, are the bearer tokens a request must
	// carry one of (every endpoint but /health and /healthz).
	Tokens []string
	Logger *slog.Logger
}

// Server is an OpenAI-compatible server over one model.
type Server struct {
	cfg      Config
	tok      tokenizer.Tokenizer
	template ChatTemplate
	maxPos   int
	vocab    int
	special  map[int]bool // BOS, EOS, PAD: left out of text
	eos      []int
	batch    *batcher
	limits   serve.Limits
	limiter  *serve.Limiter
	budget   *serve.ByteBudget
	auth     *serve.Auth
	stats    *serve.Stats
	log      *slog.Logger
	created  int64
	ids      atomic.Uint64
	stop     context.CancelFunc

	promptTokens, completionTokens, requests atomic.Uint64
}

// New checks cfg and starts the server's engine loop; Close stops it.
func New(cfg Config) (*Server, error) {
	if cfg.Model == nil || cfg.Tokenizer == nil {
		return nil, errors.New("model server needs a model and a tokenizer")
	}
	mc := cfg.Model.Config()
	if tv := cfg.Tokenizer.VocabSize(); tv > mc.VocabSize {
		return nil, fmt.Errorf("the tokenizer has %d tokens but the model's vocabulary only %d", tv, mc.VocabSize)
	}
	if cfg.Name == "" {
		cfg.Name = "urlvr"
	}
	if cfg.MaxSeqsPerCall == 0 {
		cfg.MaxSeqsPerCall = 256
	}
	if cfg.BatchWindow == 0 {
		cfg.BatchWindow = 2 * time.Millisecond
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = 256
	}
	if cfg.AlternativesBudget == 0 {
		cfg.AlternativesBudget = 1 << 21
	}
	if cfg.MaxRequestTokens == 0 {
		cfg.MaxRequestTokens = 1 << 18
	}
	if cfg.MaxRequestTokens < 0 {
		return nil, fmt.Errorf("max request tokens %d is negative", cfg.MaxRequestTokens)
	}
	auth, err := serve.NewAuth(cfg.Tokens...)
	if err != nil {
		return nil, err
	}
	if cfg.Limits.MaxConcurrent == 0 {
		// The engine runs one call at a time; admitted requests wait for it
		// in the batcher, where alike ones share a call.
		cfg.Limits.MaxConcurrent = 64
	}
	lim := cfg.Limits.WithDefaults()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, tok: cfg.Tokenizer, maxPos: mc.MaxPositions, vocab: mc.VocabSize,
		special: map[int]bool{}, stats: serve.NewStats(), log: log, created: time.Now().Unix(),
		limits: lim, auth: auth, limiter: serve.NewLimiter(lim.MaxConcurrent, lim.MaxQueue, lim.QueueTimeout),
		budget: serve.NewByteBudget(lim.MaxBodyInFlight)}
	s.template = cfg.Template.resolve(cfg.Tokenizer)
	for _, role := range []string{tokenizer.RoleBOS, tokenizer.RoleEOS, tokenizer.RolePad} {
		if id, ok := cfg.Tokenizer.Special(role); ok {
			s.special[id] = true
		}
	}
	s.eos = append(s.eos, mc.EOSTokenIDs...)
	if id, ok := cfg.Tokenizer.Special(tokenizer.RoleEOS); ok && !slices.Contains(s.eos, id) {
		s.eos = append(s.eos, id)
	}
	for _, id := range s.eos {
		s.special[id] = true
	}
	s.batch = newBatcher(cfg.Model, cfg.MaxSeqsPerCall, cfg.BatchWindow, cfg.MaxQueue, cfg.Seed)
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go s.batch.run(ctx)
	return s, nil
}

// Close stops the engine loop; queued requests get 503.
func (s *Server) Close() { s.stop() }

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("POST /v1/completions", s.handleCompletions)
	mux.HandleFunc("POST /v1/chat/completions", s.handleChat)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serve.WriteError(w, serve.Errorf(http.StatusNotFound, "no route %s %s; see /v1/models, /v1/completions, /v1/chat/completions", r.Method, r.URL.Path))
	})
	return serve.Middleware(s.auth.Require(mux, "/health", "/healthz"), s.stats, s.log)
}

// admit takes a work slot for a generation request, before its body is
// read, and returns the context its work runs under: cancelled when the
// client leaves or when the write timeout passes (after which no answer
// could be written), so that the engine stops between decode steps rather
// than finish work nobody will read. done releases the slot.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (ctx context.Context, done func(), err error) {
	release, err := s.limiter.Acquire(r.Context())
	if err != nil {
		serve.Refuse(w)
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.limits.WriteTimeout)
	return ctx, func() { cancel(); release() }, nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	serve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	serve.WriteJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{{
		"id": s.cfg.Name, "object": "model", "created": s.created, "owned_by": "urlvr",
		"root": s.cfg.Name, "max_model_len": s.maxPos,
	}}})
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", serve.PromContentType)
	p := serve.NewPromWriter(w)
	s.stats.WriteProm(p, "urlvr")
	p.Metric("urlvr_model_prompt_tokens_total", "counter", "Prompt tokens processed.", float64(s.promptTokens.Load()))
	p.Metric("urlvr_model_completion_tokens_total", "counter", "Tokens generated and returned.", float64(s.completionTokens.Load()))
	p.Metric("urlvr_model_engine_calls_total", "counter", "Engine sampling calls.", float64(s.batch.calls.Load()))
	p.Metric("urlvr_model_engine_sequences_total", "counter", "Sequences sampled.", float64(s.batch.seqs.Load()))
	p.Metric("urlvr_model_merged_requests_total", "counter", "Requests that shared an engine call with others.", float64(s.batch.merged.Load()))
	p.Metric("urlvr_model_queue_length", "gauge", "Requests waiting for the engine.", float64(s.batch.queued()))
	p.Flush()
}

// readObject reads a request body as a JSON object and checks "model".
// The body's bytes are reserved in the server's byte budget while it is
// read and decoded.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request) (serve.Object, error) {
	body, release, err := serve.ReadBodyWithin(w, r, s.limits.Body(s.budget))
	if err != nil {
		return nil, err
	}
	defer release()
	o, err := serve.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	if name, ok, err := o.String("model"); err != nil {
		return nil, err
	} else if ok && name != s.cfg.Name {
		return nil, serve.Errorf(http.StatusNotFound, "the model %q does not exist; this server serves %q", name, s.cfg.Name)
	}
	return o, nil
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	// A body cut off for arriving too slowly also cancels the request's
	// context, but the client is still there to read the 408.
	if (r.Context().Err() != nil && !serve.IsStatus(err, http.StatusRequestTimeout)) || errors.Is(err, serve.ErrClientGone) {
		s.stats.Disconnected()
		return
	}
	switch {
	case errors.Is(err, errQueueFull):
		s.stats.Rejected()
		err = serve.Errorf(http.StatusServiceUnavailable, "server saturated: %d requests are waiting for the engine (--max-queue-requests %d); retry later", s.batch.queued(), s.batch.maxQueue)
	case errors.Is(err, serve.ErrSaturated):
		s.stats.Rejected()
		working, queued := s.limiter.Busy()
		err = serve.Errorf(http.StatusServiceUnavailable, "server saturated: %d requests being handled and %d waiting (--max-concurrent %d, --max-queue %d, --queue-timeout %v); retry later",
			working, queued, s.limits.MaxConcurrent, s.limits.MaxQueue, s.limits.QueueTimeout)
	case errors.Is(err, context.DeadlineExceeded):
		err = serve.Errorf(http.StatusServiceUnavailable, "generation stopped: the request ran past the write timeout of %v (--write-timeout); ask for fewer tokens or choices", s.limits.WriteTimeout)
	}
	serve.WriteError(w, err)
}

func (s *Server) newID(prefix string) string {
	return fmt.Sprintf("%s-%x%06x", prefix, s.created, s.ids.Add(1))
}

// encode turns a prompt into token IDs.
func (s *Server) encode(p prompt) []int {
	if p.byIDs {
		return p.tokens
	}
	ids := s.tok.Encode(p.text)
	if s.cfg.AddBOS {
		if bos, ok := s.tok.Special(tokenizer.RoleBOS); ok {
			ids = append([]int{bos}, ids...)
		}
	}
	return ids
}

// choice is one generated answer after stop handling.
type choice struct {
	prompt     int   // index of its prompt
	tokens     []int // tokens returned (the stop token included)
	text       string
	finish     string
	stopReason any
	logprobs   []float64
	top        [][]alternative
}

// generate samples s.n answers for each prompt and applies stop strings,
// log-probs and alternatives.
func (s *Server) generate(ctx context.Context, prompts [][]int, sp sampling, defaultMax int) ([]choice, error) {
	longest := 0
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, serve.BadRequest("prompt %d is empty after tokenisation", i)
		}
		if len(p) >= s.maxPos {
			return nil, serve.BadRequest("prompt %d has %d tokens; this model's maximum context length is %d tokens", i, len(p), s.maxPos)
		}
		longest = max(longest, len(p))
	}
	maxNew := sp.maxTokens
	switch {
	case maxNew == 0:
		maxNew = min(defaultMax, s.maxPos-longest)
		if defaultMax <= 0 {
			maxNew = s.maxPos - longest
		}
	case longest+maxNew > s.maxPos:
		return nil, serve.BadRequest("this model's maximum context length is %d tokens; you requested %d tokens (%d in the prompt, %d in the completion)",
			s.maxPos, longest+maxNew, longest, maxNew)
	}
	if seqs := len(prompts) * sp.n; seqs*maxNew > s.cfg.MaxRequestTokens || seqs > s.cfg.MaxRequestTokens {
		return nil, serve.BadRequest("this request may generate %d tokens (%d prompts × n = %d × max_tokens = %d), over this server's limit of %d per request (--max-request-tokens); send fewer prompts or choices, or a smaller max_tokens",
			seqs*maxNew, len(prompts), sp.n, maxNew, s.cfg.MaxRequestTokens)
	}
	stopTokens := slices.Clone(s.eos)
	for _, id := range sp.stopTokenIDs {
		if !slices.Contains(stopTokens, id) {
			stopTokens = append(stopTokens, id)
		}
	}
	// A stop string that is one token can stop the engine early; the text
	// is cut at it below either way.
	for _, str := range sp.stop {
		if ids := s.tok.Encode(str); len(ids) == 1 && !slices.Contains(stopTokens, ids[0]) {
			stopTokens = append(stopTokens, ids[0])
		}
	}
	slices.Sort(stopTokens)
	opts := engine.SampleOptions{MaxNewTokens: maxNew, Temperature: sp.temperature, TopK: sp.topK, TopP: sp.topP, StopTokens: stopTokens}
	job := &genJob{ctx: ctx, opts: opts, done: make(chan genResult, 1),
		key: fmt.Sprintf("%v/%v/%d/%d/%v", sp.temperature, sp.topP, sp.topK, maxNew, stopTokens)}
	if sp.seed != nil {
		job.seeded, job.opts.Seed = true, *sp.seed
	}
	for _, p := range prompts {
		for range sp.n {
			job.prompts = append(job.prompts, p)
		}
	}
	if err := s.batch.submit(job); err != nil {
		return nil, err
	}
	var res genResult
	select {
	case res = <-job.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.err != nil {
		return nil, res.err
	}

	out := make([]choice, len(res.gens))
	for i, g := range res.gens {
		out[i] = s.finish(i/sp.n, g, sp)
	}
	if sp.logprobs {
		if err := s.addLogprobs(ctx, prompts, out, sp); err != nil {
			return nil, err
		}
	}
	for _, p := range prompts {
		s.promptTokens.Add(uint64(len(p)))
	}
	for _, c := range out {
		s.completionTokens.Add(uint64(len(c.tokens)))
	}
	return out, nil
}

// finish turns a generation into a choice: text without special tokens,
// cut before the first stop string (which then ends the tokens too).
func (s *Server) finish(promptIdx int, g engine.Generation, sp sampling) choice {
	c := choice{prompt: promptIdx, tokens: g.Tokens, finish: g.FinishReason}
	if g.FinishReason == engine.FinishStop && len(g.Tokens) > 0 {
		if last := g.Tokens[len(g.Tokens)-1]; slices.Contains(sp.stopTokenIDs, last) && !slices.Contains(s.eos, last) {
			c.stopReason = last
		}
	}
	c.text = s.decode(c.tokens)
	if len(sp.stop) == 0 {
		return c
	}
	at, which := -1, ""
	for _, str := range sp.stop {
		if i := strings.Index(c.text, str); i >= 0 && (at < 0 || i < at) {
			at, which = i, str
		}
	}
	if at < 0 {
		return c
	}
	// The shortest token prefix whose text holds the whole stop string.
	end := at + len(which)
	c.tokens = c.tokens[:tokenPrefix(len(c.tokens), func(k int) bool { return len(s.decode(c.tokens[:k])) >= end })]
	c.text = c.text[:at]
	c.finish, c.stopReason = engine.FinishStop, which
	return c
}

// tokenPrefix returns the smallest k in [1, n] with ok(k), assuming ok is
// monotone (decoded text only grows with more tokens); n if none.
func tokenPrefix(n int, ok func(k int) bool) int {
	lo, hi := 1, n
	for lo < hi {
		mid := (lo + hi) / 2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// decode returns the text of tokens without BOS, EOS and padding.
func (s *Server) decode(tokens []int) string {
	keep := make([]int, 0, len(tokens))
	for _, t := range tokens {
		if !s.special[t] {
			keep = append(keep, t)
		}
	}
	return s.tok.Decode(keep)
}

// tokenText is a token as logprobs report it.
func (s *Server) tokenText(id int) string { return s.tok.Decode([]int{id}) }

// addLogprobs fills each choice's log-probs: those of the unmodified
// distribution (temperature 1, no top-k/top-p), as vLLM reports them, and
// the top alternatives when asked.
func (s *Server) addLogprobs(ctx context.Context, prompts [][]int, out []choice, sp sampling) error {
	var seqs [][]int
	var from []int
	var idx []int
	for i := range out {
		if len(out[i].tokens) == 0 {
			continue
		}
		p := prompts[out[i].prompt]
		seqs = append(seqs, append(slices.Clone(p), out[i].tokens...))
		from = append(from, len(p))
		idx = append(idx, i)
	}
	if len(seqs) > 0 {
		scores, err := s.cfg.Model.LogProbs(ctx, seqs, engine.ScoreOptions{Temperature: 1, ScoreFrom: from})
		if err != nil {
			return fmt.Errorf("scoring log-probs: %w", err)
		}
		for j, i := range idx {
			lp := scores[j].LogProbs[from[j]:]
			out[i].logprobs = make([]float64, len(lp))
			for t, v := range lp {
				out[i].logprobs[t] = float64(v)
			}
		}
	}
	if sp.topLogprobs == 0 {
		return nil
	}
	cost := 0
	for i := range out {
		p := len(prompts[out[i].prompt])
		for t := range out[i].tokens {
			cost += s.vocab * (p + t + 1)
		}
	}
	if cost > s.cfg.AlternativesBudget {
		return serve.BadRequest("top_logprobs for this request means scoring %d token positions, over this server's limit of %d: the engine does not report alternatives, so each is found by scoring every vocabulary entry; ask for fewer choices (n) or tokens (max_tokens)", cost, s.cfg.AlternativesBudget)
	}
	for i := range out {
		top, err := s.alternatives(ctx, prompts[out[i].prompt], out[i].tokens, sp.topLogprobs)
		if err != nil {
			return err
		}
		out[i].top = top
	}
	return nil
}

// alternative is one of the most likely tokens at a position.
type alternative struct {
	id      int
	logprob float64
}

// alternatives returns, at each position of tokens after prompt, the k most
// likely tokens (ties to the lower ID) and their log-probs at temperature 1.
// The engine returns the sampled token's statistics only, so each
// position's distribution is recovered by scoring the prefix followed by
// every vocabulary entry: exact, and affordable for the small vocabularies
// of urlvr's embedded models (the budget guards the rest).
func (s *Server) alternatives(ctx context.Context, prompt, tokens []int, k int) ([][]alternative, error) {
	out := make([][]alternative, len(tokens))
	seqs := make([][]int, 0, s.vocab)
	from := make([]int, 0, s.vocab)
	for t := range tokens {
		prefix := append(slices.Clone(prompt), tokens[:t]...)
		seqs, from = seqs[:0], from[:0]
		for v := range s.vocab {
			seqs = append(seqs, append(prefix[:len(prefix):len(prefix)], v))
			from = append(from, len(prefix))
		}
		scores, err := s.cfg.Model.LogProbs(ctx, seqs, engine.ScoreOptions{Temperature: 1, ScoreFrom: from})
		if err != nil {
			return nil, fmt.Errorf("scoring alternatives: %w", err)
		}
		alts := make([]alternative, s.vocab)
		for v := range s.vocab {
			alts[v] = alternative{v, float64(scores[v].LogProbs[len(prefix)])}
		}
		slices.SortStableFunc(alts, func(a, b alternative) int { return cmp.Compare(b.logprob, a.logprob) })
		out[t] = alts[:min(k, len(alts))]
	}
	return out, nil
}

// usage counts tokens as OpenAI does: each prompt once, every choice's
// tokens.
type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func countUsage(prompts [][]int, choices []choice) usage {
	var u usage
	for _, p := range prompts {
		u.PromptTokens += len(p)
	}
	for _, c := range choices {
		u.CompletionTokens += len(c.tokens)
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

func finite(v float64) float64 {
	if math.IsInf(v, -1) || math.IsNaN(v) {
		return -9999 // as vLLM reports -inf
	}
	return v
}

// Auth returns the server's token checker (never nil).
func (s *Server) Auth() *serve.Auth { return s.auth }
