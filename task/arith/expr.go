package arith

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// MaxExprLen bounds the text Parse accepts, so that adversarial input cannot
// build deep trees or huge numbers.
const MaxExprLen = 256

// maxDepth bounds parenthesis nesting while parsing.
const maxDepth = 32

// Expr is a node of an arithmetic expression tree: an integer literal (Op
// == 0, possibly negative) or a binary operation Op in "+-*/" on L and R.
type Expr struct {
	Op  byte
	Num *big.Rat
	L   *Expr
	R   *Expr
}

// Lit returns the literal v.
func Lit(v int64) *Expr { return &Expr{Num: new(big.Rat).SetInt64(v)} }

// Bin returns the operation l op r.
func Bin(op byte, l, r *Expr) *Expr { return &Expr{Op: op, L: l, R: r} }

// IsLit reports whether e is a literal.
func (e *Expr) IsLit() bool { return e.Op == 0 }

// Ops counts the binary operations in e: the steps a solution takes.
func (e *Expr) Ops() int {
	if e.IsLit() {
		return 0
	}
	return 1 + e.L.Ops() + e.R.Ops()
}

// Equal reports whether e and f are the same tree.
func (e *Expr) Equal(f *Expr) bool {
	if e.Op != f.Op {
		return false
	}
	if e.IsLit() {
		return e.Num.Cmp(f.Num) == 0
	}
	return e.L.Equal(f.L) && e.R.Equal(f.R)
}

// ErrDivByZero is returned when an expression divides by zero.
var ErrDivByZero = errors.New("division by zero")

// Eval computes e exactly.
func (e *Expr) Eval() (*big.Rat, error) {
	if e.IsLit() {
		return new(big.Rat).Set(e.Num), nil
	}
	a, err := e.L.Eval()
	if err != nil {
		return nil, err
	}
	b, err := e.R.Eval()
	if err != nil {
		return nil, err
	}
	return apply(e.Op, a, b)
}

// apply computes a op b exactly.
func apply(op byte, a, b *big.Rat) (*big.Rat, error) {
	r := new(big.Rat)
	switch op {
	case '+':
		return r.Add(a, b), nil
	case '-':
		return r.Sub(a, b), nil
	case '*':
		return r.Mul(a, b), nil
	case '/':
		if b.Sign() == 0 {
			return nil, ErrDivByZero
		}
		return r.Quo(a, b), nil
	}
	return nil, fmt.Errorf("unknown operator %q", op)
}

// prec is the binding strength of an operator.
func prec(op byte) int {
	if op == '*' || op == '/' {
		return 2
	}
	return 1
}

// String prints e with the fewest parentheses that parse back to the same
// tree: a right operand of equal strength is parenthesised (a-(b-c),
// a+(b+c)), and a negative literal is bare only where an expression starts
// (-3*4, 5-(-3)).
func (e *Expr) String() string {
	var b strings.Builder
	e.write(&b, true)
	return b.String()
}

func (e *Expr) write(b *strings.Builder, atStart bool) {
	if e.IsLit() {
		if e.Num.Sign() < 0 && !atStart {
			b.WriteString("(" + e.Num.RatString() + ")")
		} else {
			b.WriteString(e.Num.RatString())
		}
		return
	}
	p := prec(e.Op)
	if !e.L.IsLit() && prec(e.L.Op) < p {
		b.WriteByte('(')
		e.L.write(b, true)
		b.WriteByte(')')
	} else {
		e.L.write(b, atStart)
	}
	b.WriteByte(e.Op)
	if !e.R.IsLit() && prec(e.R.Op) <= p {
		b.WriteByte('(')
		e.R.write(b, true)
		b.WriteByte(')')
	} else {
		e.R.write(b, false)
	}
}

// Parse reads an expression of non-negative integer literals, + - * /,
// and parentheses, with the usual precedence (* and / bind tighter; equal
// strength groups left to right). A minus sign directly at the start of the
// text or after "(" makes a negative literal, so "-3*4" and "5-(-3)" parse
// but "5*-3" does not. Spaces between tokens are ignored.
func Parse(s string) (*Expr, error) { return parse(s, false) }

// ParseFlat reads an expression as Parse does but gives all four operators
// the same strength, evaluating left to right within each parenthesised
// group: the reading of someone who ignores operator precedence.
func ParseFlat(s string) (*Expr, error) { return parse(s, true) }

func parse(s string, flat bool) (*Expr, error) {
	if len(s) > MaxExprLen {
		return nil, fmt.Errorf("parsing expression: %d characters, more than %d", len(s), MaxExprLen)
	}
	if i := splitNumber(s); i >= 0 {
		return nil, fmt.Errorf("parsing expression %q: space inside a number at offset %d", s, i)
	}
	p := &parser{src: strings.ReplaceAll(s, " ", ""), flat: flat}
	e, err := p.group(0)
	if err != nil {
		return nil, fmt.Errorf("parsing expression %q: %w", s, err)
	}
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("parsing expression %q: unexpected %q at offset %d", s, p.src[p.pos], p.pos)
	}
	return e, nil
}

// splitNumber returns the offset of a run of spaces between two digits, or -1.
func splitNumber(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] != ' ' || s[i-1] < '0' || s[i-1] > '9' {
			continue
		}
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			return i
		}
	}
	return -1
}

type parser struct {
	src  string
	pos  int
	flat bool
}

func (p *parser) peekOp() (byte, bool) {
	if p.pos < len(p.src) && strings.IndexByte("+-*/", p.src[p.pos]) >= 0 {
		return p.src[p.pos], true
	}
	return 0, false
}

func (p *parser) strength(op byte) int {
	if p.flat {
		return 1
	}
	return prec(op)
}

// continueExpr extends left with operations of strength >= minPrec by
// precedence climbing; left-associativity comes from letting only stronger
// operators take the right operand first.
func (p *parser) continueExpr(left *Expr, minPrec, depth int) (*Expr, error) {
	for {
		op, ok := p.peekOp()
		if !ok || p.strength(op) < minPrec {
			return left, nil
		}
		p.pos++
		right, err := p.operand(depth, false)
		if err != nil {
			return nil, err
		}
		// Operators that bind tighter than op take right as their left operand first.
		for {
			next, ok := p.peekOp()
			if !ok || p.strength(next) <= p.strength(op) {
				break
			}
			right, err = p.continueExpr(right, p.strength(next), depth)
			if err != nil {
				return nil, err
			}
		}
		left = Bin(op, left, right)
	}
}

// operand parses a literal or a parenthesised group. A leading minus is a
// sign only where an expression starts; the caller says whether it does.
func (p *parser) operand(depth int, atStart bool) (*Expr, error) {
	if p.pos >= len(p.src) {
		return nil, errors.New("unexpected end")
	}
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		inner, err := p.group(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, fmt.Errorf("missing ')' at offset %d", p.pos)
		}
		p.pos++
		return inner, nil
	case c == '-' && atStart:
		p.pos++
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		lit.Num.Neg(lit.Num)
		return lit, nil
	case c >= '0' && c <= '9':
		return p.literal()
	}
	return nil, fmt.Errorf("unexpected %q at offset %d", c, p.pos)
}

// group parses the inside of parentheses, where a leading minus is a sign.
func (p *parser) group(depth int) (*Expr, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nesting deeper than %d", maxDepth)
	}
	left, err := p.operand(depth, true)
	if err != nil {
		return nil, err
	}
	return p.continueExpr(left, 1, depth)
}

func (p *parser) literal() (*Expr, error) {
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		if p.pos < len(p.src) {
			return nil, fmt.Errorf("expected a digit at offset %d, got %q", p.pos, p.src[p.pos])
		}
		return nil, fmt.Errorf("expected a digit at offset %d, got the end", p.pos)
	}
	n, ok := new(big.Rat).SetString(p.src[start:p.pos])
	if !ok {
		return nil, fmt.Errorf("bad number %q", p.src[start:p.pos])
	}
	return &Expr{Num: n}, nil
}
