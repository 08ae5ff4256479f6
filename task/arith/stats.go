package arith

import (
	"fmt"
	"slices"
)

// LengthStats summarises a list of lengths in characters.
type LengthStats struct {
	N     int     `json:"n"`
	Min   int     `json:"min"`
	P50   int     `json:"p50"` // percentiles are nearest-rank
	P90   int     `json:"p90"`
	P99   int     `json:"p99"`
	Max   int     `json:"max"`
	Mean  float64 `json:"mean"`
	Limit int     `json:"limit"`
	Over  int     `json:"over_limit"` // how many exceed Limit
}

// Lengths summarises xs and counts those longer than limit.
func Lengths(xs []int, limit int) LengthStats {
	if len(xs) == 0 {
		return LengthStats{Limit: limit}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	sum := 0
	st := LengthStats{N: len(s), Min: s[0], Max: s[len(s)-1], Limit: limit}
	for _, x := range s {
		sum += x
		if x > limit {
			st.Over++
		}
	}
	st.Mean = float64(sum) / float64(len(s))
	rank := func(p int) int { return s[max(0, (p*len(s)+99)/100-1)] }
	st.P50, st.P90, st.P99 = rank(50), rank(90), rank(99)
	return st
}

func (s LengthStats) String() string {
	return fmt.Sprintf("n=%d min=%d p50=%d p90=%d p99=%d max=%d mean=%.1f >%d:%d", s.N, s.Min, s.P50, s.P90, s.P99, s.Max, s.Mean, s.Limit, s.Over)
}

// SetStats describes a dataset: its size per family and tier, the lengths of
// its prompts and of its correct responses, and its step counts. Responses
// are counted against 48 characters, the new-token budget of the engine's
// reference configuration (16-token prompt, 48 new tokens, context 64).
type SetStats struct {
	Name      string         `json:"name"`
	Size      int            `json:"size"`
	Families  map[Family]int `json:"families"`
	Tiers     map[int]int    `json:"tiers"`
	Steps     map[int]int    `json:"steps"`
	Prompts   LengthStats    `json:"prompt_chars"`
	Responses LengthStats    `json:"response_chars"`
}

// Describe computes the statistics of a set of problems; it solves each
// problem to measure its response.
func Describe(name string, problems []Problem) (SetStats, error) {
	st := SetStats{Name: name, Size: len(problems), Families: map[Family]int{}, Tiers: map[int]int{}, Steps: map[int]int{}}
	var prompts, responses []int
	for i, p := range problems {
		expr, err := p.Expression()
		if err != nil {
			return SetStats{}, fmt.Errorf("%s problem %d: %w", name, i, err)
		}
		sol, err := Solve(expr)
		if err != nil {
			return SetStats{}, fmt.Errorf("%s problem %d: %w", name, i, err)
		}
		st.Families[p.Family]++
		st.Tiers[p.Tier]++
		st.Steps[len(sol.Steps)]++
		prompts = append(prompts, len(p.Prompt))
		responses = append(responses, len(sol.Text()))
	}
	st.Prompts, st.Responses = Lengths(prompts, MaxPromptLen), Lengths(responses, 48)
	return st, nil
}
