package grade

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Arithmetic limits. A value whose numerator and denominator together need
// more than maxBits bits is carried as a float64 instead; one that does not
// fit a float64 either is "out of range" and equal to nothing. Work is
// counted in units of roughly one 64-bit word operation, so that no answer
// costs more than about a millisecond of arithmetic.
const (
	maxBits      = 4096
	maxLitDigits = 1000
	maxRootIndex = 64
	maxFactorial = 1000
	workBudget   = 100_000
)

var (
	errOutOfRange = errors.New("value out of range")
	errUndefined  = errors.New("undefined value")
	errHasVars    = errors.New("expression has variables")
)

// work is a budget of arithmetic steps shared by everything one comparison
// does.
type work struct{ left int }

func newWork() *work { return &work{left: workBudget} }

// share returns a budget for one analysis or comparison drawn from w: a
// full budget, or what w has left if that is less. settle charges w with
// what the share used.
func (w *work) share() *work { return &work{left: max(0, min(workBudget, w.left))} }

func (w *work) settle(s *work) {
	w.left -= min(workBudget, max(0, w.left)) - max(0, s.left)
}

func (w *work) charge(n int) error {
	w.left -= n
	if w.left < 0 {
		return errTooComplex
	}
	return nil
}

// chargeRats charges for an operation on big rationals of the given sizes:
// quadratic in their length in words, as multiplication and gcd are.
func (w *work) chargeRats(rs ...*big.Rat) error {
	words := 1
	for _, r := range rs {
		words += (r.Num().BitLen() + r.Denom().BitLen()) / 64
	}
	return w.charge(1 + words*words/4)
}

// num is a value: an exact rational, a float64 approximation, or a signed
// infinity.
type num struct {
	r   *big.Rat // exact value; nil when inexact or infinite
	f   float64  // the value when r is nil and inf is 0
	inf int8     // +1 or -1 for infinity
}

func exactNum(r *big.Rat) num { return num{r: r} }

// inexactNum wraps a float result; NaN is undefined and an overflow to
// infinity is out of range (true infinity is only ever written as such).
func inexactNum(f float64) (num, error) {
	if math.IsNaN(f) {
		return num{}, errUndefined
	}
	if math.IsInf(f, 0) {
		return num{}, errOutOfRange
	}
	return num{f: f}, nil
}

func (n num) float() float64 {
	switch {
	case n.inf != 0:
		return math.Inf(int(n.inf))
	case n.r != nil:
		f, _ := n.r.Float64()
		return f
	}
	return n.f
}

func (n num) isZero() bool {
	if n.r != nil {
		return n.r.Sign() == 0
	}
	return n.inf == 0 && n.f == 0
}

func (n num) sign() int {
	switch {
	case n.inf != 0:
		return int(n.inf)
	case n.r != nil:
		return n.r.Sign()
	case n.f > 0:
		return 1
	case n.f < 0:
		return -1
	}
	return 0
}

// bounded returns r as an exact value when it is small enough, else as a
// float.
func bounded(r *big.Rat) (num, error) {
	if r.Num().BitLen()+r.Denom().BitLen() <= maxBits {
		return exactNum(r), nil
	}
	f, _ := r.Float64()
	if f == 0 {
		return num{}, errOutOfRange // underflow: a tiny nonzero value is not 0
	}
	return inexactNum(f)
}

// parseLiteral reads a numeric literal (digits, optional fraction, optional
// exponent) exactly when it has at most maxLitDigits digits and exponent,
// else as a float64.
func parseLiteral(text string) (*big.Rat, float64, error) {
	mant, exp := text, 0
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		mant = text[:i]
		e, err := strconv.Atoi(text[i+1:])
		if err != nil || e > maxLitDigits || e < -maxLitDigits {
			return floatLiteral(text)
		}
		exp = e
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	digits := intPart + frac
	if digits == "" {
		return nil, 0, errors.New("bad number")
	}
	exp -= len(frac)
	if len(digits) > maxLitDigits {
		return floatLiteral(text)
	}
	r := new(big.Rat)
	if len(digits) <= 18 && exp >= -18 && exp <= 0 {
		v, _ := strconv.ParseInt(digits, 10, 64)
		return r.SetFrac64(v, pow10Int64[-exp]), 0, nil
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, 0, errors.New("bad number")
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil)
	if exp >= 0 {
		return r.SetInt(n.Mul(n, p)), 0, nil
	}
	return r.SetFrac(n, p), 0, nil
}

var pow10Int64 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

func floatLiteral(text string) (*big.Rat, float64, error) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, 0, errOutOfRange
	}
	if f == 0 && strings.Trim(strings.SplitN(strings.ToLower(text), "e", 2)[0], "0.") != "" {
		return nil, 0, errOutOfRange
	}
	return nil, f, nil
}

// repeatingDecimal is the exact value of text followed by rep repeated
// forever: 0.1 with rep 6 is 0.1666... = 1/6.
func repeatingDecimal(text, rep string) (*big.Rat, error) {
	if len(text) > 100 || len(rep) > 100 || strings.ContainsAny(text, "eE") {
		return nil, errTooComplex
	}
	base, _, err := parseLiteral(text)
	if err != nil {
		return nil, err
	}
	fracLen := 0
	if i := strings.IndexByte(text, '.'); i >= 0 {
		fracLen = len(text) - i - 1
	}
	r, ok := new(big.Int).SetString(rep, 10)
	if !ok {
		return nil, errors.New("bad repeating decimal")
	}
	ten := big.NewInt(10)
	nines := new(big.Int).Sub(new(big.Int).Exp(ten, big.NewInt(int64(len(rep))), nil), big.NewInt(1))
	scale := new(big.Int).Exp(ten, big.NewInt(int64(fracLen)), nil)
	tail := new(big.Rat).SetFrac(r, nines.Mul(nines, scale))
	return tail.Add(tail, base), nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// evaluator computes the value of a variable-free expression, exactly when
// it can.
type evaluator struct{ w *work }

var (
	ratOne     = big.NewRat(1, 1)
	ratHundred = big.NewRat(100, 1)
)

func (ev *evaluator) eval(n *node) (num, error) {
	if n.evaluated {
		return n.value, n.valueErr
	}
	v, err := ev.evalNode(n)
	n.evaluated, n.value, n.valueErr = true, v, err
	return v, err
}

func (ev *evaluator) evalNode(n *node) (num, error) {
	if err := ev.w.charge(1); err != nil {
		return num{}, err
	}
	switch n.kind {
	case kNum:
		if n.rat != nil {
			return exactNum(n.rat), nil
		}
		return inexactNum(n.flt)
	case kInf:
		return num{inf: 1}, nil
	case kConst:
		if n.name == "pi" {
			return num{f: math.Pi}, nil
		}
		return num{f: math.E}, nil
	case kVar:
		return num{}, errHasVars
	case kAdd, kMul:
		acc, err := ev.eval(n.kids[0])
		if err != nil {
			return num{}, err
		}
		for _, k := range n.kids[1:] {
			v, err := ev.eval(k)
			if err != nil {
				return num{}, err
			}
			if n.kind == kAdd {
				acc, err = ev.add(acc, v)
			} else {
				acc, err = ev.mul(acc, v)
			}
			if err != nil {
				return num{}, err
			}
		}
		return acc, nil
	case kNeg:
		v, err := ev.eval(n.kids[0])
		if err != nil {
			return num{}, err
		}
		return neg(v), nil
	case kDiv, kPow, kBinom:
		a, err := ev.eval(n.kids[0])
		if err != nil {
			return num{}, err
		}
		b, err := ev.eval(n.kids[1])
		if err != nil {
			return num{}, err
		}
		switch n.kind {
		case kDiv:
			return ev.div(a, b)
		case kPow:
			return ev.pow(a, b)
		}
		return ev.binom(a, b)
	case kRoot:
		index, err := ev.eval(n.kids[0])
		if err != nil {
			return num{}, err
		}
		x, err := ev.eval(n.kids[1])
		if err != nil {
			return num{}, err
		}
		return ev.root(x, index)
	case kPercent:
		v, err := ev.eval(n.kids[0])
		if err != nil {
			return num{}, err
		}
		return ev.div(v, exactNum(ratHundred))
	case kFact, kAbs, kFloor, kCeil:
		v, err := ev.eval(n.kids[0])
		if err != nil {
			return num{}, err
		}
		return ev.unary(n.kind, v)
	case kFunc:
		return ev.function(n)
	case kSum:
		return ev.sum(n)
	}
	return num{}, errUndefined
}

// maxSumTerms bounds the terms of a sum or product that is evaluated.
const maxSumTerms = 1000

// sum evaluates a sum or product with whole-number limits term by term.
func (ev *evaluator) sum(n *node) (num, error) {
	lo, err := ev.eval(n.kids[1])
	if err != nil {
		return num{}, err
	}
	hi, err := ev.eval(n.kids[2])
	if err != nil {
		return num{}, err
	}
	if lo.r == nil || hi.r == nil || !lo.r.IsInt() || !hi.r.IsInt() {
		return num{}, errUndefined
	}
	count := new(big.Int).Sub(hi.r.Num(), lo.r.Num())
	if count.Cmp(big.NewInt(maxSumTerms)) > 0 {
		return num{}, errTooComplex
	}
	acc := exactNum(new(big.Rat))
	if n.name == "prod" {
		acc = exactNum(big.NewRat(1, 1))
	}
	for k := new(big.Int).Set(lo.r.Num()); k.Cmp(hi.r.Num()) <= 0; k.Add(k, big.NewInt(1)) {
		term, err := substitute(n.kids[0], n.ops[0], new(big.Rat).SetInt(k), ev.w)
		if err != nil {
			return num{}, err
		}
		v, err := ev.eval(term)
		if err != nil {
			return num{}, err
		}
		if n.name == "prod" {
			acc, err = ev.mul(acc, v)
		} else {
			acc, err = ev.add(acc, v)
		}
		if err != nil {
			return num{}, err
		}
	}
	return acc, nil
}

func neg(v num) num {
	switch {
	case v.inf != 0:
		return num{inf: -v.inf}
	case v.r != nil:
		return exactNum(new(big.Rat).Neg(v.r))
	}
	return num{f: -v.f}
}

func (ev *evaluator) add(a, b num) (num, error) {
	if a.inf != 0 || b.inf != 0 {
		if a.inf != 0 && b.inf != 0 && a.inf != b.inf {
			return num{}, errUndefined
		}
		if a.inf != 0 {
			return a, nil
		}
		return b, nil
	}
	if a.r != nil && b.r != nil {
		if err := ev.w.chargeRats(a.r, b.r); err != nil {
			return num{}, err
		}
		return bounded(new(big.Rat).Add(a.r, b.r))
	}
	return inexactNum(a.float() + b.float())
}

func (ev *evaluator) mul(a, b num) (num, error) {
	if a.inf != 0 || b.inf != 0 {
		if a.isZero() || b.isZero() {
			return num{}, errUndefined
		}
		return num{inf: int8(a.sign() * b.sign())}, nil
	}
	if a.r != nil && b.r != nil {
		if err := ev.w.chargeRats(a.r, b.r); err != nil {
			return num{}, err
		}
		return bounded(new(big.Rat).Mul(a.r, b.r))
	}
	return inexactNum(a.float() * b.float())
}

func (ev *evaluator) div(a, b num) (num, error) {
	if b.isZero() || b.inf != 0 {
		return num{}, errUndefined
	}
	if a.inf != 0 {
		return num{inf: int8(a.sign() * b.sign())}, nil
	}
	if a.r != nil && b.r != nil {
		if err := ev.w.chargeRats(a.r, b.r); err != nil {
			return num{}, err
		}
		return bounded(new(big.Rat).Quo(a.r, b.r))
	}
	return inexactNum(a.float() / b.float())
}

// pow computes a^b: exactly for a rational base and an integer exponent
// whose result fits maxBits, or a rational exponent p/q when the base is a
// perfect q-th power; otherwise in floating point.
func (ev *evaluator) pow(a, b num) (num, error) {
	if a.inf != 0 || b.inf != 0 {
		return num{}, errUndefined
	}
	if a.r != nil && b.r != nil {
		if b.r.IsInt() {
			return ev.intPow(a.r, b.r.Num())
		}
		if q := b.r.Denom(); q.IsInt64() && q.Int64() <= maxRootIndex {
			if root, ok, err := ev.exactRoot(a.r, int(q.Int64())); err != nil {
				return num{}, err
			} else if ok {
				return ev.intPow(root, b.r.Num())
			}
			if a.r.Sign() < 0 {
				if q.Bit(0) == 0 {
					return num{}, errUndefined // even root of a negative number
				}
				// An odd root of a negative base is real: (-8)^(2/3) = 4.
				mag, _ := new(big.Rat).Neg(a.r).Float64()
				v, err := powFloat(mag, b.float())
				if err == nil && b.r.Num().Bit(0) == 1 {
					v.f = -v.f
				}
				return v, err
			}
		}
	}
	return powFloat(a.float(), b.float())
}

// powFloat computes base^e in floating point, rejecting results that over-
// or underflowed (a tiny nonzero power is not 0).
func powFloat(base, e float64) (num, error) {
	v := math.Pow(base, e)
	if v == 0 && base != 0 {
		return num{}, errOutOfRange
	}
	return inexactNum(v)
}

func (ev *evaluator) intPow(base *big.Rat, e *big.Int) (num, error) {
	switch {
	case base.Sign() == 0:
		if e.Sign() < 0 {
			return num{}, errUndefined
		}
		if e.Sign() == 0 {
			return exactNum(ratOne), nil
		}
		return exactNum(new(big.Rat)), nil
	case e.Sign() == 0:
		return exactNum(ratOne), nil
	case base.Num().CmpAbs(base.Denom()) == 0: // |base| = 1
		if base.Sign() < 0 && e.Bit(0) == 1 {
			return exactNum(big.NewRat(-1, 1)), nil
		}
		return exactNum(ratOne), nil
	}
	bits := base.Num().BitLen() + base.Denom().BitLen()
	// The result has about |e| * bits bits; test |e| alone first so the
	// product cannot overflow.
	if e.BitLen() > 32 || e.Int64()*int64(bits) > maxBits || -e.Int64()*int64(bits) > maxBits {
		f, _ := base.Float64()
		ef, _ := new(big.Float).SetInt(e).Float64()
		return powFloat(f, ef)
	}
	k := abs64(e.Int64())
	if err := ev.w.charge(1 + int(k*int64(bits)/64)*int(k*int64(bits)/64)/4); err != nil {
		return num{}, err
	}
	bk := big.NewInt(k)
	n := new(big.Int).Exp(base.Num(), bk, nil)
	d := new(big.Int).Exp(base.Denom(), bk, nil)
	if e.Sign() < 0 {
		n, d = d, n
	}
	return exactNum(new(big.Rat).SetFrac(n, d)), nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// root computes the index-th root of x: exactly when x is a perfect power.
func (ev *evaluator) root(x, index num) (num, error) {
	if x.inf != 0 || index.inf != 0 || index.isZero() {
		return num{}, errUndefined
	}
	if index.r != nil && index.r.IsInt() && index.r.Sign() > 0 && index.r.Num().IsInt64() && index.r.Num().Int64() <= maxRootIndex {
		k := int(index.r.Num().Int64())
		if x.r != nil {
			r, ok, err := ev.exactRoot(x.r, k)
			if err != nil {
				return num{}, err
			}
			if ok {
				return exactNum(r), nil
			}
		}
		f := x.float()
		if f < 0 {
			if k%2 == 0 {
				return num{}, errUndefined
			}
			return inexactNum(-math.Pow(-f, 1/float64(k)))
		}
		if k == 2 {
			return inexactNum(math.Sqrt(f))
		}
		return inexactNum(math.Pow(f, 1/float64(k)))
	}
	return inexactNum(math.Pow(x.float(), 1/index.float()))
}

// exactRoot returns the k-th root of r when r is the k-th power of a
// rational.
func (ev *evaluator) exactRoot(r *big.Rat, k int) (*big.Rat, bool, error) {
	if r.Sign() < 0 && k%2 == 0 {
		return nil, false, nil
	}
	if err := ev.w.chargeRats(r, r); err != nil {
		return nil, false, err
	}
	n, ok := intRoot(new(big.Int).Abs(r.Num()), k)
	if !ok {
		return nil, false, nil
	}
	d, ok := intRoot(r.Denom(), k)
	if !ok {
		return nil, false, nil
	}
	if r.Sign() < 0 {
		n.Neg(n)
	}
	return new(big.Rat).SetFrac(n, d), true, nil
}

// intRoot returns the integer k-th root of x >= 0 when x is a perfect k-th
// power.
func intRoot(x *big.Int, k int) (*big.Int, bool) {
	if k == 1 || x.Sign() == 0 || x.Cmp(big.NewInt(1)) == 0 {
		return new(big.Int).Set(x), true
	}
	if k == 2 {
		s := new(big.Int).Sqrt(x)
		return s, new(big.Int).Mul(s, s).Cmp(x) == 0
	}
	if x.BitLen() > 1000 {
		return nil, false // beyond float range of the estimate; treated as inexact
	}
	f, _ := new(big.Float).SetInt(x).Float64()
	est := math.Round(math.Pow(f, 1/float64(k)))
	c, _ := big.NewFloat(est).Int(nil)
	bk := big.NewInt(int64(k))
	for _, d := range []int64{0, -1, 1} {
		cand := new(big.Int).Add(c, big.NewInt(d))
		if cand.Sign() <= 0 {
			continue
		}
		if new(big.Int).Exp(cand, bk, nil).Cmp(x) == 0 {
			return cand, true
		}
	}
	return nil, false
}

func (ev *evaluator) binom(n, k num) (num, error) {
	if n.r == nil || k.r == nil || !n.r.IsInt() || !k.r.IsInt() || n.r.Sign() < 0 {
		return num{}, errUndefined
	}
	if k.r.Sign() < 0 || k.r.Cmp(n.r) > 0 {
		return exactNum(new(big.Rat)), nil
	}
	nn := n.r.Num()
	kk := new(big.Int).Set(k.r.Num())
	if other := new(big.Int).Sub(nn, kk); other.Cmp(kk) < 0 {
		kk = other
	}
	if !kk.IsInt64() || kk.Int64() > maxFactorial {
		return num{}, errTooComplex
	}
	acc := big.NewInt(1)
	for i := int64(1); i <= kk.Int64(); i++ {
		acc.Mul(acc, new(big.Int).Sub(nn, big.NewInt(i-1)))
		acc.Quo(acc, big.NewInt(i))
		if acc.BitLen() > maxBits {
			return num{}, errOutOfRange
		}
		if err := ev.w.charge(1 + acc.BitLen()/64); err != nil {
			return num{}, err
		}
	}
	return exactNum(new(big.Rat).SetInt(acc)), nil
}

func (ev *evaluator) unary(k kind, v num) (num, error) {
	if v.inf != 0 {
		if k == kAbs {
			return num{inf: 1}, nil
		}
		return num{}, errUndefined
	}
	switch k {
	case kAbs:
		if v.r != nil {
			return exactNum(new(big.Rat).Abs(v.r)), nil
		}
		return num{f: math.Abs(v.f)}, nil
	case kFloor, kCeil:
		if v.r != nil {
			q, m := new(big.Int).QuoRem(v.r.Num(), v.r.Denom(), new(big.Int))
			// QuoRem truncates toward zero; adjust toward -inf / +inf.
			if m.Sign() < 0 && k == kFloor {
				q.Sub(q, big.NewInt(1))
			} else if m.Sign() > 0 && k == kCeil {
				q.Add(q, big.NewInt(1))
			}
			return exactNum(new(big.Rat).SetInt(q)), nil
		}
		if k == kFloor {
			return inexactNum(math.Floor(v.f))
		}
		return inexactNum(math.Ceil(v.f))
	case kFact:
		if v.r == nil || !v.r.IsInt() || v.r.Sign() < 0 || !v.r.Num().IsInt64() || v.r.Num().Int64() > maxFactorial {
			return num{}, errUndefined
		}
		acc := big.NewInt(1)
		for i := int64(2); i <= v.r.Num().Int64(); i++ {
			acc.Mul(acc, big.NewInt(i))
			if acc.BitLen() > maxBits {
				return num{}, errOutOfRange
			}
			if err := ev.w.charge(1 + acc.BitLen()/64); err != nil {
				return num{}, err
			}
		}
		return exactNum(new(big.Rat).SetInt(acc)), nil
	}
	return num{}, errUndefined
}

func (ev *evaluator) function(n *node) (num, error) {
	v, err := ev.eval(n.kids[0])
	if err != nil {
		return num{}, err
	}
	if v.inf != 0 {
		return num{}, errUndefined
	}
	if len(n.kids) > 1 { // log with a base
		b, err := ev.eval(n.kids[1])
		if err != nil {
			return num{}, err
		}
		// log_b(b^k) = k exactly when the argument is an exact power.
		if v.r != nil && b.r != nil {
			if k, ok := exactLog(v.r, b.r); ok {
				return exactNum(big.NewRat(k, 1)), nil
			}
		}
		return inexactNum(math.Log(v.float()) / math.Log(b.float()))
	}
	x := v.float()
	return inexactNum(applyFunc(n.name, x))
}

// exactLog returns k with b^k = x for small integer k.
func exactLog(x, b *big.Rat) (int64, bool) {
	if b.Sign() <= 0 || x.Sign() <= 0 || b.Cmp(ratOne) == 0 {
		return 0, false
	}
	if x.Cmp(ratOne) == 0 {
		return 0, true
	}
	p := new(big.Rat).Set(b)
	inv := new(big.Rat).Inv(b)
	q := new(big.Rat).Set(inv)
	for k := int64(1); k <= 64; k++ {
		if p.Cmp(x) == 0 {
			return k, true
		}
		if q.Cmp(x) == 0 {
			return -k, true
		}
		if p.Num().BitLen()+p.Denom().BitLen() > maxBits/4 {
			break
		}
		p.Mul(p, b)
		q.Mul(q, inv)
	}
	return 0, false
}

// applyFunc evaluates a named elementary function in floating point.
func applyFunc(name string, x float64) float64 {
	switch name {
	case "sin":
		return math.Sin(x)
	case "cos":
		return math.Cos(x)
	case "tan":
		return math.Tan(x)
	case "cot":
		return 1 / math.Tan(x)
	case "sec":
		return 1 / math.Cos(x)
	case "csc":
		return 1 / math.Sin(x)
	case "arcsin":
		return math.Asin(x)
	case "arccos":
		return math.Acos(x)
	case "arctan":
		return math.Atan(x)
	case "sinh":
		return math.Sinh(x)
	case "cosh":
		return math.Cosh(x)
	case "tanh":
		return math.Tanh(x)
	case "ln", "log":
		return math.Log(x)
	case "exp":
		return math.Exp(x)
	}
	return math.NaN()
}
