package reward

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/rollout"
)

// ScoredBatch is the outcome of scoring a flat list of rollouts, as they arrive
// from a file or a request: grouped by prompt, scored group by group, and
// mapped back to the input.
type ScoredBatch struct {
	// Results has one entry per input item, in input order.
	Results []Result
	// Groups are the prompts' groups in order of first appearance; Index[k][i]
	// is the position in the input of Groups[k].Rollouts[i]; Scores[k] their
	// scores (zero for a group that failed).
	Groups []*rollout.Group
	Index  [][]int
	Scores []Scores
	// Metrics holds the paper B.2 metrics over the scored groups that have
	// ground truth; nil when none has (or MetricsErr says why not).
	Metrics       *metrics.Dynamics
	MetricsErr    error
	MetricsGroups int // groups with ground truth that the metrics cover
}

// Result is what became of one record.
type Result struct {
	Reward float64
	// Answer is ans(y) as voted on or graded ("" for none).
	Answer string
	// Err is set when the record was not scored: its own problem, or its
	// group's.
	Err error
}

// Failed counts the records that were not scored.
func (b *ScoredBatch) Failed() int {
	n := 0
	for _, r := range b.Results {
		if r.Err != nil {
			n++
		}
	}
	return n
}

// Item is one input rollout: a decoded record, or the error that kept it
// from decoding. A failed item whose Record.PromptID is set (the prompt_id
// could be read) keeps its whole prompt from being scored, because the
// group without it would vote differently.
type Item struct {
	Record rollout.Record
	Err    error
}

// ScoreRecords groups items by prompt (see rollout.GroupRecords), fills in
// missing answers (ExtractAnswers: the task verifier's extraction, for a
// math problem the last \boxed{} answer, else the last <answer> tag, else
// "the answer is ..."),
// scores every group with e and, when some groups have ground truth,
// computes the B.2 metrics over them. gr grades answers for the metrics
// (nil: grade.Default()); e carries its own grader. Each attach function is
// called on every group before it is scored, to give it its task's
// verifier (task.Attach does for the tasks urlvr knows).
//
// A group that fails to score fails all of its items: the item at fault
// gets the estimator's error, the others a *GroupError that names it by its
// position in items. Only a cancelled context stops the batch.
func ScoreRecords(ctx context.Context, e Estimator, items []Item, gr *grade.Grader, attach ...func(*rollout.Group)) (*ScoredBatch, error) {
	b := &ScoredBatch{Results: make([]Result, len(items))}
	badPrompt := map[string]int{} // prompt -> first failed item
	for pos, it := range items {
		if it.Err == nil {
			continue
		}
		b.Results[pos].Err = it.Err
		if id := it.Record.PromptID; id != "" {
			if _, seen := badPrompt[id]; !seen {
				badPrompt[id] = pos
			}
		}
	}
	var records []rollout.Record
	var where []int // position in items of each record
	for pos, it := range items {
		if it.Err != nil {
			continue
		}
		if bad, ok := badPrompt[it.Record.PromptID]; ok {
			b.Results[pos].Err = &GroupError{PromptID: it.Record.PromptID, Culprit: bad, Err: items[bad].Err}
			continue
		}
		records = append(records, it.Record)
		where = append(where, pos)
	}
	var rejected map[int]error
	b.Groups, b.Index, rejected = rollout.GroupRecords(records)
	for _, idx := range b.Index {
		for i, pos := range idx {
			idx[i] = where[pos]
		}
	}
	// A record that contradicts its prompt's gold or problem is left out of
	// the group; the group is then not scored either.
	badGroup := map[string]int{}
	for pos, err := range rejected {
		b.Results[where[pos]].Err = err
		id := records[pos].PromptID
		if first, seen := badGroup[id]; !seen || where[pos] < first {
			badGroup[id] = where[pos]
		}
	}
	b.Scores = make([]Scores, len(b.Groups))
	var scored []int
	for k, g := range b.Groups {
		if culprit, bad := badGroup[g.PromptID]; bad {
			for _, pos := range b.Index[k] {
				b.Results[pos].Err = &GroupError{PromptID: g.PromptID, Culprit: culprit, Err: b.Results[culprit].Err}
			}
			continue
		}
		for _, a := range attach {
			a(g)
		}
		if err := ExtractAnswers(g); err != nil {
			b.failGroup(k, err)
			continue
		}
		s, err := e.Score(ctx, g)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return b, ctxErr
			}
			b.failGroup(k, err)
			continue
		}
		if len(s.Rewards) != len(g.Rollouts) {
			b.failGroup(k, fmt.Errorf("%s returned %d rewards for %d rollouts", e.Name(), len(s.Rewards), len(g.Rollouts)))
			continue
		}
		if i := firstNonFinite(s.Rewards); i >= 0 {
			b.failGroup(k, rolloutErr(g, i, fmt.Errorf("%s gave the non-finite reward %v", e.Name(), s.Rewards[i])))
			continue
		}
		b.Scores[k] = s
		scored = append(scored, k)
		for i, pos := range b.Index[k] {
			b.Results[pos] = Result{Reward: s.Rewards[i], Answer: g.Rollouts[i].Answer}
		}
	}

	groups := make([]*rollout.Group, len(scored))
	scores := make([]Scores, len(scored))
	for j, k := range scored {
		groups[j], scores[j] = b.Groups[k], b.Scores[k]
	}
	mgs, skipped, err := MetricsGroups(ctx, groups, scores, gr)
	switch {
	case err != nil:
		b.MetricsErr = err
	case len(mgs) > 0:
		d, err := metrics.ComputeDynamics(mgs)
		if err != nil {
			b.MetricsErr = err
			break
		}
		b.Metrics = &d
		b.MetricsGroups = len(scored) - skipped
	}
	return b, ctx.Err()
}

// failGroup records err for every record of group k.
func (b *ScoredBatch) failGroup(k int, err error) {
	culprit := -1
	var re *rollout.Error
	if errors.As(err, &re) && re.Index >= 0 && re.Index < len(b.Index[k]) {
		culprit = b.Index[k][re.Index]
		err = re.Err
	}
	for _, pos := range b.Index[k] {
		switch {
		case culprit < 0 || pos == culprit:
			b.Results[pos].Err = err
		default:
			b.Results[pos].Err = &GroupError{PromptID: b.Groups[k].PromptID, Culprit: culprit, Err: err}
		}
	}
}

// GroupError marks an item that was not scored because another item of its
// prompt (Culprit, a position in the input) failed.
type GroupError struct {
	PromptID string
	Culprit  int
	Err      error
}

func (e *GroupError) Error() string {
	return fmt.Sprintf("prompt %q not scored: item %d: %v", e.PromptID, e.Culprit, e.Err)
}

func (e *GroupError) Unwrap() error { return e.Err }

// firstNonFinite returns the index of the first NaN or infinite value, or -1.
func firstNonFinite(xs []float64) int {
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}
