package experiment

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/report"
)

// Rendering the study: results.md, correlation.json and the figures.

// writeMCS writes the study's results files and plots.
func writeMCS(rep *MCSReport, st mcsSettings, mvRuns, gtRuns []*finishedRun) ([]string, error) {
	var files []string
	path := filepath.Join(rep.Dir, ResultsFile)
	if err := writeJSONL(path, asRows(rep.Results)); err != nil {
		return nil, err
	}
	files = append(files, path)
	path = filepath.Join(rep.Dir, CorrelationFile)
	if err := writeJSON(path, rep); err != nil {
		return nil, err
	}
	files = append(files, path)
	path = filepath.Join(rep.Dir, ResultsTable)
	// Finding the pairs opens every model, so it is done once for the
	// table and the plots.
	pairs := alignedPairs(rep.Results, mvRuns)
	if err := writeText(path, mcsMarkdown(rep, st)+pilotMarkdown(rep, pairs)); err != nil {
		return nil, err
	}
	files = append(files, path)
	plots, err := mcsPlots(rep, mvRuns, gtRuns)
	files = append(files, plots...)
	if err != nil {
		return files, err
	}
	pilot, err := pilotPlots(rep, mvRuns, pairs, filepath.Join(rep.Dir, PlotsDir))
	return append(files, pilot...), err
}

// mcsMarkdown renders the study as results.md.
func mcsMarkdown(rep *MCSReport, st mcsSettings) string {
	var b strings.Builder
	stepCap, metric, threshold := 0, "", 0.0
	if len(rep.Results) > 0 {
		stepCap, metric, threshold = rep.Results[0].StepCap, rep.Results[0].Metric, rep.Results[0].Threshold
	}
	fmt.Fprintf(&b, "# Model Collapse Step vs ground-truth RLVR gain\n\n")
	gtSteps := 0
	if len(rep.Results) > 0 {
		gtSteps = rep.Results[0].GTSteps
	}
	fmt.Fprintf(&b, "Each base model trained with majority voting until its reward accuracy fell below %g%% (the Model Collapse Step, paper Sec. 6; at most %d steps), and with ground-truth reward for its own budget (%d steps for the first model). ", 100*threshold, stepCap, gtSteps)
	fmt.Fprintf(&b, "Validation accuracy is %s averaged over the validation sets; GT gain is the ground-truth run's validation accuracy minus its start.\n\n", metric)
	fmt.Fprintf(&b, "Settings: %s\n\n", settingsLine(st.Recipe, st.Overrides, map[string][]string{"majority voting only": st.MVOverrides, "ground truth only": st.GTOverrides}))
	fmt.Fprintf(&b, "| model | MCS | min reward acc. (step) | MCS tokens | MV val start → final | GT start | GT best (step) | GT final | GT gain (final) | GT gain (best) | GT tokens | pass@k gain |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| %s | %s | %.3f (%d) | %s | %.3f → %.3f | %.3f | %.3f (%d) | %.3f | %s | %s | %s | %.3f |\n",
			r.Model, r.MCSText(), r.MinRewardAccuracy, r.MinRewardAccuracyStep, humanTokens(r.MCSTokens),
			r.MVStart, r.MVFinal, r.GTStart, r.GTBest, r.GTBestStep, r.GTFinal, gainCI(r.GTGainFinal, r.GTGainFinalCI),
			gainCI(r.GTGainBest, r.GTGainBestCI), humanTokens(r.GTTokens), r.PassKGain)
	}
	fmt.Fprintf(&b, "\nGT gain intervals: 95%% paired percentile bootstrap over the validation problems (each problem's accuracy at the step minus at the start, resampled within each validation set).\n")
	fmt.Fprintf(&b, "\nRank correlation with the GT gain (%s) across %d models; a model without a collapse counts as %d steps (it outlived every collapse the budget could see).\n\n", rep.Gain, len(rep.Results), stepCap+1)
	fmt.Fprintf(&b, "| predictor | Spearman ρ | Kendall τ-b | Pearson r |\n|---|---:|---:|---:|\n")
	for _, c := range rep.Correlations {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", c.Predictor, coefCI(c.Spearman, c.SpearmanCI), coefCI(c.KendallTauB, c.KendallTauBCI), coef(c.Pearson))
	}
	fmt.Fprintf(&b, "\nIntervals: 95%% percentile bootstrap over models (resampling models with replacement).\n")
	if len(rep.Results) > 0 && rep.Results[0].PassK > 0 {
		fmt.Fprintf(&b, "\npass@k gain is pass@%d − pass@1 of the base model at its first validation (paper Sec. 6.2).\n", rep.Results[0].PassK)
	}
	if len(rep.Robustness) > 0 {
		fmt.Fprintf(&b, "\n## Robustness (paper Fig. 12)\n\nThe majority-voting run again under other settings (n16, n32: rollouts per prompt; mb8, mbfull: prompts per mini-batch, 8 or the whole batch); agreement is Kendall's τ-b of its Model Collapse Step ranking with the default's on the same models.\n\n")
		fmt.Fprintf(&b, "| variant | models | agreement τ-b | Spearman ρ with GT gain |\n|---|---:|---:|---:|\n")
		for _, r := range rep.Robustness {
			fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", r.Variant, len(r.Steps), coef(r.Agreement), coefCI(r.GTGain.Spearman, r.GTGain.SpearmanCI))
		}
	}
	for _, c := range rep.Correlations {
		if c.Note != "" {
			fmt.Fprintf(&b, "\n%s: %s.\n", c.Predictor, c.Note)
		}
	}
	fmt.Fprintf(&b, "\nToken cost (paper Table 3: response tokens × rollouts × steps × batch, response length measured at every step): measuring the Model Collapse Step of all %d models took %s tokens; ground-truth RLVR on all of them took %s",
		len(rep.Results), humanTokens(rep.MCSTokens), humanTokens(rep.GTTokens))
	if rep.MCSTokens > 0 {
		fmt.Fprintf(&b, " (%.1f× as many)", float64(rep.GTTokens)/float64(rep.MCSTokens))
	}
	fmt.Fprintf(&b, ".\n")
	if len(rep.Pending) > 0 {
		fmt.Fprintf(&b, "\nNot finished yet, and left out: %s.\n", strings.Join(rep.Pending, ", "))
	}
	return b.String()
}

// settingsLine describes the recipe and overrides of a study.
func settingsLine(recipe string, overrides []string, extra map[string][]string) string {
	if recipe == "" {
		recipe = "built-in default recipe"
	}
	parts := []string{recipe}
	if len(overrides) > 0 {
		parts = append(parts, "`--set "+strings.Join(overrides, " --set ")+"`")
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(extra[k]) > 0 {
			parts = append(parts, k+": `"+strings.Join(extra[k], " ")+"`")
		}
	}
	return strings.Join(parts, "; ")
}

func coef(v *float64) string {
	if v == nil {
		return "undefined"
	}
	return fmt.Sprintf("%.3f", *v)
}

// humanTokens prints a token count with a k/M/B suffix.
func humanTokens(n int64) string {
	x := float64(n)
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.2fB", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprint(n)
}

// mcsPlots draws the Model Collapse Step and the pass@k gain against the
// GT gain (paper Fig. 11), the reward accuracy of every majority-voting run
// (Fig. 10, 12) and the validation of every ground-truth run.
func mcsPlots(rep *MCSReport, mvRuns, gtRuns []*finishedRun) ([]string, error) {
	dir := filepath.Join(rep.Dir, PlotsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating plot directory: %w", err)
	}
	stepCap := 0
	if len(rep.Results) > 0 {
		stepCap = rep.Results[0].StepCap
	}
	gainLabel := fmt.Sprintf("GT gain (%s validation minus start)", rep.Gain)
	var mcsPoints, passPoints []report.ScatterPoint
	for _, r := range rep.Results {
		mcsPoints = append(mcsPoints, report.ScatterPoint{X: r.RankValue(), Y: r.Gain(rep.Gain), Label: r.Model, Censored: !r.Collapsed})
		passPoints = append(passPoints, report.ScatterPoint{X: r.PassKGain, Y: r.Gain(rep.Gain), Label: r.Model})
	}
	var files []string
	for i, p := range []struct {
		name, xLabel string
		points       []report.ScatterPoint
	}{
		{"mcs_vs_gt_gain", "Model Collapse Step", mcsPoints},
		{"pass_k_vs_gt_gain", "pass@k gain (pass@n - pass@1 at step 0)", passPoints},
	} {
		c := rep.Correlations[i]
		title := fmt.Sprintf("%s vs GT gain: Spearman %s, Kendall tau-b %s", p.xLabel, coef(c.Spearman), coef(c.KendallTauB))
		plt, err := report.ScatterPlot(title, p.xLabel, gainLabel, p.points, fmt.Sprintf("no collapse within %d steps", stepCap))
		if err != nil {
			return files, err
		}
		paths, err := savePlot(plt, dir, p.name)
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	var accuracy, validation []report.Series
	for i, r := range rep.Results {
		s := report.Extract(mvRuns[i].steps, keyRewardAccuracy)
		s.Name = r.Model
		accuracy = append(accuracy, s)
		v := report.Extract(gtRuns[i].validation, gtRuns[i].meanKey())
		v.Name = r.Model
		validation = append(validation, v)
	}
	for _, p := range []struct {
		name, title, yLabel string
		series              []report.Series
	}{
		{"reward_accuracy", "Majority voting: reward accuracy until the collapse", "reward accuracy", accuracy},
		{"gt_validation", "Ground-truth RLVR: validation accuracy", "mean validation " + firstMetric(rep), validation},
	} {
		var err error
		if files, err = saveLinePlot(files, dir, p.name, p.title, p.yLabel, p.series); err != nil {
			return files, err
		}
	}
	return files, nil
}

func firstMetric(rep *MCSReport) string {
	if len(rep.Results) == 0 {
		return ""
	}
	return rep.Results[0].Metric
}

// gainCI is a signed gain with its interval, "+0.050 [+0.020, +0.080]".
func gainCI(v float64, ci *metrics.Interval) string {
	if ci == nil {
		return fmt.Sprintf("%+.3f", v)
	}
	return fmt.Sprintf("%+.3f [%+.3f, %+.3f]", v, ci.Lo, ci.Hi)
}

// coefCI is a coefficient with its interval, "0.500 [0.100, 0.800]".
func coefCI(v *float64, ci *metrics.Interval) string {
	if v == nil || ci == nil {
		return coef(v)
	}
	return fmt.Sprintf("%s [%.3f, %.3f]", coef(v), ci.Lo, ci.Hi)
}
