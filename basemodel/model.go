package basemodel

import (
	"context"
	"errors"
	"fmt"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
)

// Model is a base model with its tokenizer: what a trainer starts from.
type Model struct {
	Name      string
	Dir       string // where it was loaded from ("" for one made in memory)
	Engine    *engine.Model
	Tokenizer tokenizer.Tokenizer
	// Manifest says how the model was made; nil for a directory without one.
	Manifest *Manifest
}

// MaxNewTokens is the response budget of the base models: the longest
// correct response of the world (64 characters), its end-of-sequence token,
// and room for a model that runs on.
const MaxNewTokens = 80

// EncodePrompt returns the token IDs of a prompt, ready for Sample.
func (m *Model) EncodePrompt(prompt string) []int { return m.Tokenizer.Encode(prompt) }

// StopTokens are the tokens that end a response.
func (m *Model) StopTokens() []int { return m.Engine.Config().EOSTokenIDs }

// Response decodes generated tokens as the response text, without the
// stop token that ended them.
func (m *Model) Response(tokens []int) string {
	if n := len(tokens); n > 0 {
		for _, s := range m.StopTokens() {
			if tokens[n-1] == s {
				tokens = tokens[:n-1]
				break
			}
		}
	}
	return m.Tokenizer.Decode(tokens)
}

// sampleChunk bounds the sequences of one Sample call, which keeps the
// key/value cache to a few tens of MB.
const sampleChunk = 512

// Generate samples n responses for each prompt (prompt i's samples at
// i·n .. i·n+n-1) with the given temperature (0: greedy, and n is then
// best left at 1), at most maxNew tokens each. The result depends only on
// the model, the arguments and seed.
func (m *Model) Generate(ctx context.Context, prompts []string, n int, temperature float64, maxNew int, seed uint64) ([]string, []engine.Generation, error) {
	if n <= 0 {
		return nil, nil, fmt.Errorf("%d samples per prompt: must be positive", n)
	}
	if m.Engine == nil || m.Tokenizer == nil {
		return nil, nil, errors.New("model has no weights or no tokenizer")
	}
	ids := make([][]int, 0, len(prompts)*n)
	for _, p := range prompts {
		enc := m.EncodePrompt(p)
		for range n {
			ids = append(ids, enc)
		}
	}
	gens, err := m.Engine.SampleChunks(ctx, ids, engine.SampleOptions{
		MaxNewTokens: maxNew, Temperature: temperature, StopTokens: m.StopTokens(), Seed: seed,
	}, sampleChunk)
	if err != nil {
		return nil, nil, fmt.Errorf("sampling %s: %w", m.Name, err)
	}
	texts := make([]string, len(gens))
	for i := range gens {
		texts[i] = m.Response(gens[i].Tokens)
	}
	return texts, gens, nil
}
