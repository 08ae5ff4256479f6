package experiment

import (
	"fmt"
	"path/filepath"
	"reflect"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task/arith"
)

// The pilot of paper Fig. 10: base models against their aligned variants
// under majority voting. The paper trains Qwen2.5 against R1-Distill and
// Llama against Tulu and sees the aligned model of each family keep its
// reward accuracy longer; here each aligned model of the study (a prior
// with `from:` naming another model of the study) is drawn beside its base.

// alignedPair is a base model of the study and its aligned variant, as
// indexes into the study's results.
type alignedPair struct{ base, aligned int }

// alignedPairs finds the study's base/aligned pairs from the models'
// manifests: an aligned model either continues a model of the study
// (its prior's from:) or is trained through the same stages as one, with
// the same shape, plus a fine-tuning stage of its own (two-wrong-sft beside
// two-wrong). Models without a manifest are in no pair.
func alignedPairs(results []MCSResult, mvRuns []*finishedRun) []alignedPair {
	priors := make([]*arith.Prior, len(mvRuns))
	index := map[string]int{}
	for i, run := range mvRuns {
		index[results[i].Model] = i
		if m, err := basemodel.OpenNamed(run.cfg.Model.Base); err == nil && m.Manifest != nil {
			priors[i] = &m.Manifest.Prior
		}
	}
	var pairs []alignedPair
	for i, p := range priors {
		if p == nil {
			continue
		}
		if p.From != "" {
			if b, ok := index[basemodel.Label(p.From)]; ok {
				pairs = append(pairs, alignedPair{base: b, aligned: i})
			}
			continue
		}
		for b, q := range priors {
			if b != i && q != nil && q.From == "" && len(p.Stages) == len(q.Stages)+1 &&
				p.Model == q.Model && reflect.DeepEqual(p.Stages[:len(q.Stages)], q.Stages) {
				pairs = append(pairs, alignedPair{base: b, aligned: i})
				break
			}
		}
	}
	return pairs
}

// pilotPlots draws, for every base/aligned pair, the majority-voting runs'
// reward accuracy, entropy and ground-truth reward of the rollouts (the
// accuracy on the training prompts, which the runs log every step; they
// validate only at the start and the cap).
func pilotPlots(rep *MCSReport, mvRuns []*finishedRun, pairs []alignedPair, dir string) ([]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	var files []string
	for _, p := range []struct{ name, key, title, yLabel string }{
		{"pilot_reward_accuracy", runlog.KeyRewardAccuracy, "Base vs aligned under majority voting: reward accuracy", "reward accuracy"},
		{"pilot_entropy", runlog.KeyEntropy, "Base vs aligned under majority voting: entropy", "mean token entropy"},
		{"pilot_gt_reward", runlog.KeyGroundTruthReward, "Base vs aligned under majority voting: rollouts' ground-truth accuracy", "ground-truth reward (training prompts)"},
	} {
		var series []report.Series
		for _, pr := range pairs {
			for _, m := range []struct {
				i    int
				role string
			}{{pr.base, "base"}, {pr.aligned, "aligned"}} {
				s := report.Extract(mvRuns[m.i].steps, p.key)
				s.Name = fmt.Sprintf("%s (%s)", rep.Results[m.i].Model, m.role)
				series = append(series, s)
			}
		}
		var err error
		if files, err = saveLinePlot(files, dir, p.name, p.title, p.yLabel, series); err != nil {
			return files, err
		}
	}
	return files, nil
}

// pilotMarkdown is the pilot's table: each pair's Model Collapse Step,
// lowest reward accuracy and ground-truth gain side by side.
func pilotMarkdown(rep *MCSReport, pairs []alignedPair) string {
	if len(pairs) == 0 {
		return ""
	}
	s := "\n## Base vs aligned (paper Fig. 10 pilot)\n\nPlots: " + filepath.ToSlash(filepath.Join(PlotsDir, "pilot_*.png")) + ".\n\n"
	s += "| base → aligned | MCS | min reward acc. (step) | GT gain (final) |\n|---|---|---|---|\n"
	for _, p := range pairs {
		b, a := rep.Results[p.base], rep.Results[p.aligned]
		s += fmt.Sprintf("| %s → %s | %s → %s | %.3f (%d) → %.3f (%d) | %s → %s |\n", b.Model, a.Model, b.MCSText(), a.MCSText(),
			b.MinRewardAccuracy, b.MinRewardAccuracyStep, a.MinRewardAccuracy, a.MinRewardAccuracyStep,
			gainCI(b.GTGainFinal, b.GTGainFinalCI), gainCI(a.GTGainFinal, a.GTGainFinalCI))
	}
	return s
}
