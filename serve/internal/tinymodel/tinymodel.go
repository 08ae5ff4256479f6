// Package tinymodel writes a tiny randomly initialised checkpoint (a
// one-layer Llama-layout model with a character tokenizer) for the serving
// tests: small enough to sample in milliseconds, real enough to go through
// the same loading, tokenising and sampling paths as a trained model.
package tinymodel

import (
	"path/filepath"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
)

// Alphabet is the tokenizer's characters: no newline, backslash or braces,
// so that whatever the model writes is one line without answer markup.
const Alphabet = " 0123456789abcdefghijklmnopqrstuvwxyz+-*=?:."

// Write saves the checkpoint (config.json, model.safetensors,
// tokenizer.json) into dir, its weights drawn from seed.
func Write(dir string, seed uint64) error {
	tok, err := tokenizer.NewChar(Alphabet, tokenizer.CharOptions{})
	if err != nil {
		return err
	}
	eos, _ := tok.Special(tokenizer.RoleEOS)
	cfg := engine.Config{
		ModelType: "llama", VocabSize: tok.VocabSize(), HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 1, NumHeads: 2, NumKVHeads: 2, HeadDim: 16, MaxPositions: 96,
		RMSNormEps: 1e-5, RopeTheta: 10000, TieWordEmbeddings: true, BOSTokenID: -1, EOSTokenIDs: []int{eos},
	}
	m, err := engine.New(cfg, seed)
	if err != nil {
		return err
	}
	if err := m.Save(dir); err != nil {
		return err
	}
	return tok.Save(filepath.Join(dir, tokenizer.FileName))
}
