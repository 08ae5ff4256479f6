package reward

import (
	"context"
	"fmt"
	"strings"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/rollout"
)

// Ensemble-based rewards (paper Table 2) vote on the rollouts' answers
// (Rollout.Answer, "" for none: fill it with Group.ExtractAnswers first).

// NoneLabel is the label the reference implementation writes when no
// rollout of a group has an answer; string-mode votes use it.
const NoneLabel = "None"

// Voting says how answers are counted as votes; voting estimators embed it.
//
// By default two answers are one vote when the grader finds them equivalent
// ("0.5" and "\frac{1}{2}"), using the grader's equivalence classes. With
// Strings, answers are one vote only when their normalised strings
// (NormalizeString) are equal, which is what the reference TTRL code does:
// "0.5" and "\frac{1}{2}" are then two different answers.
type Voting struct {
	Strings bool
	// Grader decides equivalence; nil means grade.Default().
	Grader *grade.Grader
}

// Partition groups answers into classes of one vote each, numbered in order
// of first appearance, each represented by its first member; an answer that
// is empty (after trimming) gets class -1.
//
// Fast path: when every answer is an integer in its canonical spelling (the
// common case for numeric answers), answers are grouped by their trimmed
// text without calling the grader: two different canonical integer
// literals are two different numbers, which the grader never finds
// equivalent, and equal literals always are.
func (v Voting) Partition(answers []string) grade.Partition {
	if v.Strings {
		return stringPartition(answers, NormalizeString)
	}
	if allCanonicalIntegers(answers) {
		return stringPartition(answers, strings.TrimSpace)
	}
	gr := v.Grader
	if gr == nil {
		gr = grade.Default()
	}
	return gr.Classes(answers)
}

// NormalizeString is the light string normalisation of reference voting
// code: surrounding space, $ signs, \left and \right, thin spaces and all
// blanks removed, \dfrac and \tfrac written \frac, one trailing period
// dropped. It does not compare values: "0.5" and "1/2" stay different.
func NormalizeString(answer string) string {
	s := strings.TrimSpace(answer)
	if !strings.ContainsAny(s, "$\\ .\t\n\r") {
		return s
	}
	s = stringNormalizer.Replace(s)
	s = strings.Join(strings.Fields(s), "")
	return strings.TrimSuffix(s, ".")
}

var stringNormalizer = strings.NewReplacer(
	"$", "", `\left`, "", `\right`, "", `\!`, "", `\,`, "", `\;`, "", `\:`, "",
	`\dfrac`, `\frac`, `\tfrac`, `\frac`,
)

// linearKeyScan is the class count up to which a linear scan over the class
// keys beats a map (typical groups have 8 rollouts).
const linearKeyScan = 16

// stringPartition groups answers whose keys are equal; an empty key gets
// class -1.
func stringPartition(answers []string, key func(string) string) grade.Partition {
	// Two allocations hold every slice; a class count never exceeds n.
	n := len(answers)
	ints := make([]int, 2*n)
	strs := make([]string, 2*n)
	p := grade.Partition{Class: ints[:n:n], Size: ints[n:n], Rep: strs[:0:n]}
	keys := strs[n:n]
	var byKey map[string]int
	for i, a := range answers {
		k := key(a)
		if k == "" {
			p.Class[i] = -1
			continue
		}
		c := -1
		if byKey != nil {
			if j, ok := byKey[k]; ok {
				c = j
			}
		} else {
			for j, kj := range keys {
				if kj == k {
					c = j
					break
				}
			}
		}
		if c < 0 {
			c = len(keys)
			keys = append(keys, k)
			p.Rep = append(p.Rep, a)
			p.Size = append(p.Size, 0)
			if byKey == nil && len(keys) > linearKeyScan {
				byKey = make(map[string]int, 2*len(keys))
				for j, kj := range keys {
					byKey[kj] = j
				}
			} else if byKey != nil {
				byKey[k] = c
			}
		}
		p.Class[i] = c
		p.Size[c]++
	}
	return p
}

// allCanonicalIntegers reports whether every answer, trimmed, is empty or a
// canonical integer literal.
func allCanonicalIntegers(answers []string) bool {
	for _, a := range answers {
		if a = strings.TrimSpace(a); a != "" && !canonicalInteger(a) {
			return false
		}
	}
	return true
}

// canonicalInteger reports whether s is an integer literal in its one
// canonical spelling: an optional '-', then digits without leading zeros,
// and not "-0". Two different such strings denote different integers.
func canonicalInteger(s string) bool {
	d := s
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
		if d == "0" {
			return false
		}
	}
	if d == "" || (d[0] == '0' && len(d) > 1) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// tally counts the votes of the rollouts in members (nil: all rollouts)
// and returns the winning class, -1 when no member has an answer. Ties go
// to the class that appears first among the members.
func tally(p grade.Partition, members []int, weight func(i int) float64) (winner int, score float64, top int) {
	if members == nil && weight == nil {
		// Classes are numbered in order of first appearance: the first
		// largest class wins.
		winner = -1
		for c, size := range p.Size {
			if winner < 0 || size > p.Size[winner] {
				winner = c
			}
		}
		if winner < 0 {
			return -1, 0, 0
		}
		return winner, float64(p.Size[winner]), p.Size[winner]
	}
	counts := make([]float64, len(p.Rep))
	heads := make([]int, len(p.Rep)) // members per class
	order := make([]int, 0, len(p.Rep))
	seen := make([]bool, len(p.Rep))
	visit := func(i int) {
		c := p.Class[i]
		if c < 0 {
			return
		}
		w := 1.0
		if weight != nil {
			w = weight(i)
		}
		counts[c] += w
		heads[c]++
		if !seen[c] {
			seen[c] = true
			order = append(order, c)
		}
	}
	if members == nil {
		for i := range p.Class {
			visit(i)
		}
	} else {
		for _, i := range members {
			visit(i)
		}
	}
	winner = -1
	for _, c := range order {
		if winner < 0 || counts[c] > counts[winner] {
			winner = c
		}
	}
	if winner < 0 {
		return -1, 0, 0
	}
	return winner, counts[winner], heads[winner]
}

// newVote describes the outcome of a tally.
func (v Voting) newVote(p grade.Partition, source string, winner, top, voters int, rewarded []int) Vote {
	vote := Vote{Source: source, TopCount: top, Voters: voters, Rewarded: rewarded}
	switch {
	case winner >= 0:
		vote.Label, vote.HasLabel = p.Rep[winner], true
	case v.Strings:
		vote.Label = NoneLabel
	}
	return vote
}

// MajorityVoting is TTRL's reward: r = 1[ans(y) = maj], maj the most
// frequent answer among the N rollouts (first seen on ties). A rollout
// without an answer never earns reward but counts among the N voters (the
// denominator of the majority ratio TopCount/N).
type MajorityVoting struct{ Voting }

func (MajorityVoting) Name() string { return "majority_voting" }

func (e MajorityVoting) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	p := e.Partition(g.Answers())
	winner, _, top := tally(p, nil, nil)
	rewards := make([]float64, len(g.Rollouts))
	for i, c := range p.Class {
		if c >= 0 && c == winner {
			rewards[i] = 1
		}
	}
	n := len(g.Rollouts)
	return Scores{Rewards: rewards, Partition: p, Votes: []Vote{e.newVote(p, "", winner, top, n, nil)}}, nil
}

// SoftVoting is SRT's soft reward: the frequency of the rollout's own
// answer among the N rollouts, r = |{j : ans(y_j) = ans(y)}| / N; 0 for a
// rollout without an answer. Its vote reports the most frequent answer.
type SoftVoting struct{ Voting }

func (SoftVoting) Name() string { return "soft_voting" }

func (e SoftVoting) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	p := e.Partition(g.Answers())
	n := len(g.Rollouts)
	rewards := make([]float64, n)
	for i, c := range p.Class {
		if c >= 0 {
			rewards[i] = float64(p.Size[c]) / float64(n)
		}
	}
	winner, _, top := tally(p, nil, nil)
	return Scores{Rewards: rewards, Partition: p, Votes: []Vote{e.newVote(p, "", winner, top, n, nil)}}, nil
}

// ThresholdedVoting is SRT's self-consistency filter as a reward: majority
// voting, but the majority answer becomes a label only when its frequency
// TopCount/N reaches Threshold; below it every rollout gets 0 (a
// zero-variance group, which group-normalised advantages skip) and the vote
// has no label. Stats["threshold_met"] is 1 or 0.
type ThresholdedVoting struct {
	Voting
	// Threshold is the minimum majority frequency in [0, 1].
	Threshold float64
}

func (ThresholdedVoting) Name() string { return "thresholded_voting" }

func (e ThresholdedVoting) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if e.Threshold < 0 || e.Threshold > 1 {
		return Scores{}, fmt.Errorf("thresholded_voting: threshold %v outside [0, 1]", e.Threshold)
	}
	s, err := MajorityVoting{e.Voting}.Score(ctx, g)
	if err != nil {
		return s, err
	}
	n := len(g.Rollouts)
	met := s.Votes[0].HasLabel && float64(s.Votes[0].TopCount) >= e.Threshold*float64(n)
	if !met {
		clear(s.Rewards)
		s.Votes[0].Label, s.Votes[0].HasLabel = "", false
	}
	s.Stats = map[string]float64{"threshold_met": b2f(met)}
	return s, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// EMPO is the semantic-cluster reward of EMPO: r = |C(y)|/G, the share of
// the G rollouts whose answer is in the same semantic cluster (equivalence
// class) as y's. A rollout without an answer gets 0, and so does every
// rollout when all answers differ (no cluster has two members, so there is
// no consensus to reward). Its vote reports the largest cluster.
type EMPO struct{ Voting }

func (EMPO) Name() string { return "empo" }

func (e EMPO) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	s, err := SoftVoting(e).Score(ctx, g)
	if err != nil {
		return s, err
	}
	if s.Votes[0].TopCount <= 1 {
		clear(s.Rewards)
	}
	return s, nil
}
