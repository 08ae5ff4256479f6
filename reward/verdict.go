package reward

import (
	"fmt"
	"strings"

	"github.com/urlvr/urlvr/grade"
)

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
