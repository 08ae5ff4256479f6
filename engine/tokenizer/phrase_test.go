package tokenizer

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// phraseTokenizer has the alphabet "abc :" plus three phrases, one a
// prefix of another.
func phraseTokenizer(t *testing.T) *Char {
	t.Helper()
	tok, err := NewChar("abc :", CharOptions{Phrases: []string{"ab", "abc:", "User: "}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestCharPhrasesHandComputed(t *testing.T) {
	tok := phraseTokenizer(t)
	// IDs: 0-3 specials, 4 ' ', 5 ':', 6 'a', 7 'b', 8 'c', then the
	// phrases in order: 9 "ab", 10 "abc:", 11 "User: " (its letters U, s,
	// e, r are not in the alphabet, so only the phrase can write them).
	if tok.VocabSize() != 12 {
		t.Fatalf("vocab size %d, want 12", tok.VocabSize())
	}
	for _, c := range []struct {
		text string
		want []int
	}{
		{"abc:", []int{10}},              // the longest phrase at the leftmost place
		{"abc", []int{9, 8}},             // "abc:" does not match, "ab" does
		{"aabc: ab", []int{6, 10, 4, 9}}, // leftmost first
		{"User: ab", []int{11, 9}},
		{"User:", []int{3, 3, 3, 3, 5}}, // without its space the phrase is absent: unknown letters
		{"<eos>ab", []int{2, 9}},
	} {
		if got := tok.Encode(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tok.Decode([]int{11, 10, 2, 9}); got != "User: abc:<eos>ab" {
		t.Errorf("Decode = %q", got)
	}
	for id, want := range map[int]bool{0: true, 2: true, 3: true, 6: false, 9: false, 11: false} {
		if got := tok.IsSpecial(id); got != want {
			t.Errorf("IsSpecial(%d) = %v, want %v", id, got, want)
		}
	}
	if !tok.IsAdded(9) || tok.IsAdded(6) {
		t.Error("IsAdded: a phrase is an added token, a character is not")
	}
	if got := tok.Phrases(); !slices.Equal(got, []string{"ab", "abc:", "User: "}) {
		t.Errorf("Phrases() = %q", got)
	}
	if id, _ := tok.Special(RoleEOS); id != 2 {
		t.Errorf("eos is %d, want 2", id)
	}
}

func TestCharPhrasesRejected(t *testing.T) {
	for _, phrases := range [][]string{{"a"}, {""}, {"ab", "ab"}, {"\xff\xfe"}} {
		if _, err := NewChar("abc", CharOptions{Phrases: phrases}); err == nil {
			t.Errorf("phrases %q accepted", phrases)
		}
	}
}

// TestCharPhrasesFile checks the saved file: phrases are added tokens with
// "special": false (specials keep true), the file loads back as a Char to
// the same IDs, and the generic BPE reader agrees.
func TestCharPhrasesFile(t *testing.T) {
	tok := phraseTokenizer(t)
	path := filepath.Join(t.TempDir(), FileName)
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	data, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var file hfFile
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	special := map[string]bool{}
	for _, a := range file.AddedTokens {
		special[a.Content] = a.Special
		if a.Normalized || a.Lstrip || a.Rstrip || a.SingleWord {
			t.Errorf("added token %q has options set: %+v", a.Content, a)
		}
	}
	want := map[string]bool{"<pad>": true, "<bos>": true, "<eos>": true, "<unk>": true, "ab": false, "abc:": false, "User: ": false}
	if len(special) != len(want) {
		t.Fatalf("added tokens %v, want %v", special, want)
	}
	for k, v := range want {
		if special[k] != v {
			t.Errorf("added token %q special %v, want %v", k, special[k], v)
		}
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	char, ok := loaded.(*Char)
	if !ok {
		t.Fatalf("loaded as %T, want *Char", loaded)
	}
	generic, err := ParseBPE(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"abc:", "User: abc: ab", "aabc: ab", "c:ab ", "<eos>User: "} {
		want := tok.Encode(s)
		if got := char.Encode(s); !slices.Equal(got, want) {
			t.Errorf("reloaded Encode(%q) = %v, want %v", s, got, want)
		}
		if got := generic.Encode(s); !slices.Equal(got, want) {
			t.Errorf("generic Encode(%q) = %v, want %v", s, got, want)
		}
		if got := char.Decode(want); got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
	}
	if !char.IsSpecial(2) || char.IsSpecial(10) {
		t.Error("the reloaded tokenizer lost which added tokens are special")
	}
	again, _ := char.MarshalJSON()
	if string(again) != string(data) {
		t.Error("saving the reloaded tokenizer changed the file")
	}
	if !strings.Contains(string(data), `"special": false`) {
		t.Error("no phrase written as non-special")
	}
}
