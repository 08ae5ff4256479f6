package train

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/runlog"
)

func TestCoRewardRecipeTrains(t *testing.T) {
	tr, rows := trainRecipe(t, "co_reward",
		"model.base="+tinyBase(t), "trainer.steps=2", "trainer.global_batch=2", "trainer.mini_batch=2",
		"rollout.n=4", "rollout.max_response_length=16", "data.train=world:val-easy",
		"data.validation=[]", "trainer.sample_every=1", "trainer.out_dir="+t.TempDir(),
	)
	if len(rows) != 2 {
		t.Fatalf("%d metric lines", len(rows))
	}
	// Two problems, each asked twice: 2 x 2 x 4 rollouts in the samples.
	samples := readLines(t, filepath.Join(tr.Dir(), SamplesDir, "step-000001.jsonl"))
	if len(samples) != 16 {
		t.Fatalf("%d sample rollouts, want 16 (a question and its rephrasing, 4 each, for 2 problems)", len(samples))
	}
	if samples[0]["prompt"] == samples[4]["prompt"] || samples[0]["prompt_id"] != samples[4]["prompt_id"] {
		t.Fatalf("the second group %q (%v) is not the rephrasing of the first %q (%v)",
			samples[4]["prompt"], samples[4]["prompt_id"], samples[0]["prompt"], samples[0]["prompt_id"])
	}
	if _, ok := rows[0][runlog.KeyLabelAccuracy]; !ok {
		t.Errorf("no label accuracy: %v", rows[0])
	}
}

// TestCoRewardGroupsCrossVote checks the joining: the question's rollouts
// are rewarded by the rephrasing's majority and the other way round.
func TestCoRewardGroupsCrossVote(t *testing.T) {
	q := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{{Answer: "1"}, {Answer: "1"}, {Answer: "2"}}}
	r := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{{Answer: "2"}, {Answer: "2"}, {Answer: "1"}}}
	joined := coRewardGroups([]*rollout.Group{q, r})
	if len(joined) != 1 || len(joined[0].Rollouts) != 6 || joined[0].Rollouts[3].Source != sourceRephrased {
		t.Fatalf("joined %+v", joined)
	}
	s, err := reward.CoReward{}.Score(context.Background(), joined[0])
	if err != nil {
		t.Fatal(err)
	}
	// The rephrasing's majority is 2, the question's 1.
	want := []float64{0, 0, 1, 0, 0, 1}
	split := splitScores([]reward.Scores{s}, 3)
	got := append(append([]float64{}, split[0].Rewards...), split[1].Rewards...)
	if !slices.Equal(got, want) {
		t.Fatalf("rewards %v, want %v", got, want)
	}
}

func TestCoRewardNeedsRephrasableProblems(t *testing.T) {
	cfg := countdownConfig(t)
	cfg.Reward.Estimator = "co_reward"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "has no rephrasing") {
		t.Fatalf("co_reward on Countdown problems: %v, want an error naming the problem", err)
	}
}
