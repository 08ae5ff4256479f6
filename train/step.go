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
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rl"
	"github.com/urlvr/urlvr/rollout"
)

// Metric keys of metrics.jsonl, grouped by prefix (train/ for the paper's
// B.2 dynamics, actor/ for the policy, perf/ for speed). The ones the
// report package plots are its constants, so the two cannot drift apart.
const (
	keyProxyReward       = report.KeyProxyReward
	keyGroundTruthReward = report.KeyGroundTruthReward
	keyLabelAccuracy     = report.KeyLabelAccuracy
	keyRewardAccuracy    = report.KeyRewardAccuracy
	keyMajorityRatio     = "train/majority_ratio"
	keyPointBiserial     = "train/point_biserial"
	keyZeroVariance      = "train/zero_variance_fraction"
	keyNoAnswer          = "train/no_answer_fraction"
	keyEntropy           = report.KeyEntropy
	keyResponseLength    = report.KeyResponseLength
	keyTruncated         = "actor/truncated_fraction"
	keyKL                = report.KeyKL
	keyPGLoss            = "actor/pg_loss"
	keyLoss              = "actor/loss"
	keyClipFraction      = "actor/clip_fraction"
	keyDualClipFraction  = "actor/dual_clip_fraction"
	keyPPOKL             = "actor/ppo_kl"
	keyGradNorm          = "actor/grad_norm"
	keyLR                = "actor/lr"
	keySkipped           = "actor/skipped_updates"
	keyStepSeconds       = "perf/step_seconds"
	keySampleSeconds     = "perf/sample_seconds"
	keyUpdateSeconds     = "perf/update_seconds"
	keyTokensPerSecond   = "perf/tokens_per_second"
)

// sampleChunk bounds the sequences of one Sample call (the key/value cache
// of a chunk stays at a few tens of MB).
const sampleChunk = 512

// sample generates continuations of prompts in chunks, each chunk with its
// own seed derived from seed, so the result depends only on the arguments.
func (t *Trainer) sample(ctx context.Context, prompts [][]int, o engine.SampleOptions, seed uint64) ([]engine.Generation, error) {
	out := make([]engine.Generation, 0, len(prompts))
	for c, lo := 0, 0; lo < len(prompts); c, lo = c+1, lo+sampleChunk {
		hi := min(len(prompts), lo+sampleChunk)
		o.Seed = seed + uint64(c)*0x9e3779b97f4a7c15
		g, err := t.policy.Engine.Sample(ctx, prompts[lo:hi], o)
		if err != nil {
			return nil, fmt.Errorf("sampling: %w", err)
		}
		out = append(out, g...)
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
		g := &rollout.Group{PromptID: p.ID, Gold: p.Answer, HasGold: p.Answer != "", Rollouts: make([]rollout.Rollout, n)}
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
		g.ExtractAnswers(t.grader.Extract)
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

// trainStep runs one training step and returns its metrics row.
func (t *Trainer) trainStep(ctx context.Context) (map[string]any, error) {
	cfg := t.cfg
	start := time.Now()
	idx := t.nextBatch()
	problems := make([]Problem, len(idx))
	ids := make([][]int, len(idx))
	for j, i := range idx {
		problems[j], ids[j] = t.train[i], t.trainIDs[i]
	}
	N := cfg.Rollout.N
	seed := t.rngSample.Uint64()
	rb, err := t.collect(ctx, problems, ids, N, engine.SampleOptions{
		MaxNewTokens: t.maxNew, Temperature: cfg.Rollout.Temperature, TopP: cfg.Rollout.TopP, TopK: cfg.Rollout.TopK,
		StopTokens: t.policy.StopTokens(),
	}, seed)
	if err != nil {
		return nil, err
	}
	sampleDur := time.Since(start)
	// Answer-token masks serve the reward (Probability Disparity), so only
	// training rollouts need them, not validation samples.
	for j, g := range rb.groups {
		for k := range g.Rollouts {
			r := &g.Rollouts[k]
			r.AnswerMask = t.answerMask(rb.gens[j*N+k].Tokens, r.Text, r.Answer)
		}
	}

	scores, err := reward.ScoreAll(ctx, t.est, rb.groups)
	if err != nil {
		return nil, fmt.Errorf("reward %s: %w", t.est.Name(), err)
	}
	rewards := make([]float64, 0, len(rb.seqs))
	for _, s := range scores {
		rewards = append(rewards, s.Rewards...)
	}
	mgroups, _, err := reward.MetricsGroups(ctx, rb.groups, scores, t.grader)
	if err != nil {
		return nil, err
	}
	row := map[string]any{}
	if len(mgroups) > 0 {
		dyn, err := metrics.ComputeDynamics(mgroups)
		if err != nil {
			return nil, fmt.Errorf("training dynamics: %w", err)
		}
		addDynamics(row, dyn)
	}
	addRolloutStats(row, rb)

	tokenCounts := make([]int, len(rb.seqs))
	for i, g := range rb.gens {
		tokenCounts[i] = len(g.Tokens)
	}
	adv := make([]float64, len(rewards))
	ac := t.advCfg
	ac.TokenCounts = tokenCounts
	advStats, err := rl.Advantages(ac, rewards, N, adv)
	if err != nil {
		return nil, fmt.Errorf("advantages: %w", err)
	}
	row[keyZeroVariance] = advStats.ZeroVarianceFraction

	updateStart := time.Now()
	if err := t.update(ctx, rb, adv, row); err != nil {
		return nil, err
	}
	now := time.Now()
	generated := 0
	for _, n := range tokenCounts {
		generated += n
	}
	row[keyStepSeconds] = now.Sub(start).Seconds()
	row[keySampleSeconds] = sampleDur.Seconds()
	row[keyUpdateSeconds] = now.Sub(updateStart).Seconds()
	row[keyTokensPerSecond] = float64(generated) / now.Sub(start).Seconds()
	if every := cfg.Trainer.SampleEvery; every > 0 && (t.st.Step+1)%every == 0 {
		if err := t.writeSamples(t.st.Step+1, problems, rb, scores); err != nil {
			return nil, err
		}
	}
	return row, nil
}

// addDynamics copies the paper's B.2 metrics into the row; metrics that are
// undefined for the estimator (reward accuracy of a continuous reward) are
// left out rather than logged as 0.
func addDynamics(row map[string]any, d metrics.Dynamics) {
	row[keyProxyReward] = d.ProxyReward
	row[keyGroundTruthReward] = d.GroundTruthReward
	row[keyLabelAccuracy] = d.LabelAccuracy
	row[keyPointBiserial] = d.PointBiserial
	if d.HasRewardAccuracy {
		row[keyRewardAccuracy] = d.RewardAccuracy
	}
	if d.HasMajorityRatio {
		row[keyMajorityRatio] = d.MajorityRatio
	}
}

// addRolloutStats logs the actor's entropy, response length, the share of
// responses cut at the length limit and of responses without an answer.
func addRolloutStats(row map[string]any, rb *rolloutBatch) {
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
	row[keyEntropy] = ent / math.Max(1, float64(tokens))
	row[keyResponseLength] = float64(tokens) / n
	row[keyTruncated] = float64(truncated) / n
	row[keyNoAnswer] = float64(noAnswer) / n
}

// update runs the PPO epochs over the step's rollouts in mini-batches of
// whole prompt groups, each split into micro-batches whose gradients add up
// to the mini-batch's, and logs the loss statistics and the KL to the
// reference policy.
func (t *Trainer) update(ctx context.Context, rb *rolloutBatch, adv []float64, row map[string]any) error {
	cfg := t.cfg
	N := cfg.Rollout.N
	temp := cfg.Rollout.Temperature
	if temp == 0 {
		temp = 1
	}
	ref, err := t.ref.Score(ctx, rb.seqs, engine.ScoreOptions{Temperature: temp, ScoreFrom: rb.scoreFrom})
	if err != nil {
		return fmt.Errorf("reference policy: %w", err)
	}
	row[keyKL] = meanKL(rb, ref)

	onPolicy := cfg.Trainer.MiniBatch == cfg.Trainer.GlobalBatch && cfg.Trainer.PPOEpochs == 1
	var old []engine.SequenceScores
	if !onPolicy {
		if old, err = t.policy.Engine.Score(ctx, rb.seqs, engine.ScoreOptions{Temperature: temp, ScoreFrom: rb.scoreFrom}); err != nil {
			return fmt.Errorf("old policy: %w", err)
		}
	}
	var agg lossAccumulator
	mini := cfg.Trainer.MiniBatch * N
	for range cfg.Trainer.PPOEpochs {
		for lo := 0; lo < len(rb.seqs); lo += mini {
			hi := min(len(rb.seqs), lo+mini)
			ok, err := t.miniBatch(rb, adv, old, ref, lo, hi, temp, &agg)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			lr := t.sched.LR(t.et.Optimizer().Steps())
			norm, err := t.optimStep(ctx, lr, rb.seqs[lo], rb.scoreFrom[lo], temp)
			if errors.Is(err, ErrDiverged) {
				return err
			}
			if err != nil {
				t.st.SkippedUpdates++
				t.event(map[string]any{"event": "skipped_update", "reason": err.Error()})
				continue
			}
			agg.gradNorm += norm
			agg.updates++
			agg.lr = lr
		}
	}
	agg.write(row)
	row[keySkipped] = t.st.SkippedUpdates
	return nil
}

// miniBatch accumulates the gradient of one mini-batch (sequences lo..hi).
// It returns false, with the gradients discarded and the event logged, when
// the loss is not finite.
func (t *Trainer) miniBatch(rb *rolloutBatch, adv []float64, old, ref []engine.SequenceScores, lo, hi int, temp float64, agg *lossAccumulator) (bool, error) {
	lc := t.lossCfg
	var tokens, seqs float64
	for i := lo; i < hi; i++ {
		if n := len(rb.seqs[i]) - rb.scoreFrom[i]; n > 0 {
			tokens += float64(n)
			seqs++
		}
	}
	lc.GlobalTokens, lc.GlobalSequences = tokens, seqs
	entropy := lc.EntropyCoef != 0
	for mlo := lo; mlo < hi; mlo += microBatchSeqs {
		mhi := min(hi, mlo+microBatchSeqs)
		b, err := engine.NewBatch(rb.seqs[mlo:mhi], rb.scoreFrom[mlo:mhi])
		if err != nil {
			return false, err
		}
		out, err := t.et.Forward(b, engine.ForwardOptions{Temperature: temp, Entropy: entropy})
		if err != nil {
			return false, err
		}
		lb := rl.Batch[float32]{
			Seqs: b.B, Tokens: b.T, LogProb: out.LogProbs, Entropy: out.Entropies,
			SeqAdvantage: adv[mlo:mhi], Mask: make([]float32, b.B*b.T),
		}
		for i, m := range b.Mask {
			if m {
				lb.Mask[i] = 1
			}
		}
		if old != nil {
			lb.OldLogProb = spread(old[mlo:mhi], b)
		}
		if lc.KLCoef != 0 {
			lb.RefLogProb = spread(ref[mlo:mhi], b)
		}
		var lo rl.LossOutput[float32]
		if err := rl.Loss(lc, lb, &lo); err != nil {
			t.et.ZeroGrad()
			t.st.SkippedUpdates++
			t.event(map[string]any{"event": "skipped_update", "reason": err.Error()})
			return false, nil
		}
		var dEnt []float32
		if len(lo.DEntropy) > 0 {
			dEnt = lo.DEntropy
		}
		if err := t.et.Backward(lo.DLogProb, dEnt); err != nil {
			return false, err
		}
		agg.add(lo, b)
	}
	return true, nil
}

// spread lays per-sequence scores out in a batch's [B·T] layout.
func spread(scores []engine.SequenceScores, b engine.Batch) []float32 {
	out := make([]float32, b.B*b.T)
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

func (a *lossAccumulator) write(row map[string]any) {
	if a.tokens > 0 {
		row[keyPGLoss] = a.pg / a.tokens
		row[keyClipFraction] = a.clip / a.tokens
		row[keyDualClipFraction] = a.dual / a.tokens
		row[keyPPOKL] = a.ppoKL / a.tokens
	}
	if a.updates > 0 {
		row[keyLoss] = a.loss / float64(a.updates)
		row[keyGradNorm] = a.gradNorm / float64(a.updates)
		row[keyLR] = a.lr
	}
}
