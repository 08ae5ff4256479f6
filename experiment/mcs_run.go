package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/metrics"
)

// Running the Model Collapse Step study: train every model's sub-runs, then
// read them back.

// RunMCS runs the Model Collapse Step study in o.Out: for each model a
// majority-voting run that stops at its collapse and a ground-truth run for
// the same budget. Finished sub-runs are skipped and interrupted ones
// resumed, so an interrupted study continues where it stopped. It then
// writes the results (ReportMCS).
func RunMCS(ctx context.Context, o MCSOptions) (*MCSReport, error) {
	if o.Out == "" {
		return nil, errors.New("mcs study: no output directory")
	}
	gain, err := ParseGainBasis(string(o.Gain))
	if err != nil {
		return nil, err
	}
	if len(o.Models) == 0 {
		if o.Models, err = basemodel.Shipped(); err != nil {
			return nil, err
		}
	}
	if len(o.Models) < MinStudyModels {
		return nil, fmt.Errorf("mcs study: %d models (%s); a rank correlation across models needs at least %d", len(o.Models), strings.Join(o.Models, ", "), MinStudyModels)
	}
	runs, err := mcsRuns(o)
	if err != nil {
		return nil, err
	}
	if err := checkModels(o.Models); err != nil {
		return nil, err
	}
	settings := mcsSettings{
		Kind: "mcs", Recipe: o.Recipe, Overrides: nonNil(o.Overrides),
		MVOverrides: nonNil(o.MVOverrides), GTOverrides: nonNil(o.GTOverrides), Models: o.Models,
		Robustness: o.Robustness,
	}
	if err := claimStudy(o.Out, settings); err != nil {
		return nil, err
	}
	if err := runAll(ctx, runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportMCS(o.Out, gain)
}

// checkModels opens every model once, so that a directory that is not a
// model fails the study before any training rather than halfway through.
func checkModels(models []string) error {
	for _, m := range models {
		if _, err := openModel(m); err != nil {
			return err
		}
	}
	return nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// readSettings reads a study directory's study.json into settings and
// checks its kind.
func readSettings(out, kind string, settings any) error {
	raw, err := os.ReadFile(filepath.Join(out, StudyFile))
	if err != nil {
		return fmt.Errorf("%s is not a study directory: %w", out, err)
	}
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(out, StudyFile), err)
	}
	if head.Kind != kind {
		return fmt.Errorf("%s holds a %q study, not %q", out, head.Kind, kind)
	}
	return json.Unmarshal(raw, settings)
}

// ReportMCS analyses the finished sub-runs of the MCS study in out and
// writes results.jsonl, results.md, correlation.json and the plots.
func ReportMCS(out string, gain GainBasis) (*MCSReport, error) {
	gain, err := ParseGainBasis(string(gain))
	if err != nil {
		return nil, err
	}
	var st mcsSettings
	if err := readSettings(out, "mcs", &st); err != nil {
		return nil, err
	}
	rep := &MCSReport{Dir: out, Gain: gain}
	var mvRuns, gtRuns []*finishedRun
	for _, m := range st.Models {
		label := basemodel.Label(m)
		if !finished(filepath.Join(out, RunsDir, label, MajorityVoting)) || !finished(filepath.Join(out, RunsDir, label, GroundTruth)) {
			rep.Pending = append(rep.Pending, label)
			continue
		}
		res, mv, gt, err := analyzeMCS(label, filepath.Join(out, RunsDir, label, MajorityVoting), filepath.Join(out, RunsDir, label, GroundTruth))
		if err != nil {
			return nil, err
		}
		res.MVRun = filepath.ToSlash(filepath.Join(RunsDir, label, MajorityVoting))
		res.GTRun = filepath.ToSlash(filepath.Join(RunsDir, label, GroundTruth))
		rep.Results = append(rep.Results, res)
		rep.MCSTokens += res.MCSTokens
		rep.GTTokens += res.GTTokens
		mvRuns, gtRuns = append(mvRuns, mv), append(gtRuns, gt)
	}
	if len(rep.Results) == 0 {
		return nil, fmt.Errorf("no model of the study in %s has finished both runs yet", out)
	}
	rep.Correlations = correlateMCS(rep.Results, gain)
	if st.Robustness {
		if rep.Robustness, err = robustnessMCS(out, rep.Results, gain); err != nil {
			return nil, err
		}
	}
	if rep.Files, err = writeMCS(rep, st, mvRuns, gtRuns); err != nil {
		return nil, err
	}
	return rep, nil
}

// robustnessMCS reads each robustness variant's majority-voting runs of
// the finished models and compares their Model Collapse Step ranking with
// the default's (paper Fig. 12). Models whose variant run has not finished
// are left out of that variant.
func robustnessMCS(out string, results []MCSResult, gain GainBasis) ([]MCSRobustness, error) {
	var rows []MCSRobustness
	for _, v := range MCSVariants {
		row := MCSRobustness{Variant: v.Name, Steps: map[string]float64{}}
		var def, alt, gains []float64
		for _, r := range results {
			dir := filepath.Join(out, RunsDir, filepath.FromSlash(variantRun(r.Model, v.Name)))
			if !finished(dir) {
				continue
			}
			run, err := readRun(dir)
			if err != nil {
				return nil, err
			}
			if !run.summary.CollapseMeasured {
				return nil, fmt.Errorf("run %s logged no reward accuracy, so it has no Model Collapse Step", dir)
			}
			alt = append(alt, collapseRank(run))
			def = append(def, r.RankValue())
			gains = append(gains, r.Gain(gain))
			row.Steps[r.Model] = alt[len(alt)-1]
		}
		if a, err := metrics.RankingAgreement(def, alt); err == nil {
			row.Agreement = &a
		} else {
			row.Note = err.Error()
		}
		row.GTGain = Correlate("model_collapse_step_"+v.Name, "gt_gain_"+string(gain), alt, gains)
		rows = append(rows, row)
	}
	return rows, nil
}

// collapseRank is a run's Model Collapse Step as MCSResult.RankValue
// counts it: the step, or the cap + 1 without a collapse.
func collapseRank(r *finishedRun) float64 {
	if r.summary.Collapse.Collapsed {
		return float64(r.summary.Collapse.Step)
	}
	stepCap := r.cfg.Trainer.Steps
	if stepCap == 0 {
		stepCap = r.summary.Steps
	}
	return float64(stepCap + 1)
}
