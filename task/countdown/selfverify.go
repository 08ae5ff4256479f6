package countdown

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/grade"
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
	return strings.NewReplacer(
		"{expr}", expr,
		"{nums}", FormatNumbers(nums),
		"{target}", strconv.Itoa(target),
	).Replace(t), nil
}

// Verdict is what a self-verification response concluded.
type Verdict int

const (
	// NoVerdict: the response has no \boxed{...}, or its last box holds
	// something other than True or False. The self-verification reward
	// treats it as a rejection (reward 0).
	NoVerdict Verdict = iota
	VerdictFalse
	VerdictTrue
)

func (v Verdict) String() string {
	switch v {
	case VerdictTrue:
		return "true"
	case VerdictFalse:
		return "false"
	}
	return "none"
}

// Reward is the self-verification reward of the verdict: 1 for True, 0 for
// False and for no verdict.
func (v Verdict) Reward() float64 {
	if v == VerdictTrue {
		return 1
	}
	return 0
}

// ParseVerdict reads the verdict from the last \boxed{...} of a
// self-verification response, ignoring case, spaces and a wrapping
// \text{}, \textbf{}, \mathrm{} or \mathbf{} ("\boxed{ \text{TRUE} }" is
// True). The last box counts because a model that reconsiders ends with its
// final word. The string says why when there is no verdict.
func ParseVerdict(response string) (Verdict, string) {
	box, err := grade.ExtractBoxed(response)
	if err != nil {
		return NoVerdict, "no verdict: " + err.Error()
	}
	switch strings.ToLower(unwrapVerdict(box)) {
	case "true":
		return VerdictTrue, "boxed True"
	case "false":
		return VerdictFalse, "boxed False"
	}
	const show = 40
	if len(box) > show {
		box = box[:show] + "..."
	}
	return NoVerdict, fmt.Sprintf("no verdict: the last box holds %q, not True or False", box)
}

// unwrapVerdict strips spaces, $ delimiters and formatting macros around a
// verdict word.
func unwrapVerdict(s string) string {
	for {
		s = strings.TrimSpace(s)
		s = strings.TrimSpace(strings.Trim(s, "$"))
		stripped := false
		for _, m := range [...]string{`\text`, `\textbf`, `\mathrm`, `\mathbf`, `\textrm`, `\texttt`} {
			if strings.HasPrefix(s, m+"{") && strings.HasSuffix(s, "}") {
				s = s[len(m)+1 : len(s)-1]
				stripped = true
				break
			}
		}
		if !stripped {
			return strings.Join(strings.Fields(s), "")
		}
	}
}
