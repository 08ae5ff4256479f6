package basemodel

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/task/arith"
	"github.com/urlvr/urlvr/task/countdown"
)

// TrainOptions are the optimisation settings shared by every stage of a
// prior; a stage's own lr in priors.yaml overrides PeakLR.
type TrainOptions struct {
	// BatchSize is the number of documents per optimiser step.
	BatchSize int `json:"batch_size"`
	// PeakLR is reached after WarmupSteps and decays along a half cosine to
	// MinLRRatio·PeakLR at the end of each stage.
	PeakLR      float64 `json:"peak_lr"`
	MinLRRatio  float64 `json:"min_lr_ratio"`
	WarmupSteps int     `json:"warmup_steps"`
	WeightDecay float64 `json:"weight_decay"`
	ClipNorm    float64 `json:"clip_norm"`
	// MaxSteps, when positive, stops every stage after that many steps
	// (for tests and quick trials); the schedule is fitted to the shorter
	// run.
	MaxSteps int `json:"max_steps,omitempty"`
	// StopAfter, when positive, ends the run after that many optimiser
	// steps counted over all stages, with every stage's learning-rate
	// schedule unchanged: the model is then the checkpoint the full run
	// passes through at that step (a prior's budget).
	StopAfter int `json:"stop_after,omitempty"`
}

// DefaultTrainOptions returns the settings the shipped models were made
// with: 32 documents a step, AdamW at peak lr 2e-3 with 50 warm-up steps
// and a cosine decay to a tenth, weight decay 0.01, gradients clipped to
// norm 1.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{BatchSize: 32, PeakLR: 2e-3, MinLRRatio: 0.1, WarmupSteps: 50, WeightDecay: 0.01, ClipNorm: 1}
}

// Validate reports the first out-of-range setting.
func (o TrainOptions) Validate() error {
	switch {
	case o.BatchSize <= 0:
		return fmt.Errorf("batch size %d: must be positive", o.BatchSize)
	case !(o.PeakLR > 0) || math.IsInf(o.PeakLR, 0):
		return fmt.Errorf("peak lr %v: must be positive and finite", o.PeakLR)
	case !(o.MinLRRatio >= 0 && o.MinLRRatio <= 1):
		return fmt.Errorf("min lr ratio %v: must be in [0, 1]", o.MinLRRatio)
	case o.WarmupSteps < 0:
		return fmt.Errorf("warm-up steps %d: must be non-negative", o.WarmupSteps)
	case !(o.WeightDecay >= 0) || math.IsInf(o.WeightDecay, 0):
		return fmt.Errorf("weight decay %v: must be non-negative and finite", o.WeightDecay)
	case !(o.ClipNorm >= 0) || math.IsInf(o.ClipNorm, 0):
		return fmt.Errorf("clip norm %v: must be non-negative and finite", o.ClipNorm)
	case o.MaxSteps < 0:
		return fmt.Errorf("max steps %d: must be non-negative", o.MaxSteps)
	case o.StopAfter < 0:
		return fmt.Errorf("stop after %d: must be non-negative", o.StopAfter)
	}
	return nil
}

// Progress is reported after every optimiser step.
type Progress struct {
	Prior       string
	Stage       string
	StageIndex  int // from 0
	Stages      int
	Step        int // within the stage, from 1
	StageSteps  int
	Done, Total int // steps over all stages
	Loss        float64
	LR          float64
	// TokensPerSec counts the document tokens (not padding) run through
	// the model per second of wall time since the start.
	TokensPerSec float64
	Elapsed      time.Duration
	ETA          time.Duration
}

// StageResult says how one stage went.
type StageResult struct {
	Name string `json:"name"`
	// Documents and Characters describe the stage's corpus (prompts and
	// responses); Tokens counts what was read, repeats included.
	Documents  int `json:"documents"`
	Characters int `json:"characters"`
	// WrongDocuments counts documents whose solution carries a
	// misconception.
	WrongDocuments int     `json:"wrong_documents"`
	Steps          int     `json:"steps"`
	Tokens         int64   `json:"tokens"` // document tokens trained on, repeats counted
	PeakLR         float64 `json:"peak_lr"`
	FirstLoss      float64 `json:"first_loss"`
	FinalLoss      float64 `json:"final_loss"` // mean over the stage's last 50 steps (or all, if fewer)
	Seconds        float64 `json:"seconds"`
}

// Result is a trained model and how its training went.
type Result struct {
	Model     *engine.Model
	Tokenizer *tokenizer.Char
	Stages    []StageResult
	Seconds   float64
}

// FinalLoss is the last stage's final loss (0 without stages).
func (r *Result) FinalLoss() float64 {
	if len(r.Stages) == 0 {
		return 0
	}
	return r.Stages[len(r.Stages)-1].FinalLoss
}

// StageSteps is the number of optimiser steps of a stage that reads n
// documents epochs times in batches of batch (as order cuts them), cut to
// maxSteps when that is positive.
func StageSteps(n int, epochs float64, batch, maxSteps int) int {
	total := int(math.Round(float64(n) * epochs))
	group := batch * bucketBatches
	steps := total / group * bucketBatches
	if rest := total % group; rest > 0 {
		steps += (rest + batch - 1) / batch
	}
	if maxSteps > 0 {
		steps = min(steps, maxSteps)
	}
	return steps
}

// NewTokenizer returns the character tokenizer every base model uses: the
// special tokens <pad>, <bos>, <eos>, <unk>, then the world's alphabet.
func NewTokenizer() (*tokenizer.Char, error) {
	return tokenizer.NewChar(arith.Alphabet, tokenizer.CharOptions{})
}

// TokenizerFor returns the tokenizer of a prior's world: NewTokenizer for
// arithmetic; for Countdown, the characters of countdown.Alphabet plus one
// phrase token per fixed passage of the world's prompts
// (countdown.PhraseTexts), which keeps a verification request inside a
// small model's context, and with number_tokens one token per two-digit
// number (countdown.NumberTexts).
func TokenizerFor(p arith.Prior) (*tokenizer.Char, error) {
	if p.IsCountdown() {
		phrases := countdown.PhraseTexts()
		if p.NumberTokens {
			phrases = append(phrases, countdown.NumberTexts()...)
		}
		return tokenizer.NewChar(countdown.Alphabet, tokenizer.CharOptions{Phrases: phrases})
	}
	return NewTokenizer()
}

// AlphabetOf is the alphabet of a prior's tokenizer, as manifests record it.
func AlphabetOf(p arith.Prior) string {
	if p.IsCountdown() {
		return countdown.Alphabet
	}
	return arith.Alphabet
}

// stageCorpus builds a stage's documents in its world.
func stageCorpus(p arith.Prior, st arith.Stage) ([]arith.Document, error) {
	if !p.IsCountdown() {
		return arith.BuildCorpus(st.Corpus)
	}
	cd, err := countdown.BuildCorpus(*st.Countdown)
	if err != nil {
		return nil, err
	}
	docs := make([]arith.Document, len(cd))
	for i, d := range cd {
		docs[i] = arith.Document{Prompt: d.Prompt, Response: d.Response}
	}
	return docs, nil
}

// ModelConfig returns the engine configuration of a prior's model shape
// with the given tokenizer: a Llama layout with tied embeddings, RoPE and
// an end-of-sequence token that ends each response.
func ModelConfig(shape arith.ModelShape, tok tokenizer.Tokenizer) (engine.Config, error) {
	eos, ok := tok.Special(tokenizer.RoleEOS)
	if !ok {
		return engine.Config{}, errors.New("tokenizer has no end-of-sequence token")
	}
	if shape.NumHeads <= 0 || shape.HiddenSize%shape.NumHeads != 0 {
		return engine.Config{}, fmt.Errorf("hidden size %d is not a multiple of %d heads", shape.HiddenSize, shape.NumHeads)
	}
	cfg := engine.Config{
		ModelType:         "llama",
		VocabSize:         tok.VocabSize(),
		HiddenSize:        shape.HiddenSize,
		IntermediateSize:  shape.IntermediateSize,
		NumLayers:         shape.NumLayers,
		NumHeads:          shape.NumHeads,
		NumKVHeads:        shape.NumHeads,
		HeadDim:           shape.HiddenSize / shape.NumHeads,
		MaxPositions:      shape.MaxPositions,
		RMSNormEps:        1e-5,
		RopeTheta:         10000,
		TieWordEmbeddings: true,
		BOSTokenID:        -1,
		EOSTokenIDs:       []int{eos},
	}
	if err := cfg.Validate(); err != nil {
		return engine.Config{}, err
	}
	return cfg, nil
}

// document is one tokenised training sequence: prompt, response, <eos>.
type document struct {
	tokens    []int
	promptLen int
}

// tokenize encodes a corpus; a document longer than the model's context is
// an error, since it could never be trained on whole.
func tokenize(docs []arith.Document, tok tokenizer.Tokenizer, eos, maxLen int) ([]document, error) {
	out := make([]document, len(docs))
	for i, d := range docs {
		p := tok.Encode(d.Prompt)
		ids := append(p, tok.Encode(d.Response)...)
		ids = append(ids, eos)
		if len(ids) > maxLen {
			return nil, fmt.Errorf("document %d has %d tokens, more than the model's %d positions: %q", i, len(ids), maxLen, d.Text())
		}
		out[i] = document{tokens: ids, promptLen: len(p)}
	}
	return out, nil
}

// streamOrder is the second PCG seed word of a stage's data order (plus
// the stage's index), beside the prior's seed.
const streamOrder = 0x6f72646572 // "order"

// bucketBatches is how many batches are drawn together and sorted by
// length, so that a batch holds documents of similar length and little of
// each step is spent on padding.
const bucketBatches = 16

// order returns the document indices of a stage, epochs passes over n
// documents (a fractional last pass takes a prefix of its permutation),
// arranged into batches of similar length: each group of bucketBatches
// batches is sorted by length, cut into batches, and the batches shuffled.
func order(rng *rand.Rand, docs []document, epochs float64, batch int) [][]int {
	n := len(docs)
	total := int(math.Round(float64(n) * epochs))
	seq := make([]int, 0, total)
	for len(seq) < total {
		perm := rng.Perm(n)
		seq = append(seq, perm[:min(n, total-len(seq))]...)
	}
	var batches [][]int
	group := batch * bucketBatches
	for lo := 0; lo < len(seq); lo += group {
		g := seq[lo:min(len(seq), lo+group)]
		slices.SortStableFunc(g, func(a, b int) int { return len(docs[a].tokens) - len(docs[b].tokens) })
		var bs [][]int
		for i := 0; i < len(g); i += batch {
			bs = append(bs, g[i:min(len(g), i+batch)])
		}
		rng.Shuffle(len(bs), func(i, j int) { bs[i], bs[j] = bs[j], bs[i] })
		batches = append(batches, bs...)
	}
	return batches
}

// Pretrain trains a new model for the prior through all its stages. The
// result depends only on the prior and the options: the initialisation and
// the data order are drawn from the prior's seed, and the engine's
// arithmetic does not depend on the number of threads.
func Pretrain(ctx context.Context, prior arith.Prior, o TrainOptions, progress func(Progress)) (*Result, error) {
	return PretrainFrom(ctx, nil, prior, o, progress)
}

// PretrainFrom is Pretrain starting from a copy of base (a model of the
// prior's shape, such as its Foundation) instead of a fresh
// initialisation; base nil means a fresh one.
func PretrainFrom(ctx context.Context, base *engine.Model, prior arith.Prior, o TrainOptions, progress func(Progress)) (*Result, error) {
	if err := prior.Validate(); err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("prior %s: %w", prior.Name, err)
	}
	start := time.Now()
	tok, err := TokenizerFor(prior)
	if err != nil {
		return nil, err
	}
	cfg, err := ModelConfig(prior.Model, tok)
	if err != nil {
		return nil, fmt.Errorf("prior %s: %w", prior.Name, err)
	}
	var m *engine.Model
	if base != nil {
		if !sameConfig(base.Config(), cfg) {
			return nil, fmt.Errorf("prior %s: the model to continue from has another shape", prior.Name)
		}
		m = base.Clone()
	} else if m, err = engine.New(cfg, prior.Seed); err != nil {
		return nil, fmt.Errorf("prior %s: %w", prior.Name, err)
	}
	adam := engine.DefaultAdamW()
	adam.WeightDecay = o.WeightDecay

	// Corpora and batch orders first, so that progress can report an ETA
	// over every stage.
	type plan struct {
		docs    []document
		batches [][]int
		// scheduled is the stage's full length, which its learning-rate
		// schedule spans even when StopAfter ends it early.
		scheduled int
		res       StageResult
	}
	plans := make([]plan, 0, len(prior.Stages))
	total := 0
	left := o.StopAfter
	for i, st := range prior.Stages {
		if o.StopAfter > 0 && left == 0 {
			break
		}
		corpus, err := stageCorpus(prior, st)
		if err != nil {
			return nil, fmt.Errorf("prior %s stage %s: %w", prior.Name, st.Name, err)
		}
		docs, err := tokenize(corpus, tok, cfg.EOSTokenIDs[0], cfg.MaxPositions)
		if err != nil {
			return nil, fmt.Errorf("prior %s stage %s: %w", prior.Name, st.Name, err)
		}
		res := StageResult{Name: st.Name, Documents: len(corpus), PeakLR: o.PeakLR}
		if st.LearningRate > 0 {
			res.PeakLR = st.LearningRate
		}
		for _, d := range corpus {
			res.Characters += len(d.Text())
			if len(d.Misconceptions) > 0 {
				res.WrongDocuments++
			}
		}
		rng := rand.New(rand.NewPCG(prior.Seed, streamOrder+uint64(i)))
		batches := order(rng, docs, st.Epochs, o.BatchSize)
		if o.MaxSteps > 0 && len(batches) > o.MaxSteps {
			batches = batches[:o.MaxSteps]
		}
		if len(batches) == 0 {
			return nil, fmt.Errorf("prior %s stage %s: no documents to train on", prior.Name, st.Name)
		}
		scheduled := len(batches)
		if o.StopAfter > 0 {
			batches = batches[:min(len(batches), left)]
			left -= len(batches)
		}
		plans = append(plans, plan{docs: docs, batches: batches, scheduled: scheduled, res: res})
		total += len(batches)
	}

	maxLen := 0
	for _, p := range plans {
		for _, d := range p.docs {
			maxLen = max(maxLen, len(d.tokens))
		}
	}
	done := 0
	var tokens int64
	seqs := make([][]int, 0, o.BatchSize)
	from := make([]int, 0, o.BatchSize)
	out := &Result{Model: m, Tokenizer: tok}
	for si, p := range plans {
		stageStart := time.Now()
		st := prior.Stages[si]
		// Each stage starts a fresh optimiser, as a new training job on a
		// pretrained model would.
		tr, err := engine.NewLearner(m, engine.LearnerOptions{MaxBatch: o.BatchSize, MaxSeqLen: maxLen, AdamW: adam, ClipNorm: o.ClipNorm})
		if err != nil {
			return nil, fmt.Errorf("prior %s: %w", prior.Name, err)
		}
		sched := engine.Schedule{Kind: "cosine", PeakLR: p.res.PeakLR, MinLR: p.res.PeakLR * o.MinLRRatio,
			WarmupSteps: min(o.WarmupSteps, p.scheduled/2), TotalSteps: p.scheduled}
		if sched.TotalSteps <= sched.WarmupSteps {
			sched.Kind = "constant"
		}
		if err := sched.Validate(); err != nil {
			return nil, fmt.Errorf("prior %s stage %s: %w", prior.Name, st.Name, err)
		}
		var recent []float64
		for step, idx := range p.batches {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			seqs, from = seqs[:0], from[:0]
			for _, j := range idx {
				seqs = append(seqs, p.docs[j].tokens)
				from = append(from, p.docs[j].promptLen)
				tokens += int64(len(p.docs[j].tokens))
			}
			b, err := engine.NewBatch(seqs, from)
			if err != nil {
				return nil, err
			}
			loss, err := tr.CrossEntropy(b, 1)
			if err != nil {
				return nil, fmt.Errorf("prior %s stage %s step %d: %w", prior.Name, st.Name, step+1, err)
			}
			lr := sched.LR(step)
			if _, err := tr.Step(lr); err != nil {
				return nil, fmt.Errorf("prior %s stage %s step %d: %w", prior.Name, st.Name, step+1, err)
			}
			if step == 0 {
				p.res.FirstLoss = loss
			}
			recent = append(recent, loss)
			if len(recent) > 50 {
				recent = recent[1:]
			}
			done++
			if progress != nil {
				el := time.Since(start)
				progress(Progress{
					Prior: prior.Name, Stage: st.Name, StageIndex: si, Stages: len(plans),
					Step: step + 1, StageSteps: len(p.batches), Done: done, Total: total,
					Loss: loss, LR: lr, TokensPerSec: float64(tokens) / el.Seconds(), Elapsed: el,
					ETA: time.Duration(float64(el) / float64(done) * float64(total-done)),
				})
			}
		}
		p.res.Steps = len(p.batches)
		p.res.Tokens = 0
		for _, idx := range p.batches {
			for _, j := range idx {
				p.res.Tokens += int64(len(p.docs[j].tokens))
			}
		}
		p.res.FinalLoss = meanOf(recent)
		p.res.Seconds = time.Since(stageStart).Seconds()
		out.Stages = append(out.Stages, p.res)
	}
	out.Seconds = time.Since(start).Seconds()
	return out, nil
}

func meanOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// sameConfig reports whether two configurations describe one architecture.
func sameConfig(a, b engine.Config) bool {
	return a.ModelType == b.ModelType && a.VocabSize == b.VocabSize && a.HiddenSize == b.HiddenSize &&
		a.IntermediateSize == b.IntermediateSize && a.NumLayers == b.NumLayers && a.NumHeads == b.NumHeads &&
		a.NumKVHeads == b.NumKVHeads && a.HeadDim == b.HeadDim && a.MaxPositions == b.MaxPositions &&
		slices.Equal(a.EOSTokenIDs, b.EOSTokenIDs)
}
