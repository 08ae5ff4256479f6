package countdown

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParseEvaluatesExactly(t *testing.T) {
	tests := []struct {
		expr string
		want string // exact value as big.Rat.RatString
	}{
		{"7", "7"},
		{"  7  ", "7"},
		{"((7))", "7"},
		{"1 + 2 * 3", "7"},   // * binds tighter
		{"(1 + 2) * 3", "9"}, // parentheses override
		{"8 - 4 - 2", "2"},   // left associative: (8-4)-2
		{"8 - (4 - 2)", "6"},
		{"8 / 4 / 2", "1"}, // (8/4)/2
		{"8 / (4 / 2)", "4"},
		{"2 * 3 / 4", "3/2"},
		{"1 / 3 + 1 / 6", "1/2"},
		{"6 / (1 - 3 / 4)", "24"},   // a non-integer intermediate
		{"3 - 5", "-2"},             // binary minus may go negative
		{"1\t+\n2\r\n* 3", "7"},     // any ASCII whitespace separates
		{"0", "0"},                  // a lone zero is not a leading zero
		{"99*99*99*99", "96059601"}, // 99^4
		{"10 - 2 * 3 + 8 / 4", "6"},
		{"(((1+2)))*(((3)))", "9"},
	}
	for _, tc := range tests {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		v, err := e.Eval()
		if err != nil {
			t.Errorf("Eval(%q): %v", tc.expr, err)
			continue
		}
		if got := v.RatString(); got != tc.want {
			t.Errorf("%q = %s, want %s", tc.expr, got, tc.want)
		}
	}
}

func TestParseRejectsWithReason(t *testing.T) {
	tests := []struct {
		expr   string
		reason string // substring of the error
		offset int
	}{
		{"", "empty expression", 0},
		{"   ", "empty expression", 0},
		{"1 +", "ends where a number", 3},
		{"-1 + 2", "unary minus", 0},
		{"1 - -1", "unary minus", 4},
		{"+1", "unary plus", 0},
		{"2 * -3", "unary minus", 4},
		{"2 ** 3", "power operator **", 2},
		{"2 ^ 3", "power operator ^", 2},
		{"7 // 2", "floor division //", 2},
		{"1.5 + 2", "decimal", 0},
		{".5 + 2", "decimal", 0},
		{"2 + 1.", "decimal", 5},
		{"1,000", "digit grouping", 0},
		{"1 + 2 = 3", "equation", 6},
		{"1 2 + 3", "missing operator", 2},
		{"2(3 + 4)", "missing operator", 1},
		{"(2)(3)", "missing operator", 3},
		{"(1 + 2", "never closed", 0},
		{"1 + 2)", "unmatched ')'", 5},
		{"()", "where a number or '('", 1},
		{"1 % 2", "modulo", 2},
		{"1 + a", "character 'a' is not allowed", 4},
		{"4 × 6", "character '×' is not allowed", 2},
		{"4 x 6", "character 'x' is not allowed", 2},
		{"0123", "leading zero", 0},
		{"5 + 05", "leading zero", 4},
		{"1234567890123456789", "longer than 18", 0},
		{"1 * / 2", "unexpected '/'", 4},
		{strings.Repeat("(", MaxDepth+1) + "1" + strings.Repeat(")", MaxDepth+1), "nested deeper", MaxDepth},
	}
	for _, tc := range tests {
		_, err := Parse(tc.expr)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) error = %v, want a *ParseError", tc.expr, err)
			continue
		}
		if !strings.Contains(pe.Reason, tc.reason) || pe.Offset != tc.offset {
			t.Errorf("Parse(%q) = %q at %d, want %q at %d", tc.expr, pe.Reason, pe.Offset, tc.reason, tc.offset)
		}
	}
}

func TestDivisionByZeroIsAnError(t *testing.T) {
	for _, expr := range []string{"3 / (5 - 5)", "1 / 0", "(4 - 4) / (2 - 2)", "0 * (1 / 0)"} {
		e, err := Parse(expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", expr, err)
		}
		if _, err := e.Eval(); !errors.Is(err, ErrDivisionByZero) {
			t.Errorf("Eval(%q) error = %v, want ErrDivisionByZero", expr, err)
		}
	}
}

func TestNumbersInOrder(t *testing.T) {
	e, err := Parse("(44 + 19) * 35 - 44 / 2")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Numbers(), []int{44, 19, 35, 44, 2}; !slices.Equal(got, want) {
		t.Errorf("Numbers = %v, want %v", got, want)
	}
}

func TestStringUsesFewestParentheses(t *testing.T) {
	n := Num
	tests := []struct {
		e    *Expr
		want string
	}{
		{Bin('-', n(8), Bin('-', n(4), n(2))), "8 - (4 - 2)"},
		{Bin('-', Bin('-', n(8), n(4)), n(2)), "8 - 4 - 2"},
		{Bin('+', n(1), Bin('+', n(2), n(3))), "1 + 2 + 3"},
		{Bin('+', n(1), Bin('-', n(2), n(3))), "1 + 2 - 3"},
		{Bin('-', n(8), Bin('+', n(4), n(2))), "8 - (4 + 2)"},
		{Bin('*', Bin('+', n(1), n(2)), n(3)), "(1 + 2) * 3"},
		{Bin('/', n(8), Bin('*', n(2), n(2))), "8 / (2 * 2)"},
		{Bin('*', n(8), Bin('/', n(4), n(2))), "8 * 4 / 2"},
		{Bin('/', n(8), Bin('/', n(4), n(2))), "8 / (4 / 2)"},
		{Bin('+', Bin('*', n(2), n(3)), Bin('/', n(8), n(4))), "2 * 3 + 8 / 4"},
	}
	for _, tc := range tests {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("String = %q, want %q", got, tc.want)
		}
	}
}

// randomExpr builds a random expression tree over small numbers.
func randomExpr(rng *rand.Rand, depth int) *Expr {
	if depth == 0 || rng.IntN(3) == 0 {
		return Num(rng.IntN(20))
	}
	return Bin("+-*/"[rng.IntN(4)], randomExpr(rng, depth-1), randomExpr(rng, depth-1))
}

// String must print a tree so that parsing gives back the same value and
// the same numbers in the same order.
func TestStringRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 2000 {
		e := randomExpr(rng, 5)
		s := e.String()
		back, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(String()) of %q: %v", s, err)
		}
		if !slices.Equal(back.Numbers(), e.Numbers()) {
			t.Fatalf("%q: numbers %v, want %v", s, back.Numbers(), e.Numbers())
		}
		v1, err1 := e.Eval()
		v2, err2 := back.Eval()
		if (err1 == nil) != (err2 == nil) || (err1 == nil && v1.Cmp(v2) != 0) {
			t.Fatalf("%q: value %v (%v) after round trip, want %v (%v)", s, v2, err2, v1, err1)
		}
	}
}
