package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/serve"
	"github.com/urlvr/urlvr/serve/evalclient"
)

func init() {
	var (
		o          evalclient.Options
		samplesOut string
		asJSON     bool
		quiet      bool
	)
	cmd := &cobra.Command{
		Use:   "eval --endpoint URL --dataset FILE",
		Short: "Evaluate a model behind an OpenAI-compatible server: avg@n, maj@k, pass@k",
		Long: `eval samples --n answers per problem of --dataset from an OpenAI-compatible
server (vLLM, SGLang, llama.cpp's server, "urlvr serve model"), grades them
against the gold answers and reports avg@k (mean correctness of the first k
samples), maj@k (the majority answer of the first k samples) and the unbiased
pass@k (from all n), for k = 1, 2, 4, ... and n, overall and per data source.

The dataset is any layout "urlvr" reads (MATH-500, AIME, AMC, DAPO, plain
prompt/answer; JSONL or Parquet). Completions send --template with {prompt}
replaced; --chat sends the problem's messages (or its prompt as a user
message). Requests run --concurrency at a time and are retried with
exponential backoff on connection errors, 429 and 5xx answers. Each request
gets a seed derived from --seed, so a run repeats exactly on servers that honour
seeds; --no-seed lets the server batch requests instead.`,
		Example: `  urlvr eval --endpoint http://127.0.0.1:8001 --dataset datasets/arith/arith-val-easy.jsonl --n 32
  urlvr eval --endpoint http://gpu-box:8000/v1 --model Qwen/Qwen3-1.7B --chat --dataset aime24.jsonl \
      --n 32 --temperature 0.6 --top-p 0.95 --max-tokens 8192 --samples-out samples.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Endpoint == "" || o.Dataset == "" {
				return errors.New("--endpoint and --dataset are required")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if !quiet {
				o.Progress = cmd.ErrOrStderr()
			}
			if o.Token == "" {
				o.Token = os.Getenv(serve.TokenEnv)
			}
			rep, problems, err := evalclient.Run(ctx, o)
			if err != nil {
				return err
			}
			if samplesOut != "" {
				if err := atomicfile.Write(samplesOut, 0o644, func(w io.Writer) error {
					enc := json.NewEncoder(w)
					enc.SetEscapeHTML(false)
					for _, p := range problems {
						if err := enc.Encode(p); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					return fmt.Errorf("writing samples: %w", err)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				writeEvalReport(out, rep, o)
			}
			if rep.Failed > 0 {
				for _, p := range problems {
					if p.Error != "" {
						fmt.Fprintf(cmd.ErrOrStderr(), "urlvr eval: problem %d (%s): %s\n", p.Index, p.ID, p.Error)
						break
					}
				}
				return fmt.Errorf("%d of %d problems failed", rep.Failed, rep.Problems)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Endpoint, "endpoint", "", "server base URL (http://host:port, with or without /v1)")
	f.StringVar(&o.Token, "token", "", "bearer token the server wants (default: $"+serve.TokenEnv+")")
	f.StringVar(&o.Model, "model", "", "model id (default: the first one the server lists)")
	f.StringVar(&o.Dataset, "dataset", "", "problem file (JSONL or Parquet)")
	f.IntVar(&o.Limit, "limit", 0, "evaluate only the first problems (0: all)")
	f.IntVar(&o.N, "n", 32, "samples per problem")
	f.IntVar(&o.PerRequest, "per-request", 0, "samples per request (0: all n; 1 for servers that ignore n)")
	f.IntSliceVar(&o.Ks, "k", nil, "k of avg@k, maj@k and pass@k (default 1, 2, 4, ..., n)")
	f.BoolVar(&o.Chat, "chat", false, "use /v1/chat/completions")
	f.StringVar(&o.System, "system", "", "system message for --chat")
	f.StringVar(&o.Template, "template", "{prompt}", "completions prompt, {prompt} standing for the problem")
	f.Float64Var(&o.Temperature, "temperature", 1.0, "sampling temperature")
	f.Float64Var(&o.TopP, "top-p", 1.0, "nucleus sampling mass")
	f.IntVar(&o.MaxTokens, "max-tokens", 1024, "tokens per answer at most")
	f.StringArrayVar(&o.Stop, "stop", nil, "stop string (repeatable)")
	f.Uint64Var(&o.Seed, "seed", 0, "seed of the requests' seeds")
	f.BoolVar(&o.NoSeed, "no-seed", false, "send no seeds (lets the server batch requests)")
	f.IntVar(&o.Concurrency, "concurrency", 8, "requests at once")
	f.IntVar(&o.Retries, "retries", 5, "retries per request on connection errors, 429 and 5xx")
	f.DurationVar(&o.Backoff, "backoff", 500*time.Millisecond, "first retry wait (doubles each time)")
	f.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "time one request may take")
	f.StringVar(&samplesOut, "samples-out", "", "write every problem's samples, answers and metrics here (JSONL)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVar(&quiet, "quiet", false, "no progress bar")
	rootCmd.AddCommand(cmd)
}

// writeEvalReport prints the metrics as a table, overall and per source.
func writeEvalReport(w io.Writer, rep *evalclient.Report, o evalclient.Options) {
	fmt.Fprintf(w, "%s on %s: %d problems (%d failed), n = %d, %d completion tokens, %.1f s, %d requests (%d retries)\n",
		rep.Model, rep.Dataset, rep.Problems, rep.Failed, rep.N, rep.CompletionTokens, rep.Seconds, rep.Requests, rep.Retries)
	ks := o.Ks
	if len(ks) == 0 {
		for k := 1; k < rep.N; k *= 2 {
			ks = append(ks, k)
		}
		ks = append(ks, rep.N)
	}
	names := evalclient.MetricNames(rep.N, ks)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "source\t")
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t", n)
	}
	fmt.Fprintln(tw)
	row := func(src string, m map[string]float64) {
		fmt.Fprintf(tw, "%s\t", src)
		for _, n := range names {
			fmt.Fprintf(tw, "%.4f\t", m[n])
		}
		fmt.Fprintln(tw)
	}
	if rep.Metrics != nil {
		row("all", rep.Metrics)
	}
	if rep.Intervals != nil {
		fmt.Fprintf(tw, "95%% CI\t")
		for _, n := range names {
			ci := rep.Intervals[n]
			fmt.Fprintf(tw, "[%.3f, %.3f]\t", ci.Lo, ci.Hi)
		}
		fmt.Fprintln(tw)
	}
	for src, m := range rep.BySource {
		row(src, m)
	}
	tw.Flush()
}
