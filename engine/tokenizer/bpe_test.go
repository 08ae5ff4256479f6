package tokenizer

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// tinyMerges are listed in rank order. "he" outranks "Ġh", so " hello"
// merges to "Ġ" + "hello" rather than through "Ġh".
var tinyMerges = [][2]string{
	{"l", "l"},    // 256 ll
	{"h", "e"},    // 257 he
	{"he", "ll"},  // 258 hell
	{"Ġ", "h"},    // 259 Ġh
	{"hell", "o"}, // 260 hello
	{"Ġh", "e"},   // 261 Ġhe
	{"a", "a"},    // 262 aa
	{"aa", "aa"},  // 263 aaaa
	{"Ġhe", "ll"}, // 264 Ġhell
}

// tinyBPEJSON builds a byte-level tokenizer.json whose IDs 0-255 are the
// bytes, 256-264 the merges above, 265 an entry no merge reaches, and 266
// an added token. (Added tokens follow the vocabulary without a gap: the
// reference library renumbers them otherwise.)
func tinyBPEJSON(t testing.TB, ignoreMerges, legacyMerges bool) []byte {
	t.Helper()
	vocab := map[string]int{}
	for b := 0; b < 256; b++ {
		vocab[string(byteLevelAlphabet[b])] = b
	}
	var merges []any
	for i, m := range tinyMerges {
		vocab[m[0]+m[1]] = 256 + i
		if legacyMerges {
			merges = append(merges, m[0]+" "+m[1])
		} else {
			merges = append(merges, []string{m[0], m[1]})
		}
	}
	vocab["Ġworld"] = 265
	file := map[string]any{
		"version":      "1.0",
		"added_tokens": []map[string]any{addedEntry(266, "<|end|>", true, "")},
		"normalizer":   map[string]any{"type": "NFC"},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": qwen2Pattern}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		}},
		"post_processor": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "fuse_unk": false, "byte_fallback": false,
			"ignore_merges": ignoreMerges, "vocab": vocab, "merges": merges,
		},
	}
	data, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func tinyBPE(t testing.TB) *BPE {
	t.Helper()
	tok, err := ParseBPE(tinyBPEJSON(t, false, false))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestBPEHandComputed(t *testing.T) {
	tok := tinyBPE(t)
	tests := []struct {
		in   string
		want []int
	}{
		{"hello", []int{260}},
		// Ġ h e l l o: ll, then he, then hell, then hello; "Ġh" (rank 3)
		// never sees an "h" alone.
		{" hello", []int{32, 260}},
		{"hello hello", []int{260, 32, 260}},
		// Equal ranks merge leftmost first: a a a a -> aa a a -> aa aa -> aaaa.
		{"aaaa", []int{263}},
		{"aaa", []int{262, 'a'}},
		{"aaaaa", []int{263, 'a'}},
		// No merge crosses a pre-token: "he" + "llo" are split by the regex
		// only at spaces, so "he llo" keeps "Ġ" before "llo".
		{"he llo", []int{257, 32, 256, 'o'}},
		// The added token is cut out before pre-tokenization.
		{"hello<|end|>hello", []int{260, 266, 260}},
		{"<|end|><|end|>", []int{266, 266}},
		{"<|end|", []int{'<', '|', 'e', 'n', 'd', '|'}},
		// NFC composes e + U+0301 into é (C3 A9).
		{"e\u0301", []int{0xC3, 0xA9}},
		// Without ignore_merges an entry no merge reaches is not produced.
		{" world", []int{32, 'w', 'o', 'r', 'l', 'd'}},
		{"", []int{}},
	}
	for _, tc := range tests {
		got := tok.Encode(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBPEIgnoreMergesAndLegacyMerges(t *testing.T) {
	tok, err := ParseBPE(tinyBPEJSON(t, true, true))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode(" world hello"), []int{265, 32, 260}; !slices.Equal(got, want) {
		t.Errorf("ignore_merges: Encode = %v, want %v", got, want)
	}
}

func TestBPEDecodeAndTokens(t *testing.T) {
	tok := tinyBPE(t)
	if got := tok.Decode([]int{260, 32, 260, 266}); got != "hello hello<|end|>" {
		t.Errorf("Decode = %q", got)
	}
	// A lone lead byte of a two-byte character decodes to one U+FFFD.
	if got := tok.Decode([]int{'a', 0xC3, 'b'}); got != "a\uFFFDb" {
		t.Errorf("Decode of a partial character = %q", got)
	}
	// IDs outside the vocabulary are skipped.
	if got := tok.Decode([]int{-1, 260, 267, 1 << 30}); got != "hello" {
		t.Errorf("Decode with unknown IDs = %q", got)
	}
	if got, _ := tok.Token(32); got != "Ġ" {
		t.Errorf("Token(32) = %q, want Ġ", got)
	}
	if got, _ := tok.TokenBytes(264); string(got) != " hell" {
		t.Errorf("TokenBytes(264) = %q, want \" hell\"", got)
	}
	if got, _ := tok.TokenBytes(266); string(got) != "<|end|>" {
		t.Errorf("TokenBytes(266) = %q", got)
	}
	if id, ok := tok.ID("hello"); !ok || id != 260 {
		t.Errorf("ID(hello) = %d, %v", id, ok)
	}
	if _, ok := tok.Token(267); ok {
		t.Error("Token(267) found an ID beyond the vocabulary")
	}
	if got := tok.VocabSize(); got != 267 {
		t.Errorf("VocabSize = %d, want 267", got)
	}
	if !tok.IsAdded(266) || tok.IsAdded(260) {
		t.Error("IsAdded is wrong")
	}
}

func TestBPEInvalidUTF8ReadsAsReplacement(t *testing.T) {
	tok := tinyBPE(t)
	// "\xff" is one ill-formed byte; "\xe4\xbd" the first two bytes of a
	// three-byte character, one maximal ill-formed subsequence. Each reads
	// as U+FFFD (EF BF BD).
	got := tok.Encode("a\xffb\xe4\xbdc")
	want := []int{'a', 0xEF, 0xBF, 0xBD, 'b', 0xEF, 0xBF, 0xBD, 'c'}
	if !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	good := string(tinyBPEJSON(t, false, false))
	tests := []struct {
		name, json, wantErr string
	}{
		{"not json", "{", "decoding tokenizer.json"},
		{"wordpiece", `{"model":{"type":"WordPiece","vocab":{"a":0}}}`, "only BPE"},
		{"empty vocab", `{"model":{"type":"BPE","vocab":{}}}`, "empty vocab"},
		{"merge outside vocab", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}}`, "missing from the vocab"},
		{"bad merge", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a"]}}`, "two tokens"},
		{"short merge pair", `{"model":{"type":"BPE","vocab":{"a":0},"merges":[["a"]]}}`, "non-empty"},
		{"mixed merge layouts", `{"model":{"type":"BPE","vocab":{"a":0,"aa":1},"merges":["a a",["a","a"],3]}}`, "want a string or a pair"},
		{"sparse ids", `{"model":{"type":"BPE","vocab":{"a":0,"b":100000},"merges":[]}}`, "nearly dense"},
		{"dropout", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"],"dropout":0.1}}`, "dropout"},
		{"unknown normalizer", `{"normalizer":{"type":"Lowercase"},"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"]}}`, "normalizer type"},
		{"unknown pre-tokenizer", `{"pre_tokenizer":{"type":"Metaspace"},"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"]}}`, "pre-tokenizer type"},
		{"bad regex", `{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"("},"behavior":"Isolated"},"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"]}}`, "compiling split pattern"},
		{"unknown decoder", `{"decoder":{"type":"WordPiece"},"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"]}}`, "decoder type"},
		{"unk not in vocab", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"],"unk_token":"<unk>"}}`, "unk_token"},
		{"shared id", `{"model":{"type":"BPE","vocab":{"a":0,"b":0},"merges":["a a"]}}`, "share ID"},
	}
	for _, tc := range tests {
		_, err := Parse([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.wantErr)
		}
	}
	if _, err := Parse([]byte(good)); err != nil {
		t.Errorf("good file: %v", err)
	}
}

func TestMergeHeapMatchesScan(t *testing.T) {
	tok := tinyBPE(t)
	inputs := []string{strings.Repeat("a", 101), strings.Repeat("hello", 40), strings.Repeat("hel", 33) + "lo"}
	for _, s := range inputs {
		symbols := tok.initialSymbols(s)
		viaScan := tok.merges.applyScan(slices.Clone(symbols))
		viaHeap := tok.merges.applyHeap(slices.Clone(symbols))
		if !slices.Equal(viaScan, viaHeap) {
			t.Errorf("%q: scan %v, heap %v", s, viaScan, viaHeap)
		}
	}
	// 101 a's: 25 × aaaa and one a.
	got := tok.merges.apply(tok.initialSymbols(strings.Repeat("a", 101)))
	if len(got) != 26 || got[0] != 263 || got[25] != 'a' {
		t.Errorf("101 a's merged to %v", got)
	}
}

func TestLossyUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"\xff", "\uFFFD"},
		{"\xff\xff", "\uFFFD\uFFFD"},
		{"\xe4\xbd", "\uFFFD"},                           // truncated three-byte sequence
		{"\xe4\xbdx", "\uFFFDx"},                         // ... followed by ASCII
		{"\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},           // surrogate: ED must be followed by 80-9F
		{"\xf0\x9f\x98", "\uFFFD"},                       // truncated emoji
		{"\xc0\xaf", "\uFFFD\uFFFD"},                     // overlong form
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"}, // above U+10FFFF
	}
	for _, tc := range tests {
		if got := lossyUTF8([]byte(tc.in)); got != tc.want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(lossyUTF8([]byte(tc.in))) {
			t.Errorf("lossyUTF8(%q) is not valid UTF-8", tc.in)
		}
	}
}

func TestByteLevelAlphabet(t *testing.T) {
	// Hand-checked corners of the GPT-2 byte-to-character table.
	for b, want := range map[byte]rune{'!': '!', '~': '~', 0x00: 0x100, ' ': 'Ġ', '\n': 'Ċ', 0x7F: 0x121, 0xAD: 0x143, 0xA1: 0xA1, 0xFF: 0xFF} {
		if got := byteLevelAlphabet[b]; got != want {
			t.Errorf("byte %#x -> %U, want %U", b, got, want)
		}
	}
	if len(byteLevelInverse) != 256 {
		t.Errorf("alphabet has %d distinct characters, want 256", len(byteLevelInverse))
	}
}

// addedEntry writes an added token with every field the reference library
// requires; flags lists the options to switch on ("lstrip", "rstrip",
// "single_word", "normalized").
func addedEntry(id int, content string, special bool, flags ...string) map[string]any {
	entry := map[string]any{"id": id, "content": content, "special": special,
		"single_word": false, "lstrip": false, "rstrip": false, "normalized": false}
	for _, f := range flags {
		if f != "" {
			entry[f] = true
		}
	}
	return entry
}
