package basemodel

import (
	"encoding/json"
	"fmt"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/task/arith"
)

// WriteRandom writes a randomly initialised model of the given shape, with
// the world's tokenizer, into dir: an untrained starting point that loads
// like any base model (OpenDir), for tests and for pretraining elsewhere.
func WriteRandom(dir string, shape arith.ModelShape, seed uint64) error {
	tok, err := NewTokenizer()
	if err != nil {
		return err
	}
	cfg, err := ModelConfig(shape, tok)
	if err != nil {
		return err
	}
	m, err := engine.New(cfg, seed)
	if err != nil {
		return err
	}
	tj, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("encoding the tokenizer: %w", err)
	}
	return engine.SaveCheckpoint(dir, engine.Checkpoint{Model: m, Files: map[string][]byte{"tokenizer.json": tj}})
}
