package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// decodeStep turns a sequence of tokens into text. Added tokens go
// through it like any other, as in the reference library.
type decodeStep func([]string) string

// chainStep is one decoder of a Hugging Face decoder sequence: it rewrites
// the token list, and the final list is concatenated.
type chainStep func([]string) []string

func buildDecoder(c *hfComponent) (decodeStep, error) {
	if c == nil {
		// Without a decoder the reference library joins tokens with spaces.
		return func(tokens []string) string { return strings.Join(tokens, " ") }, nil
	}
	steps, err := chainSteps(c)
	if err != nil {
		return nil, err
	}
	return func(tokens []string) string {
		for _, step := range steps {
			tokens = step(tokens)
		}
		return strings.Join(tokens, "")
	}, nil
}

func chainSteps(c *hfComponent) ([]chainStep, error) {
	switch c.Type {
	case "Sequence":
		var steps []chainStep
		for i, sub := range c.Decoders {
			if sub == nil {
				return nil, fmt.Errorf("decoder %d of sequence is null", i)
			}
			more, err := chainSteps(sub)
			if err != nil {
				return nil, fmt.Errorf("decoder %d of sequence: %w", i, err)
			}
			steps = append(steps, more...)
		}
		return steps, nil
	case "ByteLevel":
		return []chainStep{decodeByteLevel}, nil
	case "ByteFallback":
		return []chainStep{decodeByteFallback}, nil
	case "Fuse":
		return []chainStep{fuse}, nil
	default:
		return nil, fmt.Errorf("decoder type %q is not supported", c.Type)
	}
}

// decodeByteLevel maps byte-level characters back to bytes and reads them
// as UTF-8. A token with a character outside the byte-level alphabet (an
// added token such as "<|im_start|>" has none) contributes its own UTF-8
// bytes.
func decodeByteLevel(tokens []string) []string {
	var buf []byte
	for _, t := range tokens {
		buf = appendTokenBytes(buf, t)
	}
	return []string{lossyUTF8(buf)}
}

func appendTokenBytes(buf []byte, token string) []byte {
	start := len(buf)
	for _, r := range token {
		b, ok := byteLevelInverse[r]
		if !ok {
			return append(buf[:start], token...)
		}
		buf = append(buf, b)
	}
	return buf
}

// decodeByteFallback turns runs of "<0xXX>" tokens into text. A run that
// is not valid UTF-8 becomes one U+FFFD per byte, as in the reference
// library.
func decodeByteFallback(tokens []string) []string {
	var out []string
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			out = append(out, strings.Repeat("\uFFFD", len(run)))
		}
		run = run[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteFallback(t); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// fuse joins all tokens into one.
func fuse(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}
