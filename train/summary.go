package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/runlog"
)

// Summary is what a finished run reports: where it is, how validation
// moved, and whether and when it collapsed.
type Summary struct {
	Dir        string                 `json:"dir"`
	Steps      int                    `json:"steps"`
	StopReason string                 `json:"stop_reason,omitempty"`
	Metric     string                 `json:"metric"` // e.g. avg@32
	Sets       []SetSummary           `json:"sets"`
	Best       bestRecord             `json:"best"`
	Collapse   metrics.CollapseResult `json:"collapse"`
	// CollapseMeasured says whether the reward had a reward accuracy to
	// watch (binary proxy rewards only).
	CollapseMeasured bool     `json:"collapse_measured"`
	Plots            []string `json:"plots"`
	Events           []string `json:"events,omitempty"`
}

// SetSummary is one validation set's accuracy at the start, at the best
// checkpoint and at the end.
type SetSummary struct {
	Name  string  `json:"name"`
	Start float64 `json:"start"`
	Best  float64 `json:"best"`
	Final float64 `json:"final"`
}

// finish writes the plots and summary.json of a run that ended.
func (t *Trainer) finish(stopReason string) (*Summary, error) {
	s := &Summary{
		Dir: t.run.dir, Steps: t.st.Step, StopReason: stopReason, Best: t.best,
		Metric:   runlog.Avg(t.cfg.Eval.N),
		Collapse: t.collapse.Result(), CollapseMeasured: t.collapse.Result().Observations > 0,
		Events: t.events,
	}
	rows, _, err := runlog.ReadFile[runlog.ValidationRow](filepath.Join(t.run.dir, ValidationFile))
	if err != nil {
		return nil, err
	}
	if len(rows) > 0 {
		var bestRow *runlog.ValidationRow
		for i, r := range rows {
			if r.Step == t.best.Step {
				bestRow = &rows[i]
			}
		}
		for _, set := range t.vals {
			get := func(r runlog.ValidationRow) float64 {
				sc, ok := r.Set(set.name)
				if !ok || r.K != t.cfg.Eval.N {
					return 0
				}
				return sc.Avg.Value
			}
			ss := SetSummary{Name: set.name, Start: get(rows[0]), Final: get(rows[len(rows)-1])}
			if bestRow != nil {
				ss.Best = get(*bestRow)
			}
			s.Sets = append(s.Sets, ss)
		}
	}
	if s.Plots, err = report.WriteRunPlots(t.run.dir); err != nil {
		return nil, fmt.Errorf("plotting: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(t.run.dir, SummaryFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return s, nil
}

// WriteTable prints the summary as a table: validation accuracy at the
// start, at the best checkpoint and at the end, and the collapse step.
func (s *Summary) WriteTable(w io.Writer) error {
	if len(s.Sets) == 0 {
		fmt.Fprintln(w, "validation: none (no validation sets, or eval.every is 0)")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(s.Sets) > 0 {
		fmt.Fprintf(tw, "validation %s\tstart (step 0)\tbest (step %d)\tfinal (step %d)\t\n", s.Metric, s.Best.Step, s.Steps)
	}
	for _, set := range s.Sets {
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t\n", set.Name, set.Start, set.Best, set.Final)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case !s.CollapseMeasured:
		fmt.Fprintln(w, "Model Collapse Step: not measured (the reward is not binary, so it has no reward accuracy)")
	case s.Collapse.Collapsed:
		fmt.Fprintf(w, "Model Collapse Step: %d (reward accuracy %.4f)\n", s.Collapse.Step, s.Collapse.Value)
	default:
		fmt.Fprintf(w, "Model Collapse Step: none within %d steps\n", s.Steps)
	}
	if s.StopReason != "" {
		fmt.Fprintf(w, "stopped early: %s\n", s.StopReason)
	}
	return nil
}

// writeSamples writes every rollout of the first few prompts of a step, so
// a reader can see what the policy writes as it trains.
func (t *Trainer) writeSamples(step int, problems []Problem, rb *rolloutBatch, scores []reward.Scores) error {
	const prompts = 4
	dir := filepath.Join(t.run.dir, SamplesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b []byte
	for j := range min(prompts, len(rb.groups)) {
		g := rb.groups[j]
		label, _ := scores[j].Label()
		for k, r := range g.Rollouts {
			line, err := runlog.EncodeText(runlog.SampleRow{
				Step: step, PromptID: g.PromptID, Prompt: problems[j].Prompt, Gold: g.Gold,
				Response: r.Text, Answer: r.Answer, Reward: scores[j].Rewards[k],
				Correct: t.correct(g, r.Answer), Label: label,
			})
			if err != nil {
				return err
			}
			b = append(b, line...)
		}
	}
	return atomicfile.WriteFile(filepath.Join(dir, checkpointName(step)+".jsonl"), b, 0o644)
}

// correct says whether an answer solves a group's problem: by the task's
// verifier when it has one (Countdown), else against the gold answer.
func (t *Trainer) correct(g *rollout.Group, answer string) bool {
	if g.Verifier != nil {
		return g.Verifier.Check(answer).Correct
	}
	return answer != "" && t.grader.Equivalent(answer, g.Gold)
}
