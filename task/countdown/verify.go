package countdown

import (
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/grade"
)

// Outcome classifies a verified response. Every outcome but NoAnswer and
// Correct earns the format score: the response did give an answer.
type Outcome int

const (
	// NoAnswer: no complete <answer>...</answer> in the response.
	NoAnswer Outcome = iota
	// Malformed: the answer is empty, too long, or not a valid expression
	// (a bad character, a syntax error, or a rejected trick such as **).
	Malformed
	// WrongNumbers: the expression does not use the given numbers exactly
	// once each.
	WrongNumbers
	// DivisionByZero: some divisor evaluates to zero.
	DivisionByZero
	// WrongValue: a valid expression that misses the target.
	WrongValue
	// Correct: a valid expression on exactly the given numbers that equals
	// the target.
	Correct
)

var outcomeNames = [...]string{"no_answer", "malformed", "wrong_numbers", "division_by_zero", "wrong_value", "correct"}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// DefaultMaxAnswerBytes bounds the answer a Verifier parses. A Countdown
// answer with a handful of two-digit numbers needs a few dozen bytes.
const DefaultMaxAnswerBytes = 1024

// Verifier scores Countdown responses the way the reference scorer used by
// the paper does (TinyZero's countdown reward): Correct for a right
// expression, Format for an answer that is present but wrong, NoAnswer when
// there is none. Use DefaultVerifier and change what you need; the zero value
// scores everything 0.
type Verifier struct {
	Correct  float64 // default 1.0
	Format   float64 // default 0.1
	NoAnswer float64 // default 0
	// MaxAnswerBytes bounds the extracted answer; a longer one is
	// Malformed. 0 means DefaultMaxAnswerBytes.
	MaxAnswerBytes int
}

// DefaultVerifier returns the reference scores 1.0 / 0.1 / 0.
func DefaultVerifier() Verifier {
	return Verifier{Correct: 1, Format: 0.1, NoAnswer: 0, MaxAnswerBytes: DefaultMaxAnswerBytes}
}

// Result is the verdict on one response.
type Result struct {
	Score   float64
	Outcome Outcome
	// Answer is the content of the last <answer> tag, "" when there is none.
	Answer string
	// Value is what the expression evaluates to, exactly ("7/2"), when it
	// was evaluated: for WrongValue and Correct.
	Value string
	// Reason says in words why the outcome is what it is.
	Reason string
}

// Verify extracts the answer from the last <answer>...</answer> of response
// and checks it against nums and target. Unlike the reference scorer, which
// looks only at the response's last line and evaluates with floating point
// within 1e-5, it takes the last tag anywhere in the response and compares
// exact rationals; an opening tag never closed (a truncated response) counts
// as no answer, an empty tag as a present but malformed answer.
func (v Verifier) Verify(response string, nums []int, target int) Result {
	ans, err := grade.ExtractAnswerTag(response)
	if err != nil {
		if errors.Is(err, grade.ErrEmptyAnswer) {
			return v.result(Check{Outcome: Malformed, Reason: "empty answer"}, "")
		}
		return Result{Score: v.NoAnswer, Outcome: NoAnswer, Reason: err.Error()}
	}
	return v.result(v.CheckExpression(ans, nums, target), ans)
}

func (v Verifier) result(c Check, ans string) Result {
	r := Result{Outcome: c.Outcome, Answer: ans, Reason: c.Reason, Score: v.Format}
	if c.Value != nil {
		r.Value = c.Value.RatString()
	}
	if c.Outcome == Correct {
		r.Score = v.Correct
	}
	return r
}

// Verify scores response with DefaultVerifier.
func Verify(response string, nums []int, target int) Result {
	return DefaultVerifier().Verify(response, nums, target)
}

// Check is the verdict on a bare expression.
type Check struct {
	Outcome Outcome
	Value   *big.Rat // set for WrongValue and Correct
	Reason  string
}

// CheckExpression checks a bare expression (no tags) against nums and target:
// it must parse (see Parse), use the multiset nums exactly, avoid division by
// zero and equal target exactly. Literals are non-negative (unary minus is
// rejected), so a negative given number can never be used. The outcome is
// never NoAnswer.
func (v Verifier) CheckExpression(expr string, nums []int, target int) Check {
	limit := v.MaxAnswerBytes
	if limit <= 0 {
		limit = DefaultMaxAnswerBytes
	}
	if len(expr) > limit {
		return Check{Outcome: Malformed, Reason: fmt.Sprintf("answer is %d bytes, longer than the %d allowed", len(expr), limit)}
	}
	e, err := Parse(expr)
	if err != nil {
		return Check{Outcome: Malformed, Reason: err.Error()}
	}
	if reason := numbersMismatch(e.Numbers(), nums); reason != "" {
		return Check{Outcome: WrongNumbers, Reason: reason}
	}
	val, err := e.Eval()
	if err != nil {
		return Check{Outcome: DivisionByZero, Reason: err.Error()}
	}
	if val.Cmp(new(big.Rat).SetInt64(int64(target))) != 0 {
		return Check{Outcome: WrongValue, Value: val,
			Reason: fmt.Sprintf("evaluates to %s, not the target %d", val.RatString(), target)}
	}
	return Check{Outcome: Correct, Value: val, Reason: fmt.Sprintf("equals %d using %s", target, FormatNumbers(nums))}
}

// numbersMismatch compares the literals used with the given multiset and
// describes every difference, or returns "" when they match.
func numbersMismatch(used, given []int) string {
	count := map[int]int{}
	for _, v := range given {
		count[v]++
	}
	for _, v := range used {
		count[v]--
	}
	var notGiven, overused, unused []string
	for _, v := range slices.Sorted(maps.Keys(count)) {
		c := count[v]
		switch {
		case c < 0 && slices.Contains(given, v):
			overused = append(overused, fmt.Sprintf("%d (%d extra)", v, -c))
		case c < 0:
			notGiven = append(notGiven, strconv.Itoa(v))
		case c > 1:
			unused = append(unused, fmt.Sprintf("%d (%d times)", v, c))
		case c > 0:
			unused = append(unused, strconv.Itoa(v))
		}
	}
	var parts []string
	if len(notGiven) > 0 {
		parts = append(parts, "uses "+strings.Join(notGiven, ", ")+" not among the given numbers")
	}
	if len(overused) > 0 {
		parts = append(parts, "uses "+strings.Join(overused, ", ")+" more often than given")
	}
	if len(unused) > 0 {
		parts = append(parts, "leaves "+strings.Join(unused, ", ")+" unused")
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + " (given " + FormatNumbers(given) + ")"
}

// ParseNumber reads a Countdown number as written in JSON or on a command
// line ("98", "98.0", "1e2", "-3"). It is exact: the text is read as a
// rational number, never through float64, so 9007199254740993 stays itself
// instead of rounding to 9007199254740992. A value that is not whole ("2.5"),
// or whose magnitude has more than MaxLiteralDigits digits (such a number
// could never be written in an answer, so the instance is unusable; 1e20 is
// one), is an error saying so.
func ParseNumber(text string) (int, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return 0, errors.New("empty number")
	}
	// Bound the exponent before handing the text to big.Rat, which would
	// otherwise build 10^1000000000 for "1e1000000000".
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", text)
		}
		if e > MaxLiteralDigits+1 || e < -(MaxLiteralDigits+1) {
			return 0, fmt.Errorf("%s is out of range: Countdown numbers have at most %d digits", s, MaxLiteralDigits)
		}
	}
	if len(s) > 64 {
		return 0, fmt.Errorf("%.20s... is out of range: Countdown numbers have at most %d digits", s, MaxLiteralDigits)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a number", text)
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("%s is not a whole number", s)
	}
	n := r.Num()
	if len(new(big.Int).Abs(n).String()) > MaxLiteralDigits {
		return 0, fmt.Errorf("%s is %s, out of range: Countdown numbers have at most %d digits", s, n.String(), MaxLiteralDigits)
	}
	return int(n.Int64()), nil
}
