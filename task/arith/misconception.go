package arith

import (
	"fmt"
	"math/big"
	"strings"
)

// Kind names a systematic error a solution writer can make. Each kind has a
// trigger (the situations it applies to) and is applied at every trigger in
// a solution, the way a student who holds the misconception would, so the
// wrong steps stay consistent with one another.
type Kind string

// The misconceptions. Step kinds change the result of one operation; reading
// kinds change how the whole expression is read before any step is taken.
const (
	// DropCarry adds column by column and forgets every carry; the leftmost
	// column is written in full: 47+38=75, 95+17=102.
	DropCarry Kind = "drop-carry"
	// SmallerFromLarger subtracts the smaller digit from the larger in each
	// column instead of borrowing: 52-27=35.
	SmallerFromLarger Kind = "smaller-from-larger"
	// MulDropCarry multiplies digit by digit and forgets the carries of each
	// partial product: 37*4=128 (7*4=28 writes 8, 3*4=12 writes 12);
	// partial products of a multi-digit multiplier are then added correctly.
	MulDropCarry Kind = "mul-drop-carry"
	// IgnorePrecedence reads every operator with the same strength, left to
	// right within each pair of parentheses: 5+3*4 is read (5+3)*4.
	IgnorePrecedence Kind = "ignore-precedence"
	// DropParens reads the expression as if its parentheses (other than
	// those around a negative number) were not there: 20-(5+3) is read
	// 20-5+3.
	DropParens Kind = "drop-parens"
	// SignSlip writes a subtraction whose result is negative as its
	// magnitude: 7-15=8.
	SignSlip Kind = "sign-slip"
	// DoubleNegative subtracts the magnitude of a negative number instead of
	// adding it: 9-(-4)=5.
	DoubleNegative Kind = "double-negative"
	// DropRemainder divides integers and keeps only the quotient, truncated
	// toward zero: 21/6=3.
	DropRemainder Kind = "drop-remainder"
)

// Kinds lists every misconception in a fixed order.
func Kinds() []Kind {
	return []Kind{DropCarry, SmallerFromLarger, MulDropCarry, IgnorePrecedence, DropParens, SignSlip, DoubleNegative, DropRemainder}
}

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown misconception %q (known: %s)", s, joinNames(Kinds()))
}

// UnmarshalText accepts only known kinds, so a misspelt name in a YAML or
// JSON config is an error rather than a rule that silently never fires.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// faultyStep computes a op b as a writer holding the kinds in active would.
// It returns the result and the kinds that fired (changed the result).
func faultyStep(op byte, a, b *big.Rat, active kindSet) (*big.Rat, []Kind, error) {
	if r, fired := faultyResult(op, a, b, active); fired != "" {
		return r, []Kind{fired}, nil
	}
	r, err := apply(op, a, b)
	return r, nil, err
}

// faultyResult returns the wrong result of the first active kind whose
// trigger matches a op b and whose result differs from the true one.
func faultyResult(op byte, a, b *big.Rat, active kindSet) (*big.Rat, Kind) {
	ai, aInt := ratInt(a)
	bi, bInt := ratInt(b)
	both := aInt && bInt
	var wrong *big.Int
	var kind Kind
	switch {
	case op == '+' && both && active[DropCarry] && ai.Sign() >= 0 && bi.Sign() >= 0:
		wrong, kind = addNoCarry(ai, bi), DropCarry
	case op == '-' && both && active[SmallerFromLarger] && bi.Sign() >= 0 && ai.Cmp(bi) >= 0:
		wrong, kind = subSmallerFromLarger(ai, bi), SmallerFromLarger
	case op == '*' && both && active[MulDropCarry]:
		wrong, kind = mulNoCarry(ai, bi), MulDropCarry
	case op == '-' && active[DoubleNegative] && b.Sign() < 0:
		return new(big.Rat).Add(a, b), DoubleNegative
	case op == '-' && active[SignSlip] && a.Cmp(b) < 0 && b.Sign() >= 0:
		return new(big.Rat).Sub(b, a), SignSlip
	case op == '/' && both && active[DropRemainder] && bi.Sign() != 0:
		q := new(big.Int).Quo(ai, bi)
		if new(big.Int).Mul(q, bi).Cmp(ai) == 0 {
			return nil, ""
		}
		return new(big.Rat).SetInt(q), DropRemainder
	default:
		return nil, ""
	}
	right, _ := apply(op, a, b)
	w := new(big.Rat).SetInt(wrong)
	if w.Cmp(right) == 0 {
		return nil, ""
	}
	return w, kind
}

// ratInt returns r as an integer when it is one.
func ratInt(r *big.Rat) (*big.Int, bool) {
	if !r.IsInt() {
		return nil, false
	}
	return new(big.Int).Set(r.Num()), true
}

// digitsLE returns the decimal digits of |n|, least significant first.
func digitsLE(n *big.Int) []int {
	s := new(big.Int).Abs(n).String()
	d := make([]int, len(s))
	for i := range s {
		d[len(s)-1-i] = int(s[i] - '0')
	}
	return d
}

// fromColumns joins column values written side by side, least significant
// first: every column but the last contributes one digit, the last is
// written in full (it may have two digits).
func fromColumns(cols []int) *big.Int {
	var b strings.Builder
	b.WriteString(fmt.Sprint(cols[len(cols)-1]))
	for i := len(cols) - 2; i >= 0; i-- {
		b.WriteByte(byte('0' + cols[i]%10))
	}
	n, _ := new(big.Int).SetString(b.String(), 10)
	return n
}

// addNoCarry adds non-negative a and b column by column with no carries.
func addNoCarry(a, b *big.Int) *big.Int {
	da, db := digitsLE(a), digitsLE(b)
	n := max(len(da), len(db))
	cols := make([]int, n)
	for i := range n {
		if i < len(da) {
			cols[i] += da[i]
		}
		if i < len(db) {
			cols[i] += db[i]
		}
	}
	return fromColumns(cols)
}

// subSmallerFromLarger subtracts b from a (a >= b >= 0) column by column,
// taking the smaller digit from the larger instead of borrowing.
func subSmallerFromLarger(a, b *big.Int) *big.Int {
	da, db := digitsLE(a), digitsLE(b)
	cols := make([]int, len(da))
	for i := range da {
		y := 0
		if i < len(db) {
			y = db[i]
		}
		cols[i] = max(da[i]-y, y-da[i])
	}
	return fromColumns(cols)
}

// mulNoCarry multiplies a and b the long way, forgetting the carries inside
// each partial product (one per digit of the shorter factor); the partial
// products are shifted and added correctly. The sign is kept right.
func mulNoCarry(a, b *big.Int) *big.Int {
	da, db := digitsLE(a), digitsLE(b)
	if len(db) > len(da) {
		da, db = db, da
	}
	sum := new(big.Int)
	ten := big.NewInt(10)
	shift := big.NewInt(1)
	for _, m := range db {
		cols := make([]int, len(da))
		for i, d := range da {
			cols[i] = d * m
		}
		part := fromColumns(cols)
		sum.Add(sum, part.Mul(part, shift))
		shift.Mul(shift, ten)
	}
	if a.Sign()*b.Sign() < 0 {
		sum.Neg(sum)
	}
	return sum
}

// stripParens removes every pair of parentheses from an expression's text
// except those around a bare negative literal such as "(-7)".
func stripParens(s string) string {
	var b strings.Builder
	keep := make([]bool, 0, 8) // for each open '(', whether it is kept
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			k := isNegLiteralGroup(s[i:])
			keep = append(keep, k)
			if k {
				b.WriteByte('(')
			}
		case ')':
			if n := len(keep); n > 0 {
				if keep[n-1] {
					b.WriteByte(')')
				}
				keep = keep[:n-1]
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// isNegLiteralGroup reports whether s starts with "(-digits)".
func isNegLiteralGroup(s string) bool {
	if len(s) < 4 || s[0] != '(' || s[1] != '-' {
		return false
	}
	i := 2
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 2 && i < len(s) && s[i] == ')'
}

// kindSet is a set of active misconceptions.
type kindSet map[Kind]bool

func joinNames[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
