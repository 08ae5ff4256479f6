package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/urlvr/urlvr/report"
)

// Pattern is how single-problem training changed a problem (paper Sec.
// 4.2.1).
type Pattern string

const (
	AmplifyingSuccess Pattern = "amplifying success"
	AmplifyingFailure Pattern = "amplifying failure"
	WrongToCorrect    Pattern = "wrong→correct"
	CorrectToWrong    Pattern = "correct→wrong"
)

// patterns in the order the heatmap groups them.
var patterns = []Pattern{AmplifyingSuccess, WrongToCorrect, CorrectToWrong, AmplifyingFailure}

// finalWindow is how many of the last epochs decide a problem's final
// greedy correctness.
const finalWindow = 10

// ClassifyProblem names a problem's pattern from its greedy correctness
// after each epoch (greedy[0] before training): the start is greedy[0];
// the end is correct when greedy decoding was correct in more than half of
// the last finalWindow epochs. Start and end correct: amplifying success;
// both wrong: amplifying failure; otherwise the flip.
func ClassifyProblem(greedy []bool) (Pattern, error) {
	if len(greedy) < 2 {
		return "", fmt.Errorf("%d greedy observations: need the start and at least one epoch", len(greedy))
	}
	tail := greedy[max(1, len(greedy)-finalWindow):]
	right := 0
	for _, c := range tail {
		if c {
			right++
		}
	}
	end := 2*right > len(tail)
	switch {
	case greedy[0] && end:
		return AmplifyingSuccess, nil
	case !greedy[0] && !end:
		return AmplifyingFailure, nil
	case !greedy[0]:
		return WrongToCorrect, nil
	}
	return CorrectToWrong, nil
}

// topRewardCorrect says whether a step's highest-reward rollouts were
// correct: true when at least half of the rollouts sharing the highest
// reward are correct.
func topRewardCorrect(rs []sampleRecord) (bool, bool) {
	if len(rs) == 0 {
		return false, false
	}
	best := math.Inf(-1)
	for _, r := range rs {
		best = math.Max(best, r.Reward)
	}
	var n, right int
	for _, r := range rs {
		if r.Reward == best {
			n++
			if r.Correct {
				right++
			}
		}
	}
	return 2*right >= n, true
}

// ProblemResult is one problem of the per-problem study.
type ProblemResult struct {
	SelectedProblem
	Pattern Pattern `json:"pattern"`
	// Greedy and Confidence after each epoch (index 0: before training);
	// Wave[e] whether epoch e's highest-reward rollout was correct (index
	// 0 unused).
	Greedy     []bool    `json:"greedy"`
	Confidence []float64 `json:"confidence"`
	Wave       []bool    `json:"wave"`
	// WaveShare is the share of epochs whose highest-reward rollout was
	// correct.
	WaveShare       float64 `json:"wave_share"`
	ConfidenceStart float64 `json:"confidence_start"`
	ConfidenceEnd   float64 `json:"confidence_end"` // mean of the last finalWindow epochs
	// HeldoutSteps and Heldout: the held-out problems' greedy accuracy at
	// the epochs it was measured; HeldoutFlips counts held-out problems
	// wrong at the start and right at the end, and the reverse.
	HeldoutSteps []int     `json:"heldout_steps,omitempty"`
	Heldout      []float64 `json:"heldout,omitempty"`
	HeldoutUp    int       `json:"heldout_up"`
	HeldoutDown  int       `json:"heldout_down"`
	// PMaj at the epochs it was measured.
	PMajSteps  []int     `json:"pmaj_steps,omitempty"`
	PMaj       []float64 `json:"pmaj,omitempty"`
	PMajStable bool      `json:"pmaj_stable"` // the majority answer never changed
}

// PerProblemReport is the outcome of the per-problem study.
type PerProblemReport struct {
	Dir      string
	Problems []ProblemResult
	Counts   map[Pattern]int
	// Flipped is the share of problems whose greedy correctness flipped,
	// with its bootstrap interval over problems.
	Flipped CI
	Pending []string
	Files   []string
}

// ReportPerProblem analyses the study in out and writes results.jsonl,
// results.md and the figures.
func ReportPerProblem(out string) (*PerProblemReport, error) {
	var st perProblemSettings
	if err := readSettings(out, "per-problem", &st); err != nil {
		return nil, err
	}
	var chosen []SelectedProblem
	if err := readJSONFile(filepath.Join(out, selectionFile), &chosen); err != nil {
		return nil, err
	}
	rep := &PerProblemReport{Dir: out, Counts: map[Pattern]int{}}
	for _, p := range chosen {
		dir := filepath.Join(out, RunsDir, p.Run)
		if !finished(dir) {
			rep.Pending = append(rep.Pending, p.Run)
			continue
		}
		res, err := analyzeProblem(dir, p, st.Epochs)
		if err != nil {
			return nil, err
		}
		rep.Problems = append(rep.Problems, res)
		rep.Counts[res.Pattern]++
	}
	if len(rep.Problems) == 0 {
		return nil, fmt.Errorf("no run of the study in %s has finished yet", out)
	}
	flips := make([]float64, len(rep.Problems))
	for i, p := range rep.Problems {
		if p.Pattern == WrongToCorrect || p.Pattern == CorrectToWrong {
			flips[i] = 1
		}
	}
	ci, err := setMeansCI(defaultBootstrap, [][]float64{flips})
	if err != nil {
		return nil, err
	}
	rep.Flipped = CI{Value: mean(flips), Lo: ci.Lo, Hi: ci.Hi}
	path := filepath.Join(out, ResultsFile)
	if err := writeJSONL(path, asRows(rep.Problems)); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	path = filepath.Join(out, ResultsTable)
	if err := writeText(path, perProblemMarkdown(rep, st)); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	files, err := perProblemFigures(rep)
	rep.Files = append(rep.Files, files...)
	return rep, err
}

func analyzeProblem(dir string, p SelectedProblem, epochs int) (ProblemResult, error) {
	res := ProblemResult{SelectedProblem: p}
	obs, err := readLastPerStep(filepath.Join(dir, perProblemFile), func(o epochObservation) int { return o.Step })
	if err != nil {
		return res, fmt.Errorf("run %s: %w", dir, err)
	}
	if len(obs) != epochs+1 || obs[0].Step != 0 || obs[len(obs)-1].Step != epochs {
		return res, fmt.Errorf("run %s: %d observations, want one per epoch 0..%d", dir, len(obs), epochs)
	}
	res.Wave = make([]bool, epochs+1)
	var waveN, waveRight int
	var heldStart []bool
	var majority0 string
	res.PMajStable = true
	for _, o := range obs {
		res.Greedy = append(res.Greedy, o.GreedyCorrect)
		res.Confidence = append(res.Confidence, o.Confidence)
		if o.Step > 0 {
			rs, err := readSamples(dir, o.Step)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return res, err
			}
			if c, ok := topRewardCorrect(rs); ok {
				res.Wave[o.Step] = c
				waveN++
				if c {
					waveRight++
				}
			}
		}
		if o.Heldout != nil {
			right := 0
			for _, c := range o.Heldout {
				if c {
					right++
				}
			}
			res.HeldoutSteps = append(res.HeldoutSteps, o.Step)
			res.Heldout = append(res.Heldout, float64(right)/float64(len(o.Heldout)))
			if heldStart == nil {
				heldStart = o.Heldout
			}
			if o.Step == epochs {
				for i, c := range o.Heldout {
					if i < len(heldStart) && !heldStart[i] && c {
						res.HeldoutUp++
					}
					if i < len(heldStart) && heldStart[i] && !c {
						res.HeldoutDown++
					}
				}
			}
		}
		if o.PMaj != nil {
			res.PMajSteps = append(res.PMajSteps, o.Step)
			res.PMaj = append(res.PMaj, *o.PMaj)
			if len(res.PMaj) == 1 {
				majority0 = o.PMajAnswer
			} else if o.PMajAnswer != majority0 {
				res.PMajStable = false
			}
		}
	}
	if waveN > 0 {
		res.WaveShare = float64(waveRight) / float64(waveN)
	}
	res.ConfidenceStart = res.Confidence[0]
	res.ConfidenceEnd = mean(res.Confidence[max(1, len(res.Confidence)-finalWindow):])
	res.Pattern, err = ClassifyProblem(res.Greedy)
	return res, err
}

// geometricRate fits log(1 − p_maj) against the epoch by least squares,
// over the points with p_maj < 1, and returns the per-epoch factor by
// which 1 − p_maj shrinks (below 1: geometric convergence).
func geometricRate(steps []int, pmaj []float64) (float64, bool) {
	var xs, ys []float64
	for i, p := range pmaj {
		if p < 1 {
			xs = append(xs, float64(steps[i]))
			ys = append(ys, math.Log(1-p))
		}
	}
	if len(xs) < 2 {
		return 0, false
	}
	mx, my := mean(xs), mean(ys)
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return 0, false
	}
	return math.Exp(sxy / sxx), true
}

// risesEachStep counts, over the epochs 1..10 that were measured, the
// steps at which p_maj rose above the previous measurement.
func risesEachStep(steps []int, pmaj []float64) (rises, of int) {
	for i := 1; i < len(steps); i++ {
		if steps[i] > 10 {
			break
		}
		of++
		if pmaj[i] > pmaj[i-1] {
			rises++
		}
	}
	return rises, of
}

func perProblemMarkdown(rep *PerProblemReport, st perProblemSettings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Per-problem training (paper Sec. 4.2, Figs. 4, 5, 15, Tables 4-5)\n\n")
	fmt.Fprintf(&b, "Base model `%s`, reward `%s`; each problem trained alone for %d epochs (batch 1, study defaults `%s`); settings: %s. Problems from %s: %d chosen, half with a wrong initial majority over %d samples at T=1 (seed %d). ",
		st.Model, st.Estimator, st.Epochs, strings.Join(st.Defaults, " "), settingsLine(st.Recipe, st.Overrides, nil), st.Set, len(rep.Problems)+len(rep.Pending), st.SelectSamples, st.Seed)
	fmt.Fprintf(&b, "After every epoch: greedy correctness, confidence = share of %d samples (T=1) agreeing with the greedy answer, and whether the highest-reward rollout of the epoch was correct (the green wave; with ties, when at least half of the tied rollouts are correct).\n\n", st.Confidence)
	fmt.Fprintf(&b, "Rule: start = greedy correctness before training; end = greedy correct in more than half of the last %d epochs. Correct → correct: amplifying success; wrong → wrong: amplifying failure; otherwise the flip.\n\n", finalWindow)
	fmt.Fprintf(&b, "| pattern | problems | mean green wave | confidence start → end |\n|---|---:|---:|---:|\n")
	for _, pat := range patterns {
		var wave, cs, ce []float64
		for _, p := range rep.Problems {
			if p.Pattern == pat {
				wave, cs, ce = append(wave, p.WaveShare), append(cs, p.ConfidenceStart), append(ce, p.ConfidenceEnd)
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %.2f | %.2f → %.2f |\n", pat, rep.Counts[pat], mean(wave), mean(cs), mean(ce))
	}
	sharper := 0
	for _, p := range rep.Problems {
		if p.ConfidenceEnd > p.ConfidenceStart {
			sharper++
		}
	}
	fmt.Fprintf(&b, "\nFlipped: %d of %d problems, %.0f%% (95%% bootstrap CI over problems [%.0f%%, %.0f%%], B = %d). Confidence in the greedy answer rose on %d of %d problems.\n\n",
		rep.Counts[WrongToCorrect]+rep.Counts[CorrectToWrong], len(rep.Problems), 100*rep.Flipped.Value, 100*rep.Flipped.Lo, 100*rep.Flipped.Hi, defaultBootstrap.Resamples, sharper, len(rep.Problems))
	fmt.Fprintf(&b, "| problem | family | prompt | gold | initial majority (share) | pattern | green wave | confidence start → end | held-out greedy start → end (up/down) |\n|---|---|---|---|---|---|---:|---:|---:|\n")
	for _, p := range rep.Problems {
		held := "–"
		if len(p.Heldout) > 0 {
			held = fmt.Sprintf("%.2f → %.2f (+%d/−%d)", p.Heldout[0], p.Heldout[len(p.Heldout)-1], p.HeldoutUp, p.HeldoutDown)
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s | %s (%.2f) | %s | %.2f | %.2f → %.2f | %s |\n", p.ID, p.Family, strings.TrimSpace(p.Prompt), p.Answer,
			p.Majority, p.MajShare, p.Pattern, p.WaveShare, p.ConfidenceStart, p.ConfidenceEnd, held)
	}
	// Cross-problem generalisation (Fig. 5).
	var ood []ProblemResult
	for _, p := range rep.Problems {
		if p.WaveShare < 0.5 && len(p.Heldout) > 0 {
			ood = append(ood, p)
		}
	}
	fmt.Fprintf(&b, "\n## Cross-problem generalisation (Fig. 5)\n\nProblems whose highest-reward rollout was mostly wrong (green wave < 0.5): %d. Greedy accuracy on %d held-out problems of %s, before and after training on each:\n\n", len(ood), st.Heldout, st.HeldoutSet)
	if len(ood) > 0 {
		var d []float64
		fmt.Fprintf(&b, "| trained on | green wave | held-out start → end | up / down |\n|---|---:|---:|---:|\n")
		for _, p := range ood {
			fmt.Fprintf(&b, "| %s | %.2f | %.2f → %.2f | +%d / −%d |\n", p.ID, p.WaveShare, p.Heldout[0], p.Heldout[len(p.Heldout)-1], p.HeldoutUp, p.HeldoutDown)
			d = append(d, p.Heldout[len(p.Heldout)-1]-p.Heldout[0])
		}
		fmt.Fprintf(&b, "\nMean change of held-out greedy accuracy: %+.3f.\n", mean(d))
	}
	// p_maj tables.
	var pm []ProblemResult
	for _, p := range rep.Problems {
		if len(p.PMaj) > 0 {
			pm = append(pm, p)
		}
	}
	if len(pm) > 0 {
		fmt.Fprintf(&b, "\n## p_maj (Tables 4-5)\n\np_maj = share of the majority answer among %d samples at T=1 after each epoch.\n\n", st.PMajSamples)
		table := func(title string, steps []int) {
			fmt.Fprintf(&b, "%s\n\n| problem | majority right |", title)
			for _, s := range steps {
				fmt.Fprintf(&b, " %d |", s)
			}
			fmt.Fprintf(&b, "\n|---|---|%s\n", strings.Repeat("---:|", len(steps)))
			for _, p := range pm {
				fmt.Fprintf(&b, "| %s | %v |", p.ID, p.MajRight)
				for _, s := range steps {
					if i := slices.Index(p.PMajSteps, s); i >= 0 {
						fmt.Fprintf(&b, " %.2f |", 100*p.PMaj[i])
					} else {
						fmt.Fprintf(&b, " – |")
					}
				}
				fmt.Fprintf(&b, "\n")
			}
			fmt.Fprintf(&b, "\n")
		}
		table("p_maj (%) in the first epochs (Table 4):", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
		table("p_maj (%) every 5 epochs (Table 5):", []int{0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50})
		fmt.Fprintf(&b, "| problem | rises in epochs 1-10 | majority answer stable | 1 − p_maj start → end | fitted factor of 1 − p_maj per epoch |\n|---|---:|---|---:|---:|\n")
		for _, p := range pm {
			r, of := risesEachStep(p.PMajSteps, p.PMaj)
			rate, ok := geometricRate(p.PMajSteps, p.PMaj)
			rt := "–"
			if ok {
				rt = fmt.Sprintf("%.3f", rate)
			}
			fmt.Fprintf(&b, "| %s | %d of %d | %v | %.3f → %.3f | %s |\n", p.ID, r, of, p.PMajStable, 1-p.PMaj[0], 1-p.PMaj[len(p.PMaj)-1], rt)
		}
	}
	if len(rep.Pending) > 0 {
		fmt.Fprintf(&b, "\nNot finished yet, and left out: %s.\n", strings.Join(rep.Pending, ", "))
	}
	return b.String()
}

// perProblemFigures draws the heatmap of every problem (Fig. 15), of two
// problems per pattern (Fig. 4), the cross-problem panels (Fig. 5) and
// p_maj over epochs.
func perProblemFigures(rep *PerProblemReport) ([]string, error) {
	dir := filepath.Join(rep.Dir, PlotsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating plot directory: %w", err)
	}
	var ordered, some []ProblemResult
	for _, pat := range patterns {
		n := 0
		for _, p := range rep.Problems {
			if p.Pattern == pat {
				ordered = append(ordered, p)
				if n < 2 {
					some = append(some, p)
					n++
				}
			}
		}
	}
	var files []string
	for _, f := range []struct {
		name string
		ps   []ProblemResult
	}{{"heatmap-all", ordered}, {"heatmap", some}} {
		plt, err := heatmap(f.ps)
		if err != nil {
			return files, err
		}
		paths, err := report.SavePlot(plt, dir, f.name, 8*vg.Inch, vg.Length(1.2+0.32*float64(len(f.ps)))*vg.Inch)
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	var ood []panel
	for _, p := range rep.Problems {
		if p.WaveShare >= 0.5 || len(p.Heldout) == 0 || len(ood) == 6 {
			continue
		}
		wave := report.Series{Name: "train label accuracy (top-reward rollout correct, mean of 5)"}
		for e := 1; e < len(p.Wave); e++ {
			wave.Steps = append(wave.Steps, float64(e))
			wave.Values = append(wave.Values, b2f(p.Wave[e]))
		}
		wave = smooth(wave, 5)
		held := report.Series{Name: "held-out greedy accuracy"}
		for i, s := range p.HeldoutSteps {
			held.Steps = append(held.Steps, float64(s))
			held.Values = append(held.Values, p.Heldout[i])
		}
		ood = append(ood, panel{Title: "trained on " + p.ID, XLabel: "epoch", YLabel: "accuracy", YMin: 0, YMax: 1.3,
			Lines: []bandSeries{{Series: wave}, {Series: held}}})
	}
	if len(ood) > 0 {
		paths, err := saveFigure(ood, 3, dir, "ood", 4*vg.Inch, 3*vg.Inch)
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	pm := panel{Title: "p_maj over epochs", XLabel: "epoch", YLabel: "p_maj", YMin: 0, YMax: 1.3}
	for _, p := range rep.Problems {
		if len(p.PMaj) == 0 {
			continue
		}
		s := report.Series{Name: fmt.Sprintf("%s (majority %s)", p.ID, rightWrong(p.MajRight))}
		for i, st := range p.PMajSteps {
			s.Steps = append(s.Steps, float64(st))
			s.Values = append(s.Values, p.PMaj[i])
		}
		pm.Lines = append(pm.Lines, bandSeries{Series: s})
	}
	if len(pm.Lines) > 0 {
		paths, err := saveFigure([]panel{pm}, 1, dir, "pmaj", 6*vg.Inch, 4*vg.Inch)
		files = append(files, paths...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}

func rightWrong(b bool) string {
	if b {
		return "right"
	}
	return "wrong"
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// heatmap draws one row per problem, one cell per epoch: blue when greedy
// decoding is correct, red when wrong, darker with higher confidence; the
// green square wave in each row is 1 (high) when the epoch's highest-reward
// rollout was correct.
func heatmap(ps []ProblemResult) (*plot.Plot, error) {
	plt := plot.New()
	plt.Title.Text = "Greedy correctness per epoch (blue right, red wrong; darker = more confident); green: top-reward rollout correct"
	plt.Title.TextStyle.Font.Size = vg.Points(9)
	plt.X.Label.Text = "epoch"
	var ticks []plot.Tick
	n := len(ps)
	for i, p := range ps {
		y := float64(n - 1 - i)
		ticks = append(ticks, plot.Tick{Value: y + 0.5, Label: fmt.Sprintf("%s · %s", p.ID, p.Pattern)})
		for e := range p.Greedy {
			base := color.RGBA{R: 0xd6, G: 0x27, B: 0x28}
			if p.Greedy[e] {
				base = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4}
			}
			alpha := 0.15 + 0.85*p.Confidence[e]
			cell, err := plotter.NewPolygon(plotter.XYs{{X: float64(e), Y: y}, {X: float64(e + 1), Y: y}, {X: float64(e + 1), Y: y + 0.92}, {X: float64(e), Y: y + 0.92}})
			if err != nil {
				return nil, err
			}
			cell.Color = color.NRGBA{R: base.R, G: base.G, B: base.B, A: uint8(255 * alpha)}
			cell.LineStyle.Width = 0
			plt.Add(cell)
		}
		var wave plotter.XYs
		for e := 1; e < len(p.Wave); e++ {
			h := y + 0.2 + 0.55*b2f(p.Wave[e])
			wave = append(wave, plotter.XY{X: float64(e), Y: h}, plotter.XY{X: float64(e + 1), Y: h})
		}
		if len(wave) > 0 {
			line, err := plotter.NewLine(wave)
			if err != nil {
				return nil, err
			}
			line.Color = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
			line.Width = vg.Points(0.9)
			plt.Add(line)
		}
	}
	plt.Y.Tick.Marker = plot.ConstantTicks(ticks)
	plt.Y.Tick.Label.Font.Size = vg.Points(7)
	plt.Y.Min, plt.Y.Max = 0, float64(n)
	return plt, nil
}

// readJSONFile decodes the JSON file at path into v.
func readJSONFile(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
