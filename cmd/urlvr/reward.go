package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/internal/jsonl"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/task"
)

func init() {
	var (
		inPath    string
		estimator string
		params    []string
		list      bool
	)
	cmd := &cobra.Command{
		Use:   "reward",
		Short: "Score rollouts with an unsupervised reward estimator (JSONL in, JSONL out)",
		Long: `reward scores rollouts that any system produced. Input is JSONL from --in or
stdin, one rollout per line: {"prompt_id": "...", "response": "...", "gold": "..."}
plus, for certainty estimators, per-token arrays over the response under the
sampling temperature: "token_logprobs", "token_entropies", "token_self_certainty"
(logsumexp minus mean logit), "token_top2_gap" and, for probability_disparity,
"answer_token_mask". Rollouts of one prompt share its prompt_id; their lines may
be interleaved with other prompts'. Optional fields: "answer" (else extracted
from the response), "source" (model for rlccf, question variant for co_reward),
"verdict" (self_verification), "numbers" and "target" (Countdown).

Every line is written back with "reward" and "answer" added, then, when some
prompts have a gold answer (or a Countdown problem), one final line
{"metrics": {...}} with the training-dynamics metrics of paper B.2
(label_accuracy, reward_accuracy, ground_truth_reward, proxy_reward,
majority_ratio, ...). A bad line gets "error" and "line"; the other lines of its
prompt are not scored either (they get an "error" naming it), since a group
with a rollout missing would vote differently. The command exits non-zero at
the end when any line failed.`,
		Example: `  urlvr reward --list
  urlvr reward --estimator majority_voting --in rollouts.jsonl
  urlvr reward --estimator majority_voting --param equivalence=string < rollouts.jsonl
  urlvr reward --estimator self_certainty --param vocab_size=151936 --in rollouts.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				return listEstimators(cmd.OutOrStdout())
			}
			if estimator == "" {
				return errors.New("--estimator is required (see --list)")
			}
			p, err := reward.ParseParams(params)
			if err != nil {
				return err
			}
			e, err := reward.New(estimator, p)
			if err != nil {
				return err
			}
			in, err := openInput(inPath)
			if err != nil {
				return err
			}
			defer in.Close()
			return scoreRewardLines(cmd, e, in, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&inPath, "in", "", "input JSONL file (default stdin)")
	f.StringVar(&estimator, "estimator", "", "estimator name (see --list)")
	f.StringArrayVar(&params, "param", nil, "estimator parameter key=value (repeatable)")
	f.BoolVar(&list, "list", false, "list the estimators and their parameters")
	rootCmd.AddCommand(cmd)
}

// listEstimators prints one line per estimator, then its parameters.
func listEstimators(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range reward.Specs() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Family, s.Summary)
		for _, p := range s.Params {
			fmt.Fprintf(tw, "\t\t  --param %s=%s: %s\n", p.Name, p.Default, p.Doc)
		}
	}
	return tw.Flush()
}

// scoreRewardLines reads all input (grouping needs every line of a prompt),
// scores it and writes one output line per input line, then the metrics.
func scoreRewardLines(cmd *cobra.Command, e reward.Estimator, in io.Reader, out io.Writer) error {
	var items []reward.Item
	var lines []jsonl.Record
	rd := jsonl.NewReader(in)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var lineErr *jsonl.LineError
		if err != nil && !errors.As(err, &lineErr) {
			return err
		}
		var it reward.Item
		if lineErr != nil {
			it.Err = lineErr.Err
			rec.Fields = map[string]json.RawMessage{}
		} else {
			it.Record, it.Err = rollout.DecodeFields(rec.Fields)
		}
		items = append(items, it)
		lines = append(lines, rec)
	}

	batch, err := reward.ScoreRecords(cmd.Context(), e, items, nil, task.Attach)
	if err != nil {
		return err
	}

	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	failed := 0
	for i, rec := range lines {
		res := batch.Results[i]
		if res.Err != nil {
			failed++
			msg := res.Err.Error()
			var ge *reward.GroupError
			if errors.As(res.Err, &ge) {
				msg = fmt.Sprintf("prompt %q not scored: line %d: %v", ge.PromptID, lines[ge.Culprit].Line, ge.Err)
			}
			rec.Set("error", msg)
			rec.Set("line", rec.Line)
		} else {
			if err := rec.Set("reward", res.Reward); err != nil {
				return fmt.Errorf("line %d: %w", rec.Line, err)
			}
			rec.Set("answer", res.Answer)
		}
		if err := enc.Encode(rec.Fields); err != nil {
			return fmt.Errorf("writing output for line %d: %w", rec.Line, err)
		}
	}
	switch {
	case batch.Metrics != nil:
		if err := enc.Encode(map[string]any{"metrics": batch.Metrics}); err != nil {
			return err
		}
	case batch.MetricsErr != nil:
		fmt.Fprintln(cmd.ErrOrStderr(), "urlvr reward: no metrics:", batch.MetricsErr)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d", errLinesFailed, failed, len(lines))
	}
	return nil
}
