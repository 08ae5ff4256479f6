package arith

import "fmt"

// Alphabet holds every character a prompt or a response of this world can
// contain, in byte order: newline, space, ( ) * + - / the digits, : = ?,
// Q, backslash, the letters of \boxed, and braces. A character-level
// tokenizer built from it (plus its own special tokens) covers the world.
const Alphabet = "\n ()*+-/0123456789:=?Q\\bdeox{}"

// CheckAlphabet returns an error naming the first character of s that is
// not in Alphabet, and where it is.
func CheckAlphabet(s string) error {
	for i := 0; i < len(s); i++ {
		if !inAlphabet[s[i]] {
			return fmt.Errorf("character %q at offset %d is not in the arithmetic alphabet", s[i], i)
		}
	}
	return nil
}

var inAlphabet = func() (in [256]bool) {
	for i := 0; i < len(Alphabet); i++ {
		in[Alphabet[i]] = true
	}
	return in
}()
