package grade

import (
	"fmt"
	"math/big"
	"strings"
)

// Parser limits: deeper or larger answers are "too complex" and compare
// unequal to anything but their own spelling.
const (
	maxDepth = 64
	maxNodes = 2000
)

// kind is the type of an expression-tree node.
type kind uint8

const (
	kNum     kind = iota + 1 // a literal: rat when exact, flt otherwise
	kInf                     // infinity (use kNeg for -infinity)
	kConst                   // pi or e, by name
	kVar                     // a variable, by name ("x", "x_1", "\alpha")
	kAdd                     // sum of kids
	kMul                     // product of kids
	kNeg                     // -kids[0]
	kDiv                     // kids[0] / kids[1]
	kPow                     // kids[0] ^ kids[1]
	kRoot                    // kids[0]-th root of kids[1]
	kFunc                    // name(kids[0]); log with a base has kids[1] = base
	kFact                    // kids[0]!
	kBinom                   // binomial coefficient kids[0] choose kids[1]
	kAbs                     // |kids[0]|
	kFloor                   // floor(kids[0])
	kCeil                    // ceil(kids[0])
	kPM                      // kids[0] ± kids[1]; kids[0] nil for a leading ±
	kPercent                 // kids[0] %
	kSeq                     // ordered tuple or interval with brackets open, close
	kSet                     // unordered collection: a set or a bare list
	kUnion                   // union of kids
	kRel                     // relation chain: kids[0] ops[0] kids[1] ops[1] ...
	kMatrix                  // rows x cols kids in row-major order
	kText                    // prose answer, name holds its key
	kSum                     // name "sum" or "prod" of kids[0] for ops[0] from kids[1] to kids[2]
)

// node is an expression-tree node.
type node struct {
	kind        kind
	rat         *big.Rat // kNum, exact
	flt         float64  // kNum, inexact
	name        string
	open, close byte
	ops         []string
	rows, cols  int
	kids        []*node

	// The exact evaluation of this subtree, kept so that keying and
	// comparing the same tree evaluate it once.
	evaluated bool
	value     num
	valueErr  error
}

// bailout carries a parse error out of the recursive descent; parse
// recovers it and no other panic.
type bailout struct{ err error }

type parser struct {
	toks     []token
	pos      int
	nodes    int
	depth    int
	absDepth int // how many |...| are open
}

// parse builds the expression tree of a math answer.
func parse(toks []token) (n *node, err error) {
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			n, err = nil, b.err
		}
	}()
	items := p.list()
	if p.pos < len(p.toks) {
		p.fail("unexpected %q", p.toks[p.pos].text)
	}
	switch len(items) {
	case 0:
		p.fail("empty answer")
	case 1:
		return items[0], nil
	}
	return p.newNode(&node{kind: kSet, kids: items}), nil
}

func (p *parser) fail(format string, args ...any) {
	panic(bailout{fmt.Errorf(format, args...)})
}

func (p *parser) newNode(n *node) *node {
	p.nodes++
	if p.nodes > maxNodes {
		panic(bailout{errTooComplex})
	}
	return n
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		panic(bailout{errTooComplex})
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *parser) atOp(s string) bool { return p.pos < len(p.toks) && isOp(p.toks[p.pos], s) }

func (p *parser) expectOp(s string) {
	if !p.atOp(s) {
		if p.pos >= len(p.toks) {
			p.fail("missing %q", s)
		}
		p.fail("expected %q, found %q", s, p.toks[p.pos].text)
	}
	p.pos++
}

// list parses comma-separated items until a token that cannot continue an
// item (a closing bracket or the end).
func (p *parser) list() []*node {
	var items []*node
	for p.pos < len(p.toks) && p.startsItem() {
		items = append(items, p.item())
		if !p.atOp(",") && !p.atOp(";") {
			break
		}
		p.pos++
	}
	return items
}

// startsItem reports whether the next token can begin an item.
func (p *parser) startsItem() bool {
	t := p.peek()
	if t.kind == tOp {
		switch t.text {
		case ")", "]", "}", `\}`, "rfloor", "rceil", `\\`, "&", ",", ";":
			return false
		}
	}
	return !(t.kind == tCmd && strings.HasPrefix(t.text, "end:"))
}

// relOps are the relation operators of an item.
var relOps = map[string]bool{"=": true, "<": true, ">": true, "<=": true, ">=": true, "!=": true, "in": true}

// item parses a relation chain: union (relop union)*.
func (p *parser) item() *node {
	first := p.union()
	t := p.peek()
	if t.kind != tOp || !relOps[t.text] {
		return first
	}
	rel := p.newNode(&node{kind: kRel, kids: []*node{first}})
	for t := p.peek(); t.kind == tOp && relOps[t.text]; t = p.peek() {
		p.pos++
		rel.ops = append(rel.ops, t.text)
		rel.kids = append(rel.kids, p.union())
	}
	return rel
}

// union parses expr (\cup expr)*.
func (p *parser) union() *node {
	first := p.expr()
	if !p.atOp("cup") {
		return first
	}
	u := p.newNode(&node{kind: kUnion, kids: []*node{first}})
	for p.atOp("cup") {
		p.pos++
		u.kids = append(u.kids, p.expr())
	}
	return u
}

func isAddOp(t token) bool {
	return t.kind == tOp && (t.text == "+" || t.text == "-" || t.text == "pm" || t.text == "mp")
}

// expr parses a sum: [sign] term ((+|-|±|∓) term)*.
func (p *parser) expr() *node {
	p.enter()
	defer p.leave()
	var acc *node
	if t := p.peek(); isAddOp(t) {
		p.pos++
		acc = p.signed(nil, t.text, p.term())
	} else {
		acc = p.term()
	}
	for t := p.peek(); isAddOp(t); t = p.peek() {
		p.pos++
		acc = p.signed(acc, t.text, p.term())
	}
	return acc
}

// signed combines acc (nil at the start of a sum) with term under op.
func (p *parser) signed(acc *node, op string, term *node) *node {
	switch op {
	case "-":
		term = p.newNode(&node{kind: kNeg, kids: []*node{term}})
	case "pm", "mp":
		// a ∓ b is the same pair of values as a ± b.
		return p.newNode(&node{kind: kPM, kids: []*node{acc, term}})
	}
	if acc == nil {
		return term
	}
	if acc.kind == kAdd {
		acc.kids = append(acc.kids, term)
		return acc
	}
	return p.newNode(&node{kind: kAdd, kids: []*node{acc, term}})
}

// term parses a product: factor ((*|/) factor | implicit factor)*.
func (p *parser) term() *node {
	acc := p.factor()
	for {
		switch t := p.peek(); {
		case isOp(t, "*"):
			p.pos++
			acc = p.product(acc, p.factor())
		case isOp(t, "/") || isOp(t, ":"): // a ratio 2:3 is the number 2/3
			p.pos++
			acc = p.newNode(&node{kind: kDiv, kids: []*node{acc, p.factor()}})
		case p.startsImplicit(t):
			if t.kind == tNum && p.pos > 0 && p.toks[p.pos-1].kind == tNum {
				// "2 5" is not 10: numbers side by side that are not
				// digit groups (12 345) have no agreed meaning.
				p.fail("numbers %s and %s side by side", p.toks[p.pos-1].text, t.text)
			}
			acc = p.product(acc, p.power())
		default:
			return acc
		}
	}
}

func (p *parser) product(a, b *node) *node {
	if a.kind == kMul {
		a.kids = append(a.kids, b)
		return a
	}
	return p.newNode(&node{kind: kMul, kids: []*node{a, b}})
}

// startsImplicit reports whether t begins a factor that multiplies the one
// before it without an operator: 2x, 2\pi, 3\sqrt{2}, (x+1)(x-1).
func (p *parser) startsImplicit(t token) bool {
	switch t.kind {
	case tNum, tWord:
		return true
	case tCmd:
		return !strings.HasPrefix(t.text, "end:")
	case tOp:
		switch t.text {
		case "(", "{", "lfloor", "lceil", "...":
			return true
		case "|":
			return p.absDepth == 0 // inside |...| a bar closes
		}
	}
	return false
}

// factor parses a signed power: (-|+|±) factor | power.
func (p *parser) factor() *node {
	p.enter()
	defer p.leave()
	switch t := p.peek(); {
	case isOp(t, "-"):
		p.pos++
		return p.newNode(&node{kind: kNeg, kids: []*node{p.factor()}})
	case isOp(t, "+"):
		p.pos++
		return p.factor()
	case isOp(t, "pm") || isOp(t, "mp"):
		p.pos++
		return p.newNode(&node{kind: kPM, kids: []*node{nil, p.factor()}})
	}
	return p.power()
}

// power parses postfix (^ exponent)?, right-associative.
func (p *parser) power() *node {
	base := p.postfix()
	if !p.atOp("^") {
		return base
	}
	p.pos++
	return p.newNode(&node{kind: kPow, kids: []*node{base, p.exponent()}})
}

// exponent parses what follows ^: a braced group, a signed exponent, a
// whole number (2^10 is 1024 in plain math), a letter, or a command.
func (p *parser) exponent() *node {
	p.enter()
	defer p.leave()
	var e *node
	switch t := p.peek(); {
	case isOp(t, "-"):
		p.pos++
		e = p.newNode(&node{kind: kNeg, kids: []*node{p.exponent()}})
		return e
	case isOp(t, "+"):
		p.pos++
		return p.exponent()
	case isOp(t, "{"), isOp(t, "("):
		e = p.postfix()
	case t.kind == tNum:
		p.pos++
		e = p.number(t.text)
	case t.kind == tWord:
		e = p.letter()
	case t.kind == tCmd:
		e = p.primary()
	default:
		p.fail("missing exponent")
	}
	if p.atOp("^") {
		p.pos++
		e = p.newNode(&node{kind: kPow, kids: []*node{e, p.exponent()}})
	}
	return e
}

// postfix parses primary followed by ! (factorial) or % (percent).
func (p *parser) postfix() *node {
	n := p.primary()
	for {
		switch {
		case p.atOp("!"):
			p.pos++
			n = p.newNode(&node{kind: kFact, kids: []*node{n}})
		case p.atOp("%"):
			p.pos++
			n = p.newNode(&node{kind: kPercent, kids: []*node{n}})
		default:
			return n
		}
	}
}

// primary parses a number, name, command or bracketed group.
func (p *parser) primary() *node {
	p.enter()
	defer p.leave()
	if p.pos >= len(p.toks) {
		p.fail("unexpected end of answer")
	}
	t := p.toks[p.pos]
	switch t.kind {
	case tNum:
		p.pos++
		return p.numberPrimary(t)
	case tWord:
		return p.word()
	case tCmd:
		p.pos++
		return p.command(t.text)
	}
	switch t.text {
	case "(", "[":
		p.pos++
		return p.bracketed(t.text[0])
	case `\{`:
		p.pos++
		items := p.list()
		p.expectOp(`\}`)
		return p.newNode(&node{kind: kSet, kids: items})
	case "{":
		p.pos++
		items := p.list()
		p.expectOp("}")
		switch len(items) {
		case 0:
			p.fail("empty group {}")
		case 1:
			return items[0]
		}
		return p.newNode(&node{kind: kSet, kids: items})
	case "|":
		p.pos++
		p.absDepth++
		inner := p.expr()
		p.absDepth--
		p.expectOp("|")
		return p.newNode(&node{kind: kAbs, kids: []*node{inner}})
	case "lfloor":
		p.pos++
		inner := p.expr()
		p.expectOp("rfloor")
		return p.newNode(&node{kind: kFloor, kids: []*node{inner}})
	case "lceil":
		p.pos++
		inner := p.expr()
		p.expectOp("rceil")
		return p.newNode(&node{kind: kCeil, kids: []*node{inner}})
	case "...":
		p.pos++
		return p.newNode(&node{kind: kVar, name: "..."})
	}
	p.fail("unexpected %q", t.text)
	return nil
}

// bracketed parses after an opening ( or [: one item is a group, several
// are a tuple or interval, and the closing bracket may differ ([1,2)).
func (p *parser) bracketed(open byte) *node {
	items := p.list()
	t := p.peek()
	if !isOp(t, ")") && !isOp(t, "]") {
		p.fail("unclosed %q", string(open))
	}
	p.pos++
	closeB := t.text[0]
	if len(items) == 0 {
		p.fail("empty brackets")
	}
	if len(items) == 1 {
		if open == '(' && closeB == ']' || open == '[' && closeB == ')' {
			p.fail("mismatched brackets")
		}
		return items[0]
	}
	return p.newNode(&node{kind: kSeq, open: open, close: closeB, kids: items})
}

// numberPrimary reads a literal and the forms that extend it: a repeating
// decimal 0.1\overline{6}, and a mixed number 2\frac{1}{2} or 2 1/2.
func (p *parser) numberPrimary(t token) *node {
	if p.pos < len(p.toks) && isCmd(p.toks[p.pos], "overline") && strings.Contains(t.text, ".") {
		p.pos++
		var rep string
		if p.atOp("{") && p.pos+2 < len(p.toks) && p.toks[p.pos+1].kind == tNum && isOp(p.toks[p.pos+2], "}") {
			rep = p.toks[p.pos+1].text
			p.pos += 3
		} else if p.peek().kind == tNum {
			rep = p.peek().text[:1]
			p.consumeFirstChar()
		}
		if !allDigits(rep) {
			p.fail("bad repeating decimal")
		}
		r, err := repeatingDecimal(t.text, rep)
		if err != nil {
			p.fail("%v", err)
		}
		return p.newNode(&node{kind: kNum, rat: r})
	}
	if p.atOp("...") && !p.peek().space {
		// 0.333... and 0.1666... repeat their last digits forever; a
		// number trailing off otherwise (3..., 3.14159...) is a truncated
		// value that equals nothing exactly.
		p.pos++
		r, ok := ellipsisDecimal(t.text)
		if !ok {
			p.fail("%s... is a truncated number, not a definite value", t.text)
		}
		return p.newNode(&node{kind: kNum, rat: r})
	}
	if strings.Contains(t.text, ".") && !strings.ContainsAny(t.text, "eE") && p.atOp("(") && !p.peek().space &&
		p.pos+2 < len(p.toks) && p.toks[p.pos+1].kind == tNum && allDigits(p.toks[p.pos+1].text) && isOp(p.toks[p.pos+2], ")") {
		// 0.(3) and 0.1(6): the digits in parentheses repeat forever.
		rep := p.toks[p.pos+1].text
		p.pos += 3
		r, err := repeatingDecimal(t.text, rep)
		if err != nil {
			p.fail("%v", err)
		}
		return p.newNode(&node{kind: kNum, rat: r})
	}
	n := p.number(t.text)
	if !allDigits(t.text) {
		return n
	}
	if num, den, end, ok := p.mixedFraction(); ok {
		p.pos = end
		frac := p.newNode(&node{kind: kDiv, kids: []*node{p.number(num), p.number(den)}})
		return p.newNode(&node{kind: kAdd, kids: []*node{n, frac}})
	}
	return n
}

// ellipsisDecimal reads a decimal written with a trailing ellipsis: its
// fraction must end in a block of digits written at least twice in a row
// (0.33..., 0.1666..., 0.142857142857...), and the shortest such block
// repeats forever, so 0.999... is 1. Other numbers (3..., 0.12...) are not
// read.
func ellipsisDecimal(text string) (*big.Rat, bool) {
	dot := strings.IndexByte(text, '.')
	if dot < 0 || strings.ContainsAny(text, "eE") || len(text) > 100 {
		return nil, false
	}
	frac := text[dot+1:]
	for period := 1; 2*period <= len(frac); period++ {
		block := frac[len(frac)-period:]
		if frac[len(frac)-2*period:len(frac)-period] != block {
			continue
		}
		// Move the start of the repeating part as far left as it goes:
		// 0.1666... is 0.1 followed by 6s.
		start := len(frac) - 2*period
		for start > 0 && frac[start-1] == frac[start-1+period] {
			start--
		}
		r, err := repeatingDecimal(text[:dot+1+start], frac[start:start+period])
		return r, err == nil
	}
	return nil, false
}

// mixedFraction looks ahead (without consuming) for the proper fraction of
// a mixed number after an integer: \frac{1}{2}, \frac12 or " 1/2".
func (p *parser) mixedFraction() (num, den string, end int, ok bool) {
	i := p.pos
	toks := p.toks
	arg := func(i int) (string, int, bool) {
		if i+2 < len(toks) && isOp(toks[i], "{") && toks[i+1].kind == tNum && allDigits(toks[i+1].text) && isOp(toks[i+2], "}") {
			return toks[i+1].text, i + 3, true
		}
		return "", i, false
	}
	if i < len(toks) && isCmd(toks[i], "frac") {
		if a, j, ok1 := arg(i + 1); ok1 {
			if b, k, ok2 := arg(j); ok2 {
				num, den, end, ok = a, b, k, true
			}
		} else if i+1 < len(toks) && toks[i+1].kind == tNum && len(toks[i+1].text) == 2 && allDigits(toks[i+1].text) {
			num, den, end, ok = toks[i+1].text[:1], toks[i+1].text[1:], i+2, true
		}
	} else if i+2 < len(toks) && toks[i].kind == tNum && toks[i].space && allDigits(toks[i].text) &&
		isOp(toks[i+1], "/") && toks[i+2].kind == tNum && allDigits(toks[i+2].text) {
		num, den, end, ok = toks[i].text, toks[i+2].text, i+3, true
		if end < len(toks) && (isOp(toks[end], "^") || toks[end].kind == tNum) {
			ok = false
		}
	}
	if !ok || len(num) > 18 || len(den) > 18 {
		return "", "", 0, false
	}
	a, _ := new(big.Int).SetString(num, 10)
	b, _ := new(big.Int).SetString(den, 10)
	if a.Sign() <= 0 || a.Cmp(b) >= 0 {
		return "", "", 0, false
	}
	return num, den, end, true
}

// number builds a literal node from its text.
func (p *parser) number(text string) *node {
	r, f, err := parseLiteral(text)
	if err != nil {
		p.fail("%v", err)
	}
	return p.newNode(&node{kind: kNum, rat: r, flt: f})
}

// consumeFirstChar takes the first character of the current number or word
// token, leaving the rest for the next read: \frac12 has arguments 1 and 2.
func (p *parser) consumeFirstChar() string {
	t := &p.toks[p.pos]
	first := t.text[:1]
	if len(t.text) == 1 {
		p.pos++
	} else {
		t.text = t.text[1:]
		t.space = false
	}
	return first
}

// arg parses a LaTeX macro argument: a braced group or a single token.
func (p *parser) arg() *node {
	p.enter()
	defer p.leave()
	t := p.peek()
	switch {
	case isOp(t, "{"):
		p.pos++
		items := p.list()
		p.expectOp("}")
		if len(items) != 1 {
			p.fail("argument must be one expression")
		}
		return items[0]
	case t.kind == tNum:
		c := p.consumeFirstChar()
		if c == "." {
			p.fail("bad argument")
		}
		return p.number(c)
	case t.kind == tWord:
		return p.letter()
	case t.kind == tCmd:
		p.pos++
		return p.command(t.text)
	}
	p.fail("missing argument")
	return nil
}

// letter reads one letter of the current word as a name: e is Euler's
// number, other letters are variables (with a subscript if one follows).
func (p *parser) letter() *node {
	c := p.consumeFirstChar()
	if c == "e" {
		return p.newNode(&node{kind: kConst, name: "e"})
	}
	return p.variable(c)
}

// variable builds a variable node, reading a subscript (x_1, a_{n+1}).
func (p *parser) variable(name string) *node {
	if p.atOp("_") {
		p.pos++
		name += "_" + p.subscript()
	}
	return p.newNode(&node{kind: kVar, name: name})
}

// subscript returns the spelling of a subscript: one token or a braced
// group of tokens.
func (p *parser) subscript() string {
	if p.atOp("{") {
		end := p.pos + 1
		depth := 1
		var b strings.Builder
		for ; end < len(p.toks); end++ {
			t := p.toks[end]
			if isOp(t, "{") {
				depth++
			} else if isOp(t, "}") {
				depth--
				if depth == 0 {
					break
				}
			}
			b.WriteString(t.text)
		}
		if end >= len(p.toks) {
			p.fail("unclosed subscript")
		}
		p.pos = end + 1
		return b.String()
	}
	t := p.peek()
	switch t.kind {
	case tNum, tWord:
		return p.consumeFirstChar()
	case tCmd:
		p.pos++
		return `\` + t.text
	}
	p.fail("missing subscript")
	return ""
}

// word parses a word token: a function, a constant, or letters that
// multiply (xy is x*y).
func (p *parser) word() *node {
	t := p.peek()
	w := t.text
	lw := strings.ToLower(w)
	switch {
	case functionNames[lw]:
		p.pos++
		return p.function(lw, true)
	case lw == "pi":
		p.pos++
		return p.newNode(&node{kind: kConst, name: "pi"})
	case lw == "inf" || lw == "infinity" || lw == "infty":
		p.pos++
		return p.newNode(&node{kind: kInf})
	case !isASCIIWord(w):
		p.pos++
		return p.variable(w)
	}
	return p.letter()
}

// command parses a LaTeX command (its name already consumed).
func (p *parser) command(name string) *node {
	switch {
	case name == "sum" || name == "prod":
		return p.bigOperator(name)
	case name == "frac":
		a := p.arg()
		b := p.arg()
		return p.newNode(&node{kind: kDiv, kids: []*node{a, b}})
	case name == "sqrt":
		var index *node
		if p.atOp("[") {
			p.pos++
			index = p.expr()
			p.expectOp("]")
		}
		radicand := p.arg()
		if index == nil {
			index = p.newNode(&node{kind: kNum, rat: big.NewRat(2, 1)})
		}
		return p.newNode(&node{kind: kRoot, kids: []*node{index, radicand}})
	case name == "binom":
		a := p.arg()
		b := p.arg()
		return p.newNode(&node{kind: kBinom, kids: []*node{a, b}})
	case name == "pi":
		return p.newNode(&node{kind: kConst, name: "pi"})
	case name == "infty":
		return p.newNode(&node{kind: kInf})
	case name == "emptyset":
		return p.newNode(&node{kind: kSet})
	case name == "mathbb:R":
		inf := p.newNode(&node{kind: kInf})
		return p.newNode(&node{kind: kSeq, open: '(', close: ')', kids: []*node{p.newNode(&node{kind: kNeg, kids: []*node{inf}}), inf}})
	case functionNames[name]:
		return p.function(name, false)
	case strings.HasPrefix(name, "begin:"):
		return p.matrix(strings.TrimPrefix(name, "begin:"))
	case name == "overline", name == "circ", strings.HasPrefix(name, "end:"),
		name == "lim", name == "int", name == "to", name == "rightarrow":
		p.fail(`cannot evaluate \%s`, name)
	}
	// Greek letters and other symbols are variables.
	return p.variable(`\` + name)
}

// bigOperator parses \sum or \prod after its name: the limits _{k=a}^{b}
// (in either order) and the body, one term (\sum_{k=1}^{n} 2k + 1 is the
// sum of 2k, plus 1).
func (p *parser) bigOperator(name string) *node {
	var lower, upper *node
	for lower == nil || upper == nil {
		switch {
		case p.atOp("_") && lower == nil:
			p.pos++
			lower = p.arg()
		case p.atOp("^") && upper == nil:
			p.pos++
			upper = p.arg()
		default:
			p.fail(`\%s needs limits _{k=a}^{b}`, name)
		}
	}
	if lower.kind != kRel || len(lower.ops) != 1 || lower.ops[0] != "=" || lower.kids[0].kind != kVar {
		p.fail(`\%s: the lower limit must read k = a`, name)
	}
	body := p.term()
	return p.newNode(&node{kind: kSum, name: name, ops: []string{lower.kids[0].name},
		kids: []*node{body, lower.kids[1], upper}})
}

// function parses a function application after its name: an optional power
// (\sin^2 x) or base (\log_2 8), then the argument in parentheses or as a
// product of factors (\sin 2x).
func (p *parser) function(name string, word bool) *node {
	if name == "abs" || name == "sqrt" && word {
		inner := p.power()
		if name == "abs" {
			return p.newNode(&node{kind: kAbs, kids: []*node{inner}})
		}
		two := p.newNode(&node{kind: kNum, rat: big.NewRat(2, 1)})
		return p.newNode(&node{kind: kRoot, kids: []*node{two, inner}})
	}
	var power, base *node
	for {
		switch {
		case p.atOp("^") && power == nil:
			p.pos++
			power = p.exponent()
			continue
		case p.atOp("_") && base == nil && (name == "log" || name == "lg"):
			p.pos++
			base = p.arg()
			continue
		}
		break
	}
	var arg *node
	if p.atOp("(") {
		arg = p.postfix()
	} else {
		arg = p.power()
		for t := p.peek(); (t.kind == tNum || t.kind == tWord && !functionNames[strings.ToLower(t.text)]) && !isOp(t, "("); t = p.peek() {
			arg = p.product(arg, p.power())
		}
	}
	if name == "lg" {
		name, base = "log", p.newNode(&node{kind: kNum, rat: big.NewRat(10, 1)})
	}
	f := p.newNode(&node{kind: kFunc, name: name, kids: []*node{arg}})
	if base != nil {
		f.kids = append(f.kids, base)
	}
	if power != nil {
		// \sin^{-1} x is arcsin x; other powers apply to the value.
		if power.kind == kNeg && power.kids[0].kind == kNum && power.kids[0].rat != nil && power.kids[0].rat.Cmp(big.NewRat(1, 1)) == 0 {
			switch name {
			case "sin", "cos", "tan":
				f.name = "arc" + name
				return f
			}
		}
		return p.newNode(&node{kind: kPow, kids: []*node{f, power}})
	}
	return f
}

// matrix parses the body of \begin{pmatrix} ... \end{pmatrix} (and
// bmatrix, matrix, array, ...): cells separated by &, rows by \\.
func (p *parser) matrix(env string) *node {
	var rows [][]*node
	row := []*node{}
	for {
		if p.pos >= len(p.toks) {
			p.fail("unclosed \\begin{%s}", env)
		}
		t := p.peek()
		if isCmd(t, "end:"+env) {
			p.pos++
			break
		}
		switch {
		case isOp(t, "&"):
			p.pos++
			continue
		case isOp(t, `\\`):
			p.pos++
			if len(row) > 0 {
				rows = append(rows, row)
				row = []*node{}
			}
			continue
		}
		if !p.startsItem() {
			p.fail("unexpected %q in matrix", t.text)
		}
		row = append(row, p.item())
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		p.fail("empty matrix")
	}
	m := p.newNode(&node{kind: kMatrix, rows: len(rows), cols: len(rows[0])})
	for _, r := range rows {
		if len(r) != m.cols {
			p.fail("ragged matrix")
		}
		m.kids = append(m.kids, r...)
	}
	return m
}
