package train

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task/arith"
	"github.com/urlvr/urlvr/task/countdown"
)

// TestSelfVerificationRecipeOnACountdownWorldModel pretrains a tiny prior
// of the Countdown world (a few steps) and trains it two steps with the
// self_verification recipe as shipped, on the world's splits: the path
// `urlvr pretrain` then `urlvr train --config self_verification --set
// model.base=<a Countdown model>` takes.
func TestSelfVerificationRecipeOnACountdownWorldModel(t *testing.T) {
	prior := arith.Prior{
		Name: "tiny-cd", Seed: 9, World: arith.WorldCountdown,
		Model: arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: 256},
		Stages: []arith.Stage{{Name: "pretrain", Epochs: 1, Countdown: &countdown.CorpusConfig{
			Solve: 32, Verify: 32, Seed: 3, Prompts: []string{"P1", "P2"},
			Candidates: countdown.CandidateShares{Correct: 1, WrongValue: 1}}}},
	}
	o := basemodel.DefaultTrainOptions()
	o.BatchSize, o.MaxSteps, o.WarmupSteps = 8, 3, 1
	dir := filepath.Join(t.TempDir(), "tiny-cd")
	if _, err := basemodel.Build(context.Background(), prior, basemodel.BuildOptions{Dir: dir, Train: o, SkipEval: true}); err != nil {
		t.Fatal(err)
	}
	tr, rows := trainRecipe(t, "self_verification", "model.base="+dir, "trainer.out_dir="+t.TempDir(),
		"trainer.steps=2", "trainer.global_batch=2", "trainer.mini_batch=2", "rollout.n=2",
		"rollout.max_response_length=12", "eval.every=0", "trainer.save_every=0", "trainer.sample_every=0")
	if len(rows) != 2 {
		t.Fatalf("%d metric lines, want 2", len(rows))
	}
	for _, row := range rows {
		// Every rollout's verification prompt fits the 256 positions (the
		// phrase tokens keep a P2 request near 130), so every rollout was
		// asked: 2 prompts x 2 rollouts, each reply at least one token.
		if tok, ok := row[runlog.KeySelfVerifyTokens].(float64); !ok || tok < 4 {
			t.Errorf("step %v: verification tokens %v", row["step"], row[runlog.KeySelfVerifyTokens])
		}
		if _, ok := row[runlog.KeySelfVerifyParseRate].(float64); !ok {
			t.Errorf("step %v lacks %s", row["step"], runlog.KeySelfVerifyParseRate)
		}
	}
	if tr.policy.Engine.Config().MaxPositions != 256 {
		t.Errorf("the policy has %d positions", tr.policy.Engine.Config().MaxPositions)
	}
}
