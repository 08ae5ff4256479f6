package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Tokenizer converts between text and token IDs. Implementations are safe
// for concurrent use.
type Tokenizer interface {
	// Encode returns the token IDs of text. Added tokens written in the text
	// (such as "<|im_end|>" or "<eos>") become their own IDs; no BOS or EOS
	// is added, so callers place them with Special. Invalid UTF-8 bytes are
	// read as U+FFFD.
	Encode(text string) []int
	// Decode returns the text of ids, added tokens included. IDs outside the
	// vocabulary are skipped.
	Decode(ids []int) string
	// VocabSize is one more than the largest ID the tokenizer produces; a
	// model's embedding needs at least this many rows.
	VocabSize() int
	// Special returns the ID that plays a role: "bos", "eos", "pad" or "unk".
	Special(role string) (int, bool)
	// Token returns the vocabulary entry of id as written in tokenizer.json
	// (byte-level BPE entries spell a leading space as "Ġ").
	Token(id int) (string, bool)
	// TokenBytes returns the bytes of text that id stands for, which may be
	// part of a multi-byte character (log-prob output reports them).
	TokenBytes(id int) ([]byte, bool)
	// ID returns the ID of a vocabulary entry or added token, spelled as
	// Token spells it.
	ID(token string) (int, bool)
}

// Role names accepted by Tokenizer.Special.
const (
	RoleBOS = "bos"
	RoleEOS = "eos"
	RolePad = "pad"
	RoleUnk = "unk"
)

// FileName is the name a tokenizer takes in a checkpoint directory, as on
// the Hugging Face Hub.
const FileName = "tokenizer.json"

// ConfigFileName holds the role of each special token (bos_token,
// eos_token, pad_token, unk_token) beside FileName.
const ConfigFileName = "tokenizer_config.json"

// Load reads a tokenizer.json file. A BPE model without merges and without
// a pre-tokenizer is read as a character-level tokenizer (*Char); any other
// BPE model as a *BPE.
func Load(path string) (Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	tok, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tok, nil
}

// LoadDir reads dir/tokenizer.json and, when present, the special-token
// roles of dir/tokenizer_config.json, which take precedence over the roles
// guessed from token names.
func LoadDir(dir string) (Tokenizer, error) {
	tok, err := Load(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, ConfigFileName)
	data, err := os.ReadFile(cfgPath)
	if errors.Is(err, os.ErrNotExist) {
		return tok, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer config: %w", err)
	}
	roles, err := parseRoleConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	switch t := tok.(type) {
	case *BPE:
		err = t.roles.override(roles, t.ID)
	case *Char:
		err = t.roles.override(roles, t.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfgPath, err)
	}
	return tok, nil
}

// Parse reads the contents of a tokenizer.json file; see Load.
func Parse(data []byte) (Tokenizer, error) {
	file, err := decodeFile(data)
	if err != nil {
		return nil, err
	}
	if isCharFile(file) {
		return charFromFile(file)
	}
	return bpeFromFile(file)
}

// roleTable maps role names to token IDs.
type roleTable map[string]int

// conventionalRoleNames lists, per role, token spellings that conventionally
// play it, so that a tokenizer.json alone yields usable roles.
var conventionalRoleNames = map[string][]string{
	RoleBOS: {"<bos>", "<s>", "<|begin_of_text|>", "<|startoftext|>"},
	RoleEOS: {"<eos>", "</s>", "<|endoftext|>", "<|end_of_text|>"},
	RolePad: {"<pad>", "<|pad|>"},
	RoleUnk: {"<unk>", "<|unk|>"},
}

func guessRoles(lookup func(string) (int, bool)) roleTable {
	roles := roleTable{}
	for role, names := range conventionalRoleNames {
		for _, name := range names {
			if id, ok := lookup(name); ok {
				roles[role] = id
				break
			}
		}
	}
	return roles
}

// override sets the roles named in cfg; a role set to null in cfg is
// removed, and a token that is not in the vocabulary is an error.
func (r roleTable) override(cfg map[string]*string, lookup func(string) (int, bool)) error {
	for role, content := range cfg {
		if content == nil {
			delete(r, role)
			continue
		}
		id, ok := lookup(*content)
		if !ok {
			return fmt.Errorf("%s_token %q is not in the vocabulary", role, *content)
		}
		r[role] = id
	}
	return nil
}

// parseRoleConfig reads bos_token, eos_token, pad_token and unk_token from a
// tokenizer_config.json. Each may be a string, an AddedToken object with a
// "content" field, or null; absent keys are not returned.
func parseRoleConfig(data []byte) (map[string]*string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decoding JSON: %w", err)
	}
	out := map[string]*string{}
	for _, role := range []string{RoleBOS, RoleEOS, RolePad, RoleUnk} {
		field, ok := raw[role+"_token"]
		if !ok {
			continue
		}
		if bytes.Equal(bytes.TrimSpace(field), []byte("null")) {
			out[role] = nil
			continue
		}
		var s string
		if err := json.Unmarshal(field, &s); err == nil {
			out[role] = &s
			continue
		}
		var obj struct {
			Content *string `json:"content"`
		}
		if err := json.Unmarshal(field, &obj); err != nil || obj.Content == nil {
			return nil, fmt.Errorf("%s_token: want a string or an object with \"content\"", role)
		}
		out[role] = obj.Content
	}
	return out, nil
}
