package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCharHandComputed(t *testing.T) {
	// Sorted alphabet: '+' 4, 'a' 5, 'b' 6.
	tok, err := NewChar("ba+a", CharOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want []int
	}{
		{"a+b", []int{5, 4, 6}},
		{"a?b", []int{5, 3, 6}},
		{"<bos>ab<eos>", []int{1, 5, 6, 2}},
		{"<pad><pad>", []int{0, 0}},
		{"<bo", []int{3, 6, 3}},
		{"é", []int{3}},
		{"", []int{}},
	}
	for _, tc := range tests {
		if got := tok.Encode(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := tok.Decode([]int{1, 5, 4, 6, 3, 2, 99}); got != "<bos>a+b<unk><eos>" {
		t.Errorf("Decode = %q", got)
	}
	for role, want := range map[string]int{RolePad: 0, RoleBOS: 1, RoleEOS: 2, RoleUnk: 3} {
		if got, ok := tok.Special(role); !ok || got != want {
			t.Errorf("Special(%q) = %d, %v; want %d", role, got, ok, want)
		}
	}
	if got := tok.VocabSize(); got != 7 {
		t.Errorf("VocabSize = %d, want 7", got)
	}
	if got, _ := tok.Token(4); got != "+" {
		t.Errorf("Token(4) = %q", got)
	}
	if id, _ := tok.ID("b"); id != 6 {
		t.Errorf("ID(b) = %d", id)
	}
}

func TestCharByteFallback(t *testing.T) {
	tok, err := NewChar("ab", CharOptions{ByteFallback: true})
	if err != nil {
		t.Fatal(err)
	}
	// IDs 4..259 are bytes 0x00..0xFF, then 'a' 260 and 'b' 261.
	got := tok.Encode("aéb")
	want := []int{260, 4 + 0xC3, 4 + 0xA9, 261}
	if !slices.Equal(got, want) {
		t.Fatalf("Encode = %v, want %v", got, want)
	}
	if s := tok.Decode(got); s != "aéb" {
		t.Errorf("Decode = %q", s)
	}
	// A lone lead byte: one U+FFFD per byte of the broken run.
	if s := tok.Decode([]int{260, 4 + 0xC3, 4 + 0xC3, 261}); s != "a\uFFFD\uFFFDb" {
		t.Errorf("Decode of broken bytes = %q", s)
	}
	if b, _ := tok.TokenBytes(4 + 0xC3); len(b) != 1 || b[0] != 0xC3 {
		t.Errorf("TokenBytes = %v", b)
	}
	if got := tok.VocabSize(); got != 262 {
		t.Errorf("VocabSize = %d, want 262", got)
	}
}

func TestCharNormalizesToNFC(t *testing.T) {
	tok, err := NewChar(CorpusAlphabet("café"), CharOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("cafe\u0301"), tok.Encode("café"); !slices.Equal(got, want) {
		t.Errorf("decomposed %v, composed %v", got, want)
	}
	if _, err := NewChar("\u212b", CharOptions{}); err == nil {
		t.Error("NewChar accepted ANGSTROM SIGN, which NFC rewrites")
	}
	if _, err := NewChar("a\xff", CharOptions{}); err == nil {
		t.Error("NewChar accepted invalid UTF-8")
	}
}

// arithmeticCorpus is text of the synthetic arithmetic world.
var arithmeticCorpus = []string{
	"Compute (12 + 7) * 3 - 4 / 2.\nWe have 12 + 7 = 19, then 19 * 3 = 57, and 4 / 2 = 2, so 57 - 2 = 55.\nThe answer is \\boxed{55}.",
	"What is 1,024 / 8? It is 128. The answer is \\boxed{128}.",
	"quiz: x = 3.5, y = -2; x * y = -7",
}

func TestCharSaveLoadRoundTrip(t *testing.T) {
	for _, opts := range []CharOptions{{}, {ByteFallback: true}} {
		tok, err := NewChar(CorpusAlphabet(arithmeticCorpus...), opts)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), FileName)
		if err := tok.Save(path); err != nil {
			t.Fatal(err)
		}
		loaded, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		char, ok := loaded.(*Char)
		if !ok {
			t.Fatalf("Load gave %T, want *Char", loaded)
		}
		data, _ := os.ReadFile(path)
		generic, err := ParseBPE(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range append(referenceCases(), arithmeticCorpus...) {
			want := tok.Encode(s)
			if got := char.Encode(s); !slices.Equal(got, want) {
				t.Fatalf("%+v: reloaded Encode(%q) = %v, want %v", opts, s, got, want)
			}
			if got := generic.Encode(s); !slices.Equal(got, want) {
				t.Fatalf("%+v: generic BPE Encode(%q) = %v, want %v", opts, s, got, want)
			}
			if got, want := generic.Decode(want), tok.Decode(want); got != want {
				t.Fatalf("%+v: generic BPE Decode = %q, want %q", opts, got, want)
			}
		}
		again, _ := char.MarshalJSON()
		if string(again) != string(data) {
			t.Errorf("%+v: saving the loaded tokenizer changed the file", opts)
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Errorf("Save left %d files, want 1", len(entries))
		}
	}
}

func TestCharFileLayout(t *testing.T) {
	tok, err := NewChar("ab", CharOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	// The vocab is written in ID order.
	last := -1
	for _, entry := range []string{`"<pad>": 0`, `"<bos>": 1`, `"<eos>": 2`, `"<unk>": 3`, `"a": 4`, `"b": 5`} {
		at := strings.Index(string(data), entry)
		if at <= last {
			t.Fatalf("vocab entry %s missing or out of ID order:\n%s", entry, data)
		}
		last = at
	}
	var file hfFile
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if file.Model.Type != "BPE" || file.Decoder == nil || file.Decoder.Type != "Fuse" || file.Normalizer.Type != "NFC" || len(file.AddedTokens) != 4 {
		t.Errorf("unexpected layout:\n%s", data)
	}
}

func TestLoadDirRoles(t *testing.T) {
	dir := t.TempDir()
	tok, err := NewChar("ab", CharOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Save(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	cfg := `{"bos_token": null, "eos_token": {"content": "<pad>"}, "pad_token": "<unk>"}`
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := loaded.Special(RoleBOS); ok {
		t.Error("bos_token null should remove the role")
	}
	if id, _ := loaded.Special(RoleEOS); id != 0 {
		t.Errorf("eos = %d, want 0", id)
	}
	if id, _ := loaded.Special(RolePad); id != 3 {
		t.Errorf("pad = %d, want 3", id)
	}
	if id, _ := loaded.Special(RoleUnk); id != 3 {
		t.Errorf("unk = %d, want 3 (guessed from the name)", id)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFileName), []byte(`{"eos_token": "<nope>"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "<nope>") {
		t.Errorf("LoadDir with an unknown eos_token: err = %v", err)
	}
}
