package tokenizer

import (
	"fmt"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// gpt2Pattern is the split pattern a ByteLevel pre-tokenizer applies when
// its use_regex option is on.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// preTokenizer cuts normalized text into the pieces that BPE encodes one at
// a time; no merge crosses a piece boundary.
type preTokenizer struct {
	splits []*regexSplit
	// byteLevel is set when a ByteLevel step maps each piece's bytes to the
	// byte-level alphabet before the model sees it.
	byteLevel bool
	// prefixSpace prepends a space to every piece that lacks one (the
	// ByteLevel add_prefix_space option).
	prefixSpace bool
}

func buildPreTokenizer(c *hfComponent) (*preTokenizer, error) {
	p := &preTokenizer{}
	if c == nil {
		return p, nil
	}
	if err := p.add(c); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *preTokenizer) add(c *hfComponent) error {
	if p.byteLevel {
		// Later steps would see byte-level characters, not text.
		return fmt.Errorf("pre-tokenizer %q after ByteLevel is not supported", c.Type)
	}
	switch c.Type {
	case "Sequence":
		for i, sub := range c.Pretokenizers {
			if sub == nil {
				return fmt.Errorf("pre-tokenizer %d of sequence is null", i)
			}
			if err := p.add(sub); err != nil {
				return fmt.Errorf("pre-tokenizer %d of sequence: %w", i, err)
			}
		}
		return nil
	case "Split":
		split, err := newRegexSplit(c)
		if err != nil {
			return err
		}
		p.splits = append(p.splits, split)
		return nil
	case "ByteLevel":
		if p.prefixSpace = c.AddPrefixSpace; p.prefixSpace && len(p.splits) > 0 {
			return fmt.Errorf("ByteLevel add_prefix_space after a Split is not supported")
		}
		if c.UseRegex == nil || *c.UseRegex {
			split, err := compileSplit(gpt2Pattern, "Isolated")
			if err != nil {
				return err
			}
			p.splits = append(p.splits, split)
		}
		p.byteLevel = true
		return nil
	default:
		return fmt.Errorf("pre-tokenizer type %q is not supported", c.Type)
	}
}

// pieces calls emit with each piece of text in order. With prefixSpace the
// first piece may be a new string; all others are substrings of text.
func (p *preTokenizer) pieces(text string, emit func(string)) {
	if text == "" {
		return
	}
	if p.prefixSpace && text[0] != ' ' {
		text = " " + text
	}
	p.splitFrom(0, text, emit)
}

func (p *preTokenizer) splitFrom(step int, piece string, emit func(string)) {
	if step == len(p.splits) {
		emit(piece)
		return
	}
	p.splits[step].split(piece, func(sub string) { p.splitFrom(step+1, sub, emit) })
}

type splitBehavior int

const (
	isolated           splitBehavior = iota // each match and each gap is a piece
	removed                                 // gaps are pieces, matches dropped
	mergedWithPrevious                      // each match ends the piece before it
	mergedWithNext                          // each match starts the piece after it
	contiguous                              // runs of adjacent matches form one piece
)

var splitBehaviors = map[string]splitBehavior{
	"Isolated":           isolated,
	"Removed":            removed,
	"MergedWithPrevious": mergedWithPrevious,
	"MergedWithNext":     mergedWithNext,
	"Contiguous":         contiguous,
}

// regexSplit is a Split pre-tokenizer. Its pattern is compiled with
// regexp2 because the split patterns of Qwen and Llama-3 use lookahead
// ("\s+(?!\S)"), which Go's regexp lacks; regexp2's \s, \p{L} and \p{N}
// follow Unicode like the Oniguruma engine of the reference library.
type regexSplit struct {
	pattern  *regexp2.Regexp
	behavior splitBehavior
	// scan, when set, finds the same matches as pattern without
	// backtracking; it is chosen for patterns known to be equivalent.
	scan matchScanner
}

// matchScanner returns the byte length of the match starting at the first
// position >= from, and that position; ok is false when none remains.
type matchScanner func(s string, from int) (start, end int, ok bool)

func newRegexSplit(c *hfComponent) (*regexSplit, error) {
	if c.Invert {
		return nil, fmt.Errorf("Split with invert=true is not supported")
	}
	if c.Pattern == nil {
		return nil, fmt.Errorf("Split without a pattern")
	}
	var expr string
	switch {
	case c.Pattern.Regex != nil:
		expr = *c.Pattern.Regex
	case c.Pattern.String != nil:
		expr = regexp2.Escape(*c.Pattern.String)
	default:
		return nil, fmt.Errorf("Split pattern has neither Regex nor String")
	}
	return compileSplit(expr, c.Behavior)
}

func compileSplit(expr, behavior string) (*regexSplit, error) {
	b, ok := splitBehaviors[behavior]
	if !ok {
		return nil, fmt.Errorf("Split behavior %q is not supported", behavior)
	}
	re, err := regexp2.Compile(expr, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("compiling split pattern %q: %w", expr, err)
	}
	return &regexSplit{pattern: re, behavior: b, scan: knownScanner(expr)}, nil
}

// eachMatch calls fn with the byte offsets [start, end) of the successive
// non-empty matches of the pattern in s (valid UTF-8).
func (r *regexSplit) eachMatch(s string, fn func(start, end int)) {
	if r.scan != nil {
		for from := 0; from < len(s); {
			start, end, ok := r.scan(s, from)
			if !ok {
				break
			}
			fn(start, end)
			from = end
		}
		return
	}
	// regexp2 reports offsets in runes; walk the string alongside to turn
	// them into byte offsets.
	runePos, bytePos := 0, 0
	toByte := func(runeIdx int) int {
		for runePos < runeIdx {
			_, size := utf8.DecodeRuneInString(s[bytePos:])
			bytePos += size
			runePos++
		}
		return bytePos
	}
	m, err := r.pattern.FindStringMatch(s)
	for err == nil && m != nil {
		if m.Length > 0 {
			start := toByte(m.Index)
			fn(start, toByte(m.Index+m.Length))
		}
		m, err = r.pattern.FindNextMatch(m)
	}
	// err is only ever a match timeout, and no timeout is set.
}

// regexpMatches lists the matches of the regexp2 pattern, bypassing any
// scanner (tests and benchmarks compare the two).
func (r *regexSplit) regexpMatches(s string) [][2]int {
	plain := &regexSplit{pattern: r.pattern}
	return plain.collect(s)
}

// scanMatches lists the matches of the scanner.
func (r *regexSplit) scanMatches(s string) [][2]int {
	return r.collect(s)
}

func (r *regexSplit) collect(s string) [][2]int {
	var out [][2]int
	r.eachMatch(s, func(start, end int) { out = append(out, [2]int{start, end}) })
	return out
}

// split emits the pieces of s according to the behavior, skipping empty
// ones.
func (r *regexSplit) split(s string, emit func(string)) {
	put := func(piece string) {
		if piece != "" {
			emit(piece)
		}
	}
	prev := 0                  // start of the text not yet emitted
	runStart, runEnd := -1, -1 // pending run of adjacent matches (contiguous)
	r.eachMatch(s, func(start, end int) {
		switch r.behavior {
		case isolated:
			put(s[prev:start])
			put(s[start:end])
			prev = end
		case removed:
			put(s[prev:start])
			prev = end
		case mergedWithPrevious:
			put(s[prev:end])
			prev = end
		case mergedWithNext:
			put(s[prev:start])
			prev = start
		case contiguous:
			if runStart >= 0 && start == runEnd {
				runEnd = end
				return
			}
			if runStart >= 0 {
				put(s[prev:runStart])
				put(s[runStart:runEnd])
				prev = runEnd
			}
			runStart, runEnd = start, end
		}
	})
	if runStart >= 0 {
		put(s[prev:runStart])
		put(s[runStart:runEnd])
		prev = runEnd
	}
	put(s[prev:])
}
