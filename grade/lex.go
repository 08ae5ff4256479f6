package grade

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits that keep every answer's processing bounded; see work.go for the
// arithmetic limits.
const (
	maxAnswerBytes = 16 << 10 // longer answers are compared as raw strings only
	maxTokens      = 4000
	maxTextDepth   = 4 // \text{...\text{...}} nesting lexed recursively
)

var errTooComplex = errors.New("answer too complex to grade")

// tokKind classifies lexer output.
type tokKind uint8

const (
	tNum  tokKind = iota + 1 // a numeric literal: digits, '.', optional exponent
	tWord                    // a run of letters
	tCmd                     // a LaTeX command kept for the parser (name without '\')
	tOp                      // an operator or bracket, spelled canonically
)

// token is one lexical unit. LaTeX synonyms are already mapped to one
// spelling (\times and \cdot are "*", \le is "<=", \left is dropped), so the
// parser sees a small vocabulary.
type token struct {
	kind     tokKind
	text     string
	space    bool // whitespace came before this token
	fromText bool // lexed from inside \text{...}
}

// lexer turns a normalised answer string into tokens.
type lexer struct {
	toks []token
	err  error
}

// textCommands take a text-mode argument whose words are lexed as tokens
// marked fromText (a unit in \text{ cm} is known to be a unit).
var textCommands = map[string]bool{
	"text": true, "textbf": true, "textit": true, "textrm": true, "textnormal": true,
	"texttt": true, "textsf": true, "mbox": true, "hbox": true, "textup": true, "emph": true,
}

// transparentCommands are dropped; a braced argument that follows becomes a
// plain group, so \boxed{5} and \mathrm{e} read as {5} and {e}.
var transparentCommands = map[string]bool{
	"boxed": true, "fbox": true, "mathrm": true, "mathbf": true, "mathit": true, "mathsf": true,
	"mathtt": true, "mathcal": true, "mathnormal": true, "operatorname": true, "bm": true,
	"boldsymbol": true, "displaystyle": true, "textstyle": true, "scriptstyle": true,
	"left": true, "right": true, "big": true, "Big": true, "bigg": true, "Bigg": true,
	"bigl": true, "bigr": true, "Bigl": true, "Bigr": true, "biggl": true, "biggr": true,
	"Biggl": true, "Biggr": true, "limits": true, "nolimits": true, "middle": true,
	"rm": true, "bf": true, "it": true,
}

// spacingCommands are spacing; \, gets its own token because "1\,000" is a
// thousands separator.
var spacingCommands = map[string]bool{
	";": true, ":": true, " ": true, "quad": true, "qquad": true,
	"enspace": true, "thinspace": true, "negthinspace": true, "medspace": true,
	"thickspace": true, "hfill": true, "hspace": true, "noindent": true, "nonumber": true,
}

// commandOps maps commands to canonical operator spellings.
var commandOps = map[string]string{
	"times": "*", "cdot": "*", "ast": "*", "div": "/",
	"le": "<=", "leq": "<=", "leqslant": "<=", "ge": ">=", "geq": ">=", "geqslant": ">=",
	"lt": "<", "gt": ">", "ne": "!=", "neq": "!=", "approx": "=", "simeq": "=", "equiv": "=",
	"in": "in", "cup": "cup", "cap": "cap", "pm": "pm", "mp": "mp",
	"{": `\{`, "}": `\}`, "lbrace": `\{`, "rbrace": `\}`, "%": "%", "|": "|",
	"lvert": "|", "rvert": "|", "vert": "|", "mid": "|", "lVert": "|", "rVert": "|", "Vert": "|",
	"langle": "(", "rangle": ")", "ldots": "...", "cdots": "...", "dots": "...", "dotsc": "...",
	"\\": `\\`, "prime": "'", "setminus": `\setminus`, "backslash": `\setminus`,
	"lfloor": "lfloor", "rfloor": "rfloor", "lceil": "lceil", "rceil": "rceil", "&": "&",
	"_": "_", "#": "#",
}

// commandAliases maps commands to the name the parser knows them by.
var commandAliases = map[string]string{
	"dfrac": "frac", "tfrac": "frac", "cfrac": "frac",
	"dbinom": "binom", "tbinom": "binom",
	"varnothing": "emptyset", "degree": "circ", "varpi": "pi",
}

// runeTokens maps non-ASCII symbols to tokens.
var runeTokens = map[rune]token{
	'π': {kind: tCmd, text: "pi"}, '√': {kind: tCmd, text: "sqrt"}, '∞': {kind: tCmd, text: "infty"},
	'×': {kind: tOp, text: "*"}, '·': {kind: tOp, text: "*"}, '⋅': {kind: tOp, text: "*"},
	'∗': {kind: tOp, text: "*"}, '÷': {kind: tOp, text: "/"}, '−': {kind: tOp, text: "-"},
	'–': {kind: tOp, text: "-"}, '—': {kind: tOp, text: "-"}, '≤': {kind: tOp, text: "<="},
	'≥': {kind: tOp, text: ">="}, '≠': {kind: tOp, text: "!="}, '≈': {kind: tOp, text: "="},
	'±': {kind: tOp, text: "pm"}, '∓': {kind: tOp, text: "mp"}, '∪': {kind: tOp, text: "cup"},
	'∩': {kind: tOp, text: "cap"}, '∈': {kind: tOp, text: "in"}, '∅': {kind: tCmd, text: "emptyset"},
	'°': {kind: tCmd, text: "circ"}, '⟨': {kind: tOp, text: "("}, '⟩': {kind: tOp, text: ")"},
	'…': {kind: tOp, text: "..."}, '′': {kind: tOp, text: "'"}, '％': {kind: tOp, text: "%"},
}

// greekLetters spells Greek letters as their LaTeX commands, so that α and
// \alpha are one variable.
var greekLetters = map[rune]string{
	'α': "alpha", 'β': "beta", 'γ': "gamma", 'δ': "delta", 'ε': "epsilon", 'ζ': "zeta", 'η': "eta",
	'θ': "theta", 'ι': "iota", 'κ': "kappa", 'λ': "lambda", 'μ': "mu", 'ν': "nu", 'ξ': "xi",
	'ρ': "rho", 'σ': "sigma", 'τ': "tau", 'υ': "upsilon", 'φ': "phi", 'χ': "chi", 'ψ': "psi",
	'ω': "omega", 'Γ': "Gamma", 'Δ': "Delta", 'Θ': "Theta", 'Λ': "Lambda", 'Σ': "Sigma",
	'Φ': "Phi", 'Ψ': "Psi", 'Ω': "Omega",
}

// superscripts are Unicode superscript digits, read as ^digit.
var superscripts = map[rune]string{'⁰': "0", '¹': "1", '²': "2", '³': "3", '⁴': "4", '⁵': "5", '⁶': "6", '⁷': "7", '⁸': "8", '⁹': "9"}

// lex tokenises s. It fails on unbalanced \text braces or when s has too
// many tokens.
func lex(s string) ([]token, error) {
	lx := &lexer{toks: make([]token, 0, len(s)/2+1)}
	lx.run(s, false, 0)
	if lx.err != nil {
		return nil, lx.err
	}
	return lx.toks, nil
}

func (lx *lexer) emit(t token, space *bool, fromText bool) {
	if len(lx.toks) >= maxTokens {
		lx.err = errTooComplex
		return
	}
	t.space = *space
	t.fromText = fromText
	*space = false
	lx.toks = append(lx.toks, t)
}

func (lx *lexer) run(s string, fromText bool, depth int) {
	space := false
	for i := 0; i < len(s) && lx.err == nil; {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '~':
			space = true
			i++
		case c == '$':
			i++
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			j := scanNumber(s, i)
			lx.emit(token{kind: tNum, text: s[i:j]}, &space, fromText)
			i = j
		case isLetter(c):
			j := i
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			lx.emit(token{kind: tWord, text: s[i:j]}, &space, fromText)
			i = j
		case c == '\\':
			i = lx.command(s, i, &space, fromText, depth)
		case c == '.' && strings.HasPrefix(s[i:], "..."):
			// An ellipsis is one token, so that it is not mistaken for
			// final periods: "1, 2, 3, ..." is not the list 1, 2, 3.
			j := i
			for j < len(s) && s[j] == '.' {
				j++
			}
			lx.emit(token{kind: tOp, text: "..."}, &space, fromText)
			i = j
		case c < utf8.RuneSelf:
			op := string(c)
			if i+1 < len(s) {
				switch s[i : i+2] {
				case "<=", ">=", "!=", "**":
					op = s[i : i+2]
					if op == "**" {
						op = "^"
					}
					i++
				}
			}
			lx.emit(token{kind: tOp, text: op}, &space, fromText)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch t, ok := runeTokens[r]; {
			case ok:
				lx.emit(t, &space, fromText)
			case greekLetters[r] != "":
				lx.emit(token{kind: tCmd, text: greekLetters[r]}, &space, fromText)
			case superscripts[r] != "":
				lx.emit(token{kind: tOp, text: "^"}, &space, fromText)
				lx.emit(token{kind: tNum, text: superscripts[r]}, &space, fromText)
			case unicode.IsSpace(r):
				space = true
			case unicode.IsLetter(r):
				j := i + size
				for j < len(s) {
					r2, n2 := utf8.DecodeRuneInString(s[j:])
					if !unicode.IsLetter(r2) {
						break
					}
					j += n2
				}
				lx.emit(token{kind: tWord, text: s[i:j]}, &space, fromText)
				size = j - i
			default:
				lx.emit(token{kind: tOp, text: string(r)}, &space, fromText)
			}
			i += size
		}
	}
}

// scanNumber returns the end of the numeric literal starting at i: digits,
// an optional fraction, and an optional exponent (1.5e-3) when digits follow
// the e.
func scanNumber(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '.' && !strings.HasPrefix(s[j:], "..") {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			// "2e3x" stays a number times x, but "2ex" is 2*e*x; the
			// exponent must not run into letters that make it a word.
			j = k
		}
	}
	return j
}

// command lexes the LaTeX command starting at s[i] == '\\' and returns the
// offset after it.
func (lx *lexer) command(s string, i int, space *bool, fromText bool, depth int) int {
	j := i + 1
	if j >= len(s) {
		return j
	}
	var name string
	if isLetter(s[j]) {
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		name = s[i+1 : j]
	} else {
		_, size := utf8.DecodeRuneInString(s[j:])
		j += size
		name = s[i+1 : j]
	}
	if a, ok := commandAliases[name]; ok {
		name = a
	}
	switch {
	case textCommands[name]:
		k := skipSpaces(s, j)
		if k < len(s) && s[k] == '{' {
			end, ok := matchBrace(s, k)
			if !ok {
				lx.err = fmt.Errorf(`unclosed \%s{`, name)
				return len(s)
			}
			if depth >= maxTextDepth {
				lx.err = errTooComplex
				return len(s)
			}
			inner := s[k+1 : end]
			*space = true
			lx.run(inner, true, depth+1)
			*space = true
			return end + 1
		}
		return j
	case transparentCommands[name]:
		if name == "left" || name == "right" || strings.HasPrefix(name, "big") || strings.HasPrefix(name, "Big") {
			// \left. and \right. are invisible delimiters.
			if k := skipSpaces(s, j); k < len(s) && s[k] == '.' {
				return k + 1
			}
		}
		return j
	case name == ",":
		lx.emit(token{kind: tOp, text: "thinspace"}, space, fromText)
		return j
	case spacingCommands[name]:
		*space = true
		if name == "hspace" {
			if k := skipSpaces(s, j); k < len(s) && s[k] == '{' {
				if end, ok := matchBrace(s, k); ok {
					return end + 1
				}
			}
		}
		return j
	case name == "color" || name == "textcolor" || name == "label" || name == "tag" || name == "vspace":
		// The first argument (a colour, a label) is not part of the answer.
		if k := skipSpaces(s, j); k < len(s) && s[k] == '{' {
			if end, ok := matchBrace(s, k); ok {
				return end + 1
			}
		}
		return j
	case name == "$":
		return j // \$ is a currency sign
	case name == "(" || name == ")" || name == "[" || name == "]":
		*space = true
		return j // math delimiters \( \) \[ \]
	case name == "!":
		// A negative thin space joins what it separates (1\!000); after a
		// comma it marks the comma as a digit-group separator, as in
		// 11,\!111,\!100.
		if n := len(lx.toks); n > 0 && isOp(lx.toks[n-1], ",") {
			lx.toks[n-1].text = "groupcomma"
		}
		return j
	case name == "begin" || name == "end":
		k := skipSpaces(s, j)
		if k < len(s) && s[k] == '{' {
			if end, ok := matchBrace(s, k); ok {
				env := strings.TrimSuffix(strings.TrimSpace(s[k+1:end]), "*")
				lx.emit(token{kind: tCmd, text: name + ":" + env}, space, fromText)
				end++
				// \begin{array}{cc}: skip the column spec.
				if name == "begin" && env == "array" {
					if k2 := skipSpaces(s, end); k2 < len(s) && s[k2] == '{' {
						if e2, ok := matchBrace(s, k2); ok {
							end = e2 + 1
						}
					}
				}
				return end
			}
		}
		lx.emit(token{kind: tCmd, text: name}, space, fromText)
		return j
	case name == "mathbb":
		k := skipSpaces(s, j)
		if k < len(s) && s[k] == '{' {
			if end, ok := matchBrace(s, k); ok {
				lx.emit(token{kind: tCmd, text: "mathbb:" + strings.TrimSpace(s[k+1:end])}, space, fromText)
				return end + 1
			}
		}
		if k < len(s) && isLetter(s[k]) {
			lx.emit(token{kind: tCmd, text: "mathbb:" + s[k:k+1]}, space, fromText)
			return k + 1
		}
		return j
	}
	if op, ok := commandOps[name]; ok {
		lx.emit(token{kind: tOp, text: op}, space, fromText)
		return j
	}
	lx.emit(token{kind: tCmd, text: name}, space, fromText)
	return j
}

func skipSpaces(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
