package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/internal/jsonl"
	"github.com/urlvr/urlvr/task/countdown"
)

func init() {
	cmd := &cobra.Command{
		Use:   "countdown",
		Short: "Countdown arithmetic puzzles: generate instances, verify answers",
		Long: `countdown works with the Countdown task of the paper's self-verification
study: reach a target with + - * / using each given number exactly once.`,
	}
	cmd.AddCommand(countdownGenCmd(), countdownVerifyCmd())
	rootCmd.AddCommand(cmd)
}

func countdownGenCmd() *cobra.Command {
	var (
		n        int
		seed     uint64
		chat     bool
		solution bool
	)
	cfg := countdown.DefaultGenConfig()
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate Countdown instances as JSONL",
		Long: `gen writes --n lines {"numbers": [...], "target": N, "prompt": "..."}, drawn
like the public Countdown-Tasks-3to4 set: 3 or 4 numbers from 1..99 and a
target from 10..100 that they reach. The same --seed gives the same lines.
The prompt is the base-model form (a User/Assistant transcript) or, with
--chat, the ChatML chat form; both open the assistant turn inside <think>.`,
		Example: `  urlvr countdown gen --n 1000 --seed 1 > countdown.jsonl
  urlvr countdown gen --n 5 --chat --solution`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 0 {
				return fmt.Errorf("--n %d must not be negative", n)
			}
			g, err := countdown.NewGenerator(cfg, seed)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			type line struct {
				Numbers  []int  `json:"numbers"`
				Target   int    `json:"target"`
				Prompt   string `json:"prompt"`
				Solution string `json:"solution,omitempty"`
			}
			for i := range n {
				inst, err := g.Next()
				if err != nil {
					w.Flush()
					return fmt.Errorf("instance %d: %w", i, err)
				}
				l := line{Numbers: inst.Numbers, Target: inst.Target, Prompt: inst.Prompt(chat)}
				if solution {
					l.Solution = inst.Solution
				}
				if err := enc.Encode(l); err != nil {
					return err
				}
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.IntVar(&n, "n", 1000, "number of instances")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.BoolVar(&chat, "chat", false, "write the chat (ChatML) prompt instead of the base-model prompt")
	f.BoolVar(&solution, "solution", false, `add a "solution" field with one expression that reaches the target`)
	f.IntVar(&cfg.MinCount, "min-count", cfg.MinCount, "fewest numbers per instance")
	f.IntVar(&cfg.MaxCount, "max-count", cfg.MaxCount, "most numbers per instance")
	f.IntVar(&cfg.MinNumber, "min-number", cfg.MinNumber, "smallest number")
	f.IntVar(&cfg.MaxNumber, "max-number", cfg.MaxNumber, "largest number")
	f.IntVar(&cfg.MinTarget, "min-target", cfg.MinTarget, "smallest target")
	f.IntVar(&cfg.MaxTarget, "max-target", cfg.MaxTarget, "largest target")
	return cmd
}

func countdownVerifyCmd() *cobra.Command {
	var inPath string
	v := countdown.DefaultVerifier()
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Score Countdown responses (JSONL in, JSONL out)",
		Long: `verify reads JSONL lines {"response": "...", "numbers": [...], "target": N}
from --in or stdin and writes each line back with "score", "outcome" and
"reason" added. The answer is the last <answer>...</answer> of the response;
a line without "response" but with "solution" (as gen --solution writes) has
that bare expression checked instead, so gen pipes into verify. Numbers are
read exactly (no float64 rounding) and must be whole, with at most 18 digits.
it must use only digits, + - * / ( ) and spaces, each given number exactly
once, and equal the target exactly. The score is --correct-score for a right
answer, --format-score for one that is present but wrong (malformed, wrong
numbers, division by zero, wrong value) and --no-answer-score when there is
no answer tag. outcome is one of correct, wrong_value, wrong_numbers,
division_by_zero, malformed, no_answer.`,
		Example: `  echo '{"response": "<answer>(44 + 19) + 35</answer>", "numbers": [44, 19, 35], "target": 98}' | urlvr countdown verify
  urlvr countdown gen --n 3 --solution | urlvr countdown verify`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runJSONL(cmd, inPath, func(r jsonl.Record) error {
				// A line of "countdown gen --solution" has a bare
				// expression in "solution" and no "response": it is
				// checked as the answer itself, so gen pipes into verify.
				response, bare, err := countdownAnswer(r)
				if err != nil {
					return err
				}
				var nums []json.Number
				if err := r.Get("numbers", &nums); err != nil {
					return err
				}
				ints := make([]int, len(nums))
				for i, x := range nums {
					k, err := countdown.ParseNumber(x.String())
					if err != nil {
						return fmt.Errorf("field \"numbers\" element %d: %w", i, err)
					}
					ints[i] = k
				}
				var target json.Number
				if err := r.Get("target", &target); err != nil {
					return err
				}
				t, err := countdown.ParseNumber(target.String())
				if err != nil {
					return fmt.Errorf("field \"target\": %w", err)
				}
				var res countdown.Result
				if bare {
					c := v.CheckExpression(response, ints, t)
					res = countdown.Result{Outcome: c.Outcome, Answer: response, Reason: c.Reason, Score: v.Format}
					if c.Outcome == countdown.Correct {
						res.Score = v.Correct
					}
				} else {
					res = v.Verify(response, ints, t)
				}
				if err := r.Set("score", res.Score); err != nil {
					return err
				}
				if err := r.Set("outcome", res.Outcome.String()); err != nil {
					return err
				}
				return r.Set("reason", res.Reason)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&inPath, "in", "", "input JSONL file (default stdin)")
	f.Float64Var(&v.Correct, "correct-score", v.Correct, "score of a correct answer")
	f.Float64Var(&v.Format, "format-score", v.Format, "score of an answer that is present but wrong")
	f.Float64Var(&v.NoAnswer, "no-answer-score", v.NoAnswer, "score of a response without an answer tag")
	f.IntVar(&v.MaxAnswerBytes, "max-answer-bytes", v.MaxAnswerBytes, "longest answer parsed; longer ones are malformed")
	return cmd
}

// countdownAnswer returns what a verify line asks to check: its "response"
// (a whole response, answer in <answer> tags) or, when there is none, its
// "solution" (a bare expression, as gen --solution writes).
func countdownAnswer(r jsonl.Record) (text string, bare bool, err error) {
	if r.Has("response") {
		err = r.Get("response", &text)
		return text, false, err
	}
	if r.Has("solution") {
		err = r.Get("solution", &text)
		return text, true, err
	}
	return "", false, errors.New(`missing field "response" (or "solution", a bare expression as gen --solution writes)`)
}
