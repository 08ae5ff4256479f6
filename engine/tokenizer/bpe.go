package tokenizer

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// BPE is a Hugging Face byte-pair-encoding tokenizer read from a
// tokenizer.json, such as those of Qwen2, Qwen3 and Llama-3. Encoding runs
// the file's pipeline: added tokens are cut out of the raw text, the rest
// is normalized (NFC for Qwen), split into pre-tokens by the split regex,
// mapped to the byte-level alphabet, and merged by rank. It is safe for
// concurrent use.
type BPE struct {
	vocab     map[string]int // model vocabulary and added tokens
	tokens    []string       // ID to vocabulary entry ("" for unused IDs)
	isAdded   []bool         // ID is an added token
	merges    mergeTable
	rawAdded  *addedMatcher // added tokens matched before normalization
	normAdded *addedMatcher // added tokens matched after it
	normalize normalizer
	pre       *preTokenizer
	decode    decodeStep

	// byteIDs[b] is the ID of byte b's byte-level character (-1 if absent).
	byteIDs [256]int32
	// runeIDs maps single-character vocabulary entries to IDs, for models
	// that are not byte-level.
	runeIDs map[rune]int32
	// byteFallbackIDs[b] is the ID of "<0xXX>" (-1 if absent).
	byteFallbackIDs [256]int32
	byteFallback    bool
	unkID           int32 // -1 without an unknown token
	fuseUnk         bool
	ignoreMerges    bool

	roles roleTable
	cache wordCache
}

// LoadBPE reads a tokenizer.json file as a *BPE, whatever its merges (Load
// reads a character-level file as the faster *Char).
func LoadBPE(path string) (*BPE, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading tokenizer: %w", err)
	}
	tok, err := ParseBPE(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tok, nil
}

// ParseBPE reads the contents of a tokenizer.json file as a *BPE, whatever
// its merges.
func ParseBPE(data []byte) (*BPE, error) {
	file, err := decodeFile(data)
	if err != nil {
		return nil, err
	}
	return bpeFromFile(file)
}

func bpeFromFile(file *hfFile) (*BPE, error) {
	m := &file.Model
	if m.Dropout != nil && *m.Dropout > 0 {
		return nil, fmt.Errorf("BPE dropout %g makes encoding random; only 0 or null is supported", *m.Dropout)
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, fmt.Errorf("BPE continuing_subword_prefix %q is not supported", *m.ContinuingSubwordPrefix)
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("BPE end_of_word_suffix %q is not supported", *m.EndOfWordSuffix)
	}
	t := &BPE{
		vocab:        make(map[string]int, len(m.Vocab)+len(file.AddedTokens)),
		unkID:        -1,
		fuseUnk:      m.FuseUnk,
		byteFallback: m.ByteFallback,
		ignoreMerges: m.IgnoreMerges,
	}
	maxID := -1
	for token, id := range m.Vocab {
		if id < 0 || id > math.MaxInt32-1 {
			return nil, fmt.Errorf("vocab entry %q has ID %d out of range", token, id)
		}
		t.vocab[token] = id
		maxID = max(maxID, id)
	}
	for i, a := range file.AddedTokens {
		if a.ID < 0 || a.ID > math.MaxInt32-1 {
			return nil, fmt.Errorf("added token %d %q has ID %d out of range", i, a.Content, a.ID)
		}
		maxID = max(maxID, a.ID)
	}
	if err := checkDenseIDs(maxID, len(m.Vocab)+len(file.AddedTokens)); err != nil {
		return nil, err
	}
	t.tokens = make([]string, maxID+1)
	t.isAdded = make([]bool, maxID+1)
	for token, id := range m.Vocab {
		if t.tokens[id] != "" {
			return nil, fmt.Errorf("vocab entries %q and %q share ID %d", t.tokens[id], token, id)
		}
		t.tokens[id] = token
	}
	var err error
	if t.normalize, err = buildNormalizer(file.Normalizer); err != nil {
		return nil, err
	}
	var rawAdded, normAdded []addedToken
	for _, a := range file.AddedTokens {
		id := a.ID
		if inVocab, ok := m.Vocab[a.Content]; ok {
			// An added token already in the model's vocabulary keeps the
			// model's ID, as in the reference library.
			id = inVocab
		} else if prev := t.tokens[id]; prev != "" {
			return nil, fmt.Errorf("added token %q reuses ID %d of %q", a.Content, id, prev)
		}
		at := addedToken{content: a.Content, id: id, singleWord: a.SingleWord, lstrip: a.Lstrip, rstrip: a.Rstrip, special: a.Special}
		if a.Normalized && t.normalize != nil {
			// Matched in normalized text, so stored normalized, as the
			// reference library does.
			at.content = t.normalize(a.Content)
			normAdded = append(normAdded, at)
		} else {
			rawAdded = append(rawAdded, at)
		}
		t.tokens[id] = at.content
		t.isAdded[id] = true
		t.vocab[at.content] = id
	}
	t.rawAdded = newAddedMatcher(rawAdded)
	t.normAdded = newAddedMatcher(normAdded)
	if t.pre, err = buildPreTokenizer(file.PreTokenizer); err != nil {
		return nil, err
	}
	if t.decode, err = buildDecoder(file.Decoder); err != nil {
		return nil, err
	}
	if m.UnkToken != nil {
		id, ok := m.Vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocab", *m.UnkToken)
		}
		t.unkID = int32(id)
	}
	for b := 0; b < 256; b++ {
		t.byteIDs[b] = lookup32(m.Vocab, string(byteLevelAlphabet[b]))
		t.byteFallbackIDs[b] = lookup32(m.Vocab, byteFallbackToken(byte(b)))
	}
	if !t.pre.byteLevel {
		t.runeIDs = make(map[rune]int32)
		for token, id := range m.Vocab {
			if r, size := utf8.DecodeRuneInString(token); size == len(token) && size > 0 && !(r == utf8.RuneError && size == 1) {
				t.runeIDs[r] = int32(id)
			}
		}
	}
	pairs, err := m.mergePairs()
	if err != nil {
		return nil, err
	}
	t.merges = make(mergeTable, len(pairs))
	for rank, p := range pairs {
		left, okL := m.Vocab[p[0]]
		right, okR := m.Vocab[p[1]]
		merged, okM := m.Vocab[p[0]+p[1]]
		if !okL || !okR || !okM {
			return nil, fmt.Errorf("merge %d (%q, %q) uses a token missing from the vocab", rank, p[0], p[1])
		}
		key := pairKey(int32(left), int32(right))
		if _, dup := t.merges[key]; dup {
			continue // the first listing of a pair sets its rank
		}
		t.merges[key] = mergeRule{rank: int32(rank), id: int32(merged)}
	}
	t.roles = guessRoles(t.ID)
	t.cache.init(wordCacheLimit)
	return t, nil
}

// checkDenseIDs refuses vocabularies whose largest ID is far beyond their
// size, which would make the ID-indexed tables huge; real vocabularies
// number their entries from 0 with at most a few gaps.
func checkDenseIDs(maxID, entries int) error {
	if maxID >= 2*entries+1024 {
		return fmt.Errorf("largest token ID %d is far beyond the %d entries; IDs must be nearly dense", maxID, entries)
	}
	return nil
}

func lookup32(vocab map[string]int, token string) int32 {
	if id, ok := vocab[token]; ok {
		return int32(id)
	}
	return -1
}

func byteFallbackToken(b byte) string {
	return fmt.Sprintf("<0x%02X>", b)
}

// Encode implements Tokenizer.
func (t *BPE) Encode(text string) []int {
	text = validUTF8(text)
	ids := make([]int, 0, len(text)/3+1)
	t.rawAdded.split(text, func(segment string, id int) {
		if id >= 0 {
			ids = append(ids, id)
			return
		}
		if t.normalize != nil {
			segment = t.normalize(segment)
		}
		t.normAdded.split(segment, func(plain string, id int) {
			if id >= 0 {
				ids = append(ids, id)
				return
			}
			t.pre.pieces(plain, func(piece string) { ids = t.appendWord(ids, piece) })
		})
	})
	return ids
}

// validUTF8 replaces each maximal ill-formed subsequence with U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return lossyUTF8([]byte(s))
}

// appendWord appends the IDs of one pre-token.
func (t *BPE) appendWord(ids []int, piece string) []int {
	if cached, ok := t.cache.get(piece); ok {
		return append(ids, cached...)
	}
	word := t.encodeWord(piece)
	t.cache.put(piece, word)
	return append(ids, word...)
}

func (t *BPE) encodeWord(piece string) []int {
	if t.ignoreMerges {
		entry := piece
		if t.pre.byteLevel {
			entry = byteLevelString(piece)
		}
		if id, ok := t.vocab[entry]; ok && !t.isAdded[id] {
			return []int{id}
		}
	}
	symbols := t.initialSymbols(piece)
	symbols = t.merges.apply(symbols)
	out := make([]int, len(symbols))
	for i, id := range symbols {
		out[i] = int(id)
	}
	return out
}

// initialSymbols splits a pre-token into single-character tokens, handling
// characters missing from the vocabulary by byte fallback, the unknown
// token, or dropping them, in that order of preference.
func (t *BPE) initialSymbols(piece string) []int32 {
	symbols := make([]int32, 0, len(piece))
	lastUnk := false
	for i := 0; i < len(piece); {
		var id int32 = -1
		size := 1
		if t.pre.byteLevel {
			id = t.byteIDs[piece[i]]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(piece[i:])
			if found, ok := t.runeIDs[r]; ok {
				id = found
			}
		}
		char := piece[i : i+size]
		i += size
		if id >= 0 {
			symbols = append(symbols, id)
			lastUnk = false
			continue
		}
		if t.byteFallback && t.appendFallback(&symbols, char) {
			lastUnk = false
			continue
		}
		if t.unkID >= 0 && !(t.fuseUnk && lastUnk) {
			symbols = append(symbols, t.unkID)
			lastUnk = true
		}
	}
	return symbols
}

// appendFallback appends the "<0xXX>" tokens of char's bytes if all exist.
func (t *BPE) appendFallback(symbols *[]int32, char string) bool {
	for k := 0; k < len(char); k++ {
		if t.byteFallbackIDs[char[k]] < 0 {
			return false
		}
	}
	for k := 0; k < len(char); k++ {
		*symbols = append(*symbols, t.byteFallbackIDs[char[k]])
	}
	return true
}

// Decode implements Tokenizer.
func (t *BPE) Decode(ids []int) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || id >= len(t.tokens) || t.tokens[id] == "" {
			continue
		}
		tokens = append(tokens, t.tokens[id])
	}
	return t.decode(tokens)
}

// VocabSize implements Tokenizer.
func (t *BPE) VocabSize() int { return len(t.tokens) }

// Special implements Tokenizer.
func (t *BPE) Special(role string) (int, bool) {
	id, ok := t.roles[role]
	return id, ok
}

// Token implements Tokenizer.
func (t *BPE) Token(id int) (string, bool) {
	if id < 0 || id >= len(t.tokens) || t.tokens[id] == "" {
		return "", false
	}
	return t.tokens[id], true
}

// TokenBytes implements Tokenizer.
func (t *BPE) TokenBytes(id int) ([]byte, bool) {
	token, ok := t.Token(id)
	if !ok {
		return nil, false
	}
	if t.pre.byteLevel {
		return byteLevelBytes(token), true
	}
	if b, ok := parseByteFallback(token); ok {
		return []byte{b}, true
	}
	return []byte(token), true
}

// ID implements Tokenizer.
func (t *BPE) ID(token string) (int, bool) {
	id, ok := t.vocab[token]
	return id, ok
}

// IsAdded reports whether id is an added token (a chat marker or other
// token matched verbatim in text) rather than a learned BPE entry.
func (t *BPE) IsAdded(id int) bool {
	return id >= 0 && id < len(t.isAdded) && t.isAdded[id]
}

// parseByteFallback reads a "<0xXX>" token.
func parseByteFallback(token string) (byte, bool) {
	if len(token) != 6 || !strings.HasPrefix(token, "<0x") || token[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(token[3:5], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

// wordCacheLimit bounds the pre-tokens remembered per tokenizer; natural
// text reuses a few thousand words, so hits dominate well below it.
const wordCacheLimit = 1 << 16

// wordCacheMaxBytes keeps long pre-tokens (whitespace runs, long numbers in
// non-splitting tokenizers) out of the cache, where they would rarely hit.
const wordCacheMaxBytes = 64

// wordCache remembers the IDs of recently encoded pre-tokens. When full it
// starts over, which keeps it simple and bounded.
type wordCache struct {
	mu    sync.RWMutex
	words map[string][]int
	limit int
}

func (c *wordCache) init(limit int) {
	c.words = make(map[string][]int)
	c.limit = limit
}

func (c *wordCache) get(piece string) ([]int, bool) {
	if len(piece) > wordCacheMaxBytes {
		return nil, false
	}
	c.mu.RLock()
	ids, ok := c.words[piece]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(piece string, ids []int) {
	if len(piece) > wordCacheMaxBytes {
		return
	}
	c.mu.Lock()
	if len(c.words) >= c.limit {
		c.words = make(map[string][]int)
	}
	// Clone: piece is a substring of the caller's text, which the cache
	// must not keep alive.
	c.words[strings.Clone(piece)] = ids
	c.mu.Unlock()
}
