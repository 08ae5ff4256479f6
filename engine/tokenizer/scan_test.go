package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// scannerPatterns are the patterns with a hand-written scanner.
var scannerPatterns = map[string]string{"qwen2": qwen2Pattern, "llama3": llama3Pattern}

// scannerAlphabet holds a character of every class the patterns tell
// apart, including look-alikes of the contraction letters.
var scannerAlphabet = []rune{
	'a', 'Z', 's', 'S', 't', 'r', 'e', 'v', 'm', 'l', 'L', 'd', 'ſ', 'K', 'İ', 'é', '中', 'ж',
	'0', '7', '½', '²', '٣', 'Ⅻ',
	' ', '\t', '\n', '\r', '\v', '\f', 0x85, 0xa0, 0x2009, 0x3000, 0x2028, 0xfeff, 0x200b,
	'\'', '"', '.', ',', '!', '-', '(', '$', '\\', '{', '😀', '\u0301', 0x00, 0x7f,
}

func randomScannerInput(rng *rand.Rand) string {
	var b strings.Builder
	n := rng.IntN(40)
	for i := 0; i < n; i++ {
		b.WriteRune(scannerAlphabet[rng.IntN(len(scannerAlphabet))])
	}
	return b.String()
}

func checkScanner(t *testing.T, name string, split *regexSplit, s string) {
	t.Helper()
	want := split.regexpMatches(s)
	got := split.scanMatches(s)
	if !slices.Equal(got, want) {
		t.Fatalf("%s on %q:\n scanner %v\n regexp2 %v", name, s, got, want)
	}
}

func TestScannerMatchesRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	inputs := referenceCases()
	for i := 0; i < 3000; i++ {
		inputs = append(inputs, randomScannerInput(rng))
	}
	for name, expr := range scannerPatterns {
		split, err := compileSplit(expr, "Isolated")
		if err != nil {
			t.Fatal(err)
		}
		if split.scan == nil {
			t.Fatalf("%s: no scanner chosen", name)
		}
		for _, s := range inputs {
			checkScanner(t, name, split, s)
		}
	}
}

// TestScannerHandComputed pins the splits of a few strings worked out by
// hand from the pattern, so that the scanner and regexp2 cannot agree on
// a wrong answer.
func TestScannerHandComputed(t *testing.T) {
	tests := []struct {
		pattern, in string
		want        []string
	}{
		{qwen2Pattern, "I'M here", []string{"I", "'M", " here"}},
		{qwen2Pattern, "don't", []string{"don", "'t"}},
		{qwen2Pattern, "'LLama 'Sup", []string{"'LL", "ama", " '", "Sup"}},
		{qwen2Pattern, "x  y", []string{"x", " ", " y"}},
		{qwen2Pattern, "x  \n\n y", []string{"x", "  \n\n", " y"}},
		{qwen2Pattern, "end   ", []string{"end", "   "}},
		{qwen2Pattern, "(a+b)!\n\nz", []string{"(a", "+b", ")!\n\n", "z"}},
		{qwen2Pattern, "12345", []string{"1", "2", "3", "4", "5"}},
		{llama3Pattern, "12345", []string{"123", "45"}},
		{qwen2Pattern, " 2024 ...", []string{" ", "2", "0", "2", "4", " ..."}},
		{qwen2Pattern, "\tword", []string{"\tword"}},
		{qwen2Pattern, "\nword", []string{"\n", "word"}},
		{qwen2Pattern, "你好 世界", []string{"你好", " 世界"}},
	}
	for _, tc := range tests {
		split, err := compileSplit(tc.pattern, "Isolated")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		split.split(tc.in, func(p string) { got = append(got, p) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("split(%q) = %q, want %q", tc.in, got, tc.want)
		}
		checkScanner(t, "hand", split, tc.in)
	}
}

func FuzzScannerMatchesRegexp(f *testing.F) {
	for _, s := range handWrittenCases[:40] {
		f.Add(s)
	}
	f.Add("it'ſ 'S 'LL x  \u0085 \ufeff\r\n")
	splits := map[string]*regexSplit{}
	for name, expr := range scannerPatterns {
		split, err := compileSplit(expr, "Isolated")
		if err != nil {
			f.Fatal(err)
		}
		splits[name] = split
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			s = validUTF8(s)
		}
		for name, split := range splits {
			checkScanner(t, name, split, s)
		}
	})
}
