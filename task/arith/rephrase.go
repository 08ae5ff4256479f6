package arith

import "fmt"

// Rephrase returns a problem prompt that asks the same question in other
// words, for Co-Reward's rephrased questions (paper Table 2): the
// operands of every commutative operation (+ and *) swapped, which leaves
// the value exactly unchanged ("Q: 2+3*4=?" becomes "Q: 4*3+2=?"). An
// expression without a commutative operation is written inside
// parentheses, an equivalent form. The result is checked to evaluate to
// the original's value.
func Rephrase(prompt string) (string, error) {
	s, err := ExpressionOf(prompt)
	if err != nil {
		return "", err
	}
	e, err := Parse(s)
	if err != nil {
		return "", fmt.Errorf("rephrasing %q: %w", s, err)
	}
	out := mirror(e).String()
	if out == e.String() {
		out = "(" + out + ")"
	}
	f, err := Parse(out)
	if err != nil {
		return "", fmt.Errorf("rephrasing %q: the rephrasing %q does not parse: %w", s, out, err)
	}
	a, errA := e.Eval()
	b, errB := f.Eval()
	if errA != nil || errB != nil || a.Cmp(b) != 0 {
		return "", fmt.Errorf("rephrasing %q: %q does not have the same value", s, out)
	}
	return Prompt(out), nil
}

// mirror returns a copy of e with the operands of + and * swapped at
// every level.
func mirror(e *Expr) *Expr {
	if e.IsLit() {
		return e
	}
	l, r := mirror(e.L), mirror(e.R)
	if e.Op == '+' || e.Op == '*' {
		l, r = r, l
	}
	return Bin(e.Op, l, r)
}
