package train

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/runlog"
)

func TestDroppedPromptsAreCounted(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Trainer.Steps = 1
	cfg.Eval.Every = 0
	cfg.Rollout.MaxPromptLength = 14 // "Q: 7*(57-40)=?\n" and longer are left out
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	events, st, err := runlog.ReadFile[runlog.EventRow](filepath.Join(tr.Dir(), EventsFile))
	if err != nil || st.Skipped != 0 {
		t.Fatal(err, st)
	}
	var found bool
	for _, e := range events {
		if e.Event == runlog.EventPromptsDropped && e.Dataset == cfg.Data.Train {
			found = true
			if *e.Dropped <= 0 || *e.Dropped >= *e.Of || *e.Of != 40 || *e.Dropped+len(tr.train) != *e.Of {
				t.Errorf("dropped %d of %d, kept %d", *e.Dropped, *e.Of, len(tr.train))
			}
		}
	}
	if !found {
		t.Fatalf("no prompts_dropped event for %s in %+v", cfg.Data.Train, events)
	}
}

// TestUpdateFollowsTheAdvantage is the learning test of the update: after
// one update on two responses to the same prompt, the one with a positive
// advantage is more likely under the policy and the one with a negative
// advantage less likely.
func TestUpdateFollowsTheAdvantage(t *testing.T) {
	cfg := updateTestConfig(t, 1)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var rb *rolloutBatch
	for seed := uint64(1); ; seed++ {
		rb, err = tr.collect(ctx, tr.train[:1], tr.trainIDs[:1], 2, tr.rolloutOptions(), seed)
		if err != nil {
			t.Fatal(err)
		}
		if len(rb.gens[0].Tokens) > 0 && len(rb.gens[1].Tokens) > 0 && !slices.Equal(rb.gens[0].Tokens, rb.gens[1].Tokens) {
			break // two different responses
		}
		if seed == 50 {
			t.Fatal("no two different responses in 50 draws")
		}
	}
	logp := func() [2]float64 {
		s, err := tr.policy.Engine.LogProbs(ctx, rb.seqs, engine.ScoreOptions{Temperature: cfg.Rollout.Temperature, ScoreFrom: rb.scoreFrom})
		if err != nil {
			t.Fatal(err)
		}
		var out [2]float64
		for i := range out {
			for _, lp := range s[i].LogProbs[rb.scoreFrom[i]:] {
				out[i] += float64(lp)
			}
		}
		return out
	}
	before := logp()
	var row runlog.StepRow
	if err := tr.update(ctx, rb, []float64{1, -1}, &row); err != nil {
		t.Fatal(err)
	}
	after := logp()
	if !(after[0] > before[0]) || !(after[1] < before[1]) {
		t.Fatalf("log-probs %v -> %v: want the positive-advantage response up and the negative one down", before, after)
	}
	if row.SkippedUpdates != 0 || row.GradNorm == nil || *row.GradNorm == 0 {
		t.Fatalf("update row %+v", row)
	}
}

// TestUpdateTellsEngineErrorsApart: an invalid learning rate is an error
// that ends the step, not an update skipped and counted.
func TestUpdateTellsEngineErrorsApart(t *testing.T) {
	tr, rb := tinyTrainerWithRollouts(t)
	ctx := context.Background()
	tr.sched.PeakLR = -1
	adv := make([]float64, len(rb.seqs))
	adv[0] = 1
	var row runlog.StepRow
	err := tr.update(ctx, rb, adv, &row)
	if !errors.Is(err, engine.ErrInvalidLearningRate) {
		t.Fatalf("update with a negative learning rate: %v", err)
	}
	if tr.st.SkippedUpdates != 0 {
		t.Fatalf("%d updates counted as skipped", tr.st.SkippedUpdates)
	}
}

func TestBestCheckpointInBF16IsAModelDirectory(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Trainer.Steps = 2
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetSaveDType(engine.DTypeBF16)
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	best := filepath.Join(tr.Dir(), CheckpointDir, "best")
	for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "generation_config.json"} {
		if _, err := os.Stat(filepath.Join(best, name)); err != nil {
			t.Errorf("best checkpoint lacks %s", name)
		}
	}
	for dir, want := range map[string]string{best: "bfloat16", filepath.Join(tr.Dir(), CheckpointDir, checkpointName(2)): "float32"} {
		b, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil || !strings.Contains(string(b), `"torch_dtype": "`+want+`"`) {
			t.Errorf("%s: config.json does not say %s (%v)", dir, want, err)
		}
	}
	// The bf16 checkpoint opens as a base model.
	cfg2 := tinyConfig(t, best)
	cfg2.Trainer.Steps = 1
	if _, err := New(cfg2); err != nil {
		t.Fatalf("starting from the bf16 checkpoint: %v", err)
	}
}

// TestUpdateKLMatchesTheReferenceScoredFirst: the update scores the
// reference while its micro-batches run; the KL it logs must be the one
// computed from reference scores taken before the update, with and without
// a KL term in the loss (which needs them before the first micro-batch),
// over two mini-batches.
func TestUpdateKLMatchesTheReferenceScoredFirst(t *testing.T) {
	for _, klCoef := range []float64{0, 0.05} {
		cfg := updateTestConfig(t, 2)
		cfg.Algorithm.KLCoef = klCoef
		tr, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		adv := []float64{1, -1, -1, 1}
		var row runlog.StepRow
		// A first update moves the policy away from the reference, so that
		// the next rollouts' KL is not zero.
		for seed := uint64(1); seed <= 2; seed++ {
			rb, err := tr.collect(ctx, tr.train[:2], tr.trainIDs[:2], 2, tr.rolloutOptions(), seed)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := tr.ref.LogProbs(ctx, rb.seqs, engine.ScoreOptions{Temperature: cfg.Rollout.Temperature, ScoreFrom: rb.scoreFrom})
			if err != nil {
				t.Fatal(err)
			}
			want := meanKL(rb, ref)
			row = runlog.StepRow{}
			if err := tr.update(ctx, rb, adv, &row); err != nil {
				t.Fatal(err)
			}
			if row.KL != want {
				t.Fatalf("kl_coef %v, update %d: logged KL %v, want %v from the reference scored first", klCoef, seed, row.KL, want)
			}
			if seed == 2 && !(want > 1e-9) {
				t.Fatalf("kl_coef %v: KL %v after an update at lr 1e-2: the test compares nothing", klCoef, want)
			}
		}
	}
}

// TestUpdateWithAFailedReferenceChangesNothing: when scoring the reference
// fails (here a cancelled context), the update ends with that error before
// any optimiser step, as when the reference was scored first.
func TestUpdateWithAFailedReferenceChangesNothing(t *testing.T) {
	tr, rb := tinyTrainerWithRollouts(t)
	ctx := context.Background()
	score := func() []engine.SequenceScores {
		s, err := tr.policy.Engine.LogProbs(ctx, rb.seqs, engine.ScoreOptions{Temperature: tr.cfg.Rollout.Temperature, ScoreFrom: rb.scoreFrom})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := score()
	adv := make([]float64, len(rb.seqs))
	adv[0] = 1
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var row runlog.StepRow
	err := tr.update(cancelled, rb, adv, &row)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "reference policy") {
		t.Fatalf("update with a cancelled context: %v, want the reference's cancellation", err)
	}
	if tr.et.Optimizer().Steps() != 0 {
		t.Fatalf("%d optimiser steps after the reference failed", tr.et.Optimizer().Steps())
	}
	after := score()
	for i := range before {
		if !slices.Equal(before[i].LogProbs, after[i].LogProbs) {
			t.Fatalf("sequence %d's log-probs changed after an update whose reference failed", i)
		}
	}
}

// tinyTrainerWithRollouts is a trainer of the tiny model and the rollouts
// of its first two training problems.
func tinyTrainerWithRollouts(t *testing.T) (*Trainer, *rolloutBatch) {
	t.Helper()
	cfg := tinyConfig(t, tinyBase(t))
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := tr.collect(context.Background(), tr.train[:2], tr.trainIDs[:2], cfg.Rollout.N, tr.rolloutOptions(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return tr, rb
}

// updateTestConfig is the tiny model's config for watching single updates:
// globalBatch prompts of 2 rollouts, one prompt per mini-batch, one PPO
// epoch, a learning rate large enough to move probabilities, no warm-up.
func updateTestConfig(t *testing.T, globalBatch int) Config {
	t.Helper()
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Rollout.N = 2
	cfg.Trainer.GlobalBatch, cfg.Trainer.MiniBatch, cfg.Trainer.PPOEpochs = globalBatch, 1, 1
	cfg.Optim.LR = 1e-2
	cfg.Optim.WarmupSteps = 0
	return cfg
}
