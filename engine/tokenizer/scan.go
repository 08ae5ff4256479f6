package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// Split patterns with a hand-written scanner. Both are leftmost-first
// alternations in which some alternative matches at every position, so a
// scanner only has to pick the alternative and its length at each place:
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)   contraction
//	[^\r\n\p{L}\p{N}]?\p{L}+       word, with one leading non-letter
//	\p{N} or \p{N}{1,3}            digits, one or up to three at a time
//	 ?[^\s\p{L}\p{N}]+[\r\n]*      punctuation run, trailing newlines
//	\s*[\r\n]+                     whitespace through its last newline
//	\s+(?!\S)                      whitespace but the last character
//	\s+                            whitespace
const (
	qwen2Pattern  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	llama3Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// knownScanner returns a scanner equivalent to expr, or nil when expr is
// not one of the patterns above. TestScannerMatchesRegexp and
// FuzzScannerMatchesRegexp hold the two to the same matches.
func knownScanner(expr string) matchScanner {
	switch expr {
	case qwen2Pattern:
		return func(s string, from int) (int, int, bool) { return scanQwenLike(s, from, 1) }
	case llama3Pattern:
		return func(s string, from int) (int, int, bool) { return scanQwenLike(s, from, 3) }
	}
	return nil
}

// Character classes of the patterns, with the same Unicode tables that
// regexp2 uses: \p{L} is unicode.L, \p{N} is unicode.N, \s is
// unicode.IsSpace.
const (
	classLetter = 1 << iota
	classNumber
	classSpace
	classNewline // \r or \n (also classSpace)
)

var asciiClass = func() (table [utf8.RuneSelf]uint8) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		table[r] = runeClassSlow(r)
	}
	return table
}()

// bmpClass holds the class of every character below U+10000, built on
// first use (about 64 KiB) because CJK and other non-ASCII text would
// otherwise pay three table searches per character.
var (
	bmpClassOnce sync.Once
	bmpClass     []uint8
)

func buildBMPClass() {
	table := make([]uint8, 0x10000)
	for r := range table {
		table[r] = runeClassSlow(rune(r))
	}
	bmpClass = table
}

func runeClassSlow(r rune) uint8 {
	var c uint8
	if unicode.Is(unicode.L, r) {
		c |= classLetter
	}
	if unicode.Is(unicode.N, r) {
		c |= classNumber
	}
	if unicode.IsSpace(r) {
		c |= classSpace
	}
	if r == '\r' || r == '\n' {
		c |= classNewline
	}
	return c
}

func runeClass(r rune) uint8 {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	if r < 0x10000 {
		bmpClassOnce.Do(buildBMPClass)
		return bmpClass[r]
	}
	return runeClassSlow(r)
}

// classAt decodes the character at i; at the end of s it returns size 0.
func classAt(s string, i int) (class uint8, size int) {
	if i >= len(s) {
		return 0, 0
	}
	if b := s[i]; b < utf8.RuneSelf {
		return asciiClass[b], 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return runeClass(r), size
}

// runEnd returns the end of the run of characters from i whose class
// shares a bit with want (when match is true) or shares none (when false).
func runEnd(s string, i int, want uint8, match bool) int {
	for i < len(s) {
		c, size := classAt(s, i)
		if (c&want != 0) != match {
			break
		}
		i += size
	}
	return i
}

// isOther reports a character that is neither letter, number nor space.
func isOther(c uint8) bool { return c&(classLetter|classNumber|classSpace) == 0 }

// scanQwenLike finds the match at from (one always exists when from <
// len(s)); maxDigits is 1 for Qwen2 and 3 for Llama-3.
func scanQwenLike(s string, from, maxDigits int) (int, int, bool) {
	if from >= len(s) {
		return 0, 0, false
	}
	i := from
	c0, n0 := classAt(s, i)

	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if s[i] == '\'' && i+1 < len(s) {
		if n := contractionLength(s[i+1:]); n > 0 {
			return i, i + 1 + n, true
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c0&classLetter != 0 {
		return i, runEnd(s, i, classLetter, true), true
	}
	if c0&(classNewline|classNumber) == 0 {
		if c1, n1 := classAt(s, i+n0); n1 > 0 && c1&classLetter != 0 {
			return i, runEnd(s, i+n0, classLetter, true), true
		}
	}
	// \p{N} or \p{N}{1,3}
	if c0&classNumber != 0 {
		end := i
		for k := 0; k < maxDigits; k++ {
			c, size := classAt(s, end)
			if size == 0 || c&classNumber == 0 {
				break
			}
			end += size
		}
		return i, end, true
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	start := i
	if s[i] == ' ' {
		start = i + 1
	}
	if c, size := classAt(s, start); size > 0 && isOther(c) {
		end := runEnd(s, start, classLetter|classNumber|classSpace, false)
		for end < len(s) && (s[end] == '\r' || s[end] == '\n') {
			end++
		}
		return i, end, true
	}
	// Only whitespace is left: c0 has classSpace.
	wsEnd := runEnd(s, i, classSpace, true)
	// \s*[\r\n]+ : through the last newline of the whitespace run.
	for k := wsEnd - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return i, k + 1, true
		}
	}
	// \s+(?!\S) : all of it at the end of s, else all but its last char.
	if wsEnd == len(s) {
		return i, wsEnd, true
	}
	if _, lastSize := utf8.DecodeLastRuneInString(s[i:wsEnd]); wsEnd-lastSize > i {
		return i, wsEnd - lastSize, true
	}
	// \s+
	return i, wsEnd, true
}

// contractionLength returns the length of the contraction suffix at the
// start of s ("s", "T", "re", "LL", ...), or 0.
func contractionLength(s string) int {
	lower := func(b byte) byte { return b | 0x20 }
	switch lower(s[0]) {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if len(s) > 1 && lower(s[1]) == 'e' {
			return 2
		}
	case 'l':
		if len(s) > 1 && lower(s[1]) == 'l' {
			return 2
		}
	}
	return 0
}
