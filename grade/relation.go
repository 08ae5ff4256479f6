package grade

import (
	"errors"
	"math/big"
)

// errFalseChain marks a chain of equalities with a false link, such as
// y = 2+9 = 12: it states something false, so it is no answer at all and
// equals nothing but its own spelling, whatever its last member.
var errFalseChain = errors.New("a chain of equalities with a false link")

// simplifyRelation turns relations that state a value into the value:
//
//   - a labelled value drops its label: x = 3, (p,q) = (3,2), |AB| = 1,
//     V_1:V_2 = 11:21 and f(3) = 5 are 3, (3,2), 1, 11/21 and 5 (3 = x too);
//   - a chain of equalities between values whose links are all true is its
//     last member (y = 2+9 = 11 is 11); one with a false link is an error;
//   - x \in S is S;
//   - an inequality linear in one variable is its solution set: x > 3 and
//     2x > 6 are (3, ∞), -x > -1 is (-∞, 1), 1 <= x < 2 is [1, 2), and a
//     double inequality around a named quantity is its range: 0 < f(x) < 1
//     is (0, 1).
func simplifyRelation(r *node, w *work) (*node, error) {
	if allOps(r.ops, "=") {
		return simplifyEquality(r, w)
	}
	if len(r.ops) == 1 && r.ops[0] == "in" && r.kids[0].kind == kVar {
		return r.kids[1], nil
	}
	if n := solutionSet(r, w); n != nil {
		return n, nil
	}
	return r, nil
}

func allOps(ops []string, op string) bool {
	for _, o := range ops {
		if o != op {
			return false
		}
	}
	return len(ops) > 0
}

// value reports whether n states a value: no variables and no relation.
func value(n *node) bool { return n.kind != kRel && !hasVars(n) }

// simplifyEquality handles a = b = ... (see simplifyRelation).
func simplifyEquality(r *node, w *work) (*node, error) {
	members := r.kids
	switch {
	case isLabel(members[0]) && allValues(members[1:]) && labelFits(members[0], members[1:]):
		members = members[1:]
	case len(members) == 2 && isLabel(members[1]) && value(members[0]) && labelFits(members[1], members[:1]):
		return members[0], nil
	}
	if !allValues(members) {
		return r, nil
	}
	for i := 1; i < len(members); i++ {
		eq, ok := sameValue(members[i-1], members[i], w)
		if !ok {
			return r, nil
		}
		if !eq {
			return nil, errFalseChain
		}
	}
	return members[len(members)-1], nil
}

func allValues(ns []*node) bool {
	for _, n := range ns {
		if !value(n) {
			return false
		}
	}
	return len(ns) > 0
}

// sameValue decides a link of a chain: ok is false when it cannot be
// decided (a member does not evaluate).
func sameValue(a, b *node, w *work) (eq, ok bool) {
	if isArith(a.kind) && isArith(b.kind) {
		ev := evaluator{w: w}
		va, err := ev.eval(a)
		if err != nil {
			return false, false
		}
		vb, err := ev.eval(b)
		if err != nil {
			return false, false
		}
		c := comparer{opts: defaultGrader.opts, w: w}
		return c.numsEqual(va, vb), true
	}
	ka, okA := canonKey(a, w)
	kb, okB := canonKey(b, w)
	if !okA || !okB {
		return false, false
	}
	return ka == kb, true
}

// isLabel reports whether n names a quantity rather than computing one: a
// variable (x, V_1), a product of variables (AB), a function value (f(3),
// P(A)), the absolute value or a ratio of labels (|AB|, V_1:V_2), or a
// tuple of labels ((p, q)).
func isLabel(n *node) bool {
	switch n.kind {
	case kVar:
		return n.name != "..."
	case kMul:
		if len(n.kids) == 2 && n.kids[0].kind == kVar && n.kids[0].name != "..." && isArgument(n.kids[1]) {
			return true // f(3), f(1, 2): one argument list after a name
		}
		for _, k := range n.kids {
			if !isLabel(k) {
				return false
			}
		}
		return true
	case kFunc:
		// \sin\theta, \log x: a function of a named quantity.
		return len(n.kids) == 1 && isLabel(n.kids[0])
	case kAbs:
		return isLabel(n.kids[0])
	case kDiv:
		return isLabel(n.kids[0]) && isLabel(n.kids[1])
	case kSeq:
		if n.open != '(' || n.close != ')' {
			return false
		}
		for _, k := range n.kids {
			if !isLabel(k) {
				return false
			}
		}
		return true
	}
	return false
}

// isArgument: a variable, a constant or a tuple of them, as in f(3),
// g(-1) or h(1, x).
func isArgument(n *node) bool {
	arg := func(k *node) bool { return k.kind == kVar || isArith(k.kind) && !hasVars(k) }
	if n.kind == kSeq {
		for _, k := range n.kids {
			if !arg(k) {
				return false
			}
		}
		return true
	}
	return arg(n)
}

// labelFits reports whether values can be what label names: a tuple of
// labels names a tuple of as many values.
func labelFits(label *node, values []*node) bool {
	if label.kind != kSeq {
		return true
	}
	for _, v := range values {
		if v.kind != kSeq || len(v.kids) != len(label.kids) {
			return false
		}
	}
	return true
}

// flipOp reverses an inequality: a < b is b > a.
var flipOp = map[string]string{"<": ">", ">": "<", "<=": ">=", ">=": "<="}

// solutionSet returns the interval an inequality in one variable states,
// or nil when it is not one.
func solutionSet(r *node, w *work) *node {
	constant := func(n *node) bool { return isArith(n.kind) && !hasVars(n) }
	if len(r.ops) == 1 {
		l, op, rt := r.kids[0], r.ops[0], r.kids[1]
		if _, ok := flipOp[op]; !ok {
			return nil
		}
		if rt.kind == kVar && constant(l) {
			l, rt, op = rt, l, flipOp[op] // 3 < x reads as x > 3
		}
		if l.kind == kVar && constant(rt) {
			return ray(op, rt)
		}
		// A linear inequality: l - rt = a*x + b compared with 0.
		diff := &node{kind: kAdd, kids: []*node{l, {kind: kNeg, kids: []*node{rt}}}}
		vars := collectVars(nil, diff)
		if len(vars) != 1 {
			return nil
		}
		a, b, ok := linear(diff, vars[0], w)
		if !ok || a.Sign() == 0 {
			return nil
		}
		root := new(big.Rat).Neg(b)
		root.Quo(root, a)
		if a.Sign() < 0 {
			op = flipOp[op]
		}
		return ray(op, &node{kind: kNum, rat: root})
	}
	if len(r.ops) != 2 || !constant(r.kids[0]) || !constant(r.kids[2]) {
		return nil
	}
	lo, mid, hi := r.kids[0], r.kids[1], r.kids[2]
	o1, o2 := r.ops[0], r.ops[1]
	if (o1 == ">" || o1 == ">=") && (o2 == ">" || o2 == ">=") {
		lo, hi = hi, lo
		o1, o2 = flipOp[o2], flipOp[o1]
	}
	if !(o1 == "<" || o1 == "<=") || !(o2 == "<" || o2 == "<=") {
		return nil
	}
	if mid.kind == kVar || isLabel(mid) && mid.kind == kMul {
		return interval(o1, lo, hi, o2)
	}
	vars := collectVars(nil, mid)
	if len(vars) != 1 {
		return nil
	}
	a, b, ok := linear(mid, vars[0], w)
	if !ok || a.Sign() == 0 {
		return nil
	}
	ev := evaluator{w: w}
	vlo, err1 := ev.eval(lo)
	vhi, err2 := ev.eval(hi)
	if err1 != nil || err2 != nil || vlo.r == nil || vhi.r == nil {
		return nil
	}
	// lo < a x + b < hi: x between (lo - b)/a and (hi - b)/a, swapped when
	// a is negative.
	xlo := new(big.Rat).Sub(vlo.r, b)
	xlo.Quo(xlo, a)
	xhi := new(big.Rat).Sub(vhi.r, b)
	xhi.Quo(xhi, a)
	if a.Sign() < 0 {
		xlo, xhi = xhi, xlo
		o1, o2 = o2, o1
	}
	return interval(o1, &node{kind: kNum, rat: xlo}, &node{kind: kNum, rat: xhi}, o2)
}

// ray is the solution set of x op bound.
func ray(op string, bound *node) *node {
	inf := &node{kind: kInf}
	minusInf := &node{kind: kNeg, kids: []*node{{kind: kInf}}}
	switch op {
	case ">":
		return &node{kind: kSeq, open: '(', close: ')', kids: []*node{bound, inf}}
	case ">=":
		return &node{kind: kSeq, open: '[', close: ')', kids: []*node{bound, inf}}
	case "<":
		return &node{kind: kSeq, open: '(', close: ')', kids: []*node{minusInf, bound}}
	case "<=":
		return &node{kind: kSeq, open: '(', close: ']', kids: []*node{minusInf, bound}}
	}
	return nil
}

// interval is lo o1 x o2 hi as an interval, o1 and o2 each < or <=.
func interval(o1 string, lo, hi *node, o2 string) *node {
	open, closeB := byte('('), byte(')')
	if o1 == "<=" {
		open = '['
	}
	if o2 == "<=" {
		closeB = ']'
	}
	return &node{kind: kSeq, open: open, close: closeB, kids: []*node{lo, hi}}
}

// linearPoints are where an expression is evaluated to find and check its
// linear form; five points rule out the curves that happen to agree with a
// line at three.
var linearPoints = []*big.Rat{big.NewRat(0, 1), big.NewRat(1, 1), big.NewRat(2, 1), big.NewRat(-1, 1), big.NewRat(1, 2)}

// linear returns a and b when n, as a function of the variable v, is
// exactly a*v + b: it is evaluated exactly at linearPoints.
func linear(n *node, v string, w *work) (a, b *big.Rat, ok bool) {
	vals := make([]*big.Rat, len(linearPoints))
	for i, x := range linearPoints {
		m, err := substitute(n, v, x, w)
		if err != nil {
			return nil, nil, false
		}
		val, err := (&evaluator{w: w}).eval(m)
		if err != nil || val.r == nil {
			return nil, nil, false
		}
		vals[i] = val.r
	}
	b = vals[0]
	a = new(big.Rat).Sub(vals[1], vals[0])
	for i, x := range linearPoints[2:] {
		want := new(big.Rat).Mul(a, x)
		want.Add(want, b)
		if want.Cmp(vals[i+2]) != 0 {
			return nil, nil, false
		}
	}
	return a, b, true
}

// substitute returns a copy of n with the variable v replaced by the
// number x.
func substitute(n *node, v string, x *big.Rat, w *work) (*node, error) {
	if err := w.charge(1); err != nil {
		return nil, err
	}
	if n.kind == kVar && n.name == v {
		return &node{kind: kNum, rat: x}, nil
	}
	if len(n.kids) == 0 {
		return n, nil
	}
	bound := n.kind == kSum && n.ops[0] == v // an inner sum's own index shadows v
	m := &node{kind: n.kind, rat: n.rat, flt: n.flt, name: n.name, open: n.open, close: n.close,
		ops: n.ops, rows: n.rows, cols: n.cols, kids: make([]*node, len(n.kids))}
	for i, k := range n.kids {
		if k == nil || bound && i == 0 {
			m.kids[i] = k
			continue
		}
		c, err := substitute(k, v, x, w)
		if err != nil {
			return nil, err
		}
		m.kids[i] = c
	}
	return m, nil
}
