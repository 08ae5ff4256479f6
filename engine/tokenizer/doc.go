// Package tokenizer turns text into the token IDs a language model reads and
// back. Two kinds share one interface: a character-level tokenizer for the
// small embedded models (one ID per character of a fixed alphabet, plus
// <pad>, <bos>, <eos> and <unk> or byte fallback), and the byte-level BPE of
// Hugging Face tokenizer.json files used by Qwen2, Qwen3 and Llama-3. Both
// are stored as tokenizer.json files a Hugging Face tokenizer loads, so a
// checkpoint written by urlvr carries its tokenizer the way a Hub model does.
//
// Byte-level BPE maps every UTF-8 byte to one printable character, splits
// the text into pre-tokens with a regular expression, and merges adjacent
// symbols in the order of a learned merge list until no listed pair remains.
// Added tokens such as <|im_start|> are cut out of the text before any of
// that and map straight to their IDs. The engine uses it to read prompts
// and write rollouts; the paper's experiments (sections 4-6) train
// Qwen3-1.7B-Base and other Qwen-family models, whose tokenizers this
// reproduces ID for ID.
package tokenizer
