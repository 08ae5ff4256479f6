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
	lower := asciiLower(response)
	at, phrase := -1, ""
	for _, p := range answerPhrases {
		if i := strings.LastIndex(lower, p); i >= 0 && i+len(p) > at+len(phrase) {
			at, phrase = i, p
		}
	}
	if at < 0 {
		return "", fmt.Errorf(`%w: no "the answer is" or "Answer:" in the response`, ErrNoAnswer)
	}
	rest := response[at+len(phrase):]
	rest = strings.TrimLeft(rest, " \t:")
	end := len(rest)
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		end = i
	}
	rest = rest[:end]
	// A sentence ends at ". " or a final "."; a decimal point is followed by
	// a digit and stays.
	for i := 0; i+1 < len(rest); i++ {
		if rest[i] == '.' && (rest[i+1] == ' ' || rest[i+1] == '\t') {
			rest = rest[:i]
			break
		}
	}
	rest = strings.TrimSpace(rest)
	rest = strings.TrimSuffix(rest, ".")
	rest = strings.TrimSpace(strings.ReplaceAll(rest, "$", ""))
	if rest == "" {
		return "", fmt.Errorf("%w answer after %q", ErrEmptyAnswer, phrase)
	}
	return rest, nil
}

// ExtractAnswer finds the answer in a free-form response: the last boxed
// answer, else the last <answer> tag, else the prose fallback. The error,
// when nothing is found, gives the reason from the boxed search, which is the
// format responses are asked for.
func ExtractAnswer(response string) (string, error) {
	a, err := ExtractBoxed(response)
	if err == nil || !isAbsent(err) {
		return a, err
	}
	if a, err2 := ExtractAnswerTag(response); err2 == nil {
		return a, nil
	}
	if a, err2 := ExtractAnswerPhrase(response); err2 == nil {
		return a, nil
	}
	return "", err
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
