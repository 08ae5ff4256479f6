package rewardserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/serve"
	"github.com/urlvr/urlvr/task"
)

// SplitPolicy says what happens to a group whose rollouts a request does
// not hold all of, when the group size N is known: a request's rollouts of
// one group (one group id, or one prompt text) must number a multiple of N.
// A multiple of N forms that many groups of N in arrival order (a prompt
// sampled twice in one batch); the remainder is a split group.
type SplitPolicy int

const (
	// SplitReject answers 400 naming the split groups (strict mode).
	SplitReject SplitPolicy = iota
	// SplitPartial scores a split group as a group of the rollouts present,
	// and says so in the answer's "warnings" (and the run's partial-group
	// count). Votes over fewer rollouts are noisier but still votes.
	SplitPartial
	// SplitWait holds a split group's rollouts until later requests bring
	// the rest of the group (same run, same group key), then scores the
	// whole group and answers every request that contributed. A group still
	// short after the wait is scored as a partial group, with a warning.
	// This is the mode for trainers that send one rollout per request, as
	// OpenRLHF's single-turn executor does.
	SplitWait
)

var splitNames = []string{"reject", "partial", "wait"}

func (p SplitPolicy) String() string {
	if int(p) < len(splitNames) {
		return splitNames[p]
	}
	return fmt.Sprintf("SplitPolicy(%d)", int(p))
}

// ParseSplitPolicy reads "reject", "partial" or "wait".
func ParseSplitPolicy(s string) (SplitPolicy, error) {
	if i := slices.Index(splitNames, s); i >= 0 {
		return SplitPolicy(i), nil
	}
	return 0, fmt.Errorf("split policy %q: want one of %s", s, strings.Join(splitNames, ", "))
}

// chunk is one group to score: the rollouts of a group key in a request (or
// gathered across requests), with their positions in their requests.
type chunk struct {
	group   *rollout.Group
	pos     []int
	partial bool
}

// formChunks groups a request's items by key (in order of first appearance)
// and cuts each into groups of n (n == 0: one group per key). It returns the
// whole groups and, per key, the remainder short of n. Rollouts of one key
// must agree on the gold answer and Countdown problem.
func formChunks(items []item, n int) (whole, rest []chunk, err error) {
	byKey := make(map[string]int, len(items)/max(n, 1)+1)
	var keyed []chunk
	for pos := range items {
		it := &items[pos]
		k, ok := byKey[it.key]
		if !ok {
			k = len(keyed)
			byKey[it.key] = k
			keyed = append(keyed, chunk{group: &rollout.Group{PromptID: it.key}})
		}
		c := &keyed[k]
		if err := agree(c.group, &it.rec, c.pos, pos); err != nil {
			return nil, nil, err
		}
		c.group.Rollouts = append(c.group.Rollouts, it.rec.Rollout)
		c.pos = append(c.pos, pos)
	}
	for _, c := range keyed {
		size := len(c.pos)
		if n == 0 || size == n {
			whole = append(whole, c)
			continue
		}
		for lo := 0; lo < size; lo += n {
			hi := min(lo+n, size)
			part := chunk{group: sub(c.group, lo, hi), pos: c.pos[lo:hi]}
			if hi-lo == n {
				whole = append(whole, part)
			} else {
				rest = append(rest, part)
			}
		}
	}
	return whole, rest, nil
}

// sub returns a group with rollouts lo..hi of g and g's prompt facts.
func sub(g *rollout.Group, lo, hi int) *rollout.Group {
	return &rollout.Group{PromptID: g.PromptID, Gold: g.Gold, HasGold: g.HasGold, Countdown: g.Countdown, Rollouts: g.Rollouts[lo:hi:hi]}
}

// agree checks a rollout's prompt facts against those already fixed for its
// group, adopting them where the group has none yet.
func agree(g *rollout.Group, rec *rollout.Record, earlier []int, pos int) error {
	if rec.HasGold {
		if !g.HasGold {
			g.Gold, g.HasGold = rec.Gold, true
		} else if rec.Gold != g.Gold {
			return serve.BadRequest("rollout %d (group %q): gold %q differs from gold %q of rollout %d of the same group",
				pos, g.PromptID, rec.Gold, g.Gold, earlier[0])
		}
	}
	if c := rec.Countdown; c != nil {
		if g.Countdown == nil {
			g.Countdown = c
		} else if c.Target != g.Countdown.Target || !slices.Equal(c.Numbers, g.Countdown.Numbers) {
			return serve.BadRequest("rollout %d (group %q): Countdown problem %v -> %d differs from %v -> %d of rollout %d of the same group",
				pos, g.PromptID, c.Numbers, c.Target, g.Countdown.Numbers, g.Countdown.Target, earlier[0])
		}
	}
	return nil
}

// scored is the outcome of scoring one group.
type scored struct {
	scores reward.Scores
	// mgs are the group's inputs to metrics.ComputeDynamics (one per vote);
	// nil when the group has no ground truth.
	mgs []metrics.Group
}

// scoreGroup gives the group its task's verifier, extracts missing answers
// with it (reward.ExtractAnswers), scores the group and prepares its B.2
// metric inputs. An error about one rollout is a *rollout.Error.
func scoreGroup(ctx context.Context, e reward.Estimator, gr *grade.Grader, g *rollout.Group) (scored, error) {
	task.Attach(g)
	if err := reward.ExtractAnswers(g); err != nil {
		return scored{}, err
	}
	s, err := e.Score(ctx, g)
	if err != nil {
		return scored{}, err
	}
	if len(s.Rewards) != len(g.Rollouts) {
		return scored{}, fmt.Errorf("%s returned %d rewards for %d rollouts", e.Name(), len(s.Rewards), len(g.Rollouts))
	}
	for i, v := range s.Rewards {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return scored{}, &rollout.Error{PromptID: g.PromptID, Index: i, Err: fmt.Errorf("%s gave a non-finite reward %v", e.Name(), v)}
		}
	}
	mgs, _, err := reward.MetricsGroups(ctx, []*rollout.Group{g}, []reward.Scores{s}, gr)
	if err != nil {
		return scored{}, fmt.Errorf("metrics: %w", err)
	}
	return scored{scores: s, mgs: mgs}, nil
}

// GroupInfo describes one scored group in an answer.
type GroupInfo struct {
	GroupID string `json:"group_id"`
	// Size is the number of rollouts the group was scored with.
	Size int `json:"size"`
	// Partial marks a group scored with fewer (or more) rollouts than the
	// group size.
	Partial bool `json:"partial,omitempty"`
	// Label is the voted pseudo-label of ensemble estimators, TopCount its
	// votes; LabelCorrect whether it matches the ground truth, when known.
	Label        *string `json:"label,omitempty"`
	TopCount     int     `json:"top_count,omitempty"`
	LabelCorrect *bool   `json:"label_correct,omitempty"`
}

// itemResult is what a request learns about one of its rollouts.
type itemResult struct {
	reward float64
	answer string
	group  int // index into ticket.groups
	gt     float64
	hasGT  bool
}

// ticket collects a request's results, which may come from several
// scorers: the request itself, and for held groups, whichever request or
// timer completes them. pending counts the deliveries still due.
type ticket struct {
	results []itemResult
	pending sync.WaitGroup

	// held lists the held groups this request has rollouts in (guarded by
	// the rendezvous' lock), to withdraw them if the client leaves.
	held []*heldGroup

	mu       sync.Mutex
	groups   []GroupInfo
	mgs      []metrics.Group
	warnings []string
	err      error
}

func newTicket(n int) *ticket { return &ticket{results: make([]itemResult, n)} }

// contribution is the part of a scored group that belongs to one ticket:
// rollouts offset..offset+len(pos) of the group, at positions pos of the
// ticket's request.
type contribution struct {
	t      *ticket
	pos    []int
	offset int
}

// deliver writes a scored group's results into each contributing ticket and
// marks the delivery done. err, when set, fails every contributor.
func deliver(g *rollout.Group, partial bool, sc scored, err error, warning string, contribs []contribution) {
	info := GroupInfo{GroupID: g.PromptID, Size: len(g.Rollouts), Partial: partial}
	if err == nil {
		if label, ok := sc.scores.Label(); ok {
			info.Label = &label
			info.TopCount = sc.scores.Votes[0].TopCount
		}
		if len(sc.mgs) > 0 && sc.mgs[0].LabelCorrect != nil {
			c := *sc.mgs[0].LabelCorrect
			info.LabelCorrect = &c
		}
	}
	// Ground truth per rollout, for the answer's extra logs.
	var gt []float64
	if len(sc.mgs) == 1 && len(sc.mgs[0].GT) == len(g.Rollouts) {
		gt = sc.mgs[0].GT
	}
	for _, c := range contribs {
		t := c.t
		t.mu.Lock()
		switch {
		case err != nil:
			if t.err == nil {
				t.err = groupError(g, c, err)
			}
		default:
			gi := len(t.groups)
			t.groups = append(t.groups, info)
			t.mgs = append(t.mgs, sc.mgs...)
			for j, p := range c.pos {
				i := c.offset + j
				res := itemResult{reward: sc.scores.Rewards[i], answer: g.Rollouts[i].Answer, group: gi}
				if gt != nil {
					res.gt, res.hasGT = gt[i], true
				}
				t.results[p] = res
			}
		}
		if warning != "" {
			t.warnings = append(t.warnings, warning)
		}
		t.mu.Unlock()
		t.pending.Done()
	}
}

// groupError turns a scoring error into a 400 that names the rollout by its
// position in the contributor's request when it is one of its own.
func groupError(g *rollout.Group, c contribution, err error) error {
	var re *rollout.Error
	if errors.As(err, &re) {
		if j := re.Index - c.offset; j >= 0 && j < len(c.pos) {
			return serve.BadRequest("rollout %d (group %q): %v", c.pos[j], g.PromptID, re.Err)
		}
		return serve.BadRequest("group %q: a rollout sent in another request: %v", g.PromptID, re.Err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return serve.Errorf(503, "group %q: scoring was cancelled: %v", g.PromptID, err)
	}
	var se *serve.Error
	if errors.As(err, &se) {
		return se
	}
	return serve.BadRequest("group %q: %v", g.PromptID, err)
}
