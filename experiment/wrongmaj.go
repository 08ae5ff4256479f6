package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/train"
)

// The wrong-majority study (paper Sec. 5.3, Fig. 9): majority-voting RL on
// a small training set whose majority answers, under the base model, are
// all wrong. Every reward it gives then pays the wrong answer, so the run
// shows what majority voting does when its pseudo-labels are systematically
// wrong rather than merely noisy.

// Files of a wrong-majority study directory.
const (
	// SelectionFile holds the selected problems, one JSON record a line,
	// in the form the data loader reads; the run trains on it.
	SelectionFile = "wrong-majority.jsonl"
	// SelectionReport records how they were selected.
	SelectionReport  = "selection.json"
	wrongMajorityRun = "wrong-majority"
)

// WrongMajorityOptions configure the study.
type WrongMajorityOptions struct {
	Options
	// Samples is the number of base-model samples per problem the
	// majority is taken over (the paper: maj@64).
	Samples int
	// Size is how many wrong-majority problems to train on.
	Size int
	// Scan is how many problems of the training set, from its start, are
	// sampled to find them; 0 is all of them.
	Scan int
}

type wrongMajoritySettings struct {
	Kind      string   `json:"kind"`
	Recipe    string   `json:"recipe"`
	Overrides []string `json:"overrides"`
	Samples   int      `json:"samples"`
	Size      int      `json:"size"`
	Scan      int      `json:"scan"`
}

var wrongMajorityOwned = map[string]string{
	"data.subset":      "choose the number of problems with --size",
	"reward.estimator": "the study trains with majority voting",
	"name":             "the run is named " + wrongMajorityRun,
	"trainer.out_dir":  "the run lives in <out>/runs",
}

// Selection is how the training problems were chosen.
type Selection struct {
	Model    string `json:"model"`
	Source   string `json:"source"`  // the training set scanned
	Scanned  int    `json:"scanned"` // problems sampled
	Samples  int    `json:"samples"` // samples per problem
	Wrong    int    `json:"wrong"`   // problems with a wrong majority
	Selected []struct {
		ID    string  `json:"id"`
		Share float64 `json:"majority_share"`
		Avg   float64 `json:"avg"`
	} `json:"selected"`
}

// WrongMajorityReport is the study's outcome: the selection and the run.
type WrongMajorityReport struct {
	Dir       string
	Selection Selection
	Run       TTTResult
	Files     []string
}

// RunWrongMajority selects the problems (once; a rerun reuses the
// selection), trains majority voting on them without early stopping, and
// reports the run's dynamics. An interrupted study resumes.
func RunWrongMajority(ctx context.Context, o WrongMajorityOptions) (*WrongMajorityReport, error) {
	if o.Out == "" {
		return nil, errors.New("wrong-majority study: no output directory")
	}
	if o.Samples < 2 || o.Size < 1 || o.Scan < 0 {
		return nil, fmt.Errorf("wrong-majority study: %d samples per problem, size %d, scan %d; want at least 2 samples, size >= 1, scan >= 0", o.Samples, o.Size, o.Scan)
	}
	cfg, err := baseConfig(o.Options, []string{"early_stop.enabled=false"}, wrongMajorityOwned)
	if err != nil {
		return nil, err
	}
	cfg.Reward.Estimator, cfg.Reward.Params = MajorityVoting, nil
	if cfg.Eval.Every == 0 || len(cfg.Data.Validation) == 0 {
		return nil, errors.New("the study needs validation (eval.every > 0 and data.validation) to show the dynamics")
	}
	if _, err := openModel(cfg.Model.Base); err != nil {
		return nil, err
	}
	settings := wrongMajoritySettings{Kind: "wrong-majority", Recipe: o.Recipe, Overrides: nonNil(o.Overrides), Samples: o.Samples, Size: o.Size, Scan: o.Scan}
	if err := claimStudy(o.Out, settings); err != nil {
		return nil, err
	}
	selPath := filepath.Join(o.Out, SelectionFile)
	if _, err := os.Stat(selPath); errors.Is(err, os.ErrNotExist) {
		if err := selectWrongMajority(ctx, cfg, o); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(selPath)
	if err != nil {
		return nil, err
	}
	cfg.Data.Train, cfg.Data.Subset = abs, 0
	run, err := place(o.Out, cfg, wrongMajorityRun)
	if err != nil {
		return nil, err
	}
	if err := runAll(ctx, []subRun{run}, 1, o.Progress); err != nil {
		return nil, err
	}
	return ReportWrongMajority(o.Out)
}

// selectWrongMajority samples the base model on the scanned problems and
// writes the selection files.
func selectWrongMajority(ctx context.Context, cfg train.Config, o WrongMajorityOptions) error {
	problems, _, err := train.LoadProblems(cfg.Data.Train)
	if err != nil {
		return err
	}
	if o.Scan > 0 && o.Scan < len(problems) {
		problems = problems[:o.Scan]
	}
	m, err := openModel(cfg.Model.Base)
	if err != nil {
		return err
	}
	samples, err := sampleClasses(ctx, m, problems, sampling{
		N: o.Samples, Temperature: cfg.Rollout.Temperature, MaxNew: cfg.Rollout.MaxResponseLength, Seed: cfg.Seed,
	})
	if err != nil {
		return err
	}
	all, err := metrics.SelectWrongMajority(samples, len(samples))
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return fmt.Errorf("no problem among the %d scanned of %s has a wrong majority under %s; scan more (--scan) or pick another model", len(problems), cfg.Data.Train, cfg.Model.Base)
	}
	sel := Selection{Model: cfg.Model.Base, Source: cfg.Data.Train, Scanned: len(problems), Samples: o.Samples, Wrong: len(all)}
	var lines []any
	for _, w := range all[:min(o.Size, len(all))] {
		p := problems[w.Index]
		sel.Selected = append(sel.Selected, struct {
			ID    string  `json:"id"`
			Share float64 `json:"majority_share"`
			Avg   float64 `json:"avg"`
		}{p.ID, w.Share, w.Avg})
		lines = append(lines, map[string]any{
			"id": p.ID, "data_source": p.Source, "answer": p.Answer,
			"prompt": []map[string]string{{"role": "user", "content": p.Prompt}},
		})
	}
	b, err := json.MarshalIndent(sel, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(o.Out, SelectionReport), append(b, '\n'), 0o644); err != nil {
		return err
	}
	// The problems last: their file's presence marks a finished selection.
	return writeJSONL(filepath.Join(o.Out, SelectionFile), lines)
}

// ReportWrongMajority analyses the finished run of the study in out and
// writes results.jsonl, results.md and the plots.
func ReportWrongMajority(out string) (*WrongMajorityReport, error) {
	var st wrongMajoritySettings
	if err := readSettings(out, "wrong-majority", &st); err != nil {
		return nil, err
	}
	rep := &WrongMajorityReport{Dir: out}
	raw, err := os.ReadFile(filepath.Join(out, SelectionReport))
	if err != nil {
		return nil, fmt.Errorf("%s has no selection yet: %w", out, err)
	}
	if err := json.Unmarshal(raw, &rep.Selection); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(out, SelectionReport), err)
	}
	res, run, err := analyzeTTT(filepath.Join(out, RunsDir, wrongMajorityRun))
	if err != nil {
		return nil, err
	}
	rep.Run = res
	sel := rep.Selection
	preamble := fmt.Sprintf("Majority-voting RL on %d problems of %s whose majority answer over %d samples of %s is wrong (%d of the %d problems scanned have one; paper Sec. 5.3, Fig. 9). The most confidently wrong are taken first; their mean majority share is %.2f and their mean sample accuracy %.3f.\n\n",
		len(sel.Selected), sel.Source, sel.Samples, sel.Model, sel.Wrong, sel.Scanned, meanOf(sel, func(i int) float64 { return sel.Selected[i].Share }), meanOf(sel, func(i int) float64 { return sel.Selected[i].Avg }))
	tr := &TTTReport{Dir: out, Results: []TTTResult{res}, Title: "Majority voting on problems with wrong majorities", Preamble: preamble}
	rep.Files, err = writeTTT(tr, tttSettings{Kind: st.Kind, Recipe: st.Recipe, Overrides: st.Overrides}, []*finishedRun{run})
	return rep, err
}

func meanOf(sel Selection, f func(i int) float64) float64 {
	if len(sel.Selected) == 0 {
		return 0
	}
	var s float64
	for i := range sel.Selected {
		s += f(i)
	}
	return s / float64(len(sel.Selected))
}
