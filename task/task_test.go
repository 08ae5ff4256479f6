package task_test

import (
	"context"
	"slices"
	"testing"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/task"
)

func countdownGroup() *rollout.Group {
	return &rollout.Group{PromptID: "c", Countdown: &rollout.Countdown{Numbers: []int{3, 5, 2}, Target: 16}, Rollouts: []rollout.Rollout{
		{Text: "<answer>(3 + 5) * 2</answer>"}, // 16: correct
		{Text: "<answer>3 + 5 + 2</answer>"},   // 10: present but wrong
		{Text: "I give up"},                    // no answer
		{Text: "<answer></answer>"},            // present but malformed
	}}
}

func rewards(t *testing.T, e reward.Estimator, g *rollout.Group) []float64 {
	t.Helper()
	s, err := e.Score(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	return s.Rewards
}

func TestCountdownThroughTheSeam(t *testing.T) {
	g := countdownGroup()
	task.Attach(g)
	if got := rewards(t, reward.GroundTruth{}, g); !slices.Equal(got, []float64{1, 0.1, 0, 0.1}) {
		t.Fatalf("ground truth %v, want the reference scores 1 / 0.1 / 0", got)
	}
	e, err := reward.New("ground_truth", map[string]any{"oracle": "countdown", "format_score": 0})
	if err != nil {
		t.Fatal(err)
	}
	if got := rewards(t, e, g); !slices.Equal(got, []float64{1, 0, 0, 0}) {
		t.Fatalf("format score 0: %v", got)
	}
	truth, err := reward.Truth(context.Background(), g, nil)
	if err != nil || !slices.Equal(truth, []float64{1, 0, 0, 0}) {
		t.Fatalf("truth %v, %v", truth, err)
	}
	if err := reward.ExtractAnswers(g); err != nil {
		t.Fatal(err)
	}
	if got := g.Answers(); !slices.Equal(got, []string{"(3 + 5) * 2", "3 + 5 + 2", "", ""}) {
		t.Fatalf("answers %q: the answer tag is Countdown's extraction", got)
	}
}

func TestScoreRecordsAttachesTheTask(t *testing.T) {
	var items []reward.Item
	for _, r := range countdownGroup().Rollouts {
		items = append(items, reward.Item{Record: rollout.Record{PromptID: "c", Countdown: &rollout.Countdown{Numbers: []int{3, 5, 2}, Target: 16}, Rollout: r}})
	}
	b, err := reward.ScoreRecords(context.Background(), reward.GroundTruth{}, items, nil, task.Attach)
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for _, r := range b.Results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		got = append(got, r.Reward)
	}
	if !slices.Equal(got, []float64{1, 0.1, 0, 0.1}) {
		t.Fatalf("rewards %v", got)
	}
	// Without the task attached, the group is refused rather than graded
	// as a math problem.
	b, err = reward.ScoreRecords(context.Background(), reward.GroundTruth{}, items, nil)
	if err != nil || b.Results[0].Err == nil {
		t.Fatalf("unattached Countdown scored: %v %v", b.Results[0], err)
	}
}

func TestMathProblemsNeedNothingAttached(t *testing.T) {
	g := &rollout.Group{PromptID: "m", Gold: "1/2", HasGold: true, Rollouts: []rollout.Rollout{{Text: `\boxed{0.5}`}, {Text: `\boxed{2}`}}}
	task.Attach(g)
	if g.Verifier != nil {
		t.Fatal("a math problem got a task verifier")
	}
	if got := rewards(t, reward.GroundTruth{}, g); !slices.Equal(got, []float64{1, 0}) {
		t.Fatalf("rewards %v", got)
	}
}
