package countdown

import (
	"strings"
	"testing"
)

// Every case was checked by hand; the comment gives the arithmetic.
func TestVerifyHandChecked(t *testing.T) {
	tests := []struct {
		name     string
		response string
		nums     []int
		target   int
		outcome  Outcome
		score    float64
		reason   string // substring of Result.Reason
	}{
		{"sum", "<think>44+19=63, 63+35=98</think>\n<answer>44 + 19 + 35</answer>",
			[]int{44, 19, 35}, 98, Correct, 1, "equals 98"},
		{"no spaces", "<answer>44+19+35</answer>", []int{44, 19, 35}, 98, Correct, 1, ""},
		{"any order", "<answer>35 + (19 + 44)</answer>", []int{44, 19, 35}, 98, Correct, 1, ""},
		{"newlines inside the tag", "<answer>\n(44 + 19)\n+ 35\n</answer>", []int{44, 19, 35}, 98, Correct, 1, ""},
		{"precedence", "<answer>2 + 3 * 4</answer>", []int{2, 3, 4}, 14, Correct, 1, ""},                     // 2+12
		{"exact division", "<answer>6 / 3 * 4</answer>", []int{6, 3, 4}, 8, Correct, 1, ""},                  // 2*4
		{"rational intermediate", "<answer>6 / (1 - 3 / 4)</answer>", []int{1, 3, 4, 6}, 24, Correct, 1, ""}, // 6/(1/4)
		{"repeated number", "<answer>(76 - 76) + 18</answer>", []int{18, 76, 76}, 18, Correct, 1, ""},
		{"last tag counts", "<answer>1</answer> no wait <answer>44 + 19 + 35</answer>", []int{44, 19, 35}, 98, Correct, 1, ""},
		{"tag in thinking, wrong final", "<think><answer>44 + 19 + 35</answer></think><answer>44 - 19 + 35</answer>",
			[]int{44, 19, 35}, 98, WrongValue, 0.1, "evaluates to 60"}, // 25+35

		{"wrong value", "<answer>44 * 19 - 35</answer>", []int{44, 19, 35}, 98, WrongValue, 0.1, "evaluates to 801"}, // 836-35
		{"fraction value", "<answer>44 / 19 + 35</answer>", []int{44, 19, 35}, 98, WrongValue, 0.1, "709/19"},        // (44+665)/19
		{"near miss a float check would pass", "<answer>999999 / 1000000</answer>", []int{999999, 1000000}, 1,
			WrongValue, 0.1, "999999/1000000"}, // |0.999999-1| = 1e-6 < 1e-5

		{"number missing", "<answer>44 + 19</answer>", []int{44, 19, 35}, 98, WrongNumbers, 0.1, "leaves 35 unused"},
		{"number twice", "<answer>44 + 19 + 35 + 35</answer>", []int{44, 19, 35}, 98, WrongNumbers, 0.1, "35 (1 extra)"},
		{"number not given", "<answer>44 + 19 + 36 - 1</answer>", []int{44, 19, 35}, 98, WrongNumbers, 0.1, "uses 1, 36 not among"},
		{"concatenated numbers", "<answer>4419 + 35</answer>", []int{44, 19, 35}, 98, WrongNumbers, 0.1, "4419 not among"},
		{"repeated given once", "<answer>76 - 18</answer>", []int{18, 76, 76}, 58, WrongNumbers, 0.1, "leaves 76 unused"},
		{"none used twice", "<answer>2 * 3</answer>", []int{2, 2, 3, 3}, 6, WrongNumbers, 0.1, "leaves 2, 3 unused"},
		{"both copies unused", "<answer>1 + 1</answer>", []int{1, 1, 5, 5}, 2, WrongNumbers, 0.1, "5 (2 times)"},

		{"division by zero", "<answer>3 / (5 - 5)</answer>", []int{5, 5, 3}, 3, DivisionByZero, 0.1, "division by zero"},

		{"equation", "<answer>44 + 19 + 35 = 98</answer>", []int{44, 19, 35}, 98, Malformed, 0.1, "equation"},
		{"python power", "<answer>2 ** 3 + 5</answer>", []int{2, 3, 5}, 13, Malformed, 0.1, "**"},  // 8+5 under eval
		{"floor division", "<answer>7 // 2 + 1</answer>", []int{7, 2, 1}, 4, Malformed, 0.1, "//"}, // 3+1 under eval
		{"unary minus", "<answer>-5 + 3 + 2</answer>", []int{5, 3, 2}, 0, Malformed, 0.1, "unary minus"},
		{"unary plus", "<answer>+5 - 3 - 2</answer>", []int{5, 3, 2}, 0, Malformed, 0.1, "unary plus"},
		{"decimal trick", "<answer>2.5 * 4</answer>", []int{2, 5, 4}, 10, Malformed, 0.1, "decimal"}, // digits 2,5,4 match
		{"implicit multiplication", "<answer>2(3 + 4)</answer>", []int{2, 3, 4}, 14, Malformed, 0.1, "missing operator"},
		{"times sign", "<answer>4 × 6 × 1</answer>", []int{4, 6, 1}, 24, Malformed, 0.1, "'×'"},
		{"letter x", "<answer>4 x 6 x 1</answer>", []int{4, 6, 1}, 24, Malformed, 0.1, "'x'"},
		{"leading zero", "<answer>05 + 2 + 1</answer>", []int{5, 2, 1}, 8, Malformed, 0.1, "leading zero"},
		{"unbalanced", "<answer>(44 + 19 + 35</answer>", []int{44, 19, 35}, 98, Malformed, 0.1, "never closed"},
		{"prose", "<answer>forty-four plus the rest</answer>", []int{44, 19, 35}, 98, Malformed, 0.1, "not allowed"},
		{"empty tag", "<answer>  </answer>", []int{44, 19, 35}, 98, Malformed, 0.1, "empty answer"},

		{"no tag", "44 + 19 + 35 = 98", []int{44, 19, 35}, 98, NoAnswer, 0, "no answer"},
		{"unclosed tag", "<answer>44 + 19 + 35", []int{44, 19, 35}, 98, NoAnswer, 0, "unclosed"},
		{"boxed is not the format", `\boxed{44 + 19 + 35}`, []int{44, 19, 35}, 98, NoAnswer, 0, ""},
		{"empty response", "", []int{44, 19, 35}, 98, NoAnswer, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Verify(tc.response, tc.nums, tc.target)
			if r.Outcome != tc.outcome || r.Score != tc.score || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("Verify = %v %.1f %q, want %v %.1f containing %q", r.Outcome, r.Score, r.Reason, tc.outcome, tc.score, tc.reason)
			}
		})
	}
}

func TestVerifyReportsAnswerAndValue(t *testing.T) {
	r := Verify("<answer> 44 * 19 - 35 </answer>", []int{44, 19, 35}, 98)
	if r.Answer != "44 * 19 - 35" || r.Value != "801" {
		t.Errorf("Answer %q Value %q, want %q and %q", r.Answer, r.Value, "44 * 19 - 35", "801")
	}
	r = Verify("<answer>2 ** 3</answer>", []int{2, 3}, 8)
	if r.Answer != "2 ** 3" || r.Value != "" {
		t.Errorf("malformed answer: Answer %q Value %q, want the answer and no value", r.Answer, r.Value)
	}
}

func TestVerifierScoresAreConfigurable(t *testing.T) {
	v := Verifier{Correct: 2, Format: -0.5, NoAnswer: -1}
	nums, target := []int{1, 2}, 3
	for _, tc := range []struct {
		response string
		want     float64
	}{
		{"<answer>1 + 2</answer>", 2},
		{"<answer>1 * 2</answer>", -0.5},
		{"<answer>1 + 2 = 3</answer>", -0.5},
		{"1 + 2", -1},
	} {
		if got := v.Verify(tc.response, nums, target).Score; got != tc.want {
			t.Errorf("Verify(%q) score = %v, want %v", tc.response, got, tc.want)
		}
	}
}

func TestVerifierBoundsAnswerLength(t *testing.T) {
	v := DefaultVerifier()
	v.MaxAnswerBytes = 10
	r := v.Verify("<answer>44 + 19 + 35</answer>", []int{44, 19, 35}, 98) // 12 bytes
	if r.Outcome != Malformed || !strings.Contains(r.Reason, "longer than the 10 allowed") {
		t.Errorf("got %v %q, want Malformed for a 12-byte answer", r.Outcome, r.Reason)
	}
	long := "<answer>" + strings.Repeat("1 + ", 1000) + "1</answer>"
	if r := Verify(long, []int{1}, 1); r.Outcome != Malformed || !strings.Contains(r.Reason, "1024 allowed") {
		t.Errorf("default bound: got %v %q", r.Outcome, r.Reason)
	}
}

func TestOutcomeNames(t *testing.T) {
	want := map[Outcome]string{NoAnswer: "no_answer", Malformed: "malformed", WrongNumbers: "wrong_numbers",
		DivisionByZero: "division_by_zero", WrongValue: "wrong_value", Correct: "correct", Outcome(9): "Outcome(9)"}
	for o, s := range want {
		if o.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(o), o.String(), s)
		}
	}
}

// ParseNumber reads numbers exactly: a number just above 2^53 is not
// rounded to its float64 neighbour.
func TestParseNumber(t *testing.T) {
	good := map[string]int{
		"98": 98, "98.0": 98, "1e2": 100, "1E+2": 100, "-3": -3, "0": 0,
		"9007199254740993": 9007199254740993, "999999999999999999": 999999999999999999,
		"2500e-2": 25, " 7 ": 7,
	}
	for in, want := range good {
		got, err := ParseNumber(in)
		if err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"1.5": "not a whole number", "1e20": "out of range", "1000000000000000000": "out of range",
		"1e-1": "not a whole number", "1e1000000000": "out of range", "x": "not a number", "": "empty",
		"9223372036854775808": "out of range",
	}
	for in, want := range bad {
		if _, err := ParseNumber(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseNumber(%q) error %v, want one saying %q", in, err, want)
		}
	}
}

// A number the response did not get from the instance is wrong even when
// float64 cannot tell the two apart.
func TestVerifyBeyondFloat64(t *testing.T) {
	n, err := ParseNumber("9007199254740993")
	if err != nil {
		t.Fatal(err)
	}
	r := Verify("<answer>9007199254740992</answer>", []int{n}, 9007199254740992)
	if r.Outcome != WrongNumbers {
		t.Errorf("outcome %v (%s), want wrong_numbers", r.Outcome, r.Reason)
	}
	r = Verify("<answer>9007199254740993</answer>", []int{n}, n)
	if r.Outcome != Correct {
		t.Errorf("outcome %v (%s), want correct", r.Outcome, r.Reason)
	}
}
