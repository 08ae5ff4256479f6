package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/serve"
	"github.com/urlvr/urlvr/serve/loadtest"
	"github.com/urlvr/urlvr/serve/modelserver"
	"github.com/urlvr/urlvr/serve/rewardserver"
)

var serveCmd = &cobra.Command{
	Use:   "serve",
	Short: "Run urlvr's services: the reward service, an OpenAI-compatible model server, a load test",
}

func init() {
	rootCmd.AddCommand(serveCmd)
	serveCmd.AddCommand(serveRewardsCmd(), serveModelCmd(), serveLoadtestCmd())
}

// serviceFlags are the flags every service shares: address, limits, logs.
type serviceFlags struct {
	addr      string
	tokens    []string
	limits    serve.Limits
	maxBody   int64
	logLevel  string
	logFormat string
}

func (f *serviceFlags) register(fs *pflag.FlagSet, defAddr string, defQueueTimeout time.Duration, concurrentHelp string) {
	fs.StringVar(&f.addr, "addr", defAddr, "address to listen on (host:port); a non-loopback address needs a token")
	fs.StringArrayVar(&f.tokens, "token", nil, "bearer token every request but the health checks must carry (repeatable: one per client; default: $"+serve.TokenEnv+", comma-separated)")
	fs.Int64Var(&f.maxBody, "max-body", 64<<20, "largest request body in bytes (413 beyond)")
	fs.Int64Var(&f.limits.MaxBodyInFlight, "max-body-in-flight", 0, "request-body bytes held by all requests together (503 beyond; 0: twice --max-body, at least 128 MiB)")
	fs.Int64Var(&f.limits.MinBodyRate, "min-body-rate", 64<<10, "slowest accepted request-body upload in bytes/s after --body-grace (408 below)")
	fs.DurationVar(&f.limits.BodyGrace, "body-grace", 2*time.Second, "time a request body may take before --min-body-rate applies")
	fs.IntVar(&f.limits.MaxConcurrent, "max-concurrent", 0, concurrentHelp)
	fs.IntVar(&f.limits.MaxQueue, "max-queue", 0, "requests waiting for a work slot before 503 (0: 1024, or 4 per slot if more)")
	fs.DurationVar(&f.limits.QueueTimeout, "queue-timeout", defQueueTimeout, "longest wait for a work slot before 503")
	fs.IntVar(&f.limits.MaxConnections, "max-connections", 4096, "open client connections at most (with --split wait, at least the rollouts of a step)")
	fs.DurationVar(&f.limits.ReadTimeout, "read-timeout", 60*time.Second, "time to read a whole request")
	fs.DurationVar(&f.limits.WriteTimeout, "write-timeout", 120*time.Second, "time to answer a request")
	fs.DurationVar(&f.limits.IdleTimeout, "idle-timeout", 120*time.Second, "keep-alive connection idle time")
	fs.DurationVar(&f.limits.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "graceful drain on SIGINT/SIGTERM")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "json", "json or text (structured logs on stderr)")
}

func (f *serviceFlags) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json or text", f.logFormat)
}

// tokenList returns the --token flags, else the tokens in $URLVR_TOKEN.
func (f *serviceFlags) tokenList() []string {
	if len(f.tokens) > 0 {
		return f.tokens
	}
	return serve.TokensFromEnv()
}

func (f *serviceFlags) limitsWithBody() serve.Limits {
	l := f.limits
	l.MaxBodyBytes = f.maxBody
	return l
}

// runService listens on the flag's address and serves h until SIGINT or
// SIGTERM, then drains. It warns when the address is reachable from other
// machines and no token is set.
func runService(cmd *cobra.Command, f *serviceFlags, log *slog.Logger, h interface {
	Handler() http.Handler
	Auth() *serve.Auth
	Close()
}) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	serve.WarnIfExposed(log, ln.Addr(), h.Auth())
	return serve.Serve(ctx, ln, h.Handler(), f.limitsWithBody(), log, h.Close)
}

func serveRewardsCmd() *cobra.Command {
	var (
		sf        serviceFlags
		estimator string
		params    []string
		split     string
		cfg       rewardserver.Config
	)
	cmd := &cobra.Command{
		Use:   "rewards",
		Short: "Serve rewards, training-dynamics metrics and collapse detection over HTTP",
		Long: `rewards serves urlvr's reward estimators to distributed RL trainers.

Endpoints:
  POST /get_reward      OpenRLHF's remote reward model: {"query": [...], "prompts": [...],
                        "labels": [...]} -> {"rewards", "scores", "extra_logs"}; the response is
                        what follows the prompt in the query; rollouts group by prompt text,
                        or by an optional "group_ids" list. Point --remote_rm_url at
                        http://HOST:PORT/get_reward?run=NAME.
  POST /v1/rewards      batch endpoint (the veRL adapter in integrations/python): columns
                        {"responses", "group_ids" or "prompts", "golds"} or records
                        {"rollouts": [{"group_id", "response", "gold", "token_logprobs", ...}]}.
  GET  /runs, /runs/ID  per-run training dynamics: label and reward accuracy, proxy against
                        ground-truth reward per step, the running Model Collapse Step, the
                        stop signal. POST /runs/ID/stop raises it, DELETE /runs/ID forgets.
  GET  /metrics         Prometheus text. GET /healthz, /readyz, /v1/estimator.

Requests name their run with "run_id" (or header X-Urlvr-Run, or ?run=) and
optionally their training step with "step" (X-Urlvr-Step, ?step=) and a
client with "client_id" (X-Urlvr-Client, ?client=).

Security: with a token (--token, or URLVR_TOKEN; several give one per
trainer) every endpoint but /healthz and /readyz needs "Authorization: Bearer
TOKEN" (401 otherwise). Without one, listen on loopback only (a warning says
so otherwise). Rollouts only share a group with rollouts of the same token
(without tokens: the same client address), run, client id and group key, so
nobody else's rollouts can vote on a trainer's rewards; a client that leaves
takes its held rollouts with it, and only answered requests count as steps.
A request takes a work slot before its body is read, bodies share a byte
budget (--max-body-in-flight), and a body slower than --min-body-rate after
--body-grace is cut off (408).

Split groups: ensemble estimators vote over all N rollouts of a prompt. With
--group-size N, a request's rollouts of one group must number a multiple of N;
otherwise --split decides: reject (400 naming the groups), partial (score the
rollouts present, with a warning in the answer), or wait (hold them until later
requests bring the rest, up to --group-wait, then score what came as a partial
group with a warning). OpenRLHF sends one rollout per request: use --split wait.`,
		Example: `  urlvr serve rewards --addr 127.0.0.1:8000 --estimator majority_voting --group-size 8
  urlvr serve rewards --group-size 8 --split wait --groups-per-step 128 --stop-on-collapse`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := sf.logger()
			if err != nil {
				return err
			}
			p, err := reward.ParseParams(params)
			if err != nil {
				return err
			}
			if cfg.Estimator, err = reward.New(estimator, p); err != nil {
				return err
			}
			cfg.Params = p
			if cfg.Split, err = rewardserver.ParseSplitPolicy(split); err != nil {
				return fmt.Errorf("--split: %w", err)
			}
			cfg.Limits = sf.limitsWithBody()
			cfg.Tokens = sf.tokenList()
			cfg.Logger = log
			srv, err := rewardserver.New(cfg)
			if err != nil {
				return err
			}
			log.Info("reward service", "estimator", estimator, "params", strings.Join(params, " "),
				"group_size", cfg.GroupSize, "split", cfg.Split.String())
			return runService(cmd, &sf, log, srv)
		},
	}
	fs := cmd.Flags()
	sf.register(fs, "127.0.0.1:8000", 2*time.Second, "requests reading or scoring at once (0: 4 per CPU)")
	fs.StringVar(&estimator, "estimator", "majority_voting", "estimator name (see urlvr reward --list)")
	fs.StringArrayVar(&params, "param", nil, "estimator parameter key=value (repeatable)")
	fs.IntVar(&cfg.GroupSize, "group-size", 0, "rollouts per prompt (the trainer's n); 0: every request's groups are whole")
	fs.StringVar(&split, "split", "reject", "split groups: reject, partial or wait")
	fs.DurationVar(&cfg.GroupWait, "group-wait", 30*time.Second, "--split wait: longest hold of a split group")
	fs.IntVar(&cfg.MaxHeld, "max-held", 1<<16, "--split wait: rollouts held at most (503 beyond)")
	fs.IntVar(&cfg.Tracker.GroupsPerStep, "groups-per-step", 0, "without explicit steps, groups arriving one by one: close a step after this many (the trainer's prompts per step)")
	fs.DurationVar(&cfg.Tracker.StepIdle, "step-idle", 10*time.Second, "close a step after this long without batches")
	fs.Float64Var(&cfg.Tracker.Collapse.Threshold, "collapse-threshold", metrics.DefaultCollapseThreshold, "reward accuracy below which a step counts as collapsed")
	fs.IntVar(&cfg.Tracker.Collapse.Window, "collapse-window", 0, "moving-average window over reward accuracy")
	fs.IntVar(&cfg.Tracker.Collapse.Patience, "collapse-patience", 0, "consecutive collapsed steps that confirm a collapse")
	fs.BoolVar(&cfg.Tracker.StopOnCollapse, "stop-on-collapse", false, "raise the run's stop signal once a collapse is confirmed")
	fs.IntVar(&cfg.Tracker.MaxRuns, "max-runs", 256, "runs tracked at most (least recently updated forgotten first)")
	return cmd
}

func serveLoadtestCmd() *cobra.Command {
	var (
		o       loadtest.Options
		asJSON  bool
		maxCPU  int
		extra   []string
		overall time.Duration
	)
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Load- and fault-test the reward service from a second process",
		Long: `loadtest sends 64 x 8-rollout majority-voting batches to a reward service
and checks every answer against the library scoring the same batch in this
process. Without --url it starts "urlvr serve rewards" as a child process on a
free loopback port with a fresh token (--server-arg adds flags to it) and
stops it at the end; with --url it sends --token (or $URLVR_TOKEN).

Phases: the library in-process (the reference latency); sustained load at each
--concurrency (bounded by --requests and --duration); clients that disconnect
mid-request; fuzzed bodies (each must get 200, 400 or 413 with a JSON body);
a request without the token (must get 401); a final health check. Prints throughput, p50/p90/p99 latency and the service's
overhead over the library; exits non-zero on any error or wrong reward.`,
		Example: `  urlvr serve loadtest
  urlvr serve loadtest --concurrency 1,2,4 --requests 1000 --json
  urlvr serve loadtest --url http://127.0.0.1:8000 --shape openrlhf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, overall)
			defer cancel()
			if o.Token == "" {
				if toks := serve.TokensFromEnv(); len(toks) > 0 {
					o.Token = toks[0]
				}
			}
			if o.URL == "" {
				if o.Token == "" {
					// The child server gets a token of its own, so that the
					// test goes through authentication like a deployment.
					var b [16]byte
					rand.Read(b[:])
					o.Token = hex.EncodeToString(b[:])
				}
				url, shutdown, err := startRewardServer(ctx, o, maxCPU, extra)
				if err != nil {
					return err
				}
				defer shutdown()
				o.URL = url
			}
			if !asJSON {
				o.Progress = cmd.ErrOrStderr()
			}
			rep, err := loadtest.Run(ctx, o)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				rep.WriteText(cmd.OutOrStdout())
			}
			if rep.Failed() {
				return errors.New("load test failed: errors, wrong rewards, fuzz failures or an unhealthy server")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "", "reward service to test (default: start one as a child process, with a fresh token)")
	f.StringVar(&o.Token, "token", "", "the service's bearer token (default: $"+serve.TokenEnv+")")
	f.IntVar(&o.Prompts, "prompts", 64, "prompts per batch")
	f.IntVar(&o.N, "n", 8, "rollouts per prompt")
	f.IntVar(&o.ResponseChars, "response-chars", 600, "approximate response length in characters")
	f.IntVar(&o.Batches, "batches", 8, "distinct batches sent in turn")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the batches and the fuzzer")
	f.StringVar(&o.Shape, "shape", "verl", "request shape: verl (POST /v1/rewards), openrlhf (POST /get_reward) or openrlhf-split (one rollout per request, as OpenRLHF sends them)")
	f.IntSliceVar(&o.Concurrency, "concurrency", []int{1, 4}, "concurrent clients, one sustained phase per value")
	f.IntVar(&o.Requests, "requests", 400, "requests per sustained phase at most")
	f.DurationVar(&o.Duration, "duration", 30*time.Second, "time per sustained phase at most")
	f.IntVar(&o.Baseline, "baseline", 100, "in-process library calls timed")
	f.IntVar(&o.Disconnects, "disconnects", 20, "clients that leave mid-request")
	f.IntVar(&o.Fuzz, "fuzz", 500, "fuzzed request bodies")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.IntVar(&maxCPU, "server-cpus", 0, "GOMAXPROCS of the child server (0: all)")
	f.StringArrayVar(&extra, "server-arg", nil, "extra flag for the child server (repeatable)")
	f.DurationVar(&overall, "timeout", 10*time.Minute, "bound on the whole test")
	return cmd
}

// startRewardServer runs "urlvr serve rewards" on a free loopback port as a
// child process and returns its URL and a function that stops it with
// SIGTERM (a graceful shutdown) and waits.
func startRewardServer(ctx context.Context, o loadtest.Options, maxCPU int, extra []string) (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	n := o.N
	if n == 0 {
		n = 8
	}
	args := []string{"serve", "rewards", "--addr", addr, "--estimator", "majority_voting",
		"--group-size", fmt.Sprint(n), "--log-level", "warn"}
	if o.Shape == "openrlhf-split" {
		args = append(args, "--split", "wait")
	}
	args = append(args, extra...)
	child := exec.Command(exe, args...)
	child.Stdout, child.Stderr = os.Stderr, os.Stderr
	// The token goes through the environment: flags show in the process list.
	child.Env = append(os.Environ(), serve.TokenEnv+"="+o.Token)
	if maxCPU > 0 {
		child.Env = append(child.Env, fmt.Sprintf("GOMAXPROCS=%d", maxCPU))
	}
	if err := child.Start(); err != nil {
		return "", nil, fmt.Errorf("starting the reward service: %w", err)
	}
	shutdown := func() {
		child.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- child.Wait() }()
		select {
		case <-done:
		case <-time.After(35 * time.Second):
			child.Process.Kill()
			<-done
		}
	}
	return "http://" + addr, shutdown, nil
}

func serveModelCmd() *cobra.Command {
	var (
		sf       serviceFlags
		dir      string
		template string
		cfg      modelserver.Config
	)
	cmd := &cobra.Command{
		Use:   "model --checkpoint DIR",
		Short: "Serve a checkpoint through the OpenAI completions and chat API (the vLLM subset)",
		Long: `model serves a checkpoint directory (config.json, model.safetensors,
tokenizer.json: one urlvr wrote, or a Llama/Qwen checkpoint from the Hub) as an
OpenAI-compatible server, so that "urlvr eval" or any OpenAI client can use it.

Endpoints: GET /v1/models, POST /v1/completions, POST /v1/chat/completions,
GET /metrics, GET /health. Supported: n, temperature, top_p, top_k, max_tokens
(max_completion_tokens), stop, stop_token_ids, seed, logprobs/top_logprobs,
prompts as text or token IDs, return_token_ids, usage. Not supported (400):
stream, echo, penalties, logit_bias, tools.

Log-probs are those of the unmodified distribution (temperature 1), as vLLM
reports them. Chat messages are laid out with --chat-template: chatml
(<|im_start|>role ... <|im_end|>), plain (contents joined by newlines), or auto
(chatml when the tokenizer has <|im_start|>). Concurrent requests without a
seed that sample alike share engine calls. A temperature below 1e-5 means
greedy decoding (as in vLLM).

Limits: a request may ask for at most --max-request-tokens generated tokens
(prompts x n x max_tokens; 400 naming the limit beyond); --max-concurrent
requests are handled at once and --max-queue more wait up to --queue-timeout
(503 beyond). Generation stops between decode steps when the client leaves
or --write-timeout passes. With a token (--token or URLVR_TOKEN) every
endpoint but /health and /healthz needs "Authorization: Bearer TOKEN".`,
		Example: `  urlvr serve model --checkpoint models/mild --addr 127.0.0.1:8001
  urlvr eval --endpoint http://127.0.0.1:8001 --dataset datasets/arith/arith-val-easy.jsonl --n 32`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := sf.logger()
			if err != nil {
				return err
			}
			if dir == "" {
				return errors.New("--checkpoint is required")
			}
			if cfg.Template, err = modelserver.ParseChatTemplate(template); err != nil {
				return err
			}
			if cfg.Model, err = engine.Load(dir); err != nil {
				return fmt.Errorf("loading the checkpoint: %w", err)
			}
			if cfg.Tokenizer, err = tokenizer.LoadDir(dir); err != nil {
				return fmt.Errorf("loading the tokenizer: %w", err)
			}
			if cfg.Name == "" {
				cfg.Name = filepath.Base(filepath.Clean(dir))
			}
			cfg.Limits = sf.limitsWithBody()
			cfg.Tokens = sf.tokenList()
			cfg.Logger = log
			srv, err := modelserver.New(cfg)
			if err != nil {
				return err
			}
			mc := cfg.Model.Config()
			log.Info("model server", "checkpoint", dir, "model", cfg.Name, "params", cfg.Model.NumParams(),
				"vocab", mc.VocabSize, "context", mc.MaxPositions)
			return runService(cmd, &sf, log, srv)
		},
	}
	fs := cmd.Flags()
	sf.register(fs, "127.0.0.1:8001", 30*time.Second, "requests admitted at once, sharing engine calls (0: 64)")
	fs.StringVar(&dir, "checkpoint", "", "checkpoint directory")
	fs.StringVar(&cfg.Name, "served-model-name", "", "model id clients use (default: the directory's name)")
	fs.StringVar(&template, "chat-template", "auto", "chat layout: auto, chatml or plain")
	fs.BoolVar(&cfg.AddBOS, "add-bos", false, "put the BOS token before every text prompt")
	fs.IntVar(&cfg.MaxSeqsPerCall, "max-seqs", 256, "sequences per engine call at most")
	fs.DurationVar(&cfg.BatchWindow, "batch-window", 2*time.Millisecond, "how long a request waits for others to share its engine call")
	fs.IntVar(&cfg.MaxQueue, "max-queue-requests", 256, "requests waiting for the engine before 503")
	fs.IntVar(&cfg.MaxRequestTokens, "max-request-tokens", 1<<18, "tokens one request may ask to generate, prompts x n x max_tokens (400 beyond)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the generator behind requests that give no seed")
	return cmd
}
