package dashboard

import (
	"encoding/json"
	"path/filepath"
	"sort"
)

// The study kinds whose own views the study page draws, as the studies
// write them into study.json.
const (
	kindPerProblem = "per-problem"
	kindIntrinsic  = "intrinsic"
	// rewardsFile is the intrinsic study's per-reward summary.
	rewardsFile = "rewards.json"
	// The per-problem study's chosen problems and each run's per-epoch
	// observations, read while the study is still running.
	problemsFile   = "problems.json"
	perProblemFile = "per-problem.jsonl"
)

// perProblemPatterns are the per-problem study's four patterns (paper Sec.
// 4.2.1) in the order its heatmap groups them. They are the values of
// experiment.Pattern, which this package cannot import (experiment reports
// through report, which uses this package); a test holds them equal.
var perProblemPatterns = []string{"amplifying success", "wrong→correct", "correct→wrong", "amplifying failure"}

// Heatmap is the per-problem study's Fig. 4/15: one row per problem, one
// column per epoch (0: before training), a cell whether greedy decoding
// was correct, a marker whether that epoch's highest-reward rollout was
// correct (the "green wave"; column 0 has no rollouts).
type Heatmap struct {
	Epochs int       `json:"epochs"` // columns 0..Epochs
	Rows   []HeatRow `json:"rows"`
	// Live marks a heatmap read from the runs' own logs before the
	// study's report: greedy cells only, no patterns or top-reward marks.
	Live     bool           `json:"live"`
	Patterns []PatternCount `json:"patterns"`
}

// HeatRow is one problem of the heatmap.
type HeatRow struct {
	ID         string    `json:"id"`
	Run        string    `json:"run"`
	Pattern    string    `json:"pattern"`
	Greedy     []bool    `json:"greedy"`
	Wave       []bool    `json:"wave"`
	Confidence []float64 `json:"confidence"`
	WaveShare  float64   `json:"wave_share"`
}

// PatternCount is how many problems followed a pattern.
type PatternCount struct {
	Pattern string `json:"pattern"`
	Count   int    `json:"count"`
}

// perProblemHeatmap builds the heatmap from the study's results rows (one
// per finished problem, written by the study's report). Rows missing the
// per-epoch arrays are skipped; nil when no row has them.
func perProblemHeatmap(results []map[string]any) *Heatmap {
	h := &Heatmap{}
	counts := map[string]int{}
	for _, r := range results {
		var row HeatRow
		b, err := json.Marshal(r)
		if err != nil || json.Unmarshal(b, &row) != nil || len(row.Greedy) == 0 {
			continue
		}
		if row.ID == "" {
			row.ID = row.Run
		}
		h.Epochs = max(h.Epochs, len(row.Greedy)-1)
		counts[row.Pattern]++
		h.Rows = append(h.Rows, row)
	}
	if len(h.Rows) == 0 {
		return nil
	}
	order := map[string]int{}
	for i, p := range perProblemPatterns {
		order[p] = i
		h.Patterns = append(h.Patterns, PatternCount{Pattern: p, Count: counts[p]})
	}
	rank := func(p string) int {
		if i, ok := order[p]; ok {
			return i
		}
		return len(order)
	}
	sort.SliceStable(h.Rows, func(i, j int) bool {
		a, b := h.Rows[i], h.Rows[j]
		if rank(a.Pattern) != rank(b.Pattern) {
			return rank(a.Pattern) < rank(b.Pattern)
		}
		return a.ID < b.ID
	})
	return h
}

// IntrinsicView is the intrinsic-reward study's own view (paper Sec. 5):
// each reward's validation curve averaged over seeds with its bootstrap
// interval over problems, as the study's rewards.json holds them, and how
// many runs of each reward ended in each failure mode.
type IntrinsicView struct {
	Rewards []RewardCurve `json:"rewards"`
	Modes   []string      `json:"modes"` // every failure mode seen, sorted
}

// RewardCurve is one reward's validation curve.
type RewardCurve struct {
	Reward       string         `json:"reward"`
	Seeds        int            `json:"seeds"`
	Metric       string         `json:"metric"`
	Steps        []float64      `json:"steps"`
	Value        []float64      `json:"value"`
	Lo           []float64      `json:"lo"`
	Hi           []float64      `json:"hi"`
	RiseThenFall bool           `json:"rise_then_fall"`
	Modes        map[string]int `json:"modes"`
}

// intrinsicView reads the study's rewards.json; nil when it is missing or
// of another shape.
func intrinsicView(info *StudyInfo) *IntrinsicView {
	b, err := readInside(info.root, filepath.Join(info.dir, rewardsFile), 16<<20)
	if err != nil {
		return nil
	}
	var rs []struct {
		Reward string `json:"reward"`
		Seeds  int    `json:"seeds"`
		Metric string `json:"metric"`
		Curve  []struct {
			Step  float64 `json:"step"`
			Value float64 `json:"value"`
			Lo    float64 `json:"lo"`
			Hi    float64 `json:"hi"`
		} `json:"curve"`
		RiseThenFall bool           `json:"rise_then_fall"`
		Modes        map[string]int `json:"modes"`
	}
	if json.Unmarshal(b, &rs) != nil {
		return nil
	}
	v := &IntrinsicView{Rewards: []RewardCurve{}, Modes: []string{}}
	seen := map[string]bool{}
	for _, r := range rs {
		c := RewardCurve{Reward: r.Reward, Seeds: r.Seeds, Metric: r.Metric, RiseThenFall: r.RiseThenFall, Modes: r.Modes,
			Steps: []float64{}, Value: []float64{}, Lo: []float64{}, Hi: []float64{}}
		if c.Modes == nil {
			c.Modes = map[string]int{}
		}
		for _, p := range r.Curve {
			c.Steps = append(c.Steps, p.Step)
			c.Value = append(c.Value, p.Value)
			c.Lo = append(c.Lo, p.Lo)
			c.Hi = append(c.Hi, p.Hi)
		}
		for m := range c.Modes {
			if !seen[m] {
				seen[m] = true
				v.Modes = append(v.Modes, m)
			}
		}
		v.Rewards = append(v.Rewards, c)
	}
	if len(v.Rewards) == 0 {
		return nil
	}
	sort.Strings(v.Modes)
	return v
}

// PerProblemPatterns returns the pattern names the heatmap groups by.
func PerProblemPatterns() []string { return append([]string(nil), perProblemPatterns...) }

// perProblemLive builds the greedy cells of a per-problem study whose
// report is not written yet, from problems.json and each run's
// per-problem.jsonl (the last line of a step wins, as a resumed run
// rewrites it; torn or foreign lines are skipped). nil when no run has
// logged an epoch.
func perProblemLive(info *StudyInfo) *Heatmap {
	b, err := readInside(info.root, filepath.Join(info.dir, problemsFile), 4<<20)
	if err != nil {
		return nil
	}
	var chosen []struct {
		ID  string `json:"id"`
		Run string `json:"run"`
	}
	if json.Unmarshal(b, &chosen) != nil {
		return nil
	}
	h := &Heatmap{Live: true}
	var st struct {
		Epochs int `json:"epochs"`
	}
	if b, err := readInside(info.root, filepath.Join(info.dir, studyFile), 4<<20); err == nil && json.Unmarshal(b, &st) == nil && st.Epochs > 0 && st.Epochs <= 1<<20 {
		h.Epochs = st.Epochs // the grid's full width while epochs are still to come
	}
	for _, p := range chosen {
		if p.Run == "" || filepath.Base(p.Run) != p.Run {
			continue // a run name is one directory under runs/
		}
		b, err := readInside(info.root, filepath.Join(info.dir, "runs", p.Run, perProblemFile), 16<<20)
		if err != nil {
			continue
		}
		row := HeatRow{ID: p.ID, Run: p.Run}
		for _, line := range splitLines(b) {
			var o struct {
				Step          *int    `json:"step"`
				GreedyCorrect bool    `json:"greedy_correct"`
				Confidence    float64 `json:"confidence"`
			}
			if json.Unmarshal(line, &o) != nil || o.Step == nil || *o.Step < 0 || *o.Step > 1<<20 {
				continue
			}
			for len(row.Greedy) <= *o.Step {
				row.Greedy = append(row.Greedy, false)
				row.Confidence = append(row.Confidence, 0)
			}
			row.Greedy[*o.Step], row.Confidence[*o.Step] = o.GreedyCorrect, o.Confidence
		}
		if len(row.Greedy) == 0 {
			continue
		}
		h.Epochs = max(h.Epochs, len(row.Greedy)-1)
		h.Rows = append(h.Rows, row)
	}
	if len(h.Rows) == 0 {
		return nil
	}
	sort.SliceStable(h.Rows, func(i, j int) bool { return h.Rows[i].ID < h.Rows[j].ID })
	return h
}
