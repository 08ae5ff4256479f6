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

// The extraction policy, step by step (see Grader.Extract), under both
// policies: "" means the policy gives no answer.
func TestExtractPolicy(t *testing.T) {
	tests := []struct {
		name, response, lenient, strict string
	}{
		{"one box", `so \boxed{5}.`, "5", "5"},
		{"adjacent boxes are one list", `\boxed{(2,2)} and \boxed{(6,2)}`, "(2,2), (6,2)", "(2,2), (6,2)"},
		{"boxes in math delimiters", `$x=\boxed{-2}$ or $x=\boxed{5}$`, "-2, 5", "-2, 5"},
		{"boxes split by prose", `first \boxed{2}, and the other root \boxed{7}`, "7", "7"},
		{"statement after the box wins", `\boxed{255}. The final answer is $10,455$.`, "10,455", "255"},
		{"prose statement after the box does not", `\boxed{6}. I hope the answer is clear.`, "6", "6"},
		{"statement before the box", `the answer is 5? No: \boxed{8}`, "8", "8"},
		{"statement holding the box", `The final answer is $\boxed{7}$.`, "7", "7"},
		{"tag", `<answer>12</answer>`, "12", "12"},
		{"statement reduced", "Final Answer: The largest $n$ is 34.", "34", ""},
		{"closing sentence", "We check all cases.\nHence, the smallest value of $k$ is -3.", "-3", ""},
		{"last math span", "Answer $ 9 $", "9", ""},
		{"math span over earlier ones", `We have $x$ and then $y = 4$`, "y = 4", ""},
		{"bare one-sentence number", "There are 8 ways in total.", "8", ""},
		{"a numbered step is no answer", "Step 1: we compute the sum", "Step 1: we compute the sum", ""},
		{"bare answer", "0.5", "0.5", ""},
		{"nothing", strings.Repeat("We compute things.\n", 3), "", ""},
		{"unclosed box is not papered over", `\boxed{3} and the answer is \boxed{4`, "", ""},
	}
	lenient, strict := Default(), New(Options{Extract: ExtractStrict})
	for _, tc := range tests {
		for _, c := range []struct {
			g    *Grader
			want string
		}{{lenient, tc.lenient}, {strict, tc.strict}} {
			got, err := c.g.Extract(tc.response)
			if c.want == "" {
				if err == nil || !errors.Is(err, ErrNoAnswer) {
					t.Errorf("%s: %s Extract(%q) = %q, %v; want no answer", tc.name, c.g.opts.Extract, tc.response, got, err)
				}
				continue
			}
			if err != nil || got != c.want {
				t.Errorf("%s: %s Extract(%q) = %q, %v; want %q", tc.name, c.g.opts.Extract, tc.response, got, err, c.want)
			}
		}
	}
	if p, err := ParseExtract(""); err != nil || p != ExtractLenient {
		t.Errorf(`ParseExtract("") = %q, %v`, p, err)
	}
	if _, err := ParseExtract("loose"); err == nil {
		t.Error(`ParseExtract("loose") accepted`)
	}
}

// A gold given as a whole solution is graded by its answer; boxes spread
// over a response are tried together only against a gold collection.
func TestGradeGoldAndBoxes(t *testing.T) {
	g := Default()
	tests := []struct {
		response, gold string
		want           bool
	}{
		{"12", `We count the cases, so there are $\boxed{12}$ ways.`, true},
		{"120", `Adding, $\boxed{1{,}200}$ is the total.`, false},
		{"0.75", "The answer is $\\frac{3}{4}$.", true},
		{`\boxed{1}, then \boxed{2}, and \boxed{3}`, `\{1,2,3\}`, true},
		{`\boxed{1}, then \boxed{2}, and \boxed{4}`, `\{1,2,3\}`, false},
		{`\boxed{1}, then \boxed{2}, and \boxed{3}`, `3`, false}, // the final run is 2, 3
		{`\boxed{1}, then \boxed{2}, and \boxed{3}`, `\{1,2\}`, false},
	}
	for _, tc := range tests {
		if r := g.Grade(tc.response, tc.gold); r.Correct != tc.want {
			t.Errorf("Grade(%q, %q) = %+v; want correct=%v", tc.response, tc.gold, r, tc.want)
		}
	}
}

// Majority-voting classes follow the grader's equivalences: digit groups,
// repeating decimals, labels, chains and inequalities vote together with
// the plain answers, and numbers side by side do not join a product.
func TestClassesFollowNewRules(t *testing.T) {
	answers := []string{"1 000", "1000", "2 5", "10", "0.333...", `\frac{1}{3}`, "(p,q)=(3,2)", "(3,2)",
		"y = 2+9 = 11", "11", "2x > 2", "x > 1", "y = 2+9 = 12", "12"}
	want := []int{0, 0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8}
	if got := Default().Classes(answers).Class; !slices.Equal(got, want) {
		t.Errorf("Classes = %v, want %v", got, want)
	}
}
