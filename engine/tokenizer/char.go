package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/urlvr/urlvr/internal/atomicfile"

	"golang.org/x/text/unicode/norm"
)

// Special tokens of a character-level tokenizer, at IDs 0 to 3.
const (
	PadToken = "<pad>"
	BOSToken = "<bos>"
	EOSToken = "<eos>"
	UnkToken = "<unk>"
)

var charSpecials = []string{PadToken, BOSToken, EOSToken, UnkToken}

// CharOptions configures NewChar.
type CharOptions struct {
	// ByteFallback encodes a character outside the alphabet as the tokens
	// <0x00>..<0xFF> of its UTF-8 bytes, which adds 256 IDs but loses
	// nothing; without it such a character becomes <unk>.
	ByteFallback bool
	// Phrases are added tokens that are not special: each is matched whole
	// wherever it occurs in the text (leftmost first, longest first, before
	// the characters are looked up, as the Hugging Face library matches
	// added tokens) and decodes as its text. A world whose prompts repeat
	// long fixed passages (the Countdown instructions) spends one position
	// on each passage instead of one per character. Their IDs follow the
	// alphabet's, in the order given.
	Phrases []string
}

// Char is a character-level tokenizer: one ID per character of a fixed
// alphabet, after the special tokens <pad>, <bos>, <eos> and <unk>. Text is
// NFC-normalized first. It is stored as a tokenizer.json holding a BPE
// model with no merges, which the Hugging Face library reads to the same
// IDs. It is safe for concurrent use.
type Char struct {
	tokens       []string // ID to token text
	ids          map[string]int
	runeIDs      map[rune]int32
	asciiIDs     [utf8.RuneSelf]int32 // fast path for ASCII (-1 if absent)
	byteIDs      [256]int32           // <0xXX> tokens (-1 if absent)
	isAdded      []bool
	added        *addedMatcher
	addedList    []addedToken
	byteFallback bool
	normalize    bool
	unkID        int32 // -1 if absent
	roles        roleTable
}

// CorpusAlphabet returns the distinct characters of the NFC-normalized
// texts in code-point order, ready for NewChar.
func CorpusAlphabet(texts ...string) string {
	seen := map[rune]bool{}
	for _, t := range texts {
		for _, r := range norm.NFC.String(validUTF8(t)) {
			seen[r] = true
		}
	}
	runes := make([]rune, 0, len(seen))
	for r := range seen {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	return string(runes)
}

// NewChar builds a character-level tokenizer over the distinct characters
// of alphabet (in code-point order after the special tokens and, with
// ByteFallback, the 256 byte tokens).
func NewChar(alphabet string, opts CharOptions) (*Char, error) {
	if !utf8.ValidString(alphabet) {
		return nil, fmt.Errorf("alphabet is not valid UTF-8")
	}
	if CorpusAlphabet(alphabet) != sortedDistinct(alphabet) {
		return nil, fmt.Errorf("alphabet has characters that NFC normalization changes, which could never be encoded")
	}
	vocab := append([]string(nil), charSpecials...)
	if opts.ByteFallback {
		for b := 0; b < 256; b++ {
			vocab = append(vocab, byteFallbackToken(byte(b)))
		}
	}
	for _, r := range sortedDistinct(alphabet) {
		vocab = append(vocab, string(r))
	}
	added := make([]addedToken, len(charSpecials))
	for i, s := range charSpecials {
		added[i] = addedToken{content: s, id: i, special: true}
	}
	for i, p := range opts.Phrases {
		switch {
		case !utf8.ValidString(p):
			return nil, fmt.Errorf("phrase %d is not valid UTF-8", i)
		case utf8.RuneCountInString(p) < 2:
			return nil, fmt.Errorf("phrase %d %q: a phrase token needs at least two characters (one is the alphabet's)", i, p)
		}
		added = append(added, addedToken{content: p, id: len(vocab)})
		vocab = append(vocab, p)
	}
	return newChar(vocab, added, opts.ByteFallback, true, 3)
}

func sortedDistinct(s string) string {
	seen := map[rune]bool{}
	var runes []rune
	for _, r := range s {
		if !seen[r] {
			seen[r] = true
			runes = append(runes, r)
		}
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	return string(runes)
}

// newChar assembles a Char from its vocabulary (index = ID; "" for unused
// IDs) and added tokens. unkID is -1 when there is no unknown token.
func newChar(vocab []string, added []addedToken, byteFallback, normalize bool, unkID int) (*Char, error) {
	c := &Char{
		tokens:       vocab,
		ids:          make(map[string]int, len(vocab)),
		runeIDs:      make(map[rune]int32),
		isAdded:      make([]bool, len(vocab)),
		addedList:    added,
		byteFallback: byteFallback,
		normalize:    normalize,
		unkID:        int32(unkID),
	}
	for i := range c.asciiIDs {
		c.asciiIDs[i] = -1
	}
	for i := range c.byteIDs {
		c.byteIDs[i] = -1
	}
	for _, a := range added {
		c.isAdded[a.id] = true
	}
	for id, tok := range vocab {
		if tok == "" {
			continue
		}
		if prev, dup := c.ids[tok]; dup {
			return nil, fmt.Errorf("token %q has two IDs, %d and %d", tok, prev, id)
		}
		c.ids[tok] = id
		if c.isAdded[id] {
			continue
		}
		if b, ok := parseByteFallback(tok); ok {
			c.byteIDs[b] = int32(id)
			continue
		}
		r, size := utf8.DecodeRuneInString(tok)
		if size != len(tok) || (r == utf8.RuneError && size == 1) {
			return nil, fmt.Errorf("token %d %q is not a single character", id, tok)
		}
		c.runeIDs[r] = int32(id)
		if r < utf8.RuneSelf {
			c.asciiIDs[r] = int32(id)
		}
	}
	c.added = newAddedMatcher(added)
	c.roles = guessRoles(c.ID)
	return c, nil
}

// Encode implements Tokenizer.
func (c *Char) Encode(text string) []int {
	text = validUTF8(text)
	ids := make([]int, 0, len(text))
	c.added.split(text, func(segment string, id int) {
		if id >= 0 {
			ids = append(ids, id)
			return
		}
		if c.normalize {
			segment = nfc(segment)
		}
		for i := 0; i < len(segment); {
			if b := segment[i]; b < utf8.RuneSelf && c.asciiIDs[b] >= 0 {
				ids = append(ids, int(c.asciiIDs[b]))
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(segment[i:])
			char := segment[i : i+size]
			i += size
			if id, ok := c.runeIDs[r]; ok {
				ids = append(ids, int(id))
				continue
			}
			if c.byteFallback && c.hasBytes(char) {
				for k := 0; k < len(char); k++ {
					ids = append(ids, int(c.byteIDs[char[k]]))
				}
				continue
			}
			if c.unkID >= 0 {
				ids = append(ids, int(c.unkID))
			}
		}
	})
	return ids
}

func (c *Char) hasBytes(char string) bool {
	for k := 0; k < len(char); k++ {
		if c.byteIDs[char[k]] < 0 {
			return false
		}
	}
	return true
}

// Decode implements Tokenizer.
func (c *Char) Decode(ids []int) string {
	var b strings.Builder
	var run []byte // pending byte tokens
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			b.Write(run)
		} else {
			// As the reference ByteFallback decoder: one U+FFFD per byte.
			b.WriteString(strings.Repeat("\uFFFD", len(run)))
		}
		run = run[:0]
	}
	for _, id := range ids {
		if id < 0 || id >= len(c.tokens) || c.tokens[id] == "" {
			continue
		}
		tok := c.tokens[id]
		if !c.isAdded[id] {
			if by, ok := parseByteFallback(tok); ok {
				run = append(run, by)
				continue
			}
		}
		flush()
		b.WriteString(tok)
	}
	flush()
	return b.String()
}

// VocabSize implements Tokenizer.
func (c *Char) VocabSize() int { return len(c.tokens) }

// Special implements Tokenizer.
func (c *Char) Special(role string) (int, bool) {
	id, ok := c.roles[role]
	return id, ok
}

// Token implements Tokenizer.
func (c *Char) Token(id int) (string, bool) {
	if id < 0 || id >= len(c.tokens) || c.tokens[id] == "" {
		return "", false
	}
	return c.tokens[id], true
}

// TokenBytes implements Tokenizer.
func (c *Char) TokenBytes(id int) ([]byte, bool) {
	tok, ok := c.Token(id)
	if !ok {
		return nil, false
	}
	if !c.isAdded[id] {
		if b, ok := parseByteFallback(tok); ok {
			return []byte{b}, true
		}
	}
	return []byte(tok), true
}

// IsAdded reports whether id is an added token, matched whole before the
// characters: a special token (<pad>, <bos>, <eos>, <unk>) or a phrase.
func (c *Char) IsAdded(id int) bool {
	return id >= 0 && id < len(c.isAdded) && c.isAdded[id]
}

// IsSpecial reports whether id is a special (control) token rather than
// text: true for <pad>, <bos>, <eos> and <unk>, false for characters and
// phrase tokens.
func (c *Char) IsSpecial(id int) bool {
	for _, a := range c.addedList {
		if a.id == id {
			return a.special
		}
	}
	return false
}

// Phrases returns the texts of the phrase tokens (added tokens that are not
// special), in ID order.
func (c *Char) Phrases() []string {
	var out []string
	for _, a := range c.addedList {
		if !a.special {
			out = append(out, a.content)
		}
	}
	return out
}

// ID implements Tokenizer.
func (c *Char) ID(token string) (int, bool) {
	id, ok := c.ids[token]
	return id, ok
}

// MarshalJSON writes the tokenizer as a Hugging Face tokenizer.json.
func (c *Char) MarshalJSON() ([]byte, error) {
	type addedJSON struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	type typed struct {
		Type string `json:"type"`
	}
	added := make([]addedJSON, len(c.addedList))
	for i, a := range c.addedList {
		added[i] = addedJSON{ID: a.id, Content: a.content, Special: a.special}
	}
	var normalizer any
	if c.normalize {
		normalizer = typed{Type: "NFC"}
	}
	var decoder any = typed{Type: "Fuse"}
	if c.byteFallback {
		decoder = struct {
			Type     string  `json:"type"`
			Decoders []typed `json:"decoders"`
		}{"Sequence", []typed{{"ByteFallback"}, {"Fuse"}}}
	}
	var unk *string
	if c.unkID >= 0 {
		unk = &c.tokens[c.unkID]
	}
	file := struct {
		Version       string      `json:"version"`
		Truncation    any         `json:"truncation"`
		Padding       any         `json:"padding"`
		AddedTokens   []addedJSON `json:"added_tokens"`
		Normalizer    any         `json:"normalizer"`
		PreTokenizer  any         `json:"pre_tokenizer"`
		PostProcessor any         `json:"post_processor"`
		Decoder       any         `json:"decoder"`
		Model         any         `json:"model"`
	}{
		Version:     "1.0",
		AddedTokens: added,
		Normalizer:  normalizer,
		Decoder:     decoder,
		Model: struct {
			Type                    string       `json:"type"`
			Dropout                 any          `json:"dropout"`
			UnkToken                *string      `json:"unk_token"`
			ContinuingSubwordPrefix any          `json:"continuing_subword_prefix"`
			EndOfWordSuffix         any          `json:"end_of_word_suffix"`
			FuseUnk                 bool         `json:"fuse_unk"`
			ByteFallback            bool         `json:"byte_fallback"`
			IgnoreMerges            bool         `json:"ignore_merges"`
			Vocab                   orderedVocab `json:"vocab"`
			Merges                  []string     `json:"merges"`
		}{Type: "BPE", UnkToken: unk, ByteFallback: c.byteFallback, Vocab: orderedVocab(c.tokens), Merges: []string{}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(file); err != nil {
		return nil, fmt.Errorf("encoding tokenizer.json: %w", err)
	}
	return buf.Bytes(), nil
}

// orderedVocab writes a vocabulary as a JSON object in ID order, so the
// file reads top to bottom like the alphabet.
type orderedVocab []string

func (v orderedVocab) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for id, tok := range v {
		if tok == "" {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		key, err := marshalNoEscape(tok)
		if err != nil {
			return nil, err
		}
		buf.Write(key)
		fmt.Fprintf(&buf, ":%d", id)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func marshalNoEscape(s string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Save writes the tokenizer.json to path atomically: a reader sees the old
// file or the new one, never a partial write.
func (c *Char) Save(path string) error {
	data, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("saving tokenizer: %w", err)
	}
	return nil
}

// isCharFile reports whether a tokenizer.json describes exactly what Char
// implements, so that reading it as a Char gives the IDs the generic BPE
// path would.
func isCharFile(f *hfFile) bool {
	m := &f.Model
	if !isEmptyList(m.Merges) || f.PreTokenizer != nil || m.FuseUnk || m.IgnoreMerges {
		return false
	}
	if (m.Dropout != nil && *m.Dropout > 0) ||
		(m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "") ||
		(m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "") {
		return false
	}
	if f.Normalizer != nil && f.Normalizer.Type != "NFC" {
		return false
	}
	switch {
	case f.Decoder == nil:
		return false
	case f.Decoder.Type == "Fuse":
	case f.Decoder.Type == "Sequence" && len(f.Decoder.Decoders) == 2 &&
		f.Decoder.Decoders[0] != nil && f.Decoder.Decoders[0].Type == "ByteFallback" &&
		f.Decoder.Decoders[1] != nil && f.Decoder.Decoders[1].Type == "Fuse":
	default:
		return false
	}
	addedIDs := map[int]bool{}
	for _, a := range f.AddedTokens {
		if a.SingleWord || a.Lstrip || a.Rstrip || (a.Normalized && f.Normalizer != nil) {
			return false
		}
		if tok, ok := idToken(m.Vocab, a.ID); ok && tok != a.Content {
			return false
		}
		addedIDs[a.ID] = true
	}
	for tok, id := range m.Vocab {
		if addedIDs[id] {
			continue
		}
		if _, ok := parseByteFallback(tok); ok {
			continue
		}
		r, size := utf8.DecodeRuneInString(tok)
		if size != len(tok) || size == 0 || (r == utf8.RuneError && size == 1) {
			return false
		}
	}
	return true
}

// isEmptyList reports whether raw JSON is absent, null or [].
func isEmptyList(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	return raw[0] == '[' && string(bytes.TrimSpace(raw[1:])) == "]"
}

func idToken(vocab map[string]int, id int) (string, bool) {
	for tok, i := range vocab {
		if i == id {
			return tok, true
		}
	}
	return "", false
}

func charFromFile(f *hfFile) (*Char, error) {
	maxID := -1
	for _, id := range f.Model.Vocab {
		maxID = max(maxID, id)
	}
	for _, a := range f.AddedTokens {
		maxID = max(maxID, a.ID)
	}
	if err := checkDenseIDs(maxID, len(f.Model.Vocab)+len(f.AddedTokens)); err != nil {
		return nil, err
	}
	vocab := make([]string, maxID+1)
	for tok, id := range f.Model.Vocab {
		if id < 0 {
			return nil, fmt.Errorf("vocab entry %q has negative ID %d", tok, id)
		}
		vocab[id] = tok
	}
	added := make([]addedToken, len(f.AddedTokens))
	for i, a := range f.AddedTokens {
		if a.ID < 0 {
			return nil, fmt.Errorf("added token %q has negative ID %d", a.Content, a.ID)
		}
		vocab[a.ID] = a.Content
		added[i] = addedToken{content: a.Content, id: a.ID, special: a.Special}
	}
	unkID := -1
	if u := f.Model.UnkToken; u != nil {
		id, ok := f.Model.Vocab[*u]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocab", *u)
		}
		unkID = id
	}
	return newChar(vocab, added, f.Model.ByteFallback, f.Normalizer != nil, unkID)
}
