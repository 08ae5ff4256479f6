package train

import (
	"encoding/json"
	"maps"

	"github.com/urlvr/urlvr/engine"
)

// SetSaveDType sets how the best checkpoint (checkpoints/best, the model a
// run hands on) stores its weights: F32 (the default), BF16 or F16, the
// dtype most Hub checkpoints ship in. Step checkpoints stay F32, because
// only they resume a run exactly.
func (t *Trainer) SetSaveDType(d engine.DType) { t.saveDType = d }

// checkpointFiles adds the tokenizer files of the policy to a checkpoint's
// extra files: tokenizer.json and Hugging Face's tokenizer_config.json, so a
// checkpoint is a model directory other tools open.
func (t *Trainer) checkpointFiles(extra map[string][]byte) (map[string][]byte, error) {
	files := maps.Clone(extra)
	if files == nil {
		files = map[string][]byte{}
	}
	files["tokenizer.json"] = t.tokenizerJSON
	cfg, err := t.tokenizerConfig()
	if err != nil {
		return nil, err
	}
	files["tokenizer_config.json"] = cfg
	return files, nil
}

// tokenizerConfig is tokenizer_config.json for the policy's tokenizer: its
// class and special tokens and the model's context length.
func (t *Trainer) tokenizerConfig() ([]byte, error) {
	tc := map[string]any{
		"tokenizer_class":              "PreTrainedTokenizerFast",
		"model_max_length":             t.policy.Engine.Config().MaxPositions,
		"clean_up_tokenization_spaces": false,
	}
	for _, role := range []string{"bos", "eos", "pad", "unk"} {
		if id, ok := t.policy.Tokenizer.Special(role); ok {
			if tok, ok := t.policy.Tokenizer.Token(id); ok {
				tc[role+"_token"] = tok
			}
		}
	}
	b, err := json.MarshalIndent(tc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
