package tokenizer

import "unicode/utf8"

// byteLevelAlphabet maps each byte value to the character that stands for it
// in byte-level BPE vocabularies (the GPT-2 convention): printable Latin-1
// characters stand for themselves, and the 68 others (control bytes, space,
// DEL, NBSP, soft hyphen) are moved to U+0100 onwards in byte order so that
// every vocabulary entry is visible text.
var byteLevelAlphabet, byteLevelInverse = buildByteLevelTables()

func buildByteLevelTables() ([256]rune, map[rune]byte) {
	var alphabet [256]rune
	inverse := make(map[rune]byte, 256)
	printable := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
	}
	next := rune(256)
	for b := 0; b < 256; b++ {
		if printable(b) {
			alphabet[b] = rune(b)
		} else {
			alphabet[b] = next
			next++
		}
		inverse[alphabet[b]] = byte(b)
	}
	return alphabet, inverse
}

// byteLevelString writes the bytes of s as byte-level characters.
func byteLevelString(s string) string {
	out := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = byteLevelAlphabet[s[i]]
	}
	return string(out)
}

// byteLevelBytes returns the bytes a token stands for in a byte-level
// vocabulary: its characters read through the byte-level alphabet, or its
// own UTF-8 bytes when one of them is outside it.
func byteLevelBytes(token string) []byte {
	return appendTokenBytes(make([]byte, 0, len(token)), token)
}

// lossyUTF8 converts b to a string, replacing each maximal ill-formed
// subsequence with one U+FFFD, as the Encoding Standard's decoder and Rust's
// String::from_utf8_lossy do. Go's own conversion would give one U+FFFD per
// bad byte, which disagrees with reference decoders on truncated sequences.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			out = append(out, b[i:i+size]...)
			i += size
			continue
		}
		out = utf8.AppendRune(out, utf8.RuneError)
		i += validPrefixLength(b[i:])
	}
	return string(out)
}

// validPrefixLength returns how many bytes at the start of b form the
// longest prefix of some well-formed UTF-8 sequence (at least 1), i.e. the
// length of the maximal ill-formed subsequence starting there.
func validPrefixLength(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // allowed range of the second byte
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 1
	case lead == 0xE0:
		need, lo = 2, 0xA0
	case lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF:
		need = 2
	case lead == 0xED:
		need, hi = 2, 0x9F
	case lead == 0xF0:
		need, lo = 3, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		need = 3
	case lead == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 1; k <= need && k < len(b); k++ {
		c := b[k]
		if k == 1 && (c < lo || c > hi) {
			break
		}
		if k > 1 && (c < 0x80 || c > 0xBF) {
			break
		}
		n++
	}
	return n
}
