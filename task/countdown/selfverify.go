package countdown

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/reward"
)

// VerifyPrompt names one of the paper's self-verification prompts
// (Appendix C.1). The policy answers it about its own candidate expression,
// and the self-verification reward is 1 when it outputs \boxed{True}.
type VerifyPrompt int

const (
	// P1 is the short checklist adapted from RLSR.
	P1 VerifyPrompt = 1
	// P2 is the strict-verifier prompt; the paper's base model only works
	// with this one.
	P2 VerifyPrompt = 2
)

// The templates hold {expr}, {nums} and {target} placeholders exactly as the
// paper prints them.
const (
	p1Template = `Verify:
1. "{expr}" only contains numbers from {nums}.
2. Every number from {nums} is used in "{expr}" and is used only once.
3. "{expr}" is a valid arithmetic expression and not an equation.
4. "{expr}" equals {target}.
If all checks pass, return \boxed{True}; otherwise, return \boxed{False}.`

	p2Template = `You are a strict mathematical verifier. Your task is to check whether the given expression correctly solves the arithmetic puzzle.
Do NOT attempt to find or generate a new expression yourself. You must only analyze and evaluate the provided expression "{expr}".
Verification steps:
1. If "{expr}" is missing, empty, or not a valid arithmetic expression (for example, if it contains words instead of numbers and operators), immediately output \boxed{False} and your task is over.
2. Check that "{expr}" only uses numbers from {nums}.
3. Each number from {nums} must appear exactly once in "{expr}".
4. The expression must contain only valid arithmetic operators: +, -, *, /, and parentheses.
5. Evaluate "{expr}" numerically. If the computed result equals {target} (within a tolerance of 1e-6), it passes this check.
If and only if all checks pass, output \boxed{True}. Otherwise, output \boxed{False}.`
)

// Template returns the prompt's text with its {expr}, {nums} and {target}
// placeholders, or "" for an unknown prompt.
func (p VerifyPrompt) Template() string {
	switch p {
	case P1:
		return p1Template
	case P2:
		return p2Template
	}
	return ""
}

func (p VerifyPrompt) String() string {
	if p == P1 || p == P2 {
		return "P" + strconv.Itoa(int(p))
	}
	return fmt.Sprintf("VerifyPrompt(%d)", int(p))
}

// ParseVerifyPrompt reads "P1"/"p1"/"1" or "P2"/"p2"/"2".
func ParseVerifyPrompt(s string) (VerifyPrompt, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "P1", "1":
		return P1, nil
	case "P2", "2":
		return P2, nil
	}
	return 0, fmt.Errorf("countdown: unknown verification prompt %q (want P1 or P2)", s)
}

// Render fills the template with the candidate expression (as extracted from
// the policy's <answer> tag, "" when there was none), the numbers and the
// target. The candidate is inserted verbatim, quotes and all: the verifier
// model sees exactly what the policy wrote.
func (p VerifyPrompt) Render(expr string, nums []int, target int) (string, error) {
	t := p.Template()
	if t == "" {
		return "", fmt.Errorf("countdown: unknown verification prompt %d", int(p))
	}
	return RenderTemplate(t, expr, nums, target)
}

// RenderTemplate fills a user verification template the way Render fills
// P1 and P2. A template without {expr} is an error: the verifier would
// never see the candidate it is asked about.
func RenderTemplate(template, expr string, nums []int, target int) (string, error) {
	if !strings.Contains(template, "{expr}") {
		return "", fmt.Errorf("countdown: the verification template has no {expr} placeholder for the candidate solution")
	}
	return strings.NewReplacer(
		"{expr}", expr,
		"{nums}", FormatNumbers(nums),
		"{target}", strconv.Itoa(target),
	).Replace(template), nil
}

// Verdict is what a self-verification response concluded; the
// self-verification reward reads it (reward.ParseVerdict).
type Verdict = reward.Verdict

// The verdicts.
const (
	NoVerdict    = reward.NoVerdict
	VerdictFalse = reward.VerdictFalse
	VerdictTrue  = reward.VerdictTrue
)

// ParseVerdict reads the verdict from the last \boxed{...} of a
// self-verification response (see reward.ParseVerdict).
func ParseVerdict(response string) (Verdict, string) { return reward.ParseVerdict(response) }
