// Package modelserver serves an embedded checkpoint (package engine, with
// its tokenizer) through the part of the OpenAI API that vLLM offers:
// /v1/completions and /v1/chat/completions with n, temperature, top_p,
// top_k, max_tokens, stop, stop_token_ids, seed, logprobs and top_logprobs,
// prompts given as text or as token IDs, token IDs in the answer
// (return_token_ids) and usage counts. So urlvr's own models can be
// evaluated, and rolled out, by the same clients as a vLLM or SGLang server
// (paper Appendix B.1's evaluation: avg@k, maj@k, pass@k over many samples).
//
// Concurrent requests with the same sampling settings and no seed are
// batched into one engine call. A request with a seed runs on its own, so
// that its answer depends only on the request.
//
// Every request has a budget: prompts × n × max_tokens generated tokens at
// most (400 beyond), a work slot from a bounded queue (503 beyond), and a
// context that ends when the client leaves or the write timeout passes,
// which the engine checks between decode steps. A positive temperature below
// 1e-5 means greedy decoding, as in vLLM.
package modelserver
