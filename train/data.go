package train

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/urlvr/urlvr/data"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task/arith"
	"github.com/urlvr/urlvr/task/countdown"
)

// Problem is one prompt with its gold answer. The gold answer is used for
// monitoring and validation, never by an unsupervised reward.
type Problem struct {
	ID     string
	Prompt string
	Answer string
	Source string
	// Countdown is the instance of a Countdown problem, checked by the
	// exact Countdown verifier instead of against Answer; nil otherwise.
	Countdown *rollout.Countdown
}

// worldPrefix marks a dataset of the synthetic world instead of a file.
const worldPrefix = "world:"

// LoadProblems reads a dataset named as in DataConfig: "world:train",
// "world:val-easy", "world:val-mid", "world:val-hard", "world:large-easy",
// "world:large-mid", "world:large-hard", "world:probe", or a
// JSONL/JSON/Parquet file in a real dataset's layout (Countdown files in
// the public nums/target layout included). It also returns the
// dataset's short name for metric keys. "countdown:train" and
// "countdown:val" are the world's Countdown splits (see countdownSet).
func LoadProblems(spec string) ([]Problem, string, error) {
	if name, ok := strings.CutPrefix(spec, worldPrefix); ok {
		ps, err := worldSet(name)
		if err != nil {
			return nil, "", fmt.Errorf("dataset %s: %w", spec, err)
		}
		out := make([]Problem, len(ps))
		for i, p := range ps {
			out[i] = Problem{ID: fmt.Sprintf("%s/%d", p.DataSource, i), Prompt: p.Prompt, Answer: p.Answer, Source: p.DataSource}
		}
		return out, name, nil
	}
	if name, ok := strings.CutPrefix(spec, countdownPrefix); ok {
		ps, err := countdownSet(name)
		if err != nil {
			return nil, "", fmt.Errorf("dataset %s: %w", spec, err)
		}
		return ps, "countdown-" + name, nil
	}
	recs, err := data.Load(spec, data.Options{})
	if err != nil {
		return nil, "", err
	}
	out := make([]Problem, len(recs))
	for i, r := range recs {
		out[i] = Problem{ID: r.ID, Prompt: r.Prompt, Answer: r.Answer, Source: r.DataSource}
		if c := r.Countdown; c != nil {
			out[i].Countdown = &rollout.Countdown{Numbers: c.Numbers, Target: c.Target}
			if r.Prompt == "" {
				// The public layout has no prompt: the base-model form
				// of the paper's Countdown prompt (Sec. 7).
				out[i].Prompt = countdown.BasePrompt(c.Numbers, c.Target)
			}
		}
	}
	return out, shortName(spec), nil
}

// worldSet generates (or, for the large held-out sets, reads) one split
// of the synthetic arithmetic world.
func worldSet(name string) ([]arith.Problem, error) { return arith.Split(name) }

// shortName is a file's base name without directory and extensions.
func shortName(path string) string {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

// subset keeps n problems chosen by a generator seeded with seed (the
// paper's dataset-size studies); n <= 0 or n >= len(ps) keeps all, in order.
func subset(ps []Problem, n int, seed uint64) []Problem {
	if n <= 0 || n >= len(ps) {
		return ps
	}
	rng := rand.New(rand.NewPCG(seed, 0x5ab5e7))
	idx := rng.Perm(len(ps))[:n]
	out := make([]Problem, n)
	for i, j := range idx {
		out[i] = ps[j]
	}
	return out
}

// promptLimit is the longest prompt, in tokens, a run can use and what sets
// it: rollout.max_prompt_length, or the model's context when that is
// shorter (a prompt must leave at least one position for the response).
func (t *Trainer) promptLimit() (int, string) {
	ctx := t.policy.Engine.Config().MaxPositions
	if ctx-1 < t.cfg.Rollout.MaxPromptLength {
		return ctx - 1, fmt.Sprintf("the model's context of %d positions (rollout.max_prompt_length is %d)", ctx, t.cfg.Rollout.MaxPromptLength)
	}
	return t.cfg.Rollout.MaxPromptLength, "rollout.max_prompt_length"
}

// droppedPrompts counts the prompts of a dataset left out for their length.
type droppedPrompts struct {
	key, spec      string
	dropped, total int
	limit          int
	by             string
}

// encodeSet tokenises a dataset's prompts and keeps those that fit the
// prompt limit; the others are counted (see logDroppedPrompts). A dataset
// with no usable prompt is an error that says what limited it, so a run
// never starts with a validation set it cannot evaluate.
func (t *Trainer) encodeSet(ps []Problem, key, spec string) ([]Problem, [][]int, error) {
	limit, by := t.promptLimit()
	var keep []Problem
	var ids [][]int
	shortest, longest := -1, 0
	for _, p := range ps {
		enc := t.policy.EncodePrompt(p.Prompt)
		if len(enc) > 0 {
			longest = max(longest, len(enc))
			if shortest < 0 || len(enc) < shortest {
				shortest = len(enc)
			}
		}
		if len(enc) == 0 || len(enc) > limit {
			continue
		}
		keep = append(keep, p)
		ids = append(ids, enc)
	}
	switch {
	case len(ps) == 0:
		return nil, nil, fmt.Errorf("%s %s: the dataset has no problems", key, spec)
	case shortest < 0:
		return nil, nil, fmt.Errorf("%s %s: all %d prompts are empty", key, spec, len(ps))
	case len(keep) == 0:
		lengths := fmt.Sprintf("its %d prompts have %d to %d tokens", len(ps), shortest, longest)
		if shortest == longest {
			lengths = fmt.Sprintf("its prompts have %d tokens", longest)
		}
		return nil, nil, fmt.Errorf("%s %s: no usable prompt: %s, and %s allows at most %d",
			key, spec, lengths, by, limit)
	}
	if len(keep) < len(ps) {
		t.dropped = append(t.dropped, droppedPrompts{key: key, spec: spec, dropped: len(ps) - len(keep), total: len(ps), limit: limit, by: by})
	}
	return keep, ids, nil
}

// logDroppedPrompts records in events.jsonl how many prompts of each
// dataset were too long (or empty) to use.
func (t *Trainer) logDroppedPrompts() error {
	for _, d := range t.dropped {
		e := runlog.EventRow{Event: runlog.EventPromptsDropped, Setting: d.key, Dataset: d.spec,
			Dropped: &d.dropped, Of: &d.total, MaxPromptTokens: &d.limit, LimitedBy: d.by}
		if err := t.event(e); err != nil {
			return err
		}
	}
	return nil
}
