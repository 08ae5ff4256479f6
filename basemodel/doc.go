// Package basemodel builds, ships and measures urlvr's suite of base
// models: small character-level Llama-layout language models pretrained from
// scratch on worked problems of the arithmetic world (package task/arith),
// each from one prior of priors.yaml, so that their priors differ along the
// axes of paper section 6: misconceptions (confidently wrong on whole
// problem families), training stage (a base model and its aligned variant
// after a clean fine-tuning stage, section 6.1), pretraining budget
// (checkpoints of one run: a prior's budget stops the run with its
// learning-rate schedules unchanged) and scale (one recipe at several
// widths). Axes describes a model's place from its manifest.
//
// Pretrain runs a prior's stages and Build writes a model directory
// (config.json, model.safetensors, tokenizer.json) with a manifest.json
// recording how it was made and what it measured; BuildSuite builds many,
// foundations first. Open loads a shipped model by name, refusing one whose
// files are missing or differ from its manifest. Evaluate measures greedy
// accuracy, maj@k, pass@k (each with a 95% percentile-bootstrap interval
// over problems) and response length on the large held-out sets, and maj@k
// per family on the probe set (paper section 5, appendix B.1).
//
// A prior with world: countdown makes a model of the Countdown world
// instead (paper section 7, appendix C.1): no foundation, a tokenizer of
// characters plus phrase tokens for the fixed passages of the world's
// prompts (TokenizerFor), and stages that read corpora of solve and verify
// documents (package task/countdown). EvaluateCountdown measures such a
// model: greedy accuracy and pass@N on the 3- and 4-number problems of
// countdown:val, and the accuracy, parse rate and true/false positive rates
// of its verdicts with P1 and P2 on a balanced set of its own answers, each
// with a 95% bootstrap interval over problems; the gap between judging and
// solving is the generation-verification asymmetry self-verification
// relies on.
package basemodel
