package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// BenchOptions size the engine benchmark. The zero value measures the
// reference workload of `urlvr bench engine`: BenchConfig, training batches
// of 32 × 64 tokens, and generation for 64 prompts of 16 tokens with 48 new
// tokens each.
type BenchOptions struct {
	Config     Config // zero: BenchConfig()
	Batch      int    // training sequences per step (32)
	SeqLen     int    // training tokens per sequence (64)
	Steps      int    // timed training steps (5)
	GenBatch   int    // prompts sampled together (64)
	PromptLen  int    // tokens per prompt (16)
	NewTokens  int    // tokens generated per prompt (48)
	GenRepeats int    // timed generation runs (3)
}

func (o BenchOptions) withDefaults() BenchOptions {
	if o.Config.ModelType == "" {
		o.Config = BenchConfig()
	}
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	set(&o.Batch, 32)
	set(&o.SeqLen, 64)
	set(&o.Steps, 5)
	set(&o.GenBatch, 64)
	set(&o.PromptLen, 16)
	set(&o.NewTokens, 48)
	set(&o.GenRepeats, 3)
	return o
}

// BenchResult is what the engine benchmark measured. Times are medians over
// the repeats (with the fastest beside them); FLOP counts include the matrix
// multiplications and attention, not element-wise work.
type BenchResult struct {
	Options BenchOptions
	Params  int

	StepMedian, StepMin time.Duration // forward + backward + AdamW on one batch
	StepFLOPs           float64
	StepGFLOPS          float64 // StepFLOPs / StepMedian

	GenMedian, GenMin time.Duration // prefill and all decode steps
	GenTokens         int           // tokens generated per run
	GenTokensPerSec   float64       // GenTokens / GenMedian
	GenFLOPs          float64
	GenGFLOPS         float64
}

// RunBenchmark times training steps and generation on a randomly initialised
// model.
func RunBenchmark(ctx context.Context, o BenchOptions) (BenchResult, error) {
	o = o.withDefaults()
	cfg := o.Config
	if o.SeqLen > cfg.MaxPositions || o.PromptLen+o.NewTokens > cfg.MaxPositions {
		return BenchResult{}, fmt.Errorf("benchmark sequences of %d (train) and %d (generation) tokens exceed the model's %d positions",
			o.SeqLen, o.PromptLen+o.NewTokens, cfg.MaxPositions)
	}
	m, err := New(cfg, 1)
	if err != nil {
		return BenchResult{}, err
	}
	res := BenchResult{Options: o, Params: m.NumParams()}
	rng := rand.New(rand.NewPCG(2, 3))

	// Training: cross-entropy over every position after the first.
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: o.Batch, MaxSeqLen: o.SeqLen, AdamW: DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		return BenchResult{}, err
	}
	seqs := make([][]int, o.Batch)
	for i := range seqs {
		seqs[i] = randomTokens(rng, cfg.VocabSize, o.SeqLen)
	}
	batch, err := NewBatch(seqs, nil)
	if err != nil {
		return BenchResult{}, err
	}
	step := func() error {
		if _, err := tr.CrossEntropy(batch, 1); err != nil {
			return err
		}
		_, err := tr.Step(1e-4)
		return err
	}
	if err := step(); err != nil { // warm-up: page in the buffers
		return BenchResult{}, err
	}
	times := make([]time.Duration, 0, o.Steps)
	for range o.Steps {
		if err := ctx.Err(); err != nil {
			return BenchResult{}, err
		}
		start := time.Now()
		if err := step(); err != nil {
			return BenchResult{}, err
		}
		times = append(times, time.Since(start))
	}
	res.StepMedian, res.StepMin = medianMin(times)
	res.StepFLOPs = 3 * forwardFLOPs(cfg, o.Batch, o.SeqLen)
	res.StepGFLOPS = res.StepFLOPs / res.StepMedian.Seconds() / 1e9

	// Generation: temperature 1, no stop tokens, so every sequence runs to
	// NewTokens.
	prompts := make([][]int, o.GenBatch)
	for i := range prompts {
		prompts[i] = randomTokens(rng, cfg.VocabSize, o.PromptLen)
	}
	opts := SampleOptions{MaxNewTokens: o.NewTokens, Temperature: 1, Seed: 4}
	times = times[:0]
	for r := 0; r <= o.GenRepeats; r++ {
		start := time.Now()
		if _, err := m.Sample(ctx, prompts, opts); err != nil {
			return BenchResult{}, err
		}
		if r > 0 { // the first run is a warm-up
			times = append(times, time.Since(start))
		}
	}
	res.GenMedian, res.GenMin = medianMin(times)
	res.GenTokens = o.GenBatch * o.NewTokens
	res.GenTokensPerSec = float64(res.GenTokens) / res.GenMedian.Seconds()
	res.GenFLOPs = float64(o.GenBatch) * generationFLOPs(cfg, o.PromptLen, o.NewTokens)
	res.GenGFLOPS = res.GenFLOPs / res.GenMedian.Seconds() / 1e9
	return res, nil
}

func randomTokens(rng *rand.Rand, V, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = rng.IntN(V)
	}
	return s
}

func medianMin(ts []time.Duration) (median, least time.Duration) {
	s := slices.Clone(ts)
	slices.Sort(s)
	return s[len(s)/2], s[0]
}

// tokenFLOPs is the multiply-add count (×2) of one token through the
// projections and MLPs of every layer.
func tokenFLOPs(c Config) float64 {
	C, F := float64(c.HiddenSize), float64(c.IntermediateSize)
	qd, kvd := float64(c.NumHeads*c.HeadDim), float64(c.NumKVHeads*c.HeadDim)
	perLayer := C*qd + 2*C*kvd + qd*C + 3*C*F
	return 2 * perLayer * float64(c.NumLayers)
}

// attentionFLOPs is the cost of one query at position t (attending to t+1
// keys) in every layer: scores and the weighted sum of values.
func attentionFLOPs(c Config, t int) float64 {
	return 4 * float64(c.NumHeads*c.HeadDim) * float64(t+1) * float64(c.NumLayers)
}

// forwardFLOPs counts a forward pass over B sequences of T tokens with every
// position after the first scored; the backward pass costs twice this.
func forwardFLOPs(c Config, B, T int) float64 {
	var perSeq float64
	for t := 0; t < T; t++ {
		perSeq += tokenFLOPs(c) + attentionFLOPs(c, t)
	}
	perSeq += float64(T-1) * 2 * float64(c.HiddenSize*c.VocabSize)
	return float64(B) * perSeq
}

// generationFLOPs counts the prefill of a prompt and the decoding of new
// tokens for one sequence (the last new token is sampled, never fed). The
// prompt's tokens before its last need only keys and values from the last
// layer, not its attention, output projection or MLP, and the decoder
// skips those, so they are not counted.
func generationFLOPs(c Config, prompt, newTokens int) float64 {
	var f float64
	for t := 0; t < prompt+newTokens-1; t++ {
		f += tokenFLOPs(c) + attentionFLOPs(c, t)
		if t < prompt-1 {
			f -= lastLayerTailFLOPs(c, t)
		}
	}
	return f + float64(newTokens)*2*float64(c.HiddenSize*c.VocabSize)
}

// lastLayerTailFLOPs is what the last layer spends on a token at position t
// after its queries, keys and values: attention, the output projection and
// the MLP.
func lastLayerTailFLOPs(c Config, t int) float64 {
	C, F := float64(c.HiddenSize), float64(c.IntermediateSize)
	qd := float64(c.NumHeads * c.HeadDim)
	return 2*(qd*C+3*C*F) + attentionFLOPs(c, t)/float64(c.NumLayers)
}

// SequenceFLOPs is the forward cost, in the FLOPs `urlvr bench engine`
// counts (matrix products and attention), of one sequence of T tokens with
// every position after the first scored; a training step (forward and
// backward) costs three times this.
func SequenceFLOPs(c Config, T int) float64 { return forwardFLOPs(c, 1, T) }

// GenerationFLOPs is the cost, counted the same way, of sampling newTokens
// tokens after a prompt of the given length with a key/value cache.
func GenerationFLOPs(c Config, prompt, newTokens int) float64 {
	return generationFLOPs(c, prompt, newTokens)
}
