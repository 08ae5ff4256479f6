package engine

import (
	"errors"
	"fmt"
	"math"
)

// Batch is B token sequences of T positions each, padded on the right (any
// valid token ID may pad: causal attention keeps padding out of earlier
// positions). Mask[b·T+t] asks for the log-prob of token t of sequence b
// given tokens 0..t-1; position 0 has no prediction and cannot be masked in.
type Batch struct {
	B, T   int
	Tokens []int  // [B·T], sequence b at Tokens[b·T : (b+1)·T]
	Mask   []bool // [B·T]
}

// NewBatch right-pads seqs (with token 0) to the longest one and scores, in
// sequence i, the tokens from position max(1, scoreFrom[i]) to its end; a nil
// scoreFrom scores every token after the first. For a prompt and its
// response, scoreFrom is the prompt's length.
func NewBatch(seqs [][]int, scoreFrom []int) (Batch, error) {
	if len(seqs) == 0 {
		return Batch{}, errors.New("batch of no sequences")
	}
	if scoreFrom != nil && len(scoreFrom) != len(seqs) {
		return Batch{}, fmt.Errorf("%d scoreFrom entries for %d sequences", len(scoreFrom), len(seqs))
	}
	T := 0
	for i, s := range seqs {
		if len(s) == 0 {
			return Batch{}, fmt.Errorf("sequence %d is empty", i)
		}
		T = max(T, len(s))
	}
	b := Batch{B: len(seqs), T: T, Tokens: make([]int, len(seqs)*T), Mask: make([]bool, len(seqs)*T)}
	for i, s := range seqs {
		copy(b.Tokens[i*T:], s)
		from := 1
		if scoreFrom != nil {
			from = max(1, scoreFrom[i])
		}
		for t := from; t < len(s); t++ {
			b.Mask[i*T+t] = true
		}
	}
	return b, nil
}

// LearnerOptions sizes a Learner and configures its optimiser.
type LearnerOptions struct {
	// MaxBatch and MaxSeqLen bound the batches Forward accepts:
	// B·T ≤ MaxBatch·MaxSeqLen and T ≤ MaxSeqLen. Activation memory is
	// allocated once for that size.
	MaxBatch, MaxSeqLen int
	// AdamW configures a fresh optimiser (the zero value means
	// DefaultAdamW); ignored when Resume is set.
	AdamW AdamWConfig
	// Resume continues from saved optimiser state (from LoadCheckpoint).
	Resume *AdamW
	// ClipNorm rescales the gradient to this global norm when it is larger;
	// 0 disables clipping.
	ClipNorm float64
}

// Learner updates a model's parameters: Forward over a batch, Backward from
// per-token gradients (as often as needed to accumulate over micro-batches),
// then Step. It owns the activations, gradients and optimiser state, all
// allocated by NewLearner (a second set of activations by the first
// BackwardForward); a step allocates no buffers.
type Learner struct {
	m   *Model
	act *activations
	// spare is a second set of activations, allocated by the first
	// BackwardForward: the next batch's forward fills it while the
	// backward reads act, and the two then change places.
	spare    *activations
	grads    []float32
	g        weights
	opt      *AdamW
	clipNorm float64
	partial  []float64

	// forwardOK and entropyOK track what the last Forward left for Backward.
	forwardOK, entropyOK bool
	// ceGrad holds the cross-entropy gradient [N].
	ceGrad []float32
}

// NewLearner allocates the training memory for m.
func NewLearner(m *Model, o LearnerOptions) (*Learner, error) {
	if o.MaxBatch <= 0 || o.MaxSeqLen <= 0 {
		return nil, fmt.Errorf("trainer capacity %d×%d: both must be positive", o.MaxBatch, o.MaxSeqLen)
	}
	if o.MaxSeqLen > m.cfg.MaxPositions {
		return nil, fmt.Errorf("trainer sequence length %d: the model accepts at most %d (max_position_embeddings)", o.MaxSeqLen, m.cfg.MaxPositions)
	}
	if !(o.ClipNorm >= 0) || math.IsInf(o.ClipNorm, 0) {
		return nil, fmt.Errorf("clip norm %v: must be non-negative and finite", o.ClipNorm)
	}
	opt := o.Resume
	if opt == nil {
		if o.AdamW == (AdamWConfig{}) {
			o.AdamW = DefaultAdamW()
		}
		if err := o.AdamW.Validate(); err != nil {
			return nil, err
		}
		opt = newAdamW(o.AdamW, m.specs)
	} else if !sameLayout(opt.specs, m.specs) {
		return nil, errors.New("resumed optimiser state was saved for a model of another shape")
	}
	rows := o.MaxBatch * o.MaxSeqLen
	tr := &Learner{
		m:        m,
		act:      newActivations(m.cfg, rows, o.MaxSeqLen, true),
		grads:    make([]float32, len(m.params)),
		opt:      opt,
		clipNorm: o.ClipNorm,
		partial:  make([]float64, normChunks),
		ceGrad:   make([]float32, rows),
	}
	tr.g, _ = bindWeights(m.cfg, tr.grads)
	return tr, nil
}

// sameLayout reports whether two tensor tables describe the same layout.
func sameLayout(a, b []tensorSpec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || a[i].offset != b[i].offset || a[i].size != b[i].size {
			return false
		}
	}
	return true
}

// Model returns the model being trained.
func (tr *Learner) Model() *Model { return tr.m }

// Optimizer returns the optimiser state, for checkpoints.
func (tr *Learner) Optimizer() *AdamW { return tr.opt }

// ForwardOptions choose what Forward computes.
type ForwardOptions struct {
	// Temperature divides the logits before the softmax; 0 means 1. Use the
	// sampling temperature so that log-probs match the rollouts' policy.
	Temperature float64
	// Entropy asks for the entropy of each scored position's distribution
	// (needed by Backward's entropy gradient).
	Entropy bool
}

// TokenOutputs are per-position results of Forward, indexed like the batch
// (b·T+t) and zero at positions the mask leaves out. They are views into the
// trainer's memory, valid until the next Forward or BackwardForward.
type TokenOutputs struct {
	LogProbs  []float32 // log π(token t | tokens < t) under the temperature-scaled distribution
	Entropies []float32 // entropy of that distribution; nil unless requested
}

// Forward runs the model over the batch, keeping the activations for
// Backward, and returns the per-token log-probs (and entropies).
func (tr *Learner) Forward(b Batch, o ForwardOptions) (TokenOutputs, error) {
	tr.forwardOK = false
	if err := setForwardBatch(tr.act, b, o); err != nil {
		return TokenOutputs{}, err
	}
	tr.act.forward(tr.m, o.Entropy)
	return tr.forwarded(b, o), nil
}

// setForwardBatch validates b and o and copies the batch into a.
func setForwardBatch(a *activations, b Batch, o ForwardOptions) error {
	temp := o.Temperature
	if temp == 0 {
		temp = 1
	}
	return a.setBatch(b.Tokens, b.Mask, b.B, b.T, float32(temp))
}

// forwarded records that tr.act holds a forward pass over b and returns
// its outputs.
func (tr *Learner) forwarded(b Batch, o ForwardOptions) TokenOutputs {
	tr.forwardOK, tr.entropyOK = true, o.Entropy
	N := b.B * b.T
	out := TokenOutputs{LogProbs: tr.act.logp[:N]}
	if o.Entropy {
		out.Entropies = tr.act.ent[:N]
	}
	return out
}

// Backward adds to the gradients the effect of a loss whose derivatives with
// respect to the last Forward's log-probs are dLogProbs and, when non-nil,
// with respect to its entropies dEntropies (both [B·T]; entries at unscored
// positions are ignored). Gradients accumulate until Step or ZeroGrad, so
// micro-batches are summed by calling Forward and Backward for each.
func (tr *Learner) Backward(dLogProbs, dEntropies []float32) error {
	if err := tr.checkBackward(dLogProbs, dEntropies); err != nil {
		return err
	}
	tr.act.backward(tr.m, &tr.g, dLogProbs, dEntropies)
	return nil
}

// checkBackward validates Backward's arguments against the last forward.
func (tr *Learner) checkBackward(dLogProbs, dEntropies []float32) error {
	if !tr.forwardOK {
		return errors.New("backward without a forward pass over the current batch")
	}
	N := tr.act.B * tr.act.T
	if len(dLogProbs) != N {
		return fmt.Errorf("%d log-prob gradients for a batch of %d positions", len(dLogProbs), N)
	}
	if dEntropies != nil {
		if len(dEntropies) != N {
			return fmt.Errorf("%d entropy gradients for a batch of %d positions", len(dEntropies), N)
		}
		if !tr.entropyOK {
			return errors.New("entropy gradients need a forward pass with Entropy set")
		}
	}
	return nil
}

// BackwardForward is Backward(dLogProbs, dEntropies) followed by
// Forward(next, o), with the forward run beside the backward: micro-batches
// of one update share the weights, so the next one's forward need not wait
// for the previous one's backward. The forward writes a second set of
// activations (allocated by the first call) and only reads the weights, and
// the backward only adds to the gradients, in the same order as Backward, so
// every result is the same as from the two calls in turn. The outputs
// returned by the last Forward may be overwritten from here on. When next
// is rejected, nothing is computed.
func (tr *Learner) BackwardForward(dLogProbs, dEntropies []float32, next Batch, o ForwardOptions) (TokenOutputs, error) {
	if err := tr.checkBackward(dLogProbs, dEntropies); err != nil {
		return TokenOutputs{}, err
	}
	if tr.spare == nil {
		tr.spare = newActivations(tr.m.cfg, tr.act.maxRows, tr.act.maxT, true)
	}
	if err := setForwardBatch(tr.spare, next, o); err != nil {
		return TokenOutputs{}, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.spare.forward(tr.m, o.Entropy)
	}()
	tr.act.backward(tr.m, &tr.g, dLogProbs, dEntropies)
	<-done
	tr.act, tr.spare = tr.spare, tr.act
	return tr.forwarded(next, o), nil
}

// CrossEntropy runs Forward and Backward for next-token cross-entropy over
// the batch's mask (pre-training, SFT) and returns the mean loss per scored
// token. The gradient added is that of the mean loss times gradScale: 1 for a
// whole batch, the micro-batch's share of the scored tokens when a batch is
// split.
func (tr *Learner) CrossEntropy(b Batch, gradScale float64) (float64, error) {
	out, err := tr.Forward(b, ForwardOptions{})
	if err != nil {
		return 0, err
	}
	n := len(tr.act.scored)
	if n == 0 {
		return 0, errors.New("cross-entropy over a batch whose mask scores no token")
	}
	grad := tr.ceGrad[:len(out.LogProbs)]
	clear(grad)
	var loss float64
	for _, pos := range tr.act.scored {
		loss -= float64(out.LogProbs[pos])
		grad[pos] = float32(-gradScale / float64(n))
	}
	if err := tr.Backward(grad, nil); err != nil {
		return 0, err
	}
	return loss / float64(n), nil
}

// ZeroGrad discards the accumulated gradients.
func (tr *Learner) ZeroGrad() { clear(tr.grads) }

// GradNorm returns the global Euclidean norm of the accumulated gradients.
func (tr *Learner) GradNorm() float64 { return globalNorm(tr.grads, tr.partial) }

// Step clips the accumulated gradients to the configured global norm, applies
// one AdamW update with learning rate lr, and zeroes the gradients. It
// returns the norm before clipping. A non-finite norm skips the update (the
// gradients are still discarded) and is an error.
func (tr *Learner) Step(lr float64) (float64, error) {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		tr.ZeroGrad()
		return 0, fmt.Errorf("learning rate %v: %w", lr, ErrInvalidLearningRate)
	}
	norm := globalNorm(tr.grads, tr.partial)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		tr.ZeroGrad()
		return norm, fmt.Errorf("optimiser step %d: %w", tr.opt.steps+1, errNonFinite)
	}
	// The update clips (scales) and then zeroes the gradients in its own
	// pass over them.
	tr.opt.update(tr.m.params, tr.grads, lr, clipScale(norm, tr.clipNorm))
	return norm, nil
}
