package rollout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Record is one rollout as it travels in JSONL: the rollout itself plus the
// prompt-level facts that every line of a prompt repeats. Field names:
//
//	prompt_id             string or integer, required; lines sharing it form a Group
//	response              string, required (the response text)
//	answer                string, optional: ans(y) when the producer extracted it
//	gold                  string or number, optional: the ground-truth answer
//	numbers, target       integers, optional: a Countdown problem
//	token_ids             integers, optional
//	token_logprobs        numbers: log pi_t(y_t)
//	token_entropies       numbers: H(pi_t)
//	token_self_certainty  numbers: logsumexp(z_t) - mean(z_t)
//	token_top2_gap        numbers: p_top1 - p_top2
//	answer_token_mask     booleans or 0/1: answer tokens (Probability Disparity)
//	source                string, optional: model (RLCCF) or question variant (Co-Reward)
//	verdict               string, optional: the policy's verification of this response
//
// Other fields are ignored by the decoder (commands carry them through).
type Record struct {
	PromptID  string
	Gold      string
	HasGold   bool
	Countdown *Countdown
	Rollout   Rollout
}

// ParseRecord decodes one JSONL line. Errors name the offending field.
func ParseRecord(line []byte) (Record, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		return Record{}, fmt.Errorf("not a JSON object: %w", err)
	}
	if fields == nil {
		return Record{}, errors.New("not a JSON object: null")
	}
	return DecodeFields(fields)
}

// DecodeFields decodes a record from the raw fields of a JSON object (as
// internal/jsonl hands them over) and validates the rollout.
func DecodeFields(fields map[string]json.RawMessage) (Record, error) {
	var rec Record
	var err error
	get := func(name string) (json.RawMessage, bool) {
		raw, ok := fields[name]
		if !ok || isNull(raw) {
			return nil, false
		}
		return raw, true
	}

	raw, ok := get("prompt_id")
	if !ok {
		return rec, errors.New(`missing field "prompt_id"`)
	}
	if rec.PromptID, err = stringOrNumber(raw); err != nil {
		return rec, fmt.Errorf(`field "prompt_id": %w`, err)
	}
	raw, ok = get("response")
	if !ok {
		return rec, errors.New(`missing field "response"`)
	}
	if err := json.Unmarshal(raw, &rec.Rollout.Text); err != nil {
		return rec, fieldErr("response", err)
	}
	if raw, ok = get("gold"); ok {
		if rec.Gold, err = stringOrNumber(raw); err != nil {
			return rec, fmt.Errorf(`field "gold": %w`, err)
		}
		rec.HasGold = true
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"answer", &rec.Rollout.Answer}, {"source", &rec.Rollout.Source}, {"verdict", &rec.Rollout.Verdict}} {
		if raw, ok := get(f.name); ok {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return rec, fieldErr(f.name, err)
			}
		}
	}

	rawNums, hasNums := get("numbers")
	rawTarget, hasTarget := get("target")
	if hasNums != hasTarget {
		return rec, errors.New(`a Countdown problem needs both "numbers" and "target"`)
	}
	if hasNums {
		c := &Countdown{}
		if err := json.Unmarshal(rawNums, &c.Numbers); err != nil {
			return rec, fieldErr("numbers", err)
		}
		if err := json.Unmarshal(rawTarget, &c.Target); err != nil {
			return rec, fieldErr("target", err)
		}
		if len(c.Numbers) == 0 {
			return rec, errors.New(`field "numbers": empty`)
		}
		rec.Countdown = c
	}

	if raw, ok = get(FieldTokens); ok {
		if err := json.Unmarshal(raw, &rec.Rollout.Tokens); err != nil {
			return rec, fieldErr(FieldTokens, err)
		}
		rec.Rollout.Tokens = nonNil(rec.Rollout.Tokens)
	}
	for _, f := range []struct {
		name string
		dst  *[]float32
	}{
		{FieldLogProbs, &rec.Rollout.LogProbs},
		{FieldEntropies, &rec.Rollout.Entropies},
		{FieldSelfCertainty, &rec.Rollout.SelfCertainty},
		{FieldTop2Gap, &rec.Rollout.Top2Gap},
	} {
		if raw, ok := get(f.name); ok {
			if err := json.Unmarshal(raw, f.dst); err != nil {
				return rec, fieldErr(f.name, err)
			}
			*f.dst = nonNil(*f.dst)
		}
	}
	if raw, ok = get(FieldAnswerMask); ok {
		var m mask
		if err := json.Unmarshal(raw, &m); err != nil {
			return rec, fieldErr(FieldAnswerMask, err)
		}
		rec.Rollout.AnswerMask = nonNil([]bool(m))
	}
	if err := rec.Rollout.Validate(); err != nil {
		return rec, err
	}
	return rec, nil
}

func fieldErr(name string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q: got JSON %s, want %s", name, te.Value, te.Type)
	}
	return fmt.Errorf("field %q: %w", name, err)
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// nonNil keeps "present but empty" distinct from "absent" after decoding.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// stringOrNumber accepts a JSON string, or a number kept as written (ids
// and gold answers are often numeric in datasets).
func stringOrNumber(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("want a string or a number, got %s", truncate(raw))
	}
	return n.String(), nil
}

func truncate(raw []byte) string {
	const max = 40
	if len(raw) > max {
		return string(raw[:max]) + "..."
	}
	return string(raw)
}

// mask decodes a JSON array of booleans or of the numbers 0 and 1.
type mask []bool

func (m *mask) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return fmt.Errorf("want an array of booleans or 0/1, got %s", truncate(b))
	}
	out := make([]bool, len(items))
	for i, it := range items {
		switch s := string(bytes.TrimSpace(it)); s {
		case "true", "1":
			out[i] = true
		case "false", "0":
		default:
			if f, err := strconv.ParseFloat(s, 64); err == nil && (f == 0 || f == 1) {
				out[i] = f == 1
				continue
			}
			return fmt.Errorf("entry %d is %s, want a boolean or 0/1", i, truncate(it))
		}
	}
	*m = out
	return nil
}

// wire is the JSON shape Encode writes; absent statistics are omitted.
type wire struct {
	PromptID      string    `json:"prompt_id"`
	Response      string    `json:"response"`
	Answer        string    `json:"answer,omitempty"`
	Gold          *string   `json:"gold,omitempty"`
	Numbers       []int     `json:"numbers,omitempty"`
	Target        *int      `json:"target,omitempty"`
	Source        string    `json:"source,omitempty"`
	Verdict       string    `json:"verdict,omitempty"`
	Tokens        []int32   `json:"token_ids,omitempty"`
	LogProbs      []float32 `json:"token_logprobs,omitempty"`
	Entropies     []float32 `json:"token_entropies,omitempty"`
	SelfCertainty []float32 `json:"token_self_certainty,omitempty"`
	Top2Gap       []float32 `json:"token_top2_gap,omitempty"`
	AnswerMask    []bool    `json:"answer_token_mask,omitempty"`
}

// MarshalJSON writes the record in the field layout ParseRecord reads.
// Statistics slices that are present but empty are written as [] so that
// they stay present.
func (rec Record) MarshalJSON() ([]byte, error) {
	r := &rec.Rollout
	w := wire{
		PromptID: rec.PromptID, Response: r.Text, Answer: r.Answer,
		Source: r.Source, Verdict: r.Verdict,
		Tokens: r.Tokens, LogProbs: r.LogProbs, Entropies: r.Entropies,
		SelfCertainty: r.SelfCertainty, Top2Gap: r.Top2Gap, AnswerMask: r.AnswerMask,
	}
	if rec.HasGold {
		w.Gold = &rec.Gold
	}
	if c := rec.Countdown; c != nil {
		w.Numbers = c.Numbers
		w.Target = &c.Target
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	// omitempty drops empty slices too; put back the present-but-empty ones.
	var extra []string
	for _, e := range []struct {
		name  string
		empty bool
	}{
		{FieldTokens, r.Tokens != nil && len(r.Tokens) == 0},
		{FieldLogProbs, r.LogProbs != nil && len(r.LogProbs) == 0},
		{FieldEntropies, r.Entropies != nil && len(r.Entropies) == 0},
		{FieldSelfCertainty, r.SelfCertainty != nil && len(r.SelfCertainty) == 0},
		{FieldTop2Gap, r.Top2Gap != nil && len(r.Top2Gap) == 0},
		{FieldAnswerMask, r.AnswerMask != nil && len(r.AnswerMask) == 0},
	} {
		if e.empty {
			extra = append(extra, `"`+e.name+`":[]`)
		}
	}
	if len(extra) == 0 {
		return b, nil
	}
	return append(b[:len(b)-1], ","+strings.Join(extra, ",")+"}"...), nil
}

// Records flattens groups back into records, group by group.
func Records(groups []*Group) []Record {
	var out []Record
	for _, g := range groups {
		for _, r := range g.Rollouts {
			out = append(out, Record{PromptID: g.PromptID, Gold: g.Gold, HasGold: g.HasGold, Countdown: g.Countdown, Rollout: r})
		}
	}
	return out
}

// GroupRecords collects records into one Group per prompt_id, groups in
// order of first appearance and rollouts in input order (records of
// different prompts may be interleaved). Index[g][i] is the position in
// records of Groups[g].Rollouts[i].
//
// The first record of a prompt fixes its gold answer and Countdown problem;
// a later record that states a different one is left out of the group and
// reported in Rejected, keyed by its position in records.
func GroupRecords(records []Record) (groups []*Group, index [][]int, rejected map[int]error) {
	byID := map[string]int{}
	for pos, rec := range records {
		k, ok := byID[rec.PromptID]
		if !ok {
			k = len(groups)
			byID[rec.PromptID] = k
			groups = append(groups, &Group{PromptID: rec.PromptID, Gold: rec.Gold, HasGold: rec.HasGold, Countdown: rec.Countdown})
			index = append(index, nil)
		}
		g := groups[k]
		if err := agree(g, rec); err != nil {
			if rejected == nil {
				rejected = map[int]error{}
			}
			rejected[pos] = err
			continue
		}
		g.Rollouts = append(g.Rollouts, rec.Rollout)
		index[k] = append(index[k], pos)
	}
	return groups, index, rejected
}

// agree checks rec's prompt-level facts against those already fixed for g,
// adopting them where g has none yet.
func agree(g *Group, rec Record) error {
	if rec.HasGold {
		if !g.HasGold {
			g.Gold, g.HasGold = rec.Gold, true
		} else if rec.Gold != g.Gold {
			return fmt.Errorf("gold %q differs from %q given earlier for prompt %q", rec.Gold, g.Gold, g.PromptID)
		}
	}
	if c := rec.Countdown; c != nil {
		if g.Countdown == nil {
			g.Countdown = c
		} else if !sameCountdown(c, g.Countdown) {
			return fmt.Errorf("countdown problem %v -> %d differs from %v -> %d given earlier for prompt %q",
				c.Numbers, c.Target, g.Countdown.Numbers, g.Countdown.Target, g.PromptID)
		}
	}
	return nil
}

func sameCountdown(a, b *Countdown) bool {
	if a.Target != b.Target || len(a.Numbers) != len(b.Numbers) {
		return false
	}
	for i := range a.Numbers {
		if a.Numbers[i] != b.Numbers[i] {
			return false
		}
	}
	return true
}
