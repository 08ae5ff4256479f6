package countdown

import (
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"44 + 19 + 35", "(44 + 19) * 35", "6 / (1 - 3 / 4)", "3 / (5 - 5)", "2 ** 3", "7 // 2",
	"-5 + 3", "+5", "2.5 * 4", "1,000", "1 = 1", "2(3)", "(1 + 2", "1 + 2)", "0123", "", "  ",
	"4 × 6", "((((((1))))))", "1 2", "99*99*99*99*99*99", "1/0*0", "12345678901234567890",
}

// Parse never panics; what it accepts prints back to an expression with the
// same numbers and the same value, and holds only allowed characters.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse(%q) error %T, want *ParseError", s, err)
			}
			return
		}
		if strings.Trim(s, "0123456789+-*/() \t\n\r") != "" {
			t.Fatalf("Parse accepted %q, which has other characters", s)
		}
		back, err := Parse(e.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q does not parse: %v", s, e.String(), err)
		}
		if !slices.Equal(back.Numbers(), e.Numbers()) {
			t.Fatalf("%q: numbers %v after printing, want %v", s, back.Numbers(), e.Numbers())
		}
		v1, err1 := e.Eval()
		v2, err2 := back.Eval()
		if (err1 == nil) != (err2 == nil) || (err1 == nil && v1.Cmp(v2) != 0) {
			t.Fatalf("%q: value changed by printing", s)
		}
	})
}

// Verify never panics, scores only 1.0, 0.1 or 0, and calls an answer
// correct only if it really uses the numbers and hits the target.
func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("<answer>"+s+"</answer>", 44, 19, 35, 98)
	}
	f.Add("no answer", 1, 2, 3, 6)
	f.Add("<answer>1 + 2 + 3</answer>", 1, 2, 3, 6)
	f.Fuzz(func(t *testing.T, response string, a, b, c, target int) {
		nums := []int{a, b, c}
		r := Verify(response, nums, target)
		switch r.Score {
		case 1, 0.1, 0:
		default:
			t.Fatalf("score %v", r.Score)
		}
		if (r.Score == 1) != (r.Outcome == Correct) || (r.Score == 0) != (r.Outcome == NoAnswer) {
			t.Fatalf("score %v does not match outcome %v", r.Score, r.Outcome)
		}
		if r.Outcome != Correct {
			return
		}
		e, err := Parse(r.Answer)
		if err != nil {
			t.Fatalf("correct answer %q does not parse: %v", r.Answer, err)
		}
		used, given := e.Numbers(), slices.Clone(nums)
		slices.Sort(used)
		slices.Sort(given)
		if !slices.Equal(used, given) {
			t.Fatalf("correct answer %q uses %v, given %v", r.Answer, used, given)
		}
		v, err := e.Eval()
		if err != nil || v.Cmp(new(big.Rat).SetInt64(int64(target))) != 0 {
			t.Fatalf("correct answer %q evaluates to %v (%v), target %d", r.Answer, v, err, target)
		}
	})
}

// ParseVerdict never panics and says why whenever there is no verdict.
func FuzzParseVerdict(f *testing.F) {
	for _, s := range []string{`\boxed{True}`, `\boxed{\text{ false }}`, `\boxed{`, `\boxed{}}`, `$\boxed 1$`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, reason := ParseVerdict(s)
		if reason == "" {
			t.Fatalf("ParseVerdict(%q) = %v with no reason", s, v)
		}
		if v == VerdictTrue && !strings.Contains(strings.ToLower(s), "t") {
			t.Fatalf("ParseVerdict(%q) = True without a t", s)
		}
	})
}

// ParseNumber never panics, and what it accepts is a whole number whose
// decimal spelling reads back as itself.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"98", "98.0", "1e2", "1e20", "9007199254740993", "1.5", "-0", "1e1000000000", "0x10", "1_000", "+5", ".5e1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseNumber(s)
		if err != nil {
			return
		}
		back, err := ParseNumber(strconv.Itoa(n))
		if err != nil || back != n {
			t.Fatalf("ParseNumber(%q) = %d, which reads back as %d (%v)", s, n, back, err)
		}
		r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
		if !ok || r.Cmp(new(big.Rat).SetInt64(int64(n))) != 0 {
			t.Fatalf("ParseNumber(%q) = %d, not the value written", s, n)
		}
	})
}
