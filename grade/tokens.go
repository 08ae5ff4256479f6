package grade

import (
	"strings"
	"unicode/utf8"
)

// unitWords are units and counted nouns dropped after a number ("5 cm",
// "12 square units", "3 \text{ hours}"). Single letters count as units only
// inside \text{...}, since a bare "5m" may be a product with a variable.
var unitWords = map[string]bool{
	"cm": true, "mm": true, "km": true, "meter": true, "meters": true, "metre": true, "metres": true,
	"centimeter": true, "centimeters": true, "kilometer": true, "kilometers": true,
	"millimeter": true, "millimeters": true, "inch": true, "inches": true, "ft": true,
	"feet": true, "foot": true, "yard": true, "yards": true, "yd": true, "mile": true,
	"miles": true, "mph": true, "kg": true, "gram": true, "grams": true, "kilogram": true,
	"kilograms": true, "pound": true, "pounds": true, "lb": true, "lbs": true, "ounce": true,
	"ounces": true, "oz": true, "liter": true, "liters": true, "litre": true, "litres": true,
	"ml": true, "gallon": true, "gallons": true, "second": true, "seconds": true, "sec": true,
	"minute": true, "minutes": true, "min": true, "hour": true, "hours": true, "hr": true,
	"hrs": true, "day": true, "days": true, "week": true, "weeks": true, "month": true,
	"months": true, "year": true, "years": true, "dollar": true, "dollars": true, "cent": true,
	"cents": true, "euro": true, "euros": true, "degree": true, "degrees": true, "deg": true,
	"unit": true, "units": true, "square": true, "sq": true, "cubic": true, "radian": true,
	"radians": true, "rad": true, "ways": true, "times": true, "points": true,
}

// textOnlyUnits are single letters that are units when written in \text{}.
var textOnlyUnits = map[string]bool{"m": true, "g": true, "s": true, "h": true, "l": true, "L": true, "in": true, "C": true, "F": true, "K": true}

// numberWords lets a spelled-out whole answer ("two") be read as a number.
var numberWords = map[string]string{
	"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
	"seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
	"thirteen": "13", "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17",
	"eighteen": "18", "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40",
	"fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
	"hundred": "100", "thousand": "1000", "million": "1000000",
}

// functionNames are the functions the evaluator knows, written as words or
// as LaTeX commands.
var functionNames = map[string]bool{
	"sin": true, "cos": true, "tan": true, "cot": true, "sec": true, "csc": true,
	"arcsin": true, "arccos": true, "arctan": true, "sinh": true, "cosh": true, "tanh": true,
	"ln": true, "log": true, "lg": true, "exp": true, "sqrt": true, "abs": true,
}

// knownWords are words a math answer may contain without being prose.
var knownWords = map[string]bool{
	"pi": true, "e": true, "inf": true, "infty": true, "infinity": true, "or": true, "and": true,
	"percent": true, "pct": true, "percentage": true,
}

// cleanTokens applies the token-level normalisations that do not depend on
// whether the answer is math or prose: degree signs and trailing units go,
// and a final period is dropped.
func cleanTokens(toks []token) []token {
	out := toks[:0]
	afterDegree := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		// ^\circ, ^{\circ} and a bare \circ or ° are degree signs, and a
		// C, F or K right after one is the temperature scale.
		wasDegree := afterDegree
		afterDegree = true
		switch {
		case isOp(t, "^") && i+1 < len(toks) && isCmd(toks[i+1], "circ"):
			i++
			continue
		case isOp(t, "^") && i+3 < len(toks) && isOp(toks[i+1], "{") && isCmd(toks[i+2], "circ") && isOp(toks[i+3], "}"):
			i += 3
			continue
		case isCmd(t, "circ"):
			continue
		case wasDegree && t.kind == tWord && (t.text == "C" || t.text == "F" || t.text == "K"):
			continue
		}
		afterDegree = false
		out = append(out, t)
	}
	toks = dropEmptyGroups(out)
	for len(toks) > 0 && isOp(toks[len(toks)-1], ".") {
		toks = toks[:len(toks)-1]
	}
	return stripUnits(toks)
}

// dropEmptyGroups removes empty brace groups, which are invisible in LaTeX
// (what is left of \boxed{} or {}5).
func dropEmptyGroups(toks []token) []token {
	out := toks[:0]
	for _, t := range toks {
		if n := len(out); n > 0 && isOp(t, "}") && isOp(out[n-1], "{") {
			out = out[:n-1]
			continue
		}
		out = append(out, t)
	}
	return out
}

// stripUnits drops runs of unit tokens that follow a value and end an item
// (before a top-level comma or the end).
func stripUnits(toks []token) []token {
	out := make([]token, 0, len(toks))
	for i := 0; i < len(toks); {
		j := unitRunEnd(toks, i)
		if j > i && i > 0 && endsValue(out) && (j == len(toks) || isOp(toks[j], ",") || isOp(toks[j], "=")) {
			i = j
			continue
		}
		out = append(out, toks[i])
		i++
	}
	return out
}

// unitRunEnd returns the end of the run of unit tokens starting at i (i
// itself when there is none): unit words, powers of them (cm^2) and
// quotients (km/h written with unit words).
func unitRunEnd(toks []token, i int) int {
	j := i
	for j < len(toks) {
		t := toks[j]
		switch {
		case t.kind == tWord && (unitWords[strings.ToLower(t.text)] || t.fromText && textOnlyUnits[t.text]):
			j++
		case j > i && isOp(t, "^") && j+1 < len(toks) && toks[j+1].kind == tNum:
			j += 2
		case j > i && isOp(t, "^") && j+3 < len(toks) && isOp(toks[j+1], "{") && toks[j+2].kind == tNum && isOp(toks[j+3], "}"):
			j += 4
		case j > i && isOp(t, "/") && j+1 < len(toks) && toks[j+1].kind == tWord && (unitWords[strings.ToLower(toks[j+1].text)] || toks[j+1].fromText):
			j += 2
		case isOp(t, ".") && j > i:
			j++
		default:
			return j
		}
	}
	return j
}

// endsValue reports whether the tokens so far end with something a unit
// can follow: a number, a closing bracket or a percent sign.
func endsValue(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	return t.kind == tNum || t.kind == tOp && (t.text == ")" || t.text == "]" || t.text == "}" || t.text == `\}` || t.text == "%") ||
		t.kind == tCmd && (t.text == "pi" || t.text == "infty")
}

// isProse decides whether the tokens read as a prose answer ("Devon", "no
// solution", "True") rather than math: a word the math reader does not know
// that is long (4+ letters), or any unknown multi-letter word in an answer
// made only of words.
func isProse(toks []token) bool {
	onlyWords := true
	unknown := 0
	for _, t := range toks {
		switch t.kind {
		case tWord:
			w := t.text
			lw := strings.ToLower(w)
			if functionNames[lw] || knownWords[lw] || numberWords[lw] != "" {
				continue
			}
			if !isASCIIWord(w) {
				if utf8.RuneCountInString(w) > 1 {
					return true
				}
				continue // a single Greek or other letter is a variable
			}
			if len(w) >= 4 {
				return true
			}
			if len(w) >= 2 {
				unknown++
			}
		case tOp:
			switch t.text {
			case "(", ")", ".", ":", "'", "thinspace":
			default:
				onlyWords = false
			}
		default:
			onlyWords = false
		}
	}
	return unknown > 0 && onlyWords
}

// mathTokens applies the normalisations that only make sense for math:
// "or"/"and" separate items, "percent" is %, a spelled-out number is a
// number, and thousands separators are joined.
func mathTokens(toks []token) []token {
	if len(toks) == 1 && toks[0].kind == tWord {
		if n := numberWords[strings.ToLower(toks[0].text)]; n != "" {
			return []token{{kind: tNum, text: n}}
		}
	}
	toks = dropFunctionName(toks)
	for i := range toks {
		if toks[i].kind == tWord {
			switch strings.ToLower(toks[i].text) {
			case "or", "and":
				toks[i] = token{kind: tOp, text: ",", space: true}
			case "percent", "pct", "percentage":
				toks[i] = token{kind: tOp, text: "%", space: toks[i].space}
			}
		}
	}
	// A lone 0,ddd is a decimal comma (0,111 is 0.111): a leading group of
	// 0 is never a thousands group.
	if len(toks) == 3 && toks[0].kind == tNum && toks[0].text == "0" && isOp(toks[1], ",") &&
		!toks[1].space && !toks[2].space && toks[2].kind == tNum && allDigits(toks[2].text) {
		return []token{{kind: tNum, text: "0." + toks[2].text, space: toks[0].space}}
	}
	return joinThousands(joinDigits(toks))
}

// dropFunctionName removes a leading "f(x) =" (one letter, a parenthesised
// argument list, an equals sign): the answer is the right-hand side.
func dropFunctionName(toks []token) []token {
	if len(toks) < 5 || toks[0].kind != tWord || len(toks[0].text) != 1 || !isOp(toks[1], "(") {
		return toks
	}
	for i := 2; i < len(toks); i++ {
		if t := toks[i]; t.kind == tOp && t.text != "," {
			if t.text == ")" && i+2 < len(toks) && isOp(toks[i+1], "=") {
				return toks[i+2:]
			}
			return toks
		}
	}
	return toks
}

// joinDigits joins a number and a digit run that follows it with no space
// between, which happens only when a command such as \! separated them.
func joinDigits(toks []token) []token {
	out := toks[:0]
	for _, t := range toks {
		if n := len(out); n > 0 && t.kind == tNum && !t.space && allDigits(t.text) &&
			out[n-1].kind == tNum && !strings.ContainsAny(out[n-1].text, "eE") {
			out[n-1].text += t.text
			continue
		}
		out = append(out, t)
	}
	return out
}

// joinThousands merges digit groups separated by thousands separators into
// one number: 1{,}000 and 1\,000 anywhere, and 1,000 or 12,345,678 when the
// commas are unspaced, every group after the first has exactly three digits,
// and the number is not inside brackets (where (1,000) is a pair).
func joinThousands(toks []token) []token {
	out := make([]token, 0, len(toks))
	depth := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tOp {
			switch t.text {
			case "(", "[", `\{`:
				depth++
			case ")", "]", `\}`:
				depth--
			case "groupcomma":
				// 11,\!111: a comma marked as a digit-group separator.
				if len(out) > 0 && out[len(out)-1].kind == tNum && i+1 < len(toks) && isDigitGroup(toks[i+1]) {
					out[len(out)-1].text += toks[i+1].text
					i++
				} else {
					out = append(out, token{kind: tOp, text: ",", space: t.space})
				}
				continue
			case "thinspace":
				// 1\,000: join when a three-digit group follows a number.
				if len(out) > 0 && out[len(out)-1].kind == tNum && i+1 < len(toks) && isDigitGroup(toks[i+1]) {
					out[len(out)-1].text += toks[i+1].text
					i++
				} else if i+1 < len(toks) {
					toks[i+1].space = true
				}
				continue
			case "{":
				// 1{,}000
				if i+3 < len(toks) && isOp(toks[i+1], ",") && isOp(toks[i+2], "}") && len(out) > 0 &&
					out[len(out)-1].kind == tNum && isDigitGroup(toks[i+3]) {
					out[len(out)-1].text += toks[i+3].text
					i += 3
					continue
				}
			}
		}
		// 12 345 (a space, a no-break or thin space): groups of exactly
		// three digits after a lead group of one to three, read as one
		// number, as careful typesetting writes large numbers. A group
		// followed by / is the start of a fraction (2 345/678 is not).
		if t.kind == tNum && isLeadGroup(t) && (len(out) == 0 || out[len(out)-1].kind != tNum) {
			j := i
			for j+1 < len(toks) && toks[j+1].space && isDigitGroup(toks[j+1]) && !strings.Contains(toks[j].text, ".") &&
				!(j+2 < len(toks) && isOp(toks[j+2], "/")) {
				j++
			}
			if j > i {
				var b strings.Builder
				for k := i; k <= j; k++ {
					b.WriteString(toks[k].text)
				}
				t.text = b.String()
				out = append(out, t)
				i = j
				continue
			}
		}
		if t.kind == tNum && depth == 0 && isLeadGroup(t) && (len(out) == 0 || !isOp(out[len(out)-1], ",")) {
			j := i
			for j+2 < len(toks) && isOp(toks[j+1], ",") && !toks[j+1].space && !toks[j+2].space &&
				isDigitGroup(toks[j+2]) && !strings.Contains(toks[j].text, ".") {
				j += 2
			}
			maximal := !(j+2 < len(toks) && isOp(toks[j+1], ",") && !toks[j+1].space && !toks[j+2].space && toks[j+2].kind == tNum)
			if j > i && maximal {
				var b strings.Builder
				for k := i; k <= j; k += 2 {
					b.WriteString(toks[k].text)
				}
				t.text = b.String()
				out = append(out, t)
				i = j
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// isLeadGroup: the first group of a thousands-separated number, 1-3 digits.
func isLeadGroup(t token) bool {
	return t.kind == tNum && len(t.text) <= 3 && allDigits(t.text)
}

// isDigitGroup: a later group, exactly three digits, optionally with a
// decimal fraction (the last group of 1,234.5).
func isDigitGroup(t token) bool {
	if t.kind != tNum {
		return false
	}
	s := t.text
	if i := strings.IndexByte(s, '.'); i >= 0 {
		if !allDigits(s[i+1:]) {
			return false
		}
		s = s[:i]
	}
	return len(s) == 3 && allDigits(s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isASCIIWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return true
}

func isOp(t token, s string) bool  { return t.kind == tOp && t.text == s }
func isCmd(t token, s string) bool { return t.kind == tCmd && t.text == s }

// proseKey is the comparison key of a prose answer: its tokens lowercased
// with all spacing removed.
func proseKey(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind == tOp && t.text == "thinspace" {
			continue
		}
		if t.kind == tCmd {
			b.WriteByte('\\')
		}
		b.WriteString(strings.ToLower(t.text))
	}
	return b.String()
}
