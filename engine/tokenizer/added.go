package tokenizer

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// addedToken is a token matched in the text before any other processing,
// such as a chat-template marker.
type addedToken struct {
	content string
	id      int
	// singleWord only matches when no letter, digit or underscore touches
	// the match on either side.
	singleWord bool
	// lstrip and rstrip make the match swallow the whitespace on its left or
	// right.
	lstrip, rstrip bool
	// special marks a control token (<eos>, <pad>, a chat marker) as
	// opposed to a phrase token, which is ordinary text that happens to be
	// matched whole; a decoder told to skip special tokens keeps phrases.
	special bool
}

// addedMatcher finds added tokens in text, leftmost first and, among
// tokens starting at the same place, longest first.
type addedMatcher struct {
	// byFirstByte lists, for each first byte, the tokens that start with it,
	// longest first.
	byFirstByte [256][]addedToken
	empty       bool
}

func newAddedMatcher(tokens []addedToken) *addedMatcher {
	m := &addedMatcher{empty: true}
	for _, t := range tokens {
		if t.content == "" {
			continue
		}
		b := t.content[0]
		m.byFirstByte[b] = append(m.byFirstByte[b], t)
		m.empty = false
	}
	for b := range m.byFirstByte {
		list := m.byFirstByte[b]
		sort.SliceStable(list, func(i, j int) bool { return len(list[i].content) > len(list[j].content) })
	}
	return m
}

// split calls emit for each stretch of text in order: plain text with
// id = -1, or an added token's text (stripped whitespace included) with
// its ID. Empty stretches are skipped.
func (m *addedMatcher) split(text string, emit func(segment string, id int)) {
	if m == nil || m.empty {
		if text != "" {
			emit(text, -1)
		}
		return
	}
	plainFrom := 0 // start of the plain text not yet emitted
	for i := 0; i < len(text); i++ {
		candidates := m.byFirstByte[text[i]]
		if len(candidates) == 0 {
			continue
		}
		for _, t := range candidates {
			if len(text)-i < len(t.content) || text[i:i+len(t.content)] != t.content {
				continue
			}
			start, end := i, i+len(t.content)
			if t.singleWord && (endsWithWordChar(text[:start]) || startsWithWordChar(text[end:])) {
				// Like a non-overlapping search whose hit is then rejected:
				// the matched text stays plain and the search resumes after it.
				i = end - 1
				break
			}
			if t.lstrip {
				start = plainFrom + trailingSpaceStart(text[plainFrom:start])
			}
			if t.rstrip {
				end += leadingSpaceLength(text[end:])
			}
			if start > plainFrom {
				emit(text[plainFrom:start], -1)
			}
			emit(text[start:end], t.id)
			plainFrom = end
			i = end - 1
			break
		}
	}
	if plainFrom < len(text) {
		emit(text[plainFrom:], -1)
	}
}

func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || r == '_'
}

func endsWithWordChar(s string) bool {
	r, size := utf8.DecodeLastRuneInString(s)
	return size > 0 && isWordChar(r)
}

func startsWithWordChar(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return size > 0 && isWordChar(r)
}

// trailingSpaceStart returns the byte offset in s where its trailing run of
// whitespace begins (len(s) when there is none).
func trailingSpaceStart(s string) int {
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-size]
	}
	return len(s)
}

// leadingSpaceLength returns the byte length of s's leading whitespace.
func leadingSpaceLength(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !unicode.IsSpace(r) {
			break
		}
		n += size
	}
	return n
}
