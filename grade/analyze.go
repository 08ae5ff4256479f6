package grade

import (
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// form is an answer read once for comparison: its key, whether the key is
// canonical (two canonical keys that differ mean "not equivalent"), and its
// normalised tree when it was parsed as math.
type form struct {
	raw       string
	empty     bool
	key       string
	canonical bool
	tree      *node // nil for prose, unparsable or over-long answers
	choice    byte  // the label of a "(B) ..." multiple-choice answer, else 0
	err       error // why the answer is not math, if it is not
}

// analyze reads one answer. Everything it does is bounded by w.
func analyze(s string, w *work) form {
	s = strings.TrimSpace(s)
	f := form{raw: s}
	if s == "" {
		f.empty = true
		return f
	}
	if n, d, ok := plainNumber(s); ok {
		f.key, f.canonical = plainKey(n, d), true
		f.tree = &node{kind: kNum, rat: big.NewRat(n, d)}
		return f
	}
	if len(s) > maxAnswerBytes {
		f.key, f.canonical, f.err = "raw:"+strings.ToLower(strings.Join(strings.Fields(s), "")), true, errTooComplex
		return f
	}
	toks, err := lex(s)
	if err != nil {
		// Unreadable (an unclosed \text{, too many tokens): equal only to
		// the same spelling up to case and spacing.
		f.key, f.canonical, f.err = "raw:"+strings.ToLower(strings.Join(strings.Fields(s), "")), true, err
		return f
	}
	toks = cleanTokens(toks)
	if len(toks) == 0 {
		f.empty = true
		return f
	}
	toks = dropWordLabel(toks)
	f.choice = choiceLabel(toks)
	if isProse(toks) {
		f.key = "text:" + proseKey(toks)
		f.canonical = f.choice == 0
		f.tree = &node{kind: kText, name: proseKey(toks)}
		return f
	}
	toks = mathTokens(toks)
	spelled := exprSpelling(toks)
	tree, err := parse(toks)
	if err == nil {
		tree, err = normalizeTree(tree, w)
	}
	if err != nil {
		f.key, f.err = "text:"+proseKey(toks), err
		f.canonical = f.choice == 0 && err != errTooComplex
		if err == errTooComplex {
			f.key = "expr:" + spelled
		}
		return f
	}
	f.tree = tree
	if k, ok := canonKey(tree, w); ok && f.choice == 0 {
		f.key, f.canonical = k, true
		return f
	}
	f.key = "expr:" + spelled
	return f
}

// dropWordLabel drops a label spelled in words before an equals sign, as
// in "\text{Area} = 24" or "total cost = 50": the answer is the value. A
// single letter is left to the relation rules (x = 3), and a right-hand side
// that is prose keeps the whole answer prose.
func dropWordLabel(toks []token) []token {
	eq := -1
	for i, t := range toks {
		if isOp(t, "=") {
			if eq >= 0 {
				return toks
			}
			eq = i
		}
	}
	if eq <= 0 || eq == len(toks)-1 {
		return toks
	}
	long := false
	for _, t := range toks[:eq] {
		if t.kind != tWord || !isASCIIWord(t.text) {
			return toks
		}
		if len(t.text) >= 2 && !functionNames[strings.ToLower(t.text)] {
			long = true
		}
	}
	if !long || isProse(toks[eq+1:]) {
		return toks
	}
	return toks[eq+1:]
}

// plainNumber reads the common fast case, an integer, decimal or a/b with at
// most 18 digits per part, as a reduced fraction n/d.
func plainNumber(s string) (n, d int64, ok bool) {
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if slash := strings.IndexByte(s, '/'); slash >= 0 {
		a, b := s[:slash], s[slash+1:]
		if !allDigits(a) || !allDigits(b) || len(a) > 18 || len(b) > 18 {
			return 0, 0, false
		}
		n, _ = strconv.ParseInt(a, 10, 64)
		d, _ = strconv.ParseInt(b, 10, 64)
		if d == 0 {
			return 0, 0, false
		}
	} else {
		intPart, frac := s, ""
		if dot := strings.IndexByte(s, '.'); dot >= 0 {
			intPart, frac = s[:dot], s[dot+1:]
		}
		digits := intPart + frac
		if len(digits) == 0 || len(digits) > 18 || intPart != "" && !allDigits(intPart) || frac != "" && !allDigits(frac) {
			return 0, 0, false
		}
		n, _ = strconv.ParseInt(digits, 10, 64)
		d = pow10Int64[len(frac)]
	}
	g := gcd(n, d)
	n, d = n/g, d/g
	if neg {
		n = -n
	}
	return n, d, true
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return 1
	}
	return a
}

// plainKey spells n/d the way big.Rat.RatString does.
func plainKey(n, d int64) string {
	if d == 1 {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10) + "/" + strconv.FormatInt(d, 10)
}

// exprSpelling is the normalised spelling of a math answer: its tokens
// with spacing removed except where two words or numbers would run
// together.
func exprSpelling(toks []token) string {
	var b strings.Builder
	prevAlnum := false
	for _, t := range toks {
		// Operators spelled with letters (pm, cup, in) are written like
		// commands, so they cannot run into a neighbouring word.
		named := t.kind == tCmd || t.kind == tOp && isLetter(t.text[0])
		alnum := t.kind == tNum || t.kind == tWord
		if alnum && prevAlnum {
			b.WriteByte(' ')
		}
		if named {
			b.WriteByte('\\')
		}
		b.WriteString(t.text)
		prevAlnum = alnum || named
	}
	return b.String()
}

// choiceLabel returns the label of a multiple-choice answer written with
// its text, "(B) 12" or "B) 12" or "B: 12", else 0.
func choiceLabel(toks []token) byte {
	label := func(t token) byte {
		if t.kind == tWord && len(t.text) == 1 && t.text[0] >= 'A' && t.text[0] <= 'J' {
			return t.text[0]
		}
		if t.kind == tWord && len(t.text) == 1 && t.text[0] >= 'a' && t.text[0] <= 'j' {
			return t.text[0] - 'a' + 'A'
		}
		return 0
	}
	// The text after the label must start like a value, so that "(a)(b)"
	// and "(a) + b" stay products and sums.
	startsText := func(t token) bool { return t.kind == tNum || t.kind == tWord || t.kind == tCmd || isOp(t, "-") }
	switch {
	case len(toks) > 3 && isOp(toks[0], "(") && isOp(toks[2], ")") && startsText(toks[3]):
		return label(toks[1])
	case len(toks) > 2 && (isOp(toks[1], ")") || isOp(toks[1], ":")) && toks[0].kind == tWord && toks[0].text[0] <= 'Z' && startsText(toks[2]):
		return label(toks[0])
	}
	return 0
}

// letterOf returns the label of an answer that is a lone letter.
func (f *form) letterOf() byte {
	if f.tree != nil && f.tree.kind == kVar && len(f.tree.name) == 1 {
		c := f.tree.name[0]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c >= 'A' && c <= 'J' {
			return c
		}
	}
	return 0
}

// equalForms compares two analysed answers and says how they matched.
func (g *Grader) equalForms(a, b *form, w *work) (bool, string) {
	if a.empty || b.empty {
		return false, "empty answer"
	}
	if a.key == b.key {
		if a.canonical {
			return true, "equal: both are " + shorten(a.key)
		}
		return true, "equal: same normalised spelling"
	}
	if a.canonical && b.canonical {
		why := "not equal: " + shorten(a.key) + " vs " + shorten(b.key)
		for _, f := range []*form{a, b} {
			if f.err != nil && f.err != errTooComplex {
				// Say why an answer was not read as math: "numbers 2
				// and 5 side by side", "a chain ... with a false link".
				why += " (" + shorten(f.raw) + ": " + f.err.Error() + ")"
			}
		}
		return false, why
	}
	if a.choice != 0 || b.choice != 0 {
		la, lb := a.choice, b.choice
		if la == 0 {
			la = a.letterOf()
		}
		if lb == 0 {
			lb = b.letterOf()
		}
		if la != 0 && la == lb && (a.choice == 0 || b.choice == 0) {
			return true, "equal: multiple-choice label " + string(la)
		}
	}
	if a.tree == nil || b.tree == nil {
		for _, f := range []*form{a, b} {
			if f.err != nil {
				return false, "not equal: " + shorten(f.raw) + " read as text (" + f.err.Error() + ")"
			}
		}
		return false, "not equal"
	}
	c := newComparer(g.opts, w)
	if c.equal(a.tree, b.tree) {
		how := c.how
		if how == "" {
			how = "equal"
		}
		return true, how
	}
	if w.left < 0 {
		return false, "not equal: " + errTooComplex.Error()
	}
	return false, "not equal"
}

// shorten keeps reasons readable when a key is long.
func shorten(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// compare compares two bare answers.
func (g *Grader) compare(a, b string) (bool, string) {
	if a == b {
		if strings.TrimSpace(a) == "" {
			return false, "empty answer"
		}
		return true, "equal: identical"
	}
	// One budget covers reading both answers and comparing them, so a
	// comparison costs at most one budget's time whatever the inputs.
	w := newWork()
	fa := analyze(a, w)
	fb := analyze(b, w)
	return g.equalForms(&fa, &fb, w)
}

// Key returns the canonical normalised key of answer: answers with the same
// key are equivalent. Exact numbers key by value ("0.5", "\frac{1}{2}" and
// "1/2" all key "1/2"), prose by its lowercased words, and collections by
// their members' keys; other answers key by their normalised spelling.
// The empty answer has the empty key.
func Key(answer string) string {
	f := analyze(answer, newWork())
	return f.key
}
