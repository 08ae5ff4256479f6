package train

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/runlog"
)

// evalSet is a validation set, tokenised.
type evalSet struct {
	name     string
	problems []Problem
	ids      [][]int
	// fingerprint identifies the problems in order in
	// validation_problems.jsonl (runlog.ProblemsFingerprint).
	fingerprint string
}

// evalSeed gives a validation set the same sampling seed at every
// validation, and in every run with the same seed, so that accuracy changes
// come from the policy and not from the draw.
func evalSeed(seed uint64, set string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(set))
	return seed*0x9e3779b97f4a7c15 ^ h.Sum64()
}

// validate samples eval.n responses per validation problem (paper Sec. 4.1:
// T=0.6, top-p 0.95) and logs avg@n, maj@n and pass@k per set, each with
// its 95% bootstrap interval over the set's problems. A new best
// mean avg@n saves the policy as the best checkpoint.
func (t *Trainer) validate(ctx context.Context) error {
	row := runlog.ValidationRow{Step: t.st.Step, K: t.cfg.Eval.N}
	var sum float64
	for _, set := range t.vals {
		res, err := t.evaluate(ctx, set, evalSeed(t.cfg.Seed, set.name))
		if err != nil {
			return fmt.Errorf("validation on %s: %w", set.name, err)
		}
		sc := res.score
		s := runlog.SetScores{Name: set.name, Avg: estimate(sc.Avg), Maj: estimate(sc.Maj),
			Pass: map[int]runlog.Estimate{}, ResponseLength: res.length}
		for k, v := range sc.Pass {
			s.Pass[k] = estimate(v)
		}
		row.Sets = append(row.Sets, s)
		sum += sc.Avg.Mean
		if err := runlog.AppendLine(t.run.problems, runlog.ProblemScoresRow{Step: t.st.Step, Set: set.name,
			N: t.cfg.Eval.N, Problems: set.fingerprint, Correct: res.correct}); err != nil {
			return err
		}
	}
	mean := sum / float64(len(t.vals))
	row.Mean = mean
	if err := runlog.AppendLine(t.run.validate, row); err != nil {
		return err
	}
	t.valMeans = append(t.valMeans, mean)
	if t.isNewBest(mean) {
		return t.saveBest(mean)
	}
	return nil
}

// evalResult is one validation set's accuracy, averaged over problems with
// confidence intervals, and its mean response length.
type evalResult struct {
	score   metrics.SetScore
	length  float64
	correct []int // correct samples per problem
}

// evaluate samples and grades one validation set. The intervals are
// bootstrapped over the set's problems from the set's own seed.
func (t *Trainer) evaluate(ctx context.Context, set evalSet, seed uint64) (evalResult, error) {
	e := t.cfg.Eval
	rb, err := t.collect(ctx, set.problems, set.ids, e.N, engine.SampleOptions{
		MaxNewTokens: t.maxNew, Temperature: e.Temperature, TopP: e.TopP, StopTokens: t.policy.StopTokens(),
	}, seed)
	if err != nil {
		return evalResult{}, err
	}
	samples := make([]metrics.Samples, len(rb.groups))
	perProblem := make([]int, len(rb.groups))
	var tokens int
	for j, g := range rb.groups {
		correct := make([]float64, len(g.Rollouts))
		for k, r := range g.Rollouts {
			if t.correct(g, r.Answer) {
				correct[k] = 1
				perProblem[j]++
			}
			tokens += len(rb.gens[j*e.N+k].Tokens)
		}
		samples[j] = metrics.Samples{Classes: t.grader.Classes(g.Answers()).Class, Correct: correct}
	}
	score, err := metrics.EvaluateSet(samples, append([]int{e.N}, e.PassK...), metrics.BootstrapConfig{Seed: seed})
	if err != nil {
		return evalResult{}, err
	}
	return evalResult{score: score, length: float64(tokens) / float64(len(rb.gens)), correct: perProblem}, nil
}

// saveBest writes the policy to checkpoints/best and records its step.
func (t *Trainer) saveBest(score float64) error {
	if err := t.writeBestCheckpoint(); err != nil {
		return fmt.Errorf("saving the best checkpoint: %w", err)
	}
	t.best = bestRecord{Step: t.st.Step, Score: score, Dir: filepath.Join(CheckpointDir, bestLink)}
	b, err := json.MarshalIndent(t.best, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(t.run.dir, BestFile), append(b, '\n'), 0o644)
}

// estimate is a set's score as the run log writes it.
func estimate(e metrics.Estimate) runlog.Estimate {
	return runlog.Estimate{Value: e.Mean, CI: &runlog.Interval{Lo: e.CI.Lo, Hi: e.CI.Hi}}
}
