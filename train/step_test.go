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
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Rollout.N = 2
	cfg.Trainer.GlobalBatch, cfg.Trainer.MiniBatch, cfg.Trainer.PPOEpochs = 1, 1, 1
	cfg.Optim.LR = 1e-2
	cfg.Optim.WarmupSteps = 0
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
	cfg := tinyConfig(t, tinyBase(t))
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rb, err := tr.collect(ctx, tr.train[:2], tr.trainIDs[:2], cfg.Rollout.N, tr.rolloutOptions(), 1)
	if err != nil {
		t.Fatal(err)
	}
	tr.sched.PeakLR = -1
	adv := make([]float64, len(rb.seqs))
	adv[0] = 1
	var row runlog.StepRow
	err = tr.update(ctx, rb, adv, &row)
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
