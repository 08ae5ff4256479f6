package reward

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/urlvr/urlvr/rollout"
)

func item(id, gold, text string) Item {
	return Item{Record: rollout.Record{PromptID: id, Gold: gold, HasGold: gold != "", Rollout: rollout.Rollout{Text: text}}}
}

func TestScoreRecords(t *testing.T) {
	items := []Item{
		item("a", "4", `\boxed{4}`),                                           // 0
		item("b", "", `\boxed{1}`),                                            // 1: no gold
		item("a", "4", `the answer is 4`),                                     // 2: phrase extraction
		{Err: errors.New("unreadable")},                                       // 3: no prompt known
		item("a", "4", `\boxed{5}`),                                           // 4
		item("c", "1", `\boxed{1}`),                                           // 5
		{Record: rollout.Record{PromptID: "c"}, Err: errors.New("bad stats")}, // 6: poisons c
		item("d", "2", `\boxed{2}`),                                           // 7
		item("d", "3", `\boxed{2}`),                                           // 8: contradicts d's gold, poisons d
		item("b", "", `\boxed{2}`),                                            // 9
	}
	b, err := ScoreRecords(context.Background(), MajorityVoting{}, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantReward := map[int]float64{0: 1, 2: 1, 4: 0, 1: 1, 9: 0}
	wantAnswer := map[int]string{0: "4", 2: "4", 4: "5", 1: "1", 9: "2"}
	for pos, res := range b.Results {
		if r, ok := wantReward[pos]; ok {
			if res.Err != nil || res.Reward != r || res.Answer != wantAnswer[pos] {
				t.Errorf("item %d: %+v, want reward %v answer %q", pos, res, r, wantAnswer[pos])
			}
			continue
		}
		if res.Err == nil {
			t.Errorf("item %d: no error", pos)
		}
	}
	var ge *GroupError
	if !errors.As(b.Results[5].Err, &ge) || ge.Culprit != 6 || ge.PromptID != "c" {
		t.Errorf("item 5: %v, want a group error naming item 6", b.Results[5].Err)
	}
	if !errors.As(b.Results[7].Err, &ge) || ge.Culprit != 8 {
		t.Errorf("item 7: %v, want a group error naming item 8", b.Results[7].Err)
	}
	if b.Failed() != 5 {
		t.Errorf("Failed() = %d, want 5", b.Failed())
	}
	if d := cmp.Diff([][]int{{0, 2, 4}, {1, 9}, {7}}, b.Index); d != "" {
		t.Errorf("index (-want +got):\n%s", d)
	}
	// Only prompt a is scored with a gold answer: label 4 correct, rewards
	// (1, 1, 0) equal the ground truth.
	if b.Metrics == nil || b.MetricsGroups != 1 {
		t.Fatalf("metrics %+v over %d groups (err %v)", b.Metrics, b.MetricsGroups, b.MetricsErr)
	}
	m := b.Metrics
	if m.LabelAccuracy != 1 || m.RewardAccuracy != 1 || !near(m.GroundTruthReward, 2.0/3, 1e-15) || !near(m.MajorityRatio, 2.0/3, 1e-15) {
		t.Errorf("metrics %+v", m)
	}
}

func TestScoreRecordsRolloutError(t *testing.T) {
	items := []Item{item("a", "", "x"), item("a", "", "y"), item("b", "", "z")}
	items[1].Record.Rollout.Entropies = []float32{1}
	items[0].Record.Rollout.Entropies = []float32{}
	items[2].Record.Rollout.Entropies = []float32{0.5, 1.5}
	b, err := ScoreRecords(context.Background(), TokenEntropy{}, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(b.Results[0].Err, ErrNoTokens) {
		t.Errorf("culprit: %v", b.Results[0].Err)
	}
	var ge *GroupError
	if !errors.As(b.Results[1].Err, &ge) || ge.Culprit != 0 {
		t.Errorf("other rollout of the group: %v", b.Results[1].Err)
	}
	if b.Results[2].Err != nil || b.Results[2].Reward != -1 {
		t.Errorf("other group: %+v", b.Results[2])
	}
	if b.Metrics != nil {
		t.Errorf("no gold, yet metrics %+v", b.Metrics)
	}
	// exp(sum of 1000 entropies of 1) overflows to +Inf: an error, not a reward.
	big := make([]float32, 1000)
	for i := range big {
		big[i] = 1
	}
	inf := []Item{item("a", "", "x")}
	inf[0].Record.Rollout.Entropies = big
	b, err = ScoreRecords(context.Background(), Unified{Anchor: AnchorPolicy, Sign: 1, Transform: ExpScaled}, inf, nil)
	if err != nil || b.Results[0].Err == nil {
		t.Errorf("infinite reward: %+v, %v", b.Results, err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScoreRecords(cancelled, TokenEntropy{}, items, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestMetricsGroupsCoReward(t *testing.T) {
	// q votes 1 (correct), r votes 2 (wrong). Each vote becomes a metrics
	// group over the rollouts it rewards.
	g := sourced([2]string{"q", "1"}, [2]string{"q", "1"}, [2]string{"r", "2"}, [2]string{"r", "1"}, [2]string{"r", "2"})
	g.Gold, g.HasGold = "1", true
	s := score(t, CoReward{}, g)
	mgs, skipped, err := MetricsGroups(context.Background(), []*rollout.Group{g}, []Scores{s}, nil)
	if err != nil || skipped != 0 || len(mgs) != 2 {
		t.Fatalf("%d groups, %d skipped, %v", len(mgs), skipped, err)
	}
	// Vote of q (label 1, right) rewards r's rollouts.
	if m := mgs[0]; m.Label != "1" || !*m.LabelCorrect || !cmp.Equal(m.Proxy, []float64{0, 1, 0}) || !cmp.Equal(m.GT, []float64{0, 1, 0}) {
		t.Errorf("q's vote: %+v", m)
	}
	// Vote of r (label 2, wrong) rewards q's rollouts.
	if m := mgs[1]; m.Label != "2" || *m.LabelCorrect || !cmp.Equal(m.Proxy, []float64{0, 0}) || !cmp.Equal(m.GT, []float64{1, 1}) || m.TopCount != 2 {
		t.Errorf("r's vote: %+v", m)
	}
	if _, _, err := MetricsGroups(context.Background(), []*rollout.Group{g}, nil, nil); err == nil {
		t.Error("scores/groups mismatch: no error")
	}
}

func TestMetricsGroupsCertainty(t *testing.T) {
	g := &rollout.Group{PromptID: "p", Gold: "3", HasGold: true, Rollouts: []rollout.Rollout{
		{Answer: "3", Entropies: []float32{1, 3}},
		{Answer: "4", Entropies: []float32{0.5}},
		{Answer: "3", Entropies: []float32{2, 2, 2}},
	}}
	s := score(t, TokenEntropy{}, g)
	mgs, _, err := MetricsGroups(context.Background(), []*rollout.Group{g}, []Scores{s}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := mgs[0]
	want := struct {
		proxy, gt, ent []float64
		lengths        []int
		top            int
	}{[]float64{-2, -0.5, -2}, []float64{1, 0, 1}, []float64{2, 0.5, 2}, []int{2, 1, 3}, 2}
	if m.LabelCorrect != nil || !cmp.Equal(m.Proxy, want.proxy) || !cmp.Equal(m.GT, want.gt) ||
		!cmp.Equal(m.Entropies, want.ent) || !cmp.Equal(m.Lengths, want.lengths) || m.TopCount != want.top {
		t.Errorf("certainty metrics group %+v", m)
	}
}
