package rewardserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/serve"
)

// Config configures a reward service.
type Config struct {
	// Estimator scores every group (reward.New builds one by name).
	Estimator reward.Estimator
	// Params are the estimator's parameters, shown by GET /v1/estimator.
	Params map[string]any
	// Grader grades answers against gold for the metrics; nil means
	// grade.Default().
	Grader *grade.Grader
	// GroupSize is the number of rollouts per prompt (the trainer's n);
	// 0 means unknown, and then every request's groups are taken as whole.
	// A request may give its own "group_size".
	GroupSize int
	// Split says what happens to a group a request splits (needs a group
	// size); GroupWait is how long SplitWait holds one (default 30 s), and
	// MaxHeld bounds the rollouts held over all groups (default 65536).
	Split     SplitPolicy
	GroupWait time.Duration
	MaxHeld   int
	// Tracker sets the per-run step accounting and collapse detection.
	Tracker TrackerConfig
	// Limits are the HTTP bounds (body size, concurrency, timeouts).
	Limits serve.Limits
	// Tokens, when any are given, are the bearer tokens a request must
	// carry one of (every endpoint but /healthz and /readyz). Each token is
	// a principal whose rollouts never share a group with another's.
	Tokens []string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

// Server is the reward service. Create it with New, serve Handler, and call
// Close on shutdown so that held groups are answered.
type Server struct {
	cfg     Config
	family  string
	limits  serve.Limits
	log     *slog.Logger
	grader  *grade.Grader
	limiter *serve.Limiter
	budget  *serve.ByteBudget
	auth    *serve.Auth
	stats   *serve.Stats
	tracker *tracker
	rv      *rendezvous
	started time.Time
	scored  counter
	closing chan struct{}
}

// New checks cfg and returns a server.
func New(cfg Config) (*Server, error) {
	if cfg.Estimator == nil {
		return nil, errors.New("no estimator")
	}
	if cfg.GroupSize < 0 {
		return nil, fmt.Errorf("group size %d is negative", cfg.GroupSize)
	}
	if cfg.Split != SplitReject && cfg.Split != SplitPartial && cfg.Split != SplitWait {
		return nil, fmt.Errorf("unknown split policy %d", int(cfg.Split))
	}
	if cfg.Split == SplitWait && cfg.GroupSize == 0 {
		return nil, errors.New("the wait split policy needs a group size: it holds a group until that many rollouts arrived")
	}
	if cfg.GroupWait == 0 {
		cfg.GroupWait = 30 * time.Second
	}
	if cfg.MaxHeld == 0 {
		cfg.MaxHeld = 1 << 16
	}
	lim := cfg.Limits.WithDefaults()
	if cfg.Split == SplitWait && cfg.GroupWait >= lim.WriteTimeout {
		return nil, fmt.Errorf("group wait %v must be shorter than the write timeout %v, or held requests could not be answered", cfg.GroupWait, lim.WriteTimeout)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, limits: lim, log: log, grader: cfg.Grader, started: time.Now(), closing: make(chan struct{})}
	if s.grader == nil {
		s.grader = grade.Default()
	}
	if spec, ok := reward.Lookup(cfg.Estimator.Name()); ok {
		s.family = spec.Family
	}
	var err error
	if s.auth, err = serve.NewAuth(cfg.Tokens...); err != nil {
		return nil, err
	}
	s.tracker, err = newTracker(cfg.Tracker, func(msg string, args ...any) { log.Warn(msg, args...) })
	if err != nil {
		return nil, err
	}
	s.limiter = serve.NewLimiter(lim.MaxConcurrent, lim.MaxQueue, lim.QueueTimeout)
	s.budget = serve.NewByteBudget(lim.MaxBodyInFlight)
	s.stats = serve.NewStats()
	s.rv = newRendezvous(max(cfg.GroupSize, 1), cfg.GroupWait, cfg.MaxHeld, s.completeHeld)
	return s, nil
}

// Handler returns the service's routes, wrapped in the recovering, logging
// and counting middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /get_reward", s.handleOpenRLHF)
	mux.HandleFunc("POST /v1/rewards", s.handleBatch)
	mux.HandleFunc("GET /v1/estimator", s.handleEstimator)
	mux.HandleFunc("GET /runs", s.handleRuns)
	mux.HandleFunc("GET /runs/{id}", s.handleRun)
	mux.HandleFunc("DELETE /runs/{id}", s.handleForget)
	mux.HandleFunc("POST /runs/{id}/stop", s.handleStop)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		serve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.closing:
			serve.WriteError(w, serve.Errorf(http.StatusServiceUnavailable, "shutting down"))
		default:
			serve.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serve.WriteError(w, serve.Errorf(http.StatusNotFound, "no route %s %s; see POST /get_reward, POST /v1/rewards, GET /runs/{id}, GET /metrics", r.Method, r.URL.Path))
	})
	return serve.Middleware(s.auth.Require(mux, "/healthz", "/readyz"), s.stats, s.log)
}

// Auth returns the server's token checker (never nil).
func (s *Server) Auth() *serve.Auth { return s.auth }

// Close answers every held group (as partial groups) and makes later split
// groups score at once; Serve calls it when shutdown begins.
func (s *Server) Close() {
	select {
	case <-s.closing:
		return
	default:
		close(s.closing)
	}
	s.rv.close()
}

// Limits returns the HTTP bounds in force (defaults filled in).
func (s *Server) Limits() serve.Limits { return s.limits }

// Run returns a run's report.
func (s *Server) Run(id string) (RunReport, bool) { return s.tracker.report(id, -1, time.Now()) }

// openRLHFResponse is OpenRLHF's answer layout plus urlvr's own field.
type openRLHFResponse struct {
	Rewards   []float64            `json:"rewards"`
	Scores    []float64            `json:"scores"`
	ExtraLogs map[string][]float64 `json:"extra_logs"`
	Urlvr     urlvrPart            `json:"urlvr"`
}

// urlvrPart is what urlvr adds to an answer: per-rollout answers, the
// groups, the B.2 metrics of the request's groups with ground truth, the
// run's status and warnings.
type urlvrPart struct {
	Answers  []string          `json:"answers"`
	Groups   []GroupInfo       `json:"groups"`
	Metrics  *metrics.Dynamics `json:"metrics,omitempty"`
	Run      RunStatus         `json:"run"`
	Warnings []string          `json:"warnings,omitempty"`
}

// BatchResponse is the answer of POST /v1/rewards.
type BatchResponse struct {
	Rewards  []float64         `json:"rewards"`
	Answers  []string          `json:"answers"`
	Groups   []GroupInfo       `json:"groups"`
	Metrics  *metrics.Dynamics `json:"metrics,omitempty"`
	Run      RunStatus         `json:"run"`
	Warnings []string          `json:"warnings,omitempty"`
}

func (s *Server) handleOpenRLHF(w http.ResponseWriter, r *http.Request) {
	res, b, err := s.scoreRequest(w, r, func(body []byte) (*batch, error) {
		return decodeOpenRLHF(body, r, s.family == "ensemble")
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := openRLHFResponse{Rewards: res.rewards, Scores: res.rewards, ExtraLogs: map[string][]float64{}, Urlvr: res.urlvrPart}
	// extra_logs are per-rollout numbers, which OpenRLHF logs as means.
	if res.allGT {
		out.ExtraLogs["urlvr/ground_truth_reward"] = res.gt
	}
	if res.voting {
		out.ExtraLogs["urlvr/majority_ratio"] = res.majorityRatio
	}
	stop := make([]float64, len(b.items))
	if res.Run.Stop {
		for i := range stop {
			stop[i] = 1
		}
	}
	out.ExtraLogs["urlvr/stop"] = stop
	s.reply(w, r, out, res.Run)
}

func (s *Server) handleBatch(w http.ResponseWriter, r *http.Request) {
	res, _, err := s.scoreRequest(w, r, func(body []byte) (*batch, error) { return decodeBatch(body, r) })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.reply(w, r, BatchResponse{Rewards: res.rewards, Answers: res.Answers, Groups: res.Groups, Metrics: res.Metrics, Run: res.Run, Warnings: res.Warnings}, res.Run)
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, body any, st RunStatus) {
	if err := r.Context().Err(); err != nil {
		s.stats.Disconnected()
		s.log.Info("client left before its answer", "path", r.URL.Path, "run", st.RunID)
		return
	}
	if st.Stop {
		w.Header().Set("X-Urlvr-Stop", "1")
	}
	serve.WriteJSON(w, http.StatusOK, body)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	// A body cut off for arriving too slowly also cancels the request's
	// context, but the client is still there to read the 408.
	if (r.Context().Err() != nil && !serve.IsStatus(err, http.StatusRequestTimeout)) || errors.Is(err, serve.ErrClientGone) {
		s.stats.Disconnected()
		s.log.Info("client left before its answer", "path", r.URL.Path, "err", err.Error())
		return
	}
	if errors.Is(err, serve.ErrSaturated) {
		working, queued := s.limiter.Busy()
		err = serve.Errorf(http.StatusServiceUnavailable, "server saturated: %d requests scoring and %d queued (--max-concurrent %d, --max-queue %d, --queue-timeout %v); retry later",
			working, queued, s.limits.MaxConcurrent, s.limits.MaxQueue, s.limits.QueueTimeout)
	}
	var se *serve.Error
	if errors.As(err, &se) && se.Status == http.StatusServiceUnavailable {
		s.stats.Rejected()
	}
	serve.WriteError(w, err)
}

// result is a scored request, ready to encode.
type result struct {
	urlvrPart
	rewards       []float64
	gt            []float64
	allGT         bool
	voting        bool
	majorityRatio []float64
}

// scoreRequest admits, reads, decodes and scores a request. A work slot is
// taken before the body is read, and the body's bytes are reserved in the
// server's byte budget, so that neither the number of requests reading
// bodies nor the bytes they hold grows with the number of connections.
// Decoding and scoring hold the slot; waiting for held groups does not. The
// request's groups are counted into its run only once it is answered: a
// client that leaves takes its held rollouts with it and adds no step.
func (s *Server) scoreRequest(w http.ResponseWriter, r *http.Request, decode func([]byte) (*batch, error)) (*result, *batch, error) {
	ctx := r.Context()
	release, err := s.limiter.Acquire(ctx)
	if err != nil {
		serve.Refuse(w)
		return nil, nil, err
	}
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	body, giveBytes, err := serve.ReadBodyWithin(w, r, s.limits.Body(s.budget))
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if !released {
			giveBytes()
		}
	}()
	b, err := decode(body)
	if err != nil {
		return nil, nil, err
	}
	owner := s.owner(r, b.client)
	n := b.groupSize
	if n == 0 {
		n = s.cfg.GroupSize
	}
	whole, rest, err := formChunks(b.items, n)
	if err != nil {
		return nil, nil, err
	}
	t := newTicket(len(b.items))
	t.warnings = append(t.warnings, b.warnings...)
	now := whole
	var ready []*heldGroup
	if len(rest) > 0 {
		switch {
		case s.cfg.Split == SplitReject:
			return nil, nil, splitError(rest, n)
		case s.cfg.Split == SplitWait && n == s.rv.size:
			var late []chunk
			ready, late, err = s.rv.add(owner, b.run, b.step, rest, t)
			if err != nil {
				return nil, nil, err
			}
			now = append(now, late...)
		default:
			// SplitPartial, or a request whose own group size differs from
			// the size groups are held to.
			for _, c := range rest {
				c.partial = true
				t.warnings = append(t.warnings, fmt.Sprintf("group %q: %d of %d rollouts in this request; scored as a partial group", c.group.PromptID, len(c.pos), n))
				now = append(now, c)
			}
		}
	}
	// Score this request's whole groups (and partial ones scored now) as
	// one batch of the run, then the held groups this request completed.
	results := make([]scored, len(now))
	errs := make([]error, len(now))
	parallelGroups(len(now), func(k int) {
		results[k], errs[k] = scoreGroup(ctx, s.cfg.Estimator, s.grader, now[k].group)
	})
	// Held groups this request made whole are scored even if its client
	// has left: the other requests in them are waiting for their answers.
	for _, h := range ready {
		s.completeHeld(h, false, "")
	}
	if err := ctx.Err(); err != nil {
		s.rv.withdraw(t)
		return nil, nil, err
	}
	var rec batchRecord
	for k, c := range now {
		t.pending.Add(1)
		deliver(c.group, c.partial, results[k], errs[k], "", []contribution{{t: t, pos: c.pos}})
		if errs[k] == nil {
			rec.addGroup(results[k].scores.Rewards, c.partial, results[k].mgs)
		}
	}
	released = true
	giveBytes()
	release()

	if err := waitTicket(ctx, t); err != nil {
		s.rv.withdraw(t)
		return nil, nil, err
	}
	if t.err != nil {
		return nil, nil, t.err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.scored.add(uint64(rec.rollouts))
	var st RunStatus
	if rec.groups > 0 {
		st = s.tracker.record(b.run, b.step, s.cfg.Split == SplitWait, rec, time.Now())
	} else {
		st = s.tracker.statusOf(b.run)
	}
	return s.assemble(b, t, st), b, nil
}

// owner names whose rollouts a request carries, for keeping groups apart:
// the token it presented (each token is one principal) or, when the server
// has no tokens, the address it came from; then the client id the request
// gave, if any. Held rollouts only ever join groups of the same owner, run
// and group key.
func (s *Server) owner(r *http.Request, client string) string {
	var who string
	if p, _ := s.auth.Principal(r); p > 0 {
		who = "token:" + strconv.Itoa(p)
	} else {
		who = "addr:" + r.RemoteAddr
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			who = "addr:" + host
		}
	}
	return who + "/" + client
}

// parallelGroups runs score(k) for k < n on up to GOMAXPROCS goroutines
// (at most 4): groups are independent, and a request's latency is what a
// trainer waits for.
func parallelGroups(n int, score func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), 4, n/8)
	if workers <= 1 {
		for k := range n {
			score(k)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				score(k)
			}
		}()
	}
	wg.Wait()
}

// completeHeld scores a held group and answers every request in it.
func (s *Server) completeHeld(h *heldGroup, partial bool, warning string) {
	ctx := context.Background()
	sc, err := scoreGroup(ctx, s.cfg.Estimator, s.grader, h.group)
	if warning != "" {
		s.log.Warn("partial group", "run", h.run, "group", h.group.PromptID, "rollouts", len(h.group.Rollouts), "group_size", s.rv.size, "reason", warning)
	}
	if err != nil {
		s.log.Warn("held group failed", "run", h.run, "group", h.group.PromptID, "err", err.Error())
	} else {
		// Record before answering: a client that reads its run's report
		// right after its answer must find this group counted.
		var rec batchRecord
		rec.addGroup(sc.scores.Rewards, partial, sc.mgs)
		s.scored.add(uint64(rec.rollouts))
		s.tracker.record(h.run, h.step, true, rec, time.Now())
	}
	deliver(h.group, partial, sc, err, warning, h.contribs)
}

// waitTicket waits for every delivery due to t, or for the client to go.
func waitTicket(ctx context.Context, t *ticket) error {
	done := make(chan struct{})
	go func() {
		t.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// assemble turns a ticket into the answer's fields.
func (s *Server) assemble(b *batch, t *ticket, st RunStatus) *result {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(b.items)
	res := &result{rewards: make([]float64, n), gt: make([]float64, n), allGT: true, voting: s.family == "ensemble"}
	res.Answers = make([]string, n)
	res.Groups = t.groups
	res.Warnings = t.warnings
	res.Run = st
	if res.voting {
		res.majorityRatio = make([]float64, n)
	}
	for i, x := range t.results {
		res.rewards[i] = x.reward
		res.Answers[i] = x.answer
		res.gt[i] = x.gt
		res.allGT = res.allGT && x.hasGT
		if res.voting {
			if g := t.groups[x.group]; g.Size > 0 {
				res.majorityRatio[i] = float64(g.TopCount) / float64(g.Size)
			}
		}
	}
	if len(t.mgs) > 0 {
		if d, err := metrics.ComputeDynamics(t.mgs); err == nil {
			res.Metrics = &d
		} else {
			res.Warnings = append(res.Warnings, "metrics: "+err.Error())
		}
	}
	return res
}

// splitError is the strict mode's 400.
func splitError(rest []chunk, n int) error {
	msg := ""
	for i, c := range rest {
		if i == 3 {
			msg += fmt.Sprintf(" and %d more", len(rest)-3)
			break
		}
		if i > 0 {
			msg += ", "
		}
		msg += fmt.Sprintf("group %q has %d", c.group.PromptID, len(c.pos))
	}
	return serve.BadRequest("split groups: %s rollouts, not a multiple of the group size %d; send whole groups (give \"group_ids\" when prompts repeat), or run the server with --split partial or --split wait", msg, n)
}

func (s *Server) handleEstimator(w http.ResponseWriter, r *http.Request) {
	serve.WriteJSON(w, http.StatusOK, map[string]any{
		"estimator":  s.cfg.Estimator.Name(),
		"family":     s.family,
		"params":     s.cfg.Params,
		"group_size": s.cfg.GroupSize,
		"split":      s.cfg.Split.String(),
		"group_wait": s.cfg.GroupWait.String(),
	})
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) {
	serve.WriteJSON(w, http.StatusOK, map[string]any{"runs": s.tracker.reports(time.Now())})
}

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	history := -1
	if v := r.URL.Query().Get("history"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			serve.WriteError(w, serve.BadRequest("query parameter history=%q: want a non-negative integer", v))
			return
		}
		history = n
	}
	rep, ok := s.tracker.report(id, history, time.Now())
	if !ok {
		serve.WriteError(w, serve.Errorf(http.StatusNotFound, "no run %q", id))
		return
	}
	serve.WriteJSON(w, http.StatusOK, rep)
}

func (s *Server) handleForget(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !s.tracker.forget(id) {
		serve.WriteError(w, serve.Errorf(http.StatusNotFound, "no run %q", id))
		return
	}
	serve.WriteJSON(w, http.StatusOK, map[string]string{"deleted": id})
}

func (s *Server) handleStop(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !ValidRunID(id) {
		serve.WriteError(w, serve.BadRequest("run id %q: want 1 to 128 letters, digits, '.', '_', ':' or '-'", id))
		return
	}
	reason := r.URL.Query().Get("reason")
	st, ok := s.tracker.stopRun(id, reason, time.Now())
	if !ok {
		serve.WriteError(w, serve.Errorf(http.StatusNotFound, "no run %q: a run exists once the service has scored rollouts of it", id))
		return
	}
	serve.WriteJSON(w, http.StatusOK, st)
}
