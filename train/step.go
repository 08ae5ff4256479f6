package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rl"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task"
)

// sampleChunk bounds the sequences of one Sample call (the key/value cache
// of a chunk stays at a few tens of MB).
const sampleChunk = 512

// sample generates continuations of prompts in chunks, each chunk with its
// own seed derived from seed, so the result depends only on the arguments.
func (t *Trainer) sample(ctx context.Context, prompts [][]int, o engine.SampleOptions, seed uint64) ([]engine.Generation, error) {
	o.Seed = seed
	out, err := t.policy.Engine.SampleChunks(ctx, prompts, o, sampleChunk)
	if err != nil {
		return nil, fmt.Errorf("sampling: %w", err)
	}
	return out, nil
}

// rolloutBatch is one step's rollouts: groups for the reward, and the
// token sequences (prompt + response) for the update.
type rolloutBatch struct {
	groups    []*rollout.Group
	seqs      [][]int
	scoreFrom []int // prompt length of each sequence
	gens      []engine.Generation
	ref       *refScoring // the reference's scores of seqs, once started
}

// refScoring is the reference policy's scoring of a step's rollouts, run
// on a goroutine of its own. The reference's weights and scoring memory
// are its own, and scores never depend on how the work is spread over
// threads, so running it beside the step's other work changes no result;
// it fills the cores that the reward (serial) and the update's kernels
// (between their parallel sections) leave idle.
type refScoring struct {
	done   chan struct{}
	scores []engine.SequenceScores
	err    error
}

// scoreReference starts scoring rb's sequences under the reference policy
// at the update's temperature.
func (t *Trainer) scoreReference(ctx context.Context, rb *rolloutBatch) *refScoring {
	r := &refScoring{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.scores, r.err = t.ref.LogProbs(ctx, rb.seqs, engine.ScoreOptions{Temperature: t.updateTemp(), ScoreFrom: rb.scoreFrom})
	}()
	return r
}

// wait returns the reference's scores once they are in; it may be called
// any number of times.
func (r *refScoring) wait() ([]engine.SequenceScores, error) {
	<-r.done
	if r.err != nil {
		return nil, fmt.Errorf("reference policy: %w", r.err)
	}
	return r.scores, nil
}

// updateTemp is the temperature the update scores sequences at: the
// sampling temperature, 0 meaning 1.
func (t *Trainer) updateTemp() float64 {
	if temp := t.cfg.Rollout.Temperature; temp != 0 {
		return temp
	}
	return 1
}

// collect samples N rollouts for each problem and builds the groups.
func (t *Trainer) collect(ctx context.Context, problems []Problem, ids [][]int, n int, o engine.SampleOptions, seed uint64) (*rolloutBatch, error) {
	prompts := make([][]int, 0, len(ids)*n)
	for _, p := range ids {
		for range n {
			prompts = append(prompts, p)
		}
	}
	gens, err := t.sample(ctx, prompts, o, seed)
	if err != nil {
		return nil, err
	}
	rb := &rolloutBatch{gens: gens, groups: make([]*rollout.Group, len(problems))}
	for j, p := range problems {
		g := &rollout.Group{PromptID: p.ID, Gold: p.Answer, HasGold: p.Answer != "", Countdown: p.Countdown, Rollouts: make([]rollout.Rollout, n)}
		task.Attach(g)
		for k := range n {
			i := j*n + k
			gen := gens[i]
			toks := make([]int32, len(gen.Tokens))
			for x, id := range gen.Tokens {
				toks[x] = int32(id)
			}
			g.Rollouts[k] = rollout.Rollout{
				Tokens: toks, Text: t.policy.Response(gen.Tokens),
				LogProbs: gen.LogProbs, Entropies: gen.Entropies, SelfCertainty: gen.SelfCertainty, Top2Gap: gen.TopGaps,
			}
			seq := make([]int, 0, len(prompts[i])+len(gen.Tokens))
			seq = append(append(seq, prompts[i]...), gen.Tokens...)
			rb.seqs = append(rb.seqs, seq)
			rb.scoreFrom = append(rb.scoreFrom, len(prompts[i]))
		}
		if g.Verifier != nil {
			g.ExtractAnswers(g.Verifier.Extract)
		} else {
			g.ExtractAnswers(t.grader.Extract)
		}
		rb.groups[j] = g
	}
	return rb, nil
}

// answerMask marks the response tokens that spell the extracted answer
// (its last occurrence in the text), which Probability Disparity averages
// over. Token spans come from decoding growing prefixes, which works for any
// tokenizer; responses are short, so the quadratic cost does not matter.
func (t *Trainer) answerMask(tokens []int, text, answer string) []bool {
	mask := make([]bool, len(tokens))
	at := strings.LastIndex(text, answer)
	if answer == "" || at < 0 {
		return mask
	}
	end := at + len(answer)
	prev := 0
	for i := range tokens {
		n := len(t.policy.Tokenizer.Decode(tokens[:i+1]))
		mask[i] = n > at && prev < end
		prev = n
	}
	return mask
}

// trainStep runs one training step and returns its metrics row. It reads
// as the step does: collect rollouts, score them, turn the scores into
// advantages, update the policy, log.
func (t *Trainer) trainStep(ctx context.Context) (runlog.StepRow, error) {
	var row runlog.StepRow
	start := time.Now()
	problems, ids := t.nextProblems()
	if t.coReward() {
		problems, ids = t.withRephrasings(problems, ids)
	}
	rb, err := t.collect(ctx, problems, ids, t.cfg.Rollout.N, t.rolloutOptions(), t.rngSample.Uint64())
	if err != nil {
		return row, err
	}
	sampled := time.Now()
	// The reference's scores are needed only by the update: scoring them
	// from here on runs them beside the reward and, in the update, the
	// micro-batches.
	rb.ref = t.scoreReference(ctx, rb)
	defer rb.ref.wait()
	scores, rewards, err := t.score(ctx, rb, &row)
	if err != nil {
		return row, err
	}
	adv, err := t.advantages(rb, rewards, &row)
	if err != nil {
		return row, err
	}
	updateStart := time.Now()
	if err := t.update(ctx, rb, adv, &row); err != nil {
		return row, err
	}
	logTimings(&row, rb, start, sampled, updateStart, time.Now())
	if every := t.cfg.Trainer.SampleEvery; every > 0 && (t.st.Step+1)%every == 0 {
		if err := t.writeSamples(t.st.Step+1, problems, rb, scores); err != nil {
			return row, err
		}
	}
	return row, nil
}

// nextProblems draws the step's global batch of training problems and
// their tokenised prompts.
func (t *Trainer) nextProblems() ([]Problem, [][]int) {
	idx := t.nextBatch()
	problems := make([]Problem, len(idx))
	ids := make([][]int, len(idx))
	for j, i := range idx {
		problems[j], ids[j] = t.train[i], t.trainIDs[i]
	}
	return problems, ids
}

// rolloutOptions are the sampling settings of training rollouts.
func (t *Trainer) rolloutOptions() engine.SampleOptions {
	r := t.cfg.Rollout
	return engine.SampleOptions{
		MaxNewTokens: t.maxNew, Temperature: r.Temperature, TopP: r.TopP, TopK: r.TopK,
		StopTokens: t.policy.StopTokens(),
	}
}

// score marks the answer tokens of every rollout, scores the rollouts with
// the reward estimator and logs the paper's training dynamics (ground
// truth is used for monitoring only). It returns each group's scores and
// the rewards in rollout order.
func (t *Trainer) score(ctx context.Context, rb *rolloutBatch, row *runlog.StepRow) ([]reward.Scores, []float64, error) {
	// Answer-token masks serve the reward (Probability Disparity), so only
	// training rollouts need them, not validation samples.
	N := t.cfg.Rollout.N
	for j, g := range rb.groups {
		for k := range g.Rollouts {
			r := &g.Rollouts[k]
			r.AnswerMask = t.answerMask(rb.gens[j*N+k].Tokens, r.Text, r.Answer)
		}
	}
	if sv, ok := t.selfVerification(); ok {
		if err := t.selfVerify(ctx, rb, sv, row); err != nil {
			return nil, nil, err
		}
	}
	if cv, ok := t.est.(reward.CoVo); ok {
		if err := t.stateDistances(ctx, rb, cv); err != nil {
			return nil, nil, err
		}
	}
	groups := rb.groups
	if t.coReward() {
		groups = coRewardGroups(rb.groups)
	}
	if len(t.peers) > 0 {
		var err error
		if groups, err = t.peerGroups(ctx, rb); err != nil {
			return nil, nil, err
		}
	}
	scores, err := reward.ScoreAll(ctx, t.est, groups)
	if err != nil {
		return nil, nil, fmt.Errorf("reward %s: %w", t.est.Name(), err)
	}
	if len(t.peers) > 0 {
		// Only the policy's rollouts are trained and monitored.
		scores, groups = policyScores(scores, N), rb.groups
	}
	rewards := make([]float64, 0, len(rb.seqs))
	for _, s := range scores {
		rewards = append(rewards, s.Rewards...)
	}
	mgroups, _, err := reward.MetricsGroups(ctx, groups, scores, t.grader)
	if err != nil {
		return nil, nil, err
	}
	if len(mgroups) > 0 {
		dyn, err := metrics.ComputeDynamics(mgroups)
		if err != nil {
			return nil, nil, fmt.Errorf("training dynamics: %w", err)
		}
		logDynamics(row, dyn)
	}
	logRolloutStats(row, rb)
	if t.coReward() {
		scores = splitScores(scores, N)
	}
	return scores, rewards, nil
}

// advantages turns the rewards into per-rollout advantages (GRPO and
// friends), normalised within each prompt's group.
func (t *Trainer) advantages(rb *rolloutBatch, rewards []float64, row *runlog.StepRow) ([]float64, error) {
	tokenCounts := make([]int, len(rb.gens))
	for i, g := range rb.gens {
		tokenCounts[i] = len(g.Tokens)
	}
	adv := make([]float64, len(rewards))
	ac := t.advCfg
	ac.TokenCounts = tokenCounts
	stats, err := rl.Advantages(ac, rewards, t.cfg.Rollout.N, adv)
	if err != nil {
		return nil, fmt.Errorf("advantages: %w", err)
	}
	row.ZeroVarianceFraction = stats.ZeroVarianceFraction
	return adv, nil
}

// logTimings logs how long the step took, and the generation speed.
func logTimings(row *runlog.StepRow, rb *rolloutBatch, start, sampled, updateStart, end time.Time) {
	generated := 0
	for _, g := range rb.gens {
		generated += len(g.Tokens)
	}
	row.StepSeconds = end.Sub(start).Seconds()
	row.SampleSeconds = sampled.Sub(start).Seconds()
	row.UpdateSeconds = end.Sub(updateStart).Seconds()
	row.TokensPerSecond = float64(generated) / end.Sub(start).Seconds()
}

// logDynamics copies the paper's B.2 metrics into the row; metrics that are
// undefined for the estimator (reward accuracy of a continuous reward) are
// left out rather than logged as 0.
func logDynamics(row *runlog.StepRow, d metrics.Dynamics) {
	row.ProxyReward = runlog.Opt(d.ProxyReward)
	row.GroundTruthReward = runlog.Opt(d.GroundTruthReward)
	row.LabelAccuracy = runlog.Opt(d.LabelAccuracy)
	row.PointBiserial = runlog.Opt(d.PointBiserial)
	if d.HasRewardAccuracy {
		row.RewardAccuracy = runlog.Opt(d.RewardAccuracy)
	}
	if d.HasMajorityRatio {
		row.MajorityRatio = runlog.Opt(d.MajorityRatio)
	}
}

// logRolloutStats logs the actor's entropy, response length, the share of
// responses cut at the length limit and of responses without an answer.
func logRolloutStats(row *runlog.StepRow, rb *rolloutBatch) {
	var ent float64
	var tokens, truncated, noAnswer int
	for _, g := range rb.gens {
		for _, h := range g.Entropies {
			ent += float64(h)
		}
		tokens += len(g.Tokens)
		if g.FinishReason == engine.FinishLength {
			truncated++
		}
	}
	for _, g := range rb.groups {
		for _, r := range g.Rollouts {
			if r.Answer == "" {
				noAnswer++
			}
		}
	}
	n := float64(len(rb.gens))
	row.Entropy = ent / math.Max(1, float64(tokens))
	row.ResponseLength = float64(tokens) / n
	row.TruncatedFraction = float64(truncated) / n
	row.NoAnswerFraction = float64(noAnswer) / n
}

// updateBatch is what the update of one step works on: the rollouts, their
// advantages, the log-probs of the sampled tokens under the policy that
// sampled them (off-policy only) and under the reference, and buffers
// reused by every micro-batch.
type updateBatch struct {
	rb       *rolloutBatch
	adv      []float64
	old, ref []engine.SequenceScores
	temp     float64

	mask, oldLogProb, refLogProb []float32
	loss                         rl.LossOutput[float32]
}

// update runs the PPO epochs over the step's rollouts in mini-batches of
// whole prompt groups, each split into micro-batches whose gradients add up
// to the mini-batch's, and logs the loss statistics and the KL to the
// reference policy. A mini-batch whose loss or gradient is not finite is
// skipped and logged as an event; any other error ends the step.
func (t *Trainer) update(ctx context.Context, rb *rolloutBatch, adv []float64, row *runlog.StepRow) error {
	cfg := t.cfg
	u := &updateBatch{rb: rb, adv: adv, temp: t.updateTemp()}
	// The reference's scores are read by the KL metric, after the
	// mini-batches, and by the loss when it has a KL term; until then they
	// are computed beside the micro-batches (see refScoring).
	if rb.ref == nil {
		rb.ref = t.scoreReference(ctx, rb)
	}
	defer rb.ref.wait()
	// After the first call the scores are in and wait returns at once, so
	// calling it after every mini-batch costs nothing.
	waitRef := func() (err error) {
		u.ref, err = rb.ref.wait()
		return err
	}
	if t.lossCfg.KLCoef != 0 {
		if err := waitRef(); err != nil {
			return err
		}
	}
	var err error

	// On-policy when one update uses every rollout once (Co-Reward's
	// rephrasings double the rollouts of a step).
	onPolicy := len(rb.seqs) <= cfg.Trainer.MiniBatch*cfg.Rollout.N && cfg.Trainer.PPOEpochs == 1
	if !onPolicy {
		if u.old, err = t.policy.Engine.LogProbs(ctx, rb.seqs, engine.ScoreOptions{Temperature: u.temp, ScoreFrom: rb.scoreFrom}); err != nil {
			return fmt.Errorf("old policy: %w", err)
		}
	}
	var agg lossAccumulator
	mini := cfg.Trainer.MiniBatch * cfg.Rollout.N
	for range cfg.Trainer.PPOEpochs {
		for lo := 0; lo < len(rb.seqs); lo += mini {
			hi := min(len(rb.seqs), lo+mini)
			err := t.miniBatch(u, lo, hi, &agg)
			// No parameter changes before the reference's scores are in:
			// an error there ends the step as it did before the update.
			if err := waitRef(); err != nil {
				return err
			}
			if errors.Is(err, rl.ErrNonFinite) {
				if err := t.skipUpdate(err); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			lr := t.sched.LR(t.et.Optimizer().Steps())
			norm, err := t.optimStep(ctx, lr, rb.seqs[lo], rb.scoreFrom[lo], u.temp)
			if errors.Is(err, engine.ErrNonFinite) || errors.Is(err, errUpdateUndone) {
				if err := t.skipUpdate(err); err != nil {
					return err
				}
				continue
			}
			if errors.Is(err, ErrDiverged) {
				return err
			}
			if err != nil {
				return fmt.Errorf("optimiser: %w", err)
			}
			agg.gradNorm += norm
			agg.updates++
			agg.lr = lr
		}
	}
	if err := waitRef(); err != nil { // there was no mini-batch
		return err
	}
	row.KL = meanKL(rb, u.ref)
	agg.write(row)
	row.SkippedUpdates = t.st.SkippedUpdates
	return nil
}

// skipUpdate counts and logs an update skipped for a non-finite loss or
// gradient.
func (t *Trainer) skipUpdate(cause error) error {
	t.st.SkippedUpdates++
	return t.event(runlog.EventRow{Event: runlog.EventSkippedUpdate, Reason: cause.Error()})
}

// miniBatch accumulates the gradient of one mini-batch (sequences lo..hi)
// micro-batch by micro-batch. Each micro-batch's forward runs beside the
// previous one's backward (engine.Learner.BackwardForward): the weights do
// not change within a mini-batch and the gradients add up in the same
// order, so the results are those of one micro-batch after the other. When
// the loss is not finite, the gradients are discarded and the error matches
// rl.ErrNonFinite.
func (t *Trainer) miniBatch(u *updateBatch, lo, hi int, agg *lossAccumulator) error {
	lc := t.lossCfg
	var tokens, seqs float64
	for i := lo; i < hi; i++ {
		if n := len(u.rb.seqs[i]) - u.rb.scoreFrom[i]; n > 0 {
			tokens += float64(n)
			seqs++
		}
	}
	lc.GlobalTokens, lc.GlobalSequences = tokens, seqs
	opts := engine.ForwardOptions{Temperature: u.temp, Entropy: lc.EntropyCoef != 0}
	batch := func(mlo int) (engine.Batch, error) {
		mhi := min(hi, mlo+microBatchSeqs)
		return engine.NewBatch(u.rb.seqs[mlo:mhi], u.rb.scoreFrom[mlo:mhi])
	}
	b, err := batch(lo)
	if err != nil {
		return err
	}
	out, err := t.et.Forward(b, opts)
	if err != nil {
		return err
	}
	for mlo := lo; mlo < hi; mlo += microBatchSeqs {
		mhi := min(hi, mlo+microBatchSeqs)
		lb := rl.LossBatch[float32]{
			Seqs: b.B, Tokens: b.T, LogProb: out.LogProbs, Entropy: out.Entropies,
			SeqAdvantage: u.adv[mlo:mhi], Mask: maskOf(&u.mask, b),
		}
		if u.old != nil {
			lb.OldLogProb = spread(&u.oldLogProb, u.old[mlo:mhi], b)
		}
		if lc.KLCoef != 0 {
			lb.RefLogProb = spread(&u.refLogProb, u.ref[mlo:mhi], b)
		}
		if err := rl.Loss(lc, lb, &u.loss); err != nil {
			t.et.ZeroGrad()
			return err
		}
		var dEnt []float32
		if len(u.loss.DEntropy) > 0 {
			dEnt = u.loss.DEntropy
		}
		if mhi == hi {
			if err := t.et.Backward(u.loss.DLogProb, dEnt); err != nil {
				return err
			}
			agg.add(u.loss, b)
			break
		}
		next, err := batch(mhi)
		if err != nil {
			return err
		}
		if out, err = t.et.BackwardForward(u.loss.DLogProb, dEnt, next, opts); err != nil {
			return err
		}
		agg.add(u.loss, b)
		b = next
	}
	return nil
}

// maskOf fills buf with a batch's response mask as 0/1 floats.
func maskOf(buf *[]float32, b engine.Batch) []float32 {
	m := resize(buf, b.B*b.T)
	for i, on := range b.Mask {
		m[i] = 0
		if on {
			m[i] = 1
		}
	}
	return m
}

// resize returns *buf with length n, growing it only when it is too short.
func resize(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// spread lays per-sequence scores out in a batch's [B·T] layout, in buf.
func spread(buf *[]float32, scores []engine.SequenceScores, b engine.Batch) []float32 {
	out := resize(buf, b.B*b.T)
	clear(out)
	for i, s := range scores {
		copy(out[i*b.T:], s.LogProbs)
	}
	return out
}

// meanKL is the mean over response tokens of the k3 estimate of
// KL(pi || pi_ref), from the sampled tokens' log-probs under the policy
// that sampled them and under the reference.
func meanKL(rb *rolloutBatch, ref []engine.SequenceScores) float64 {
	var sum float64
	var n int
	for i, g := range rb.gens {
		from := rb.scoreFrom[i]
		for k, lp := range g.LogProbs {
			kl, _, err := rl.KLToken(rl.KLK3, float64(lp), float64(ref[i].LogProbs[from+k]))
			if err == nil {
				sum += kl
				n++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// lossAccumulator averages loss statistics over micro-batches, weighted by
// their response tokens.
type lossAccumulator struct {
	tokens                      float64
	loss, pg, clip, dual, ppoKL float64
	gradNorm, lr                float64
	updates                     int
}

func (a *lossAccumulator) add(o rl.LossOutput[float32], b engine.Batch) {
	var n float64
	for _, m := range b.Mask {
		if m {
			n++
		}
	}
	a.tokens += n
	a.loss += o.Loss
	a.pg += o.Stats.PolicyLoss * n
	a.clip += o.Stats.ClipFraction * n
	a.dual += o.Stats.DualClipFraction * n
	a.ppoKL += o.Stats.ApproxKL * n
}

func (a *lossAccumulator) write(row *runlog.StepRow) {
	if a.tokens > 0 {
		row.PGLoss = runlog.Opt(a.pg / a.tokens)
		row.ClipFraction = runlog.Opt(a.clip / a.tokens)
		row.DualClipFraction = runlog.Opt(a.dual / a.tokens)
		row.PPOKL = runlog.Opt(a.ppoKL / a.tokens)
	}
	if a.updates > 0 {
		row.Loss = runlog.Opt(a.loss / float64(a.updates))
		row.GradNorm = runlog.Opt(a.gradNorm / float64(a.updates))
		row.LR = runlog.Opt(a.lr)
	}
}
