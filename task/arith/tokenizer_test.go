package arith_test

import (
	"slices"
	"testing"

	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/task/arith"
)

// TestCharTokenizerCoversWorld: a character tokenizer built from Alphabet
// encodes every document of a corpus, one token per character, with no
// unknown token, and decodes it back.
func TestCharTokenizerCoversWorld(t *testing.T) {
	tok, err := tokenizer.NewChar(arith.Alphabet, tokenizer.CharOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() > 64 {
		t.Errorf("vocabulary of %d tokens", tok.VocabSize())
	}
	unk, _ := tok.ID(tokenizer.UnkToken)
	docs, err := arith.BuildCorpus(arith.CorpusConfig{Examples: 600, Seed: 2, Misconceptions: []arith.Rule{{Kind: arith.SignSlip, Rate: 0.5}, {Kind: arith.DropRemainder, Rate: 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		ids := tok.Encode(d.Text())
		if len(ids) != len(d.Text()) || slices.Contains(ids, unk) {
			t.Fatalf("%q encodes to %v", d.Text(), ids)
		}
		if back := tok.Decode(ids); back != d.Text() {
			t.Fatalf("%q decodes to %q", d.Text(), back)
		}
	}
}
