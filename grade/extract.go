package grade

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoAnswer is wrapped by every extraction error: the response holds no
// usable answer. The wrapping error says why (no box at all, an unclosed
// box, an empty box, ...).
var ErrNoAnswer = errors.New("no answer")

// ErrEmptyAnswer is returned (wrapping ErrNoAnswer) when the answer markup is
// present but holds nothing, as in \boxed{} or <answer></answer>. Scorers that
// give a format score for a present-but-empty answer test for it with
// errors.Is.
var ErrEmptyAnswer = fmt.Errorf("%w: empty", ErrNoAnswer)

// ErrUnclosed is returned (wrapping ErrNoAnswer) when the last answer markup
// is opened but never closed, usually because the response was truncated.
var ErrUnclosed = fmt.Errorf("%w: unclosed", ErrNoAnswer)

// boxCommands are the LaTeX commands whose argument is taken as the answer.
var boxCommands = []string{`\boxed`, `\fbox`}

// boxSpan is one boxed answer found in a response: Content is the argument,
// Start the byte offset of the command, End the offset just after it.
type boxSpan struct {
	Content    string
	Start, End int
}

// ExtractBoxed returns the argument of the last \boxed{...} or \fbox{...} in
// response, with braces matched (escaped \{ and \} do not count). The
// argument may also be given without braces, as in "\boxed 5$", in which case
// it runs to the next $, line break, \] or \). A last box that is never
// closed (a truncated response) is an error rather than a reason to fall back
// to an earlier box, because an earlier box is usually an intermediate
// result.
func ExtractBoxed(response string) (string, error) {
	end := len(response)
	for end > 0 {
		start, cmd := lastBoxCommand(response[:end])
		if start < 0 {
			break
		}
		span, ok, err := boxAt(response, start, cmd)
		if err != nil {
			return "", err
		}
		if ok {
			if strings.TrimSpace(span.Content) == "" {
				return "", fmt.Errorf("%w %s{} at byte %d", ErrEmptyAnswer, cmd, start)
			}
			return strings.TrimSpace(span.Content), nil
		}
		end = start // a longer command such as \boxedanswer: keep looking left
	}
	return "", fmt.Errorf(`%w: no \boxed{} or \fbox{} in the response`, ErrNoAnswer)
}

// ExtractAllBoxed returns the arguments of every complete top-level
// \boxed{...} / \fbox{...} in response, in order. Boxes nested inside another
// box are part of the outer answer; unclosed and empty boxes are skipped.
func ExtractAllBoxed(response string) []string {
	var out []string
	pos := 0
	for pos < len(response) {
		start, cmd := firstBoxCommand(response, pos)
		if start < 0 {
			break
		}
		span, ok, err := boxAt(response, start, cmd)
		if err != nil {
			break // unclosed: nothing after it can be a complete top-level box
		}
		if !ok {
			pos = start + len(cmd)
			continue
		}
		if c := strings.TrimSpace(span.Content); c != "" {
			out = append(out, c)
		}
		pos = span.End
	}
	return out
}

// lastBoxCommand returns the offset and name of the last box command in s.
func lastBoxCommand(s string) (int, string) {
	best, name := -1, ""
	for _, c := range boxCommands {
		if i := strings.LastIndex(s, c); i > best {
			best, name = i, c
		}
	}
	return best, name
}

// firstBoxCommand returns the offset and name of the first box command in
// s at or after from.
func firstBoxCommand(s string, from int) (int, string) {
	best, name := -1, ""
	for _, c := range boxCommands {
		if i := strings.Index(s[from:], c); i >= 0 && (best < 0 || from+i < best) {
			best, name = from+i, c
		}
	}
	return best, name
}

// boxAt reads the box command cmd starting at offset start. ok is false when
// the command name continues with letters (\boxedfoo is another command). An
// unclosed brace is an error wrapping ErrNoAnswer.
func boxAt(s string, start int, cmd string) (span boxSpan, ok bool, err error) {
	i := start + len(cmd)
	if i < len(s) && isLetter(s[i]) {
		return boxSpan{}, false, nil
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '{' {
		close, found := matchBrace(s, i)
		if !found {
			return boxSpan{}, false, fmt.Errorf("%w %s{ at byte %d (truncated response?)", ErrUnclosed, cmd, start)
		}
		return boxSpan{Content: s[i+1 : close], Start: start, End: close + 1}, true, nil
	}
	// Brace-less form: "\boxed 5$". The argument runs to the end of the math.
	j := i
	for j < len(s) {
		c := s[j]
		if c == '$' || c == '\n' {
			break
		}
		if c == '\\' && j+1 < len(s) && (s[j+1] == ']' || s[j+1] == ')') {
			break
		}
		j++
	}
	return boxSpan{Content: s[i:j], Start: start, End: j}, true, nil
}

// matchBrace returns the offset of the '}' closing the '{' at open. A
// backslash escapes the next byte, so \{ and \} are literal braces and \\ is a
// line break that does not escape what follows.
func matchBrace(s string, open int) (int, bool) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i, true
			}
		}
	}
	return -1, false
}

const (
	answerOpen  = "<answer>"
	answerClose = "</answer>"
)

// ExtractAnswerTag returns the trimmed content of the last
// <answer>...</answer> in response, the format the Countdown task asks for.
// Tags pair as a non-greedy match would pair them, except that a nested
// opening tag starts the answer afresh: in "<answer>a<answer>b</answer>" the
// answer is "b". A later opening tag that is never closed does not hide an
// earlier complete answer. Empty content returns ErrEmptyAnswer.
func ExtractAnswerTag(response string) (string, error) {
	lastClose := strings.LastIndex(response, answerClose)
	if lastClose < 0 {
		if i := strings.LastIndex(response, answerOpen); i >= 0 {
			return "", fmt.Errorf("%w %s at byte %d (truncated response?)", ErrUnclosed, answerOpen, i)
		}
		return "", fmt.Errorf("%w: no %s...%s in the response", ErrNoAnswer, answerOpen, answerClose)
	}
	// The last opening tag before the last closing tag opens the last
	// answer; the first closing tag after it ends that answer.
	openAt := strings.LastIndex(response[:lastClose], answerOpen)
	if openAt < 0 {
		return "", fmt.Errorf("%w: %s at byte %d has no opening %s", ErrNoAnswer, answerClose, lastClose, answerOpen)
	}
	start := openAt + len(answerOpen)
	end := start + strings.Index(response[start:], answerClose)
	content := strings.TrimSpace(response[start:end])
	if content == "" {
		return "", fmt.Errorf("%w %s%s at byte %d", ErrEmptyAnswer, answerOpen, answerClose, openAt)
	}
	return content, nil
}

// answerPhrases introduce a final answer in plain prose, most specific first.
var answerPhrases = []string{
	"final answer is",
	"the answer is",
	"final answer:",
	"answer:",
}

// ExtractAnswerPhrase is the prose fallback: the text after the last "the
// answer is", "final answer is" or "Answer:" (any case), up to the end of its
// line or sentence, with $ signs and a trailing period removed.
func ExtractAnswerPhrase(response string) (string, error) {
	a, _, err := answerPhrase(response)
	return a, err
}

// answerPhrase is ExtractAnswerPhrase that also returns where the phrase
// starts.
func answerPhrase(response string) (string, int, error) {
	lower := asciiLower(response)
	at, phrase := -1, ""
	for _, p := range answerPhrases {
		if i := strings.LastIndex(lower, p); i >= 0 && i+len(p) > at+len(phrase) {
			at, phrase = i, p
		}
	}
	if at < 0 {
		return "", -1, fmt.Errorf(`%w: no "the answer is" or "Answer:" in the response`, ErrNoAnswer)
	}
	rest := response[at+len(phrase):]
	rest = strings.TrimLeft(rest, " \t:*")
	end := len(rest)
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		end = i
	}
	rest = rest[:end]
	// A sentence ends at ". " or a final "."; a decimal point is followed by
	// a digit and stays, and so does an ellipsis.
	for i := 0; i+1 < len(rest); i++ {
		if rest[i] == '.' && (rest[i+1] == ' ' || rest[i+1] == '\t') && (i == 0 || rest[i-1] != '.') {
			rest = rest[:i]
			break
		}
	}
	rest = strings.TrimSpace(rest)
	rest = strings.TrimSuffix(strings.TrimRight(rest, "*"), ".")
	if !strings.HasSuffix(rest, "..") {
		rest = strings.TrimSuffix(rest, ".")
	}
	rest = strings.TrimSpace(strings.ReplaceAll(rest, "$", ""))
	if rest == "" {
		return "", at, fmt.Errorf("%w answer after %q", ErrEmptyAnswer, phrase)
	}
	return rest, at, nil
}

// ExtractAnswer finds the answer in a free-form response with the lenient
// policy (see Grader.Extract), without the bare-answer fallback: the final
// run of boxes (or a final-answer statement after it), else the last
// <answer> tag, else a final-answer statement, else the last math span. The
// error, when nothing is found, gives the reason from the boxed search,
// which is the format responses are asked for.
func ExtractAnswer(response string) (string, error) {
	return extractWith(response, ExtractLenient, true)
}

// Extraction policies (Options.Extract).
const (
	// ExtractLenient (the default) reads, in order: the final run of
	// boxes, overridden by an explicit final-answer statement that follows
	// it; the last <answer> tag; a final-answer statement; the last math
	// span ($...$, \(...\), \[...\]); and a short one-line response as
	// the answer itself.
	ExtractLenient = "lenient"
	// ExtractStrict reads only explicit markup: the final run of boxes,
	// else the last <answer> tag.
	ExtractStrict = "strict"
)

// ParseExtract checks an extraction policy name; "" is ExtractLenient.
func ParseExtract(s string) (string, error) {
	switch s {
	case "", ExtractLenient:
		return ExtractLenient, nil
	case ExtractStrict:
		return ExtractStrict, nil
	}
	return "", fmt.Errorf("extraction policy %q: want %q or %q", s, ExtractLenient, ExtractStrict)
}

// extractWith applies an extraction policy; bare==false leaves out the
// bare-answer fallback.
func extractWith(response, policy string, noBare bool) (string, error) {
	run, boxErr := finalBoxRun(response)
	if boxErr == nil {
		if policy != ExtractStrict {
			// "... \boxed{255} ... The final answer is 10,455": the box
			// held an intermediate result.
			if tail := response[run.End:]; !containsFold(tail, "answer") {
				// nothing after the boxes states an answer
			} else if a, _, err := answerPhrase(tail); err == nil {
				if a = answerOfStatement(a); readsAsMath(a) {
					return a, nil
				}
			}
		}
		return run.Content, nil
	}
	if !isAbsent(boxErr) {
		return "", boxErr
	}
	if a, err := ExtractAnswerTag(response); err == nil {
		return a, nil
	}
	if policy == ExtractStrict {
		return "", boxErr
	}
	if a, _, err := answerPhrase(response); err == nil {
		return answerOfStatement(a), nil
	}
	if a, ok := closingStatement(response); ok {
		return a, nil
	}
	if a, ok := lastMathSpan(response); ok {
		return a, nil
	}
	bare := strings.TrimSpace(response)
	if !noBare && bare != "" && len(bare) <= maxBareAnswer && !strings.Contains(bare, "\n") {
		a := answerOfStatement(bare)
		if n, ok := onlyNumber(a); ok && strings.HasSuffix(bare, ".") && !readsAsMath(a) {
			return n, nil // "There are 8 ways in total."
		}
		if a != "" {
			return a, nil
		}
	}
	return "", boxErr
}

// finalBoxRun returns the last run of adjacent boxes, their contents joined
// into one list: "\boxed{(2,2)} and \boxed{(6,2)}" answers (2,2), (6,2).
// Boxes are adjacent when only spacing, punctuation (, ; &), "and", "or",
// math delimiters and one-letter labels (x =) separate them; a box after
// prose starts a new run.
// Errors are those of ExtractBoxed (no box, or an unclosed or empty last
// box).
func finalBoxRun(response string) (boxSpan, error) {
	last, err := ExtractBoxed(response)
	if err != nil {
		return boxSpan{}, err
	}
	if strings.Count(response, `\boxed`)+strings.Count(response, `\fbox`) < 2 {
		// One box: the one ExtractBoxed read (the common case, kept cheap).
		start, cmd := lastBoxCommand(response)
		span, _, _ := boxAt(response, start, cmd)
		return boxSpan{Content: last, Start: start, End: span.End}, nil
	}
	spans := boxSpans(response)
	if len(spans) == 0 {
		return boxSpan{Content: last, End: len(response)}, nil
	}
	i := len(spans) - 1
	for i > 0 && boxesAdjacent(response[spans[i-1].End:spans[i].Start]) {
		i--
	}
	run := spans[i:]
	if len(run) == 1 {
		return boxSpan{Content: strings.TrimSpace(run[0].Content), Start: run[0].Start, End: run[0].End}, nil
	}
	parts := make([]string, len(run))
	for k, s := range run {
		parts[k] = strings.TrimSpace(s.Content)
	}
	return boxSpan{Content: strings.Join(parts, ", "), Start: run[0].Start, End: run[len(run)-1].End}, nil
}

// looseBoxRun returns the contents of the final run of boxes linked by
// short connecting phrases ("\boxed{1}, then \boxed{2}, and \boxed{3}"):
// no sentence break, no blank line, and none of the words that retract or
// replace an answer.
func looseBoxRun(response string) []string {
	spans := boxSpans(response)
	if len(spans) < 2 {
		return nil
	}
	i := len(spans) - 1
	for i > 0 && looselyLinked(response[spans[i-1].End:spans[i].Start]) {
		i--
	}
	var out []string
	for _, s := range spans[i:] {
		out = append(out, strings.TrimSpace(s.Content))
	}
	return out
}

// retractions are words that make a later box replace an earlier one.
var retractions = []string{"answer", "wrong", "not", "no ", "incorrect", "instead", "actually", "wait", "but", "mistake", "correct", "final"}

func looselyLinked(gap string) bool {
	if len(gap) > 80 || strings.Contains(gap, ". ") || strings.Contains(gap, "\n\n") {
		return false
	}
	for _, w := range retractions {
		if containsFold(gap, w) {
			return false
		}
	}
	return true
}

// maxBoxes bounds how many boxes of one response are combined.
const maxBoxes = 64

// boxSpans returns the complete, non-empty top-level boxes of response in
// order (at most maxBoxes, the last ones).
func boxSpans(response string) []boxSpan {
	var out []boxSpan
	pos := 0
	for pos < len(response) {
		start, cmd := firstBoxCommand(response, pos)
		if start < 0 {
			break
		}
		span, ok, err := boxAt(response, start, cmd)
		if err != nil {
			break
		}
		if !ok {
			pos = start + len(cmd)
			continue
		}
		if strings.TrimSpace(span.Content) != "" {
			out = append(out, span)
			if len(out) > maxBoxes {
				out = out[1:]
			}
		}
		pos = span.End
	}
	return out
}

// boxSeparators may stand between two boxes of one answer.
var boxSeparators = strings.NewReplacer(
	`\text{`, " ", `\mbox{`, " ", "}", " ", `\quad`, " ", `\qquad`, " ", `\,`, " ", `\;`, " ",
	`\(`, " ", `\)`, " ", `\[`, " ", `\]`, " ", "$", " ", ",", " ", ";", " ", "&", " ", "~", " ", `\\`, " ",
)

func boxesAdjacent(gap string) bool {
	if len(gap) > 64 {
		return false
	}
	for _, w := range strings.Fields(boxSeparators.Replace(gap)) {
		lw := asciiLower(w)
		if lw == "and" || lw == "or" || lw == "=" {
			continue
		}
		// "$x=\boxed{-2}$ or $x=\boxed{5}$": a one-letter label.
		if l := strings.TrimSuffix(lw, "="); len(l) == 1 && isLetter(l[0]) {
			continue
		}
		return false
	}
	return true
}

// lastMathSpan returns the content of the last complete $...$, $$...$$,
// \(...\) or \[...\] in response.
func lastMathSpan(response string) (string, bool) {
	best, bestEnd := "", -1
	consider := func(content string, end int) {
		if end > bestEnd && strings.TrimSpace(content) != "" {
			best, bestEnd = strings.TrimSpace(content), end
		}
	}
	for _, d := range [][2]string{{`\(`, `\)`}, {`\[`, `\]`}} {
		if j := strings.LastIndex(response, d[1]); j >= 0 {
			if i := strings.LastIndex(response[:j], d[0]); i >= 0 {
				consider(response[i+len(d[0]):j], j+len(d[1]))
			}
		}
	}
	// Dollar spans pair from the start; \$ is a currency sign.
	open := -1
	for i := 0; i < len(response); i++ {
		switch response[i] {
		case '\\':
			i++
		case '$':
			width := 1
			if i+1 < len(response) && response[i+1] == '$' {
				width = 2
			}
			if open < 0 {
				open = i + width
			} else {
				consider(response[open:i], i+width)
				open = -1
			}
			i += width - 1
		}
	}
	return best, bestEnd >= 0
}

// statementVerbs end the subject of a final-answer sentence: in "the
// largest n is 34" the answer is what follows "is".
var statementVerbs = []string{" is ", " are ", " equals ", " be ", " was "}

// closingStatement reads the last sentence of a response as a statement of
// the answer when it has the form "<subject> is <math>": "Hence the
// smallest value of $k$ is -3." answers -3.
func closingStatement(response string) (string, bool) {
	s := strings.TrimSpace(response)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[i+1:])
	}
	if len(s) > 4*maxBareAnswer {
		return "", false
	}
	if !strings.HasSuffix(s, "...") {
		s = strings.TrimSuffix(s, ".")
	}
	if i := strings.LastIndex(s, ". "); i >= 0 {
		s = s[i+2:]
	}
	s = strings.ReplaceAll(s, "$", "")
	if readsAsMath(s) {
		return "", false // a formula, left to the math-span fallback
	}
	a := answerOfStatement(s)
	return a, a != strings.TrimSpace(s)
}

// onlyNumber returns the number of a one-sentence prose answer that holds
// exactly one number, not one that numbers a step or an item ("Step 1:").
func onlyNumber(s string) (string, bool) {
	if strings.Count(strings.TrimSuffix(s, "."), ". ") > 0 {
		return "", false
	}
	toks, err := lex(s)
	if err != nil {
		return "", false
	}
	found := ""
	for i, t := range toks {
		if t.kind != tNum {
			continue
		}
		if found != "" {
			return "", false
		}
		if i+1 < len(toks) && (isOp(toks[i+1], ":") || isOp(toks[i+1], ")")) {
			return "", false
		}
		found = t.text
		if i > 0 && isOp(toks[i-1], "-") && !t.space {
			found = "-" + found
		}
	}
	return found, found != "" && found != "."
}

// answerOfStatement reduces a sentence that states the answer to the
// answer: a math answer is kept as it is; prose is cut after its last "is"
// (are, equals, be) when what follows reads as math.
func answerOfStatement(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "$", ""))
	if len(s) > maxBareAnswer || readsAsMath(s) {
		return s
	}
	lower := asciiLower(s)
	for _, v := range statementVerbs {
		if i := strings.LastIndex(lower, v); i >= 0 {
			tail := strings.TrimSuffix(strings.TrimSpace(s[i+len(v):]), ".")
			if readsAsMath(tail) {
				return tail
			}
		}
	}
	return s
}

// readsAsMath reports whether an answer is math rather than prose.
func readsAsMath(s string) bool {
	if strings.TrimSpace(s) == "" || len(s) > maxAnswerBytes {
		return false
	}
	toks, err := lex(s)
	if err != nil {
		return false
	}
	toks = cleanTokens(toks)
	return len(toks) > 0 && !isProse(toks)
}

// isAbsent reports whether err means "no markup at all" rather than markup
// that is broken or empty.
func isAbsent(err error) bool {
	return errors.Is(err, ErrNoAnswer) && !errors.Is(err, ErrEmptyAnswer) && !errors.Is(err, ErrUnclosed)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// asciiLower lowercases ASCII letters only, so byte offsets are preserved.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
