package reward

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/rollout"
)

// answered builds a group whose rollouts have the given answers ("" = none).
func answered(answers ...string) *rollout.Group {
	g := &rollout.Group{PromptID: "p"}
	for _, a := range answers {
		g.Rollouts = append(g.Rollouts, rollout.Rollout{Answer: a})
	}
	return g
}

// sourced builds a group from (source, answer) pairs.
func sourced(pairs ...[2]string) *rollout.Group {
	g := &rollout.Group{PromptID: "p"}
	for _, p := range pairs {
		g.Rollouts = append(g.Rollouts, rollout.Rollout{Source: p[0], Answer: p[1]})
	}
	return g
}

func TestMajorityVotingHand(t *testing.T) {
	// "2" and "3" both have 2 votes: the tie goes to "2", seen first. The
	// rollout without an answer counts among the 6 voters.
	for _, strings := range []bool{false, true} {
		e := MajorityVoting{Voting{Strings: strings}}
		s := score(t, e, answered("2", "3", "2", "", "3", "4"))
		checkRewards(t, "majority_voting", s.Rewards, []float64{1, 0, 1, 0, 0, 0}, 0)
		want := Vote{Label: "2", HasLabel: true, TopCount: 2, Voters: 6}
		if d := cmp.Diff([]Vote{want}, s.Votes); d != "" {
			t.Errorf("strings=%v vote (-want +got):\n%s", strings, d)
		}
		if d := cmp.Diff([]int{0, 1, 0, -1, 1, 2}, s.Partition.Class); d != "" {
			t.Errorf("classes: %s", d)
		}
		if d := cmp.Diff([]int{2, 2, 1}, s.Partition.Size); d != "" {
			t.Errorf("class sizes: %s", d)
		}
	}
}

func TestMajorityVotingNoAnswer(t *testing.T) {
	s := score(t, MajorityVoting{Voting{Strings: true}}, answered("", "", ""))
	checkRewards(t, "reference", s.Rewards, []float64{0, 0, 0}, 0)
	if v := s.Votes[0]; v.Label != NoneLabel || v.HasLabel || v.TopCount != 0 || v.Voters != 3 {
		t.Errorf("reference mode vote = %+v, want label \"None\"", v)
	}
	s = score(t, MajorityVoting{}, answered("", ""))
	if v := s.Votes[0]; v.Label != "" || v.HasLabel {
		t.Errorf("grader mode vote = %+v, want no label", v)
	}
}

func TestMajorityVotingNormalisedStrings(t *testing.T) {
	// NormalizeString removes $, spaces and a trailing period; the grader
	// agrees on these.
	for _, strings := range []bool{false, true} {
		s := score(t, MajorityVoting{Voting{Strings: strings}}, answered("$12$", " 12 ", "12.", "13"))
		checkRewards(t, "normalised strings", s.Rewards, []float64{1, 1, 1, 0}, 0)
	}
}

// The equivalence-class property the default mode exists for.
func TestEquivalenceClassVotingMerges(t *testing.T) {
	g := answered(`\frac{1}{2}`, "0.5", "0.25", "1/2", "0.25")
	s := score(t, MajorityVoting{}, g)
	checkRewards(t, "grader classes", s.Rewards, []float64{1, 1, 0, 1, 0}, 0)
	if v := s.Votes[0]; v.Label != `\frac{1}{2}` || v.TopCount != 3 {
		t.Errorf("vote = %+v, want \\frac{1}{2} with 3 votes", v)
	}
	// On raw strings 0.25 (2 votes) beats three spellings of one half.
	s = score(t, MajorityVoting{Voting{Strings: true}}, g)
	checkRewards(t, "raw strings", s.Rewards, []float64{0, 0, 1, 0, 1}, 0)
}

func TestCanonicalInteger(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "7": true, "-7": true, "1234567890123456789012345": true,
		"": false, "-": false, "-0": false, "007": false, "1.0": false, "1,000": false, "+3": false, "1e3": false, "x": false,
	} {
		if got := canonicalInteger(s); got != want {
			t.Errorf("canonicalInteger(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestNormalizeString(t *testing.T) {
	for in, want := range map[string]string{
		"  12 ": "12", "$12$": "12", "1 2": "12", "12.": "12", `\dfrac{1}{2}`: `\frac{1}{2}`,
		`\left( 1, 2 \right)`: "(1,2)", `1\,000`: "1000", "0.5": "0.5", "": "", " $ $ ": "",
	} {
		if got := NormalizeString(in); got != want {
			t.Errorf("NormalizeString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIntegerFastPath(t *testing.T) {
	answers := []string{"12", "-3", " 12 ", "", "0"}
	if !allCanonicalIntegers(answers) {
		t.Error("integer answers: fast path not taken")
	}
	want := grade.Partition{Class: []int{0, 1, 0, -1, 2}, Rep: []string{"12", "-3", "0"}, Size: []int{2, 1, 1}}
	if d := cmp.Diff(want, Voting{}.Partition(answers)); d != "" {
		t.Errorf("partition (-want +got):\n%s", d)
	}
	for _, other := range []string{"0.5", "012", "-0", "1,000", "x"} {
		if allCanonicalIntegers([]string{"12", other}) {
			t.Errorf("%q must leave the fast path", other)
		}
	}
	// More classes than the linear scan handles switch to a map.
	var many []string
	for i := range 3 * linearKeyScan {
		many = append(many, strconv.Itoa(i%(2*linearKeyScan)))
	}
	p := stringPartition(many, strings.TrimSpace)
	if len(p.Rep) != 2*linearKeyScan || p.Class[2*linearKeyScan] != 0 || p.Size[0] != 2 {
		t.Errorf("map path: %d classes, class of a repeat %d", len(p.Rep), p.Class[2*linearKeyScan])
	}
}

// The integer fast path must agree with the grader's classes.
func TestFastPathAgreesWithGrader(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		answers := rapid.SliceOfN(rapid.SampledFrom([]string{"", " ", "0", "1", "-1", "12", " 12", "120", "7"}), 1, 12).Draw(t, "answers")
		if !allCanonicalIntegers(answers) {
			t.Fatalf("integer answers %q left the fast path", answers)
		}
		if d := cmp.Diff(grade.Default().Classes(answers), Voting{}.Partition(answers), cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("fast path differs from grader classes for %q (-grader +fast):\n%s", answers, d)
		}
	})
}

func TestTallyTiesFirstSeenAmongMembers(t *testing.T) {
	// Classes are numbered over the whole group (a=0, b=1), but the members
	// 3, 4, 5, 6 see b first: b wins the 2-2 tie.
	p := stringPartition([]string{"a", "a", "a", "b", "a", "b", "a"}, NormalizeString)
	w, _, top := tally(p, []int{3, 4, 5, 6}, nil)
	if w != 1 || top != 2 {
		t.Errorf("winner %d top %d, want class 1 with 2", w, top)
	}
	// a, b, b, a: Counter.most_common order gives a, not the first to reach 2.
	p = stringPartition([]string{"a", "b", "b", "a"}, NormalizeString)
	if w, _, _ := tally(p, nil, nil); w != 0 {
		t.Errorf("a,b,b,a: winner %d, want 0", w)
	}
}

func TestMajorityRewardInvariantToOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		answers := rapid.SliceOfN(rapid.SampledFrom([]string{"", "1", "2", "3", "0.5", `\frac{1}{2}`}), 1, 16).Draw(t, "answers")
		ids := make([]int, len(answers))
		for i := range ids {
			ids[i] = i
		}
		perm := rapid.Permutation(ids).Draw(t, "perm")
		strings := rapid.Bool().Draw(t, "strings")
		e := MajorityVoting{Voting{Strings: strings}}
		shuffled := make([]string, len(answers))
		for i, j := range perm {
			shuffled[i] = answers[j]
		}
		a, err := e.Score(context.Background(), answered(answers...))
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Score(context.Background(), answered(shuffled...))
		if err != nil {
			t.Fatal(err)
		}
		if a.Votes[0].TopCount != b.Votes[0].TopCount {
			t.Fatalf("top count %d vs %d", a.Votes[0].TopCount, b.Votes[0].TopCount)
		}
		// The winner is unique unless another class ties the top count; only
		// then may the order (first seen) decide.
		tied := 0
		for _, size := range a.Partition.Size {
			if size == a.Votes[0].TopCount {
				tied++
			}
		}
		sum := 0.0
		for i, j := range perm {
			sum += b.Rewards[i]
			if tied == 1 && b.Rewards[i] != a.Rewards[j] {
				t.Fatalf("answers %q, perm %v: rollout %d reward %v after shuffling, %v before", answers, perm, j, b.Rewards[i], a.Rewards[j])
			}
		}
		if int(sum) != b.Votes[0].TopCount {
			t.Fatalf("sum of rewards %v != top count %d", sum, b.Votes[0].TopCount)
		}
	})
}

func TestSoftVoting(t *testing.T) {
	s := score(t, SoftVoting{}, answered("a", "b", "a", ""))
	// a: 2/4, b: 1/4, none: 0.
	checkRewards(t, "soft_voting", s.Rewards, []float64{0.5, 0.25, 0.5, 0}, 1e-15)
	if l, ok := s.Label(); !ok || l != "a" {
		t.Errorf("label %q %v", l, ok)
	}
}

func TestThresholdedVoting(t *testing.T) {
	g := answered("1", "1", "2", "3")
	s := score(t, ThresholdedVoting{Threshold: 0.5}, g) // 2/4 >= 0.5
	checkRewards(t, "threshold 0.5", s.Rewards, []float64{1, 1, 0, 0}, 0)
	if s.Stats["threshold_met"] != 1 || !s.Votes[0].HasLabel {
		t.Errorf("threshold met: %+v", s)
	}
	s = score(t, ThresholdedVoting{Threshold: 0.6}, g) // 2/4 < 0.6
	checkRewards(t, "threshold 0.6", s.Rewards, []float64{0, 0, 0, 0}, 0)
	if s.Stats["threshold_met"] != 0 || s.Votes[0].HasLabel || s.Votes[0].TopCount != 2 {
		t.Errorf("threshold not met: %+v", s)
	}
	if _, err := (ThresholdedVoting{Threshold: 1.5}).Score(context.Background(), g); err == nil {
		t.Error("threshold 1.5 accepted")
	}
}

func TestEMPO(t *testing.T) {
	// Clusters {1, 1}, {2}; G = 4.
	checkRewards(t, "empo", score(t, EMPO{}, answered("1", "1", "2", "")).Rewards, []float64{0.5, 0.5, 0.25, 0}, 1e-15)
	// All answers differ: no consensus, all 0.
	checkRewards(t, "empo all differ", score(t, EMPO{}, answered("1", "2", "3")).Rewards, []float64{0, 0, 0}, 0)
	checkRewards(t, "empo none", score(t, EMPO{}, answered("", "")).Rewards, []float64{0, 0}, 0)
}

func TestCoReward(t *testing.T) {
	// Question q: 1, 1, 2 (majority 1). Rephrasing r: 2, 2, 1, none
	// (majority 2). Interleaved on purpose.
	g := sourced([2]string{"q", "1"}, [2]string{"r", "2"}, [2]string{"q", "1"}, [2]string{"r", "2"},
		[2]string{"q", "2"}, [2]string{"r", "1"}, [2]string{"r", ""})
	s := score(t, CoReward{}, g)
	// q's rollouts are rewarded by r's majority 2, r's by q's majority 1.
	checkRewards(t, "co_reward", s.Rewards, []float64{0, 0, 0, 0, 1, 1, 0}, 0)
	want := []Vote{
		{Source: "q", Label: "1", HasLabel: true, TopCount: 2, Voters: 3, Rewarded: []int{1, 3, 5, 6}},
		{Source: "r", Label: "2", HasLabel: true, TopCount: 2, Voters: 4, Rewarded: []int{0, 2, 4}},
	}
	if d := cmp.Diff(want, s.Votes); d != "" {
		t.Errorf("votes (-want +got):\n%s", d)
	}
	// Table 2's sum: own majority plus the other's.
	s = score(t, CoReward{SelfVote: true}, g)
	checkRewards(t, "co_reward self_vote", s.Rewards, []float64{1, 1, 1, 1, 1, 1, 0}, 0)

	for _, bad := range []*rollout.Group{answered("1", "2"), sourced([2]string{"a", "1"}, [2]string{"b", "1"}, [2]string{"c", "1"})} {
		if _, err := (CoReward{}).Score(context.Background(), bad); err == nil {
			t.Errorf("co_reward accepted %d sources", len(bad.Rollouts))
		}
	}
}

func TestRLCCF(t *testing.T) {
	// Model A: x x x y (s_A = 3); B: y y z w (s_B = 2); C: y u v t (s_C = 1).
	// Unweighted, y has 4 votes to x's 3. Weighted, x = 3*3 = 9 beats
	// y = 3*1 + 2*2 + 1*1 = 8.
	var pairs [][2]string
	for _, m := range []struct{ src, answers string }{{"A", "xxxy"}, {"B", "yyzw"}, {"C", "yuvt"}} {
		for _, a := range m.answers {
			pairs = append(pairs, [2]string{m.src, string(a)})
		}
	}
	g := sourced(pairs...)
	s := score(t, RLCCF{}, g)
	want := []float64{1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	checkRewards(t, "rlccf", s.Rewards, want, 0)
	if d := cmp.Diff(map[string]float64{"weight/A": 3, "weight/B": 2, "weight/C": 1}, s.Stats); d != "" {
		t.Errorf("weights: %s", d)
	}
	if l, _ := s.Label(); l != "x" {
		t.Errorf("label %q, want x", l)
	}
	if mv := score(t, MajorityVoting{}, g); mv.Rewards[3] != 1 {
		t.Errorf("plain majority should pick y: %v", mv.Rewards)
	}
	// One model: exactly majority voting.
	rapid.Check(t, func(rt *rapid.T) {
		answers := rapid.SliceOfN(rapid.SampledFrom([]string{"", "1", "2", "3"}), 1, 10).Draw(rt, "answers")
		a, _ := RLCCF{}.Score(context.Background(), answered(answers...))
		b, _ := MajorityVoting{}.Score(context.Background(), answered(answers...))
		if !slices.Equal(a.Rewards, b.Rewards) {
			rt.Fatalf("%q: rlccf %v, majority %v", answers, a.Rewards, b.Rewards)
		}
	})
}

func TestVotingEmptyGroup(t *testing.T) {
	for _, e := range []Estimator{MajorityVoting{}, SoftVoting{}, ThresholdedVoting{}, EMPO{}, CoReward{}, RLCCF{}} {
		if _, err := e.Score(context.Background(), &rollout.Group{}); !errors.Is(err, rollout.ErrEmptyGroup) {
			t.Errorf("%s: %v", e.Name(), err)
		}
	}
}
