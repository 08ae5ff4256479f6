package reward

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/rollout"
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

// taskVerifier is a task of numbered answers: the answer is the response's
// first word, correct when it is "right", with partial credit 0.5 for any
// other answer.
type taskVerifier struct{}

func (taskVerifier) Extract(response string) (string, error) {
	if f := strings.Fields(response); len(f) > 0 {
		return f[0], nil
	}
	return "", errors.New("no answer")
}

func (v taskVerifier) Check(answer string) rollout.Outcome {
	switch answer {
	case "":
		return rollout.Outcome{}
	case "right":
		return rollout.Outcome{Score: 1, Correct: true, Answered: true}
	}
	return rollout.Outcome{Score: 0.5, Answered: true}
}

func (v taskVerifier) Verify(r *rollout.Rollout) rollout.Outcome {
	a, _ := v.Extract(r.Text)
	return v.Check(a)
}

func TestGroundTruthUsesTheTaskVerifier(t *testing.T) {
	// The gold answer is ignored when the group has a task verifier.
	g := &rollout.Group{PromptID: "c", Gold: "wrong", HasGold: true, Verifier: taskVerifier{}, Rollouts: []rollout.Rollout{
		{Text: "right away"}, {Text: "left"}, {Text: ""},
	}}
	checkRewards(t, "task", score(t, GroundTruth{}, g).Rewards, []float64{1, 0.5, 0}, 0)
	e, err := New("ground_truth", map[string]any{"oracle": "task", "format_score": "0.25"})
	if err != nil {
		t.Fatal(err)
	}
	checkRewards(t, "task, format score 0.25", score(t, e, g).Rewards, []float64{1, 0.25, 0}, 0)
	checkRewards(t, "math oracle", score(t, GroundTruth{Oracle: OracleMath}, g).Rewards, []float64{0, 0, 0}, 0)

	truth, err := Truth(context.Background(), g, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkRewards(t, "truth is 0/1", truth, []float64{1, 0, 0}, 0)
	// A majority label is checked by the verifier too.
	if !labelCorrect(g, "right", nil) || labelCorrect(g, "wrong", nil) {
		t.Error("labels not checked by the task verifier")
	}

	if _, err := (GroundTruth{Oracle: OracleTask}).Score(context.Background(), answered("1")); err == nil {
		t.Error("task oracle without a verifier: no error")
	}
	if _, err := Truth(context.Background(), answered("1"), nil); !errors.Is(err, ErrNoGroundTruth) {
		t.Errorf("Truth without ground truth: %v", err)
	}
	// Countdown data without its verifier is not silently graded as math.
	cd := &rollout.Group{PromptID: "c", Countdown: &rollout.Countdown{Numbers: []int{1}, Target: 1}, Rollouts: []rollout.Rollout{{Text: "x"}}}
	if err := ExtractAnswers(cd); err == nil {
		t.Error("a Countdown group without a verifier extracted answers")
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
