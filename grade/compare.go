package grade

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

const (
	// maxAlternatives bounds how many values a ± expression expands to.
	maxAlternatives = 16
	// compareCost is the work charged for each node-pair comparison.
	compareCost = 16
)

// comparer compares two expression trees under a grader's options and one
// work budget. how records the kind of the last successful match, for
// Result.Reason.
type comparer struct {
	opts Options
	w    *work
	ev   evaluator
	how  string
}

func newComparer(opts Options, w *work) *comparer {
	return &comparer{opts: opts, w: w, ev: evaluator{w: w}}
}

// equal reports whether two normalised trees denote the same answer.
func (c *comparer) equal(a, b *node) bool {
	// A comparison's own bookkeeping costs as much as a few arithmetic
	// steps; charging it keeps pairwise set matching bounded too.
	if c.w.charge(compareCost) != nil {
		return false
	}
	// A percentage x% matches x itself (the unit dropped) and x/100.
	if a.kind == kPercent || b.kind == kPercent {
		if a.kind == kPercent && b.kind == kPercent {
			return c.equal(a.kids[0], b.kids[0])
		}
		if b.kind == kPercent {
			a, b = b, a
		}
		if c.equal(a.kids[0], b) {
			return true
		}
		scaled := &node{kind: kDiv, kids: []*node{a.kids[0], {kind: kNum, rat: ratHundred}}}
		if c.equal(scaled, b) {
			c.how = "equal as a percentage"
			return true
		}
		return false
	}
	switch {
	case a.kind == kSet || b.kind == kSet:
		return c.setEqual(members(a, kSet), members(b, kSet))
	case a.kind == kUnion || b.kind == kUnion:
		return c.setEqual(members(a, kUnion), members(b, kUnion))
	case a.kind == kRel:
		return c.relEqual(a, b)
	case b.kind == kRel:
		return c.relEqual(b, a)
	case a.kind == kSeq || b.kind == kSeq:
		if a.kind != kSeq || b.kind != kSeq || a.open != b.open || a.close != b.close || len(a.kids) != len(b.kids) {
			return false
		}
		return c.allEqual(a.kids, b.kids)
	case a.kind == kMatrix || b.kind == kMatrix:
		if a.kind != b.kind || a.rows != b.rows || a.cols != b.cols {
			return false
		}
		return c.allEqual(a.kids, b.kids)
	case a.kind == kText || b.kind == kText:
		return a.kind == b.kind && a.name == b.name
	case a.kind == kSum && b.kind == kSum && c.sumEqual(a, b):
		return true
	}
	return c.scalarEqual(a, b)
}

// sumEqual compares two sums or products term by term: the same operator,
// equal limits, and bodies equal once the indices are given one name, so
// that \sum_{i=1}^{n} 3i^2 and \sum_{k=1}^{n} k^2 \cdot 3 are equal.
func (c *comparer) sumEqual(a, b *node) bool {
	if a.name != b.name || !c.equal(a.kids[1], b.kids[1]) || !c.equal(a.kids[2], b.kids[2]) {
		return false
	}
	bodyB := b.kids[0]
	if a.ops[0] != b.ops[0] {
		if mentions(b, a.ops[0]) {
			return false // renaming would capture a free variable
		}
		bodyB = renameVar(bodyB, b.ops[0], a.ops[0])
	}
	if c.equal(a.kids[0], bodyB) {
		c.how = "equal term by term"
		return true
	}
	return false
}

// renameVar returns a copy of n with the variable from renamed to.
func renameVar(n *node, from, to string) *node {
	if n == nil {
		return nil
	}
	if n.kind == kVar && n.name == from {
		return &node{kind: kVar, name: to}
	}
	if len(n.kids) == 0 {
		return n
	}
	m := &node{kind: n.kind, rat: n.rat, flt: n.flt, name: n.name, open: n.open, close: n.close,
		ops: n.ops, rows: n.rows, cols: n.cols, kids: make([]*node, len(n.kids))}
	for i, k := range n.kids {
		if n.kind == kSum && n.ops[0] == from && i == 0 {
			m.kids[i] = k // an inner sum's own index shadows from
			continue
		}
		m.kids[i] = renameVar(k, from, to)
	}
	return m
}

func (c *comparer) allEqual(as, bs []*node) bool {
	for i := range as {
		if !c.equal(as[i], bs[i]) {
			return false
		}
	}
	return true
}

// members returns the elements of a set or the parts of a union; any other
// node is a one-element collection.
func members(n *node, k kind) []*node {
	if n.kind == k {
		return n.kids
	}
	return []*node{n}
}

// setEqual reports whether every element of as equals some element of bs
// and vice versa. Elements with canonical keys are matched by key; the rest
// pairwise.
func (c *comparer) setEqual(as, bs []*node) bool {
	if len(as) == 0 || len(bs) == 0 {
		return len(as) == len(bs)
	}
	ka, okA := c.keys(as)
	kb, okB := c.keys(bs)
	if okA && okB {
		return slices.Equal(uniqueSorted(ka), uniqueSorted(kb))
	}
	return c.covers(as, bs) && c.covers(bs, as)
}

func (c *comparer) keys(ns []*node) ([]string, bool) {
	out := make([]string, len(ns))
	for i, n := range ns {
		k, ok := canonKey(n, c.w)
		if !ok {
			return nil, false
		}
		out[i] = k
	}
	return out, true
}

// covers reports whether every element of as equals some element of bs.
func (c *comparer) covers(as, bs []*node) bool {
	for _, a := range as {
		found := false
		for _, b := range bs {
			if c.equal(a, b) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func uniqueSorted(ks []string) []string {
	ks = slices.Clone(ks)
	slices.Sort(ks)
	return slices.Compact(ks)
}

// relEqual compares relation a with b. Two relations are equal when their
// sides match in order or mirrored (x < 3 and 3 > x); two equations also
// when one is a nonzero multiple of the other (y = 2x + 3 and 2x - y + 3 =
// 0). An equation v = expr matches expr itself.
func (c *comparer) relEqual(a, b *node) bool {
	if b.kind != kRel {
		if len(a.ops) == 1 && a.ops[0] == "=" {
			if a.kids[0].kind == kVar && !mentions(b, a.kids[0].name) {
				return c.equal(a.kids[1], b)
			}
			if a.kids[1].kind == kVar && !mentions(b, a.kids[1].name) {
				return c.equal(a.kids[0], b)
			}
		}
		return false
	}
	if len(a.ops) != len(b.ops) {
		return false
	}
	if slices.Equal(a.ops, b.ops) && c.allEqual(a.kids, b.kids) {
		return true
	}
	if mirrored(a.ops, b.ops) {
		rev := slices.Clone(b.kids)
		slices.Reverse(rev)
		if c.allEqual(a.kids, rev) {
			return true
		}
	}
	if len(a.ops) == 1 && a.ops[0] == "=" && b.ops[0] == "=" {
		return c.proportional(a, b)
	}
	return false
}

// mirrored reports whether ops read right to left equal bs: a < b < c is c > b > a.
func mirrored(as, bs []string) bool {
	flip := map[string]string{"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}
	for i, op := range as {
		f, ok := flip[op]
		if !ok || f != bs[len(bs)-1-i] {
			return false
		}
	}
	return true
}

// proportional reports whether the equations a and b, read as lhs - rhs =
// 0, are nonzero multiples of each other at random points.
func (c *comparer) proportional(a, b *node) bool {
	da := &node{kind: kAdd, kids: []*node{a.kids[0], {kind: kNeg, kids: []*node{a.kids[1]}}}}
	db := &node{kind: kAdd, kids: []*node{b.kids[0], {kind: kNeg, kids: []*node{b.kids[1]}}}}
	vars := collectVars(nil, da)
	vars = collectVars(vars, db)
	if len(vars) == 0 {
		return false
	}
	ratio := math.NaN()
	ok := c.atPoints(vars, func(env map[string]float64) (bool, bool) {
		fa, fb := c.evalF(da, env), c.evalF(db, env)
		if !finite(fa) || !finite(fb) {
			return false, true
		}
		if fb == 0 || fa == 0 {
			return true, c.close(fa, fb)
		}
		r := fa / fb
		if math.IsNaN(ratio) {
			ratio = r
			return true, true
		}
		return true, c.close(r, ratio)
	})
	if ok {
		c.how = "equal as equations"
	}
	return ok
}

// scalarEqual compares two numeric expressions: by exact value when both
// are rational, within tolerance otherwise, and at random points when they
// have variables.
func (c *comparer) scalarEqual(a, b *node) bool {
	if !hasVars(a) && !hasVars(b) {
		va, err := c.ev.eval(a)
		if err != nil {
			return false
		}
		vb, err := c.ev.eval(b)
		if err != nil {
			return false
		}
		return c.numsEqual(va, vb)
	}
	// Lone letters are multiple-choice labels or variables: A matches a.
	if a.kind == kVar && b.kind == kVar {
		if strings.EqualFold(a.name, b.name) {
			c.how = "equal letters"
			return true
		}
		return false
	}
	vars := collectVars(nil, a)
	vars = collectVars(vars, b)
	ok := c.atPoints(vars, func(env map[string]float64) (bool, bool) {
		fa, fb := c.evalF(a, env), c.evalF(b, env)
		if !finite(fa) || !finite(fb) {
			return false, true
		}
		return true, c.close(fa, fb)
	})
	if ok {
		c.how = "equal at random points"
	}
	return ok
}

func (c *comparer) numsEqual(a, b num) bool {
	if a.inf != 0 || b.inf != 0 {
		return a.inf == b.inf
	}
	if a.r != nil && b.r != nil {
		if a.r.Cmp(b.r) == 0 {
			c.how = "equal exactly"
			return true
		}
		return false
	}
	if c.close(a.float(), b.float()) {
		c.how = "equal within tolerance"
		return true
	}
	return false
}

// close reports whether x and y agree within the relative tolerance, or
// the absolute tolerance near zero.
func (c *comparer) close(x, y float64) bool {
	d := math.Abs(x - y)
	return d <= c.opts.AbsTol || d <= c.opts.RelTol*math.Max(math.Abs(x), math.Abs(y))
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// atPoints evaluates check at random assignments of vars. check returns
// (usable, agree): a point where either side is undefined is skipped. The
// answers agree when no usable point disagrees and at least half the
// requested points were usable.
func (c *comparer) atPoints(vars []string, check func(map[string]float64) (bool, bool)) bool {
	rng := rand.New(rand.NewPCG(c.opts.Seed, 0x6a09e667f3bcc909))
	env := make(map[string]float64, len(vars))
	usable := 0
	for trial := 0; trial < 3*c.opts.Points && usable < c.opts.Points; trial++ {
		for _, v := range vars {
			// Alternate positive points (inside every usual domain) with
			// points of mixed sign (which tell |x| from x); the first of
			// those is all negative.
			x := 0.3 + 2.7*rng.Float64()
			if trial == 1 || trial%2 == 1 && rng.IntN(2) == 0 {
				x = -x
			}
			env[v] = x
		}
		ok, agree := check(env)
		if c.w.left < 0 {
			return false
		}
		if !ok {
			continue
		}
		if !agree {
			return false
		}
		usable++
	}
	return usable >= (c.opts.Points+1)/2
}

// evalF evaluates n in floating point with variables from env; NaN means
// undefined.
func (c *comparer) evalF(n *node, env map[string]float64) float64 {
	if c.w.charge(1) != nil {
		return math.NaN()
	}
	switch n.kind {
	case kNum:
		if n.rat != nil {
			f, _ := n.rat.Float64()
			return f
		}
		return n.flt
	case kInf:
		return math.Inf(1)
	case kConst:
		if n.name == "pi" {
			return math.Pi
		}
		return math.E
	case kVar:
		if v, ok := env[n.name]; ok {
			return v
		}
		return math.NaN()
	case kAdd:
		s := 0.0
		for _, k := range n.kids {
			s += c.evalF(k, env)
		}
		return s
	case kMul:
		p := 1.0
		for _, k := range n.kids {
			p *= c.evalF(k, env)
		}
		return p
	case kNeg:
		return -c.evalF(n.kids[0], env)
	case kDiv:
		d := c.evalF(n.kids[1], env)
		if d == 0 {
			return math.NaN()
		}
		return c.evalF(n.kids[0], env) / d
	case kPow:
		return math.Pow(c.evalF(n.kids[0], env), c.evalF(n.kids[1], env))
	case kRoot:
		k, x := c.evalF(n.kids[0], env), c.evalF(n.kids[1], env)
		if x < 0 && k == math.Trunc(k) && int64(k)%2 == 1 {
			return -math.Pow(-x, 1/k)
		}
		if k == 2 {
			return math.Sqrt(x)
		}
		return math.Pow(x, 1/k)
	case kPercent:
		return c.evalF(n.kids[0], env) / 100
	case kAbs:
		return math.Abs(c.evalF(n.kids[0], env))
	case kFloor:
		return math.Floor(c.evalF(n.kids[0], env))
	case kCeil:
		return math.Ceil(c.evalF(n.kids[0], env))
	case kFact:
		x := c.evalF(n.kids[0], env)
		if x < 0 || x != math.Trunc(x) || x > 170 {
			return math.NaN()
		}
		return math.Gamma(x + 1)
	case kBinom:
		nn, kk := c.evalF(n.kids[0], env), c.evalF(n.kids[1], env)
		if nn != math.Trunc(nn) || kk != math.Trunc(kk) || kk < 0 || kk > 1000 {
			return math.NaN()
		}
		r := 1.0
		for i := 1.0; i <= kk; i++ {
			r = r * (nn - i + 1) / i
		}
		return r
	case kSum:
		lo, hi := c.evalF(n.kids[1], env), c.evalF(n.kids[2], env)
		if lo != math.Trunc(lo) || hi != math.Trunc(hi) || hi-lo > maxSumTerms {
			return math.NaN()
		}
		idx := n.ops[0]
		saved, had := env[idx]
		acc := 0.0
		if n.name == "prod" {
			acc = 1
		}
		for k := lo; k <= hi; k++ {
			env[idx] = k
			if v := c.evalF(n.kids[0], env); n.name == "prod" {
				acc *= v
			} else {
				acc += v
			}
		}
		if had {
			env[idx] = saved
		} else {
			delete(env, idx)
		}
		return acc
	case kFunc:
		x := c.evalF(n.kids[0], env)
		if len(n.kids) > 1 {
			return math.Log(x) / math.Log(c.evalF(n.kids[1], env))
		}
		return applyFunc(n.name, x)
	}
	return math.NaN()
}

// collectVars adds the variable names in n to vars, keeping it sorted and
// free of duplicates.
func collectVars(vars []string, n *node) []string {
	if n == nil {
		return vars
	}
	if n.kind == kSum {
		// The index of a sum is bound: only the body's other variables
		// and the limits' variables are free.
		for _, v := range collectVars(nil, n.kids[0]) {
			if v != n.ops[0] {
				if i, found := slices.BinarySearch(vars, v); !found {
					vars = slices.Insert(vars, i, v)
				}
			}
		}
		vars = collectVars(vars, n.kids[1])
		return collectVars(vars, n.kids[2])
	}
	if n.kind == kVar {
		if i, found := slices.BinarySearch(vars, n.name); !found {
			vars = slices.Insert(vars, i, n.name)
		}
		return vars
	}
	for _, k := range n.kids {
		vars = collectVars(vars, k)
	}
	return vars
}

func hasVars(n *node) bool {
	if n == nil {
		return false
	}
	if n.kind == kSum {
		return len(collectVars(nil, n)) > 0
	}
	if n.kind == kVar {
		return true
	}
	for _, k := range n.kids {
		if hasVars(k) {
			return true
		}
	}
	return false
}

func mentions(n *node, name string) bool {
	if n == nil {
		return false
	}
	if n.kind == kVar && n.name == name {
		return true
	}
	for _, k := range n.kids {
		if mentions(k, name) {
			return true
		}
	}
	return false
}

// isArith reports whether nodes of kind k are numeric expressions.
func isArith(k kind) bool {
	switch k {
	case kSeq, kSet, kUnion, kRel, kMatrix, kText:
		return false
	}
	return true
}

// normalizeTree rewrites a parsed tree into the form compared and keyed:
// ± expands into the set of its values, "x = 3" becomes 3, "x > 3" the
// interval (3, ∞), a one-row or one-column matrix a tuple, and one-element
// sets and unions their element.
func normalizeTree(n *node, w *work) (*node, error) {
	if err := w.charge(1); err != nil {
		return nil, err
	}
	if isArith(n.kind) {
		if !containsPM(n) {
			return n, nil
		}
		alts, err := expandPM(n, w)
		if err != nil {
			return nil, err
		}
		if len(alts) == 1 {
			return alts[0], nil
		}
		return &node{kind: kSet, kids: alts}, nil
	}
	kids := make([]*node, 0, len(n.kids))
	for _, k := range n.kids {
		nk, err := normalizeTree(k, w)
		if err != nil {
			return nil, err
		}
		// A ± inside a set or list adds its values to the collection.
		if n.kind == kSet && nk.kind == kSet && isArith(k.kind) {
			kids = append(kids, nk.kids...)
			continue
		}
		kids = append(kids, nk)
	}
	m := *n
	m.kids = kids
	switch m.kind {
	case kSet, kUnion:
		if len(m.kids) == 1 {
			return m.kids[0], nil
		}
	case kMatrix:
		if m.rows == 1 || m.cols == 1 {
			if len(m.kids) == 1 {
				return m.kids[0], nil
			}
			return &node{kind: kSeq, open: '(', close: ')', kids: m.kids}, nil
		}
	case kRel:
		return simplifyRelation(&m, w)
	}
	return &m, nil
}

func containsPM(n *node) bool {
	if n == nil {
		return false
	}
	if n.kind == kPM {
		return true
	}
	for _, k := range n.kids {
		if containsPM(k) {
			return true
		}
	}
	return false
}

// expandPM returns the values of an arithmetic expression with ±: a ± b is
// {a + b, a - b}, and a leading ±b is {b, -b}.
func expandPM(n *node, w *work) ([]*node, error) {
	if err := w.charge(1); err != nil {
		return nil, err
	}
	if n == nil || !containsPM(n) {
		return []*node{n}, nil
	}
	if n.kind == kPM {
		right, err := expandPM(n.kids[1], w)
		if err != nil {
			return nil, err
		}
		var out []*node
		if n.kids[0] == nil {
			for _, r := range right {
				out = append(out, r, &node{kind: kNeg, kids: []*node{r}})
			}
			return capAlternatives(out)
		}
		left, err := expandPM(n.kids[0], w)
		if err != nil {
			return nil, err
		}
		for _, l := range left {
			for _, r := range right {
				out = append(out,
					&node{kind: kAdd, kids: []*node{l, r}},
					&node{kind: kAdd, kids: []*node{l, {kind: kNeg, kids: []*node{r}}}})
				if len(out) > maxAlternatives {
					return nil, errTooComplex
				}
			}
		}
		return out, nil
	}
	// Cartesian product of the children's alternatives.
	out := []*node{{}}
	*out[0] = *n
	out[0].kids = nil
	for _, k := range n.kids {
		alts, err := expandPM(k, w)
		if err != nil {
			return nil, err
		}
		next := make([]*node, 0, len(out)*len(alts))
		for _, o := range out {
			for _, a := range alts {
				m := *o
				m.kids = append(slices.Clip(o.kids), a)
				next = append(next, &m)
			}
		}
		if len(next) > maxAlternatives {
			return nil, errTooComplex
		}
		out = next
	}
	return out, nil
}

func capAlternatives(ns []*node) ([]*node, error) {
	if len(ns) > maxAlternatives {
		return nil, errTooComplex
	}
	return ns, nil
}

// canonKey returns the canonical key of a normalised tree when it has one:
// exact numbers, prose, lone letters, and tuples, intervals, sets, unions
// and matrices of those. Two trees with canonical keys are equivalent
// exactly when their keys are equal.
func canonKey(n *node, w *work) (string, bool) {
	if w.charge(1) != nil {
		return "", false
	}
	switch n.kind {
	case kText:
		return "text:" + n.name, true
	case kVar:
		if len(n.name) == 1 && isLetter(n.name[0]) {
			return strings.ToUpper(n.name), true
		}
		return "", false
	case kSeq, kMatrix:
		var b strings.Builder
		if n.kind == kSeq {
			b.WriteByte(n.open)
		} else {
			b.WriteString("[[")
		}
		for i, k := range n.kids {
			if i > 0 {
				if n.kind == kMatrix && i%n.cols == 0 {
					b.WriteString("],[")
				} else {
					b.WriteByte(',')
				}
			}
			s, ok := canonKey(k, w)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		if n.kind == kSeq {
			b.WriteByte(n.close)
		} else {
			b.WriteString("]]")
		}
		return b.String(), true
	case kSet, kUnion:
		keys := make([]string, len(n.kids))
		for i, k := range n.kids {
			s, ok := canonKey(k, w)
			if !ok {
				return "", false
			}
			keys[i] = s
		}
		keys = uniqueSorted(keys)
		if len(keys) == 1 {
			return keys[0], true
		}
		if n.kind == kUnion {
			return "union(" + strings.Join(keys, ",") + ")", true
		}
		return "{" + strings.Join(keys, ",") + "}", true
	case kRel, kPercent, kPM:
		return "", false
	}
	if hasVars(n) {
		return "", false
	}
	v, err := (&evaluator{w: w}).eval(n)
	if err != nil {
		return "", false
	}
	switch {
	case v.inf > 0:
		return "inf", true
	case v.inf < 0:
		return "-inf", true
	case v.r != nil:
		return v.r.RatString(), true
	}
	return "", false
}
