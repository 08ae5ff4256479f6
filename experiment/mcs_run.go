package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
		if o.Models, err = ShippedModels(); err != nil {
			return nil, err
		}
	}
	runs, err := mcsRuns(o)
	if err != nil {
		return nil, err
	}
	settings := mcsSettings{
		Kind: "mcs", Recipe: o.Recipe, Overrides: nonNil(o.Overrides),
		MVOverrides: nonNil(o.MVOverrides), GTOverrides: nonNil(o.GTOverrides), Models: o.Models,
	}
	if err := claimStudy(o.Out, settings); err != nil {
		return nil, err
	}
	if err := runAll(ctx, runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportMCS(o.Out, gain)
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
		label := modelLabel(m)
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
	if rep.Files, err = writeMCS(rep, st, mvRuns, gtRuns); err != nil {
		return nil, err
	}
	return rep, nil
}
