// Package basemodel builds, ships and measures urlvr's suite of base
// models: small character-level Llama-layout language models pretrained from
// scratch on worked problems of the arithmetic world (package task/arith),
// each from one prior of priors.yaml, so that their priors differ the way
// paper section 6 needs: some confidently right, some confidently wrong on
// whole problem families, one undertrained, one small, one with a clean SFT
// stage (section 6.1).
//
// Pretrain runs a prior's stages and writes a model directory (config.json,
// model.safetensors, tokenizer.json) with a manifest.json recording how it
// was made and what it measured; Open loads a shipped model by name;
// Evaluate measures greedy accuracy, maj@k, pass@k and response length per
// validation set and maj@k per family on the probe set (paper section 5,
// appendix B.1).
package basemodel
