package countdown

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// MaxLiteralDigits bounds one number literal in an answer. Countdown numbers
// are small; a longer literal can only be a concatenation trick or garbage,
// and the bound keeps every literal inside an int.
const MaxLiteralDigits = 18

// MaxDepth bounds parenthesis nesting so that the recursive-descent parser's
// stack stays small on adversarial input.
const MaxDepth = 64

// ErrDivisionByZero is returned by Eval when a divisor evaluates to zero.
var ErrDivisionByZero = errors.New("division by zero")

// ParseError says why an answer is not a valid Countdown expression and
// where (byte offset into the expression) the problem was found.
type ParseError struct {
	Offset int
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("offset %d: %s", e.Offset, e.Reason)
}

// Expr is a parsed Countdown expression: a number leaf (Op == 0) or a binary
// operation Op in "+-*/" on Left and Right.
type Expr struct {
	Op          byte
	Value       int // the literal, when Op == 0
	Left, Right *Expr
}

// Num returns a number leaf.
func Num(v int) *Expr { return &Expr{Value: v} }

// Bin returns the binary operation op (one of + - * /) on l and r.
func Bin(op byte, l, r *Expr) *Expr { return &Expr{Op: op, Left: l, Right: r} }

// Numbers returns the number literals of e from left to right.
func (e *Expr) Numbers() []int {
	var out []int
	var walk func(*Expr)
	walk = func(n *Expr) {
		if n.Op == 0 {
			out = append(out, n.Value)
			return
		}
		walk(n.Left)
		walk(n.Right)
	}
	walk(e)
	return out
}

// Eval evaluates e exactly. It returns ErrDivisionByZero when any divisor is
// zero, even one whose quotient would later be multiplied by zero.
func (e *Expr) Eval() (*big.Rat, error) {
	if e.Op == 0 {
		return new(big.Rat).SetInt64(int64(e.Value)), nil
	}
	l, err := e.Left.Eval()
	if err != nil {
		return nil, err
	}
	r, err := e.Right.Eval()
	if err != nil {
		return nil, err
	}
	return apply(e.Op, l, r)
}

// apply returns a op b as a new value: ErrDivisionByZero for a zero
// divisor, an error for an operator other than + - * /.
func apply(op byte, a, b *big.Rat) (*big.Rat, error) {
	v := new(big.Rat)
	switch op {
	case '+':
		return v.Add(a, b), nil
	case '-':
		return v.Sub(a, b), nil
	case '*':
		return v.Mul(a, b), nil
	case '/':
		if b.Sign() == 0 {
			return nil, ErrDivisionByZero
		}
		return v.Quo(a, b), nil
	}
	return nil, fmt.Errorf("unknown operator %q", op)
}

func precedence(op byte) int {
	switch op {
	case '+', '-':
		return 1
	case '*', '/':
		return 2
	}
	return 3 // a number binds tightest
}

// String writes e with the fewest parentheses that keep its meaning under the
// usual precedence and left associativity: a right operand of - or / that is
// itself a same-precedence operation keeps its parentheses, since a-(b-c) and
// a/(b/c) differ from a-b-c and a/b/c.
func (e *Expr) String() string {
	var sb strings.Builder
	e.write(&sb)
	return sb.String()
}

func (e *Expr) write(sb *strings.Builder) {
	if e.Op == 0 {
		sb.WriteString(strconv.Itoa(e.Value))
		return
	}
	p := precedence(e.Op)
	writeOperand(sb, e.Left, precedence(e.Left.Op) < p)
	sb.WriteByte(' ')
	sb.WriteByte(e.Op)
	sb.WriteByte(' ')
	rp := precedence(e.Right.Op)
	writeOperand(sb, e.Right, rp < p || (rp == p && (e.Op == '-' || e.Op == '/')))
}

func writeOperand(sb *strings.Builder, e *Expr, paren bool) {
	if paren {
		sb.WriteByte('(')
	}
	e.write(sb)
	if paren {
		sb.WriteByte(')')
	}
}

// Parse parses a Countdown answer: non-negative integer literals, the binary
// operators + - * / with the usual precedence, parentheses and ASCII
// whitespace. Everything else is rejected with a *ParseError naming the
// trick: ** and // (Python power and floor division), unary + and -,
// decimals, '=' (an equation rather than an expression), implicit
// multiplication and digits split by spaces (concatenation), and literals
// with a leading zero, which would let "05" pass for 5.
func Parse(s string) (*Expr, error) {
	p := parser{src: s}
	p.skipSpace()
	if p.pos == len(p.src) {
		return nil, &ParseError{Offset: 0, Reason: "empty expression"}
	}
	e, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.src) {
		return nil, p.unexpected("after a complete expression")
	}
	return e, nil
}

type parser struct {
	src string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func (p *parser) fail(off int, format string, args ...any) error {
	return &ParseError{Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// expr := term (('+' | '-') term)*
func (p *parser) expr(depth int) (*Expr, error) {
	left, err := p.term(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || (p.src[p.pos] != '+' && p.src[p.pos] != '-') {
			return left, nil
		}
		op := p.src[p.pos]
		p.pos++
		right, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		left = Bin(op, left, right)
	}
}

// term := factor (('*' | '/') factor)*
func (p *parser) term(depth int) (*Expr, error) {
	left, err := p.factor(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || (p.src[p.pos] != '*' && p.src[p.pos] != '/') {
			return left, nil
		}
		op := p.src[p.pos]
		if p.pos+1 < len(p.src) && p.src[p.pos+1] == op {
			if op == '*' {
				return nil, p.fail(p.pos, "power operator ** is not allowed")
			}
			return nil, p.fail(p.pos, "floor division // is not allowed")
		}
		p.pos++
		right, err := p.factor(depth)
		if err != nil {
			return nil, err
		}
		left = Bin(op, left, right)
	}
}

// factor := number | '(' expr ')'
func (p *parser) factor(depth int) (*Expr, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.fail(p.pos, "expression ends where a number or '(' is expected")
	}
	c := p.src[p.pos]
	switch {
	case isDigit(c):
		return p.number()
	case c == '(':
		if depth >= MaxDepth {
			return nil, p.fail(p.pos, "parentheses nested deeper than %d", MaxDepth)
		}
		open := p.pos
		p.pos++
		e, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, p.fail(open, "'(' is never closed")
		}
		if p.src[p.pos] != ')' {
			return nil, p.unexpected("where ')' is expected")
		}
		p.pos++
		return e, nil
	case c == '-':
		return nil, p.fail(p.pos, "unary minus is not allowed: every number must be used as given")
	case c == '+':
		return nil, p.fail(p.pos, "unary plus is not allowed")
	case c == '.':
		return nil, p.fail(p.pos, "decimal numbers are not allowed")
	case c == ')':
		return nil, p.fail(p.pos, "unexpected ')' where a number or '(' is expected")
	}
	return nil, p.unexpected("where a number or '(' is expected")
}

func (p *parser) number() (*Expr, error) {
	start := p.pos
	for p.pos < len(p.src) && isDigit(p.src[p.pos]) {
		p.pos++
	}
	lit := p.src[start:p.pos]
	if p.pos < len(p.src) && (p.src[p.pos] == '.' || p.src[p.pos] == ',') {
		if p.pos+1 < len(p.src) && isDigit(p.src[p.pos+1]) {
			if p.src[p.pos] == '.' {
				return nil, p.fail(start, "decimal numbers are not allowed")
			}
			return nil, p.fail(start, "digit grouping with ',' is not allowed")
		}
	}
	if len(lit) > 1 && lit[0] == '0' {
		return nil, p.fail(start, "number %q has a leading zero", lit)
	}
	if len(lit) > MaxLiteralDigits {
		return nil, p.fail(start, "number with %d digits is longer than %d", len(lit), MaxLiteralDigits)
	}
	v, err := strconv.Atoi(lit)
	if err != nil {
		return nil, p.fail(start, "number %q: %v", lit, err)
	}
	return Num(v), nil
}

// unexpected describes the byte at p.pos, naming the common tricks.
func (p *parser) unexpected(where string) error {
	c := p.src[p.pos]
	switch {
	case isDigit(c) || c == '(':
		return p.fail(p.pos, "missing operator %s: implicit multiplication and numbers split by spaces are not allowed", where)
	case c == '=':
		return p.fail(p.pos, "'=' makes an equation; the answer must be an expression only")
	case c == ')':
		return p.fail(p.pos, "unmatched ')'")
	case c == '.':
		return p.fail(p.pos, "decimal numbers are not allowed")
	case c == '^':
		return p.fail(p.pos, "power operator ^ is not allowed")
	case c == '%':
		return p.fail(p.pos, "modulo %% is not allowed")
	case c == '+' || c == '-' || c == '*' || c == '/':
		return p.fail(p.pos, "unexpected %q %s", c, where)
	case c >= 0x20 && c < 0x7f:
		return p.fail(p.pos, "character %q is not allowed: only digits, + - * / ( ) and spaces", c)
	}
	r := []rune(p.src[p.pos:min(len(p.src), p.pos+4)])
	return p.fail(p.pos, "character %q is not allowed: only digits, + - * / ( ) and spaces", r[0])
}
