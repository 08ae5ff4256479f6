package grade

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestExtractBoxed(t *testing.T) {
	tests := []struct {
		name, response, want string
		err                  error // nil, or the sentinel the error must wrap
		reason               string
	}{
		{"simple", `so \boxed{5}`, "5", nil, ""},
		{"last of several", `first \boxed{1} then \boxed{2}`, "2", nil, ""},
		{"nested braces", `\boxed{\frac{1}{2}}`, `\frac{1}{2}`, nil, ""},
		{"deeply nested", `\boxed{\left\{ \frac{a}{b^{2}} \right\}}`, `\left\{ \frac{a}{b^{2}} \right\}`, nil, ""},
		{"escaped braces do not count", `\boxed{\{1,2\}}`, `\{1,2\}`, nil, ""},
		{"escaped close brace inside", `\boxed{x \} y}`, `x \} y`, nil, ""},
		{"line break before brace", `\boxed{a \\{b}}`, `a \\{b}`, nil, ""},
		{"fbox", `the answer \fbox{7}`, "7", nil, ""},
		{"fbox after boxed", `\boxed{1} \fbox{2}`, "2", nil, ""},
		{"boxed after fbox", `\fbox{1} \boxed{2}`, "2", nil, ""},
		{"space before brace", `\boxed {5}`, "5", nil, ""},
		{"brace-less", `so $\boxed 5$.`, "5", nil, ""},
		{"brace-less to line end", "\\boxed 42\nmore", "42", nil, ""},
		{"brace-less to display end", `\[\boxed 3\]`, "3", nil, ""},
		{"brace-less single char", `\boxed5`, "5", nil, ""},
		{"trims content", `\boxed{  9  }`, "9", nil, ""},
		{"nested box", `\boxed{\boxed{5}}`, "5", nil, ""},
		{"longer command is not a box", `\boxedanswer{3}`, "", ErrNoAnswer, `no \boxed{}`},
		{"longer command then box", `\boxed{4} \boxedanswer{3}`, "4", nil, ""},
		{"none", "the answer is 5", "", ErrNoAnswer, `no \boxed{}`},
		{"empty response", "", "", ErrNoAnswer, `no \boxed{}`},
		{"empty box", `\boxed{}`, "", ErrEmptyAnswer, "empty"},
		{"blank box", `\boxed{   }`, "", ErrEmptyAnswer, "empty"},
		{"unclosed", `\boxed{\frac{1}{2}`, "", ErrUnclosed, "unclosed"},
		{"unclosed last box after a closed one", `\boxed{1} then \boxed{2`, "", ErrUnclosed, "truncated"},
		{"unicode content", `\boxed{π/2}`, "π/2", nil, ""},
		{"text in box", `\boxed{\text{Devon}}`, `\text{Devon}`, nil, ""},
		{"trailing backslash", `\boxed{5\`, "", ErrUnclosed, "unclosed"},
		{"backslash at end", `\`, "", ErrNoAnswer, "no"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExtractBoxed(tc.response)
			if tc.err == nil {
				if err != nil || got != tc.want {
					t.Fatalf("ExtractBoxed(%q) = %q, %v; want %q", tc.response, got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.err) || !errors.Is(err, ErrNoAnswer) {
				t.Fatalf("ExtractBoxed(%q) error = %v; want one wrapping %v", tc.response, err, tc.err)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not say %q", err, tc.reason)
			}
			if got != "" {
				t.Errorf("got %q with an error", got)
			}
		})
	}
}

func TestExtractAllBoxed(t *testing.T) {
	tests := []struct {
		response string
		want     []string
	}{
		{`\boxed{1}, \boxed{2} and \fbox{3}`, []string{"1", "2", "3"}},
		{`\boxed{\boxed{1} + 2}`, []string{`\boxed{1} + 2`}},
		{`\boxed{} \boxed{4}`, []string{"4"}},
		{`\boxed{1} \boxed{2`, []string{"1"}},
		{`\boxedx \boxed{5}`, []string{"5"}},
		{`nothing here`, nil},
		{`$\boxed 7$ and \boxed{8}`, []string{"7", "8"}},
	}
	for _, tc := range tests {
		if got := ExtractAllBoxed(tc.response); !slices.Equal(got, tc.want) {
			t.Errorf("ExtractAllBoxed(%q) = %q, want %q", tc.response, got, tc.want)
		}
	}
}

func TestExtractAnswerTag(t *testing.T) {
	tests := []struct {
		response, want string
		err            error
	}{
		{"<answer>1 + 2 * 3</answer>", "1 + 2 * 3", nil},
		{"<think>try <answer>1</answer></think> final <answer> (3+5)/2 </answer>", "(3+5)/2", nil},
		{"<answer>a<answer>b</answer>", "b", nil},
		{"<answer>a</answer>b</answer>", "a", nil},
		{"<answer>1</answer><answer>2</answer>junk</answer>", "2", nil},
		{"<answer>x</answer> trailing <answer>unclosed", "x", nil},
		{"<answer></answer>", "", ErrEmptyAnswer},
		{"<answer>   </answer>", "", ErrEmptyAnswer},
		{"<answer>truncated", "", ErrUnclosed},
		{"no tags", "", ErrNoAnswer},
		{"stray </answer>", "", ErrNoAnswer},
		{"<Answer>5</Answer>", "", ErrNoAnswer},
	}
	for _, tc := range tests {
		got, err := ExtractAnswerTag(tc.response)
		if tc.err == nil {
			if err != nil || got != tc.want {
				t.Errorf("ExtractAnswerTag(%q) = %q, %v; want %q", tc.response, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, tc.err) || got != "" {
			t.Errorf("ExtractAnswerTag(%q) = %q, %v; want error wrapping %v", tc.response, got, err, tc.err)
		}
	}
}

func TestExtractAnswerPhrase(t *testing.T) {
	tests := []struct {
		response, want string
		ok             bool
	}{
		{"So the answer is 42.", "42", true},
		{"The answer is $\\frac{1}{2}$. Done.", `\frac{1}{2}`, true},
		{"Final answer: 3.5", "3.5", true},
		{"Answer: x = 2\nbecause ...", "x = 2", true},
		{"ANSWER: 7", "7", true},
		{"the answer is 1. Wait, the final answer is 2.", "2", true},
		{"the answer is 3.14", "3.14", true},
		{"no conclusion here", "", false},
		{"the answer is", "", false},
	}
	for _, tc := range tests {
		got, err := ExtractAnswerPhrase(tc.response)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ExtractAnswerPhrase(%q) = %q, %v; want %q (ok=%v)", tc.response, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrNoAnswer) {
			t.Errorf("error %v does not wrap ErrNoAnswer", err)
		}
	}
}

func TestExtractAnswerOrder(t *testing.T) {
	tests := []struct {
		response, want string
		err            error
	}{
		{`<answer>1</answer> \boxed{2}`, "2", nil},
		{`<answer>1</answer> the answer is 3`, "1", nil},
		{`the answer is 3`, "3", nil},
		{`\boxed{2 and the answer is 3`, "", ErrUnclosed}, // a broken box is not papered over
		{`\boxed{} the answer is 3`, "", ErrEmptyAnswer},
		{`nothing`, "", ErrNoAnswer},
	}
	for _, tc := range tests {
		got, err := ExtractAnswer(tc.response)
		if tc.err == nil && (err != nil || got != tc.want) || tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("ExtractAnswer(%q) = %q, %v; want %q, %v", tc.response, got, err, tc.want, tc.err)
		}
	}
}
