package runlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// ProblemScoresRow is one line of validation_problems.jsonl: how many of
// the N samples of each problem of one validation set were correct at one
// validation, in the set's order. validation.jsonl has each set's means
// with intervals; this file lets two validations (two steps of a run, or
// two runs on the same set) be compared problem by problem, and a paired
// bootstrap of a gain is far tighter than two separate intervals: a change
// of 0.03 avg@k on 600 problems is resolved by the paired interval and not
// by the unpaired one.
type ProblemScoresRow struct {
	Step int
	Set  string
	N    int // samples per problem
	// Problems fingerprints the set's problem IDs in order
	// (ProblemsFingerprint), so that rows of different sets, or of a set
	// loaded in another order, are never paired.
	Problems string
	Correct  []int // correct samples of each problem, 0..N
}

// The keys of a ProblemScoresRow.
const (
	KeyProblemSet      = "set"
	KeyProblemN        = "n"
	KeyProblemIDs      = "problems"
	KeyProblemsCorrect = "correct"
)

// Fields returns the row by key.
func (r ProblemScoresRow) Fields() map[string]any {
	return map[string]any{KeyStep: r.Step, KeyProblemSet: r.Set, KeyProblemN: r.N,
		KeyProblemIDs: r.Problems, KeyProblemsCorrect: r.Correct}
}

// problemScoresLine is the JSON layout of a ProblemScoresRow.
type problemScoresLine struct {
	Step     *int   `json:"step"`
	Set      string `json:"set"`
	N        int    `json:"n"`
	Problems string `json:"problems"`
	Correct  []int  `json:"correct"`
}

// UnmarshalJSON reads a line back, refusing one that is not a
// ProblemScoresRow or whose counts exceed N.
func (r *ProblemScoresRow) UnmarshalJSON(b []byte) error {
	var l problemScoresLine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return err
	}
	if l.Step == nil || l.Set == "" || l.N < 1 {
		return fmt.Errorf("a per-problem validation line needs step, set and n >= 1")
	}
	for i, c := range l.Correct {
		if c < 0 || c > l.N {
			return fmt.Errorf("set %s, problem %d: %d correct of %d samples", l.Set, i, c, l.N)
		}
	}
	*r = ProblemScoresRow{Step: *l.Step, Set: l.Set, N: l.N, Problems: l.Problems, Correct: l.Correct}
	return nil
}

// Accuracy returns each problem's share of correct samples (avg@N per
// problem).
func (r ProblemScoresRow) Accuracy() []float64 {
	out := make([]float64, len(r.Correct))
	for i, c := range r.Correct {
		out[i] = float64(c) / float64(r.N)
	}
	return out
}

// ProblemsFingerprint is the first 16 hex digits of the SHA-256 of the
// problem IDs joined by newlines.
func ProblemsFingerprint(ids []string) string {
	h := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return hex.EncodeToString(h[:8])
}
