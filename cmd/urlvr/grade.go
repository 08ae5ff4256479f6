package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/internal/jsonl"
)

func init() {
	var (
		inPath string
		opts   grade.Options
	)
	cmd := &cobra.Command{
		Use:   "grade",
		Short: "Grade responses against gold answers (JSONL in, JSONL out)",
		Long: `grade reads JSONL lines {"response": "...", "gold": "..."} from --in or stdin
and writes each line back with "correct", "answer" (what was extracted) and
"reason" added. The response may be a whole solution or a bare answer; gold
may be a string or a number, or a whole solution whose answer is extracted.
With --extract lenient (the default) the answer is, in order: the final run
of boxes (\boxed{1}, \boxed{2} is the list 1, 2) unless a final-answer
statement follows it, the last <answer> tag, a final-answer statement ("the
answer is", "Answer:"), the last math span, a short one-line response.
--extract strict reads only boxes and <answer> tags. Answers are compared by
value: 0.5, 1/2 and \frac{1}{2} are equal, 2\sqrt{2} and \sqrt{8} are equal,
x=3 and 3 are equal, [1,2) and [1,2] are not. The rules, each with an
example, are in grade/RULES.md.`,
		Example: `  echo '{"response": "so \\boxed{\\frac{1}{2}}", "gold": "0.5"}' | urlvr grade
  urlvr grade --in rollouts.jsonl > graded.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			policy, err := grade.ParseExtract(opts.Extract)
			if err != nil {
				return fmt.Errorf("--extract: %w", err)
			}
			opts.Extract = policy
			g := grade.New(opts)
			return runJSONL(cmd, inPath, func(r jsonl.Record) error {
				response, err := textField(r, "response")
				if err != nil {
					return err
				}
				gold, err := textField(r, "gold")
				if err != nil {
					return err
				}
				res := g.Grade(response, gold)
				if err := r.Set("correct", res.Correct); err != nil {
					return err
				}
				if err := r.Set("answer", res.Answer); err != nil {
					return err
				}
				return r.Set("reason", res.Reason)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&inPath, "in", "", "input JSONL file (default stdin)")
	f.Float64Var(&opts.RelTol, "rel-tol", 1e-6, "relative tolerance for numbers that are not both exact rationals")
	f.StringVar(&opts.Extract, "extract", grade.ExtractLenient, "answer extraction policy: lenient or strict (boxes and <answer> tags only)")
	f.BoolVar(&opts.StrictBoxed, "strict-boxed", false, `accept only a \boxed{} answer (no <answer> tag, "the answer is" or bare answer)`)
	f.BoolVar(&opts.NoBareAnswer, "no-bare", false, "do not take a short response without answer markup as the answer itself")
	rootCmd.AddCommand(cmd)
}

// textField reads field name as text: a JSON string, or a JSON number
// spelled as written (datasets often store numeric gold answers as numbers).
func textField(r jsonl.Record, name string) (string, error) {
	var raw json.RawMessage
	if err := r.Get(name, &raw); err != nil {
		return "", err
	}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return "", fmt.Errorf("field %q is null", name)
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("field %q: %w", name, err)
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("field %q: want a string or a number, got %s", name, raw)
	}
	return n.String(), nil
}
