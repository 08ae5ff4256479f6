// Package engine is the policy of urlvr's experiments: a decoder-only
// transformer of the Llama/Qwen2/Qwen3 family, in pure Go, that samples
// rollouts with the per-token statistics the certainty rewards need
// (log-prob, entropy, self-certainty, top-1/top-2 gap; paper section 2,
// Table 1) and is trained by policy gradients on them (appendix B.1, B.3) or
// by cross-entropy when a base model is pre-trained.
//
// A Model is built from a Hugging Face config.json (New, Load) and saved as
// safetensors with Hub tensor names (Save, SaveCheckpoint). Model.Sample
// generates from prompts of any lengths with a key/value cache, one seeded
// generator per sequence; Model.LogProbs recomputes log-probs and entropies of
// given sequences. A Learner runs Forward over a padded Batch, Backward from
// any per-token gradient of the log-probs (and entropies), and Step (global
// norm clipping and AdamW); Schedule gives learning rates.
//
// Each layer is an explicit forward function and its backward (layers.go,
// forward.go, backward.go) over flat buffers allocated once; the hot loops
// are the kernels of package engine/kernels. Every result is the same for any
// GOMAXPROCS: work is split only over independent outputs. The batched passes
// compute only the positions up to each sequence's last scored token, packed
// without padding, and sum weight gradients in the padded layout's K blocks,
// so they give the bits of the padded computation (TestGoldenBits pins them).
// On two or more cores a batch splits into two halves of whole sequences
// (activations.split): the per-row work of the layers, forward and
// backward, runs on each half on its own core, and the weight gradients,
// sums over every row, run over the whole batch as before, so the split
// changes no bit either.
package engine
