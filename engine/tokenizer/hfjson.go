package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// hfFile is the part of a Hugging Face tokenizer.json that encoding and
// decoding depend on. Truncation, padding and the post-processor only
// matter for batch encoding with added BOS/EOS, which Encode leaves to the
// caller, so they are accepted and ignored.
type hfFile struct {
	AddedTokens  []hfAddedToken `json:"added_tokens"`
	Normalizer   *hfComponent   `json:"normalizer"`
	PreTokenizer *hfComponent   `json:"pre_tokenizer"`
	Decoder      *hfComponent   `json:"decoder"`
	Model        hfModel        `json:"model"`
}

type hfAddedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// hfComponent is one normalizer, pre-tokenizer or decoder, or a Sequence of
// them (the list sits under a key that depends on the kind).
type hfComponent struct {
	Type           string         `json:"type"`
	Normalizers    []*hfComponent `json:"normalizers"`
	Pretokenizers  []*hfComponent `json:"pretokenizers"`
	Decoders       []*hfComponent `json:"decoders"`
	Pattern        *hfPattern     `json:"pattern"`
	Behavior       string         `json:"behavior"`
	Invert         bool           `json:"invert"`
	AddPrefixSpace bool           `json:"add_prefix_space"`
	UseRegex       *bool          `json:"use_regex"`
}

type hfPattern struct {
	Regex  *string `json:"Regex"`
	String *string `json:"String"`
}

type hfModel struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   map[string]int  `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

func decodeFile(data []byte) (*hfFile, error) {
	var file hfFile
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("decoding tokenizer.json: %w", err)
	}
	if file.Model.Type == "" && file.Model.Vocab != nil {
		file.Model.Type = "BPE" // older files leave the type out
	}
	if file.Model.Type != "BPE" {
		return nil, fmt.Errorf("model type %q is not supported (only BPE)", file.Model.Type)
	}
	if len(file.Model.Vocab) == 0 {
		return nil, fmt.Errorf("model has an empty vocab")
	}
	return &file, nil
}

// mergePairs reads the merge list in either of its two layouts: strings
// "left right" (tokenizers before 0.20) or two-element arrays.
func (m *hfModel) mergePairs() ([][2]string, error) {
	raw := bytes.TrimSpace(m.Merges)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	// Try each layout whole before reading element by element, which is
	// several times slower on a 150,000-entry list.
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		// A short array leaves "" behind; no real token is empty.
		for i, p := range pairs {
			if p[0] == "" || p[1] == "" {
				return nil, fmt.Errorf("merge %d: want a pair of non-empty tokens", i)
			}
		}
		return pairs, nil
	}
	var joined []string
	if err := json.Unmarshal(raw, &joined); err == nil {
		pairs = make([][2]string, len(joined))
		for i, j := range joined {
			left, right, ok := strings.Cut(j, " ")
			if !ok || strings.Contains(right, " ") {
				return nil, fmt.Errorf("merge %d %q: want two tokens separated by one space", i, j)
			}
			pairs[i] = [2]string{left, right}
		}
		return pairs, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("merges: %w", err)
	}
	pairs = make([][2]string, len(elems))
	for i, elem := range elems {
		var joined string
		if err := json.Unmarshal(elem, &joined); err == nil {
			left, right, ok := strings.Cut(joined, " ")
			if !ok || strings.Contains(right, " ") {
				return nil, fmt.Errorf("merge %d %q: want two tokens separated by one space", i, joined)
			}
			pairs[i] = [2]string{left, right}
			continue
		}
		var pair []string
		if err := json.Unmarshal(elem, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("merge %d: want a string or a pair of strings", i)
		}
		pairs[i] = [2]string{pair[0], pair[1]}
	}
	return pairs, nil
}
