package engine_test

import (
	"context"
	"fmt"

	"github.com/urlvr/urlvr/engine"
)

// A policy-gradient step: sample rollouts with their log-probs, weight each
// response token's log-prob by its rollout's advantage (REINFORCE), and let
// the trainer back-propagate that per-token gradient.
func Example_policyGradientStep() {
	cfg := engine.Config{
		ModelType: "qwen3", VocabSize: 16, HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 8, MaxPositions: 32,
		RMSNormEps: 1e-6, RopeTheta: 10000, TieWordEmbeddings: true, BOSTokenID: -1,
	}
	m, err := engine.New(cfg, 1)
	if err != nil {
		panic(err)
	}
	prompts := [][]int{{1, 2, 3}, {1, 2, 3}, {4, 5}, {4, 5}}
	gens, err := m.Sample(context.Background(), prompts, engine.SampleOptions{MaxNewTokens: 6, Temperature: 1, Seed: 7})
	if err != nil {
		panic(err)
	}
	// Rollouts as prompt+response, scored from the response's first token.
	seqs := make([][]int, len(gens))
	from := make([]int, len(gens))
	for i, g := range gens {
		seqs[i] = append(append([]int{}, prompts[i]...), g.Tokens...)
		from[i] = len(prompts[i])
	}
	batch, err := engine.NewBatch(seqs, from)
	if err != nil {
		panic(err)
	}
	tr, err := engine.NewLearner(m, engine.LearnerOptions{MaxBatch: 4, MaxSeqLen: 32, AdamW: engine.DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		panic(err)
	}
	out, err := tr.Forward(batch, engine.ForwardOptions{Temperature: 1})
	if err != nil {
		panic(err)
	}
	// The training forward recomputes the sampler's log-probs.
	fmt.Printf("sampled %.3f, recomputed %.3f\n", gens[0].LogProbs[0], out.LogProbs[from[0]])

	advantages := []float32{1, -1, 0.5, -0.5}
	dLogProbs := make([]float32, batch.B*batch.T)
	for i := range dLogProbs {
		if batch.Mask[i] {
			dLogProbs[i] = -advantages[i/batch.T] / float32(len(dLogProbs)) // loss = −mean(A·log π)
		}
	}
	if err := tr.Backward(dLogProbs, nil); err != nil {
		panic(err)
	}
	norm, err := tr.Step(1e-3)
	fmt.Println(norm > 0, err)
	// Output:
	// sampled -2.721, recomputed -2.721
	// true <nil>
}
