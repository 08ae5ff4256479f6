package reward

import (
	"context"
	"errors"
	"testing"

	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/task/countdown"
)

func TestGroundTruthMath(t *testing.T) {
	g := &rollout.Group{PromptID: "p", Gold: "4", HasGold: true, Rollouts: []rollout.Rollout{
		{Answer: "4", Text: "ignored when the answer is set"},
		{Text: `so the answer is \boxed{4}`},
		{Answer: "5"},
		{Text: `\boxed{5}`},
	}}
	s := score(t, GroundTruth{}, g)
	checkRewards(t, "ground_truth math", s.Rewards, []float64{1, 1, 0, 0}, 0)
	if s.Stats["correct"] != 2 {
		t.Errorf("stats %v", s.Stats)
	}
	g.HasGold = false
	if _, err := (GroundTruth{}).Score(context.Background(), g); err == nil {
		t.Error("no gold: no error")
	}
}

func TestGroundTruthCountdown(t *testing.T) {
	g := &rollout.Group{PromptID: "c", Countdown: &rollout.Countdown{Numbers: []int{3, 5, 2}, Target: 16}, Rollouts: []rollout.Rollout{
		{Text: "<answer>(3 + 5) * 2</answer>"}, // 16: correct
		{Text: "<answer>3 + 5 + 2</answer>"},   // 10: present but wrong
		{Text: "I give up"},                    // no answer
	}}
	checkRewards(t, "countdown", score(t, GroundTruth{}, g).Rewards, []float64{1, 0.1, 0}, 0)
	strict := countdown.DefaultVerifier()
	strict.Format = 0
	checkRewards(t, "countdown format 0", score(t, GroundTruth{Countdown: &strict}, g).Rewards, []float64{1, 0, 0}, 0)
	e, err := New("ground_truth", map[string]any{"oracle": "countdown", "format_score": "0.25"})
	if err != nil {
		t.Fatal(err)
	}
	checkRewards(t, "countdown via registry", score(t, e, g).Rewards, []float64{1, 0.25, 0}, 0)

	truth, err := Truth(context.Background(), g, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkRewards(t, "truth is 0/1", truth, []float64{1, 0, 0}, 0)

	if _, err := (GroundTruth{Oracle: OracleCountdown}).Score(context.Background(), answered("1")); err == nil {
		t.Error("countdown oracle without a problem: no error")
	}
	if _, err := Truth(context.Background(), answered("1"), nil); !errors.Is(err, ErrNoGroundTruth) {
		t.Errorf("Truth without ground truth: %v", err)
	}
}

func TestSelfVerification(t *testing.T) {
	g := &rollout.Group{PromptID: "v", Rollouts: []rollout.Rollout{
		{Verdict: `All checks pass. \boxed{True}`},
		{Verdict: `\boxed{False}`},
		{Verdict: "no verdict here"},
		{Verdict: `first \boxed{False}, on reflection \boxed{ \text{TRUE} }`},
		{},
	}}
	s := score(t, SelfVerification{}, g)
	checkRewards(t, "self_verification", s.Rewards, []float64{1, 0, 0, 1, 0}, 0)
	want := map[string]float64{"verdict_true": 2, "verdict_false": 1, "no_verdict": 2}
	for k, v := range want {
		if s.Stats[k] != v {
			t.Errorf("stats[%s] = %v, want %v", k, s.Stats[k], v)
		}
	}
	if _, err := (SelfVerification{}).Score(context.Background(), answered("1", "2")); !errors.Is(err, ErrMissingInput) {
		t.Errorf("no verdicts at all: %v", err)
	}
}
