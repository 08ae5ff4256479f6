package reward

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/urlvr/urlvr/rollout"
)

func TestCoVoTrajectory(t *testing.T) {
	tests := []struct {
		name     string
		d        [][]float64
		j        int
		con, vol float64
	}{
		// Closest to the own answer at states 0, 2, 3; strays at state 1.
		{"strays once", [][]float64{{1, 2}, {3, 2}, {1, 1.5}, {0.5, 2}}, 0, 0.75, 0.5},
		{"never closest", [][]float64{{2, 1}, {2, 1}}, 0, 0, 1},
		{"tie counts as closest", [][]float64{{1, 1}}, 1, 1, 0},
		{"strays at the end", [][]float64{{0, 1, 2}, {0, 1, 2}, {3, 1, 2}}, 0, 2.0 / 3, 1},
		{"no states", nil, 0, 0, 0},
	}
	for _, tc := range tests {
		con, vol, err := Trajectory(tc.d, tc.j)
		if err != nil || con != tc.con || vol != tc.vol {
			t.Errorf("%s: Con %v Vol %v (%v), want %v %v", tc.name, con, vol, err, tc.con, tc.vol)
		}
	}
	if _, _, err := Trajectory([][]float64{{1}}, 1); err == nil {
		t.Error("a column past the row: no error")
	}
	if _, _, err := Trajectory([][]float64{{math.NaN(), 1}}, 1); err == nil {
		t.Error("a NaN distance: no error")
	}
}

func TestCoVoRewards(t *testing.T) {
	// Answers 3, 5, 3, none: columns 0 (answer 3) and 1 (answer 5).
	g := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{
		{Answer: "3", StateDistances: [][]float64{{1, 2}, {3, 2}, {1, 1.5}, {0.5, 2}}}, // Con 3/4, Vol 1/2
		{Answer: "5", StateDistances: [][]float64{{1, 1}}},                             // Con 1, Vol 0
		{Answer: "3", StateDistances: [][]float64{{2, 1}, {2, 1}}},                     // Con 0, Vol 1
		{Answer: ""},
	}}
	s, err := CoVo{}.Score(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	// Answer 3: |0.75·[cos 0.5, sin 0.5] + 0| / 2 = 0.375.
	want := []float64{0.375, 1, 0.375, 0}
	for i, w := range want {
		if math.Abs(s.Rewards[i]-w) > 1e-12 {
			t.Errorf("reward %d = %v, want %v", i, s.Rewards[i], w)
		}
	}
	if math.Abs(s.Stats["consistency"]-1.75/3) > 1e-12 || math.Abs(s.Stats["volatility"]-0.5) > 1e-12 {
		t.Errorf("stats %v, want consistency 0.5833, volatility 0.5", s.Stats)
	}

	// The angle matters: Con 1 Vol 0 and Con 1/2 Vol 1 on one answer give
	// |[1 + cos(1)/2, sin(1)/2]| / 2 = 0.6690108...
	g = &rollout.Group{PromptID: "q", Rollouts: []rollout.Rollout{
		{Answer: "7", StateDistances: [][]float64{{0, 1}}},
		{Answer: "7", StateDistances: [][]float64{{0, 1}, {2, 1}}},
		{Answer: "8", StateDistances: [][]float64{{1, 0}}},
	}}
	s, err = CoVo{}.Score(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if want := math.Hypot(1+math.Cos(1)/2, math.Sin(1)/2) / 2; math.Abs(s.Rewards[0]-want) > 1e-12 || s.Rewards[0] != s.Rewards[1] || s.Rewards[2] != 1 {
		t.Errorf("rewards %v, want 0.66901 0.66901 1", s.Rewards)
	}

	g.Rollouts[2].StateDistances = nil
	if _, err := (CoVo{}).Score(context.Background(), g); !errors.Is(err, ErrMissingInput) {
		t.Errorf("missing distances: %v", err)
	}
}

func TestSelfVerificationParams(t *testing.T) {
	e, err := New("self_verification", map[string]any{"prompt": "P1", "no_verdict_reward": "0.5"})
	if err != nil {
		t.Fatal(err)
	}
	g := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{{Verdict: `\boxed{True}`}, {Verdict: "unsure"}, {Verdict: `\boxed{False}`}}}
	s, err := e.Score(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rewards[0] != 1 || s.Rewards[1] != 0.5 || s.Rewards[2] != 0 {
		t.Fatalf("rewards %v, want 1 0.5 0", s.Rewards)
	}
	if _, err := New("self_verification", map[string]any{"template": "Correct? \\boxed{True}"}); err == nil {
		t.Fatal("a template without {expr}: no error")
	}
	if _, err := New("self_verification", map[string]any{"prompt": "P3"}); err == nil {
		t.Fatal("prompt P3: no error")
	}
	if e, err := New("rlccf", map[string]any{"peers": "a, b"}); err != nil || len(e.(RLCCF).Peers) != 2 {
		t.Fatalf("rlccf peers from a string: %v %v", e, err)
	}
}
