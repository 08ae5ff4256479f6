package experiment

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/urlvr/urlvr/report"
	"github.com/urlvr/urlvr/runlog"
)

// SweepReport is the outcome of a sweep.
type SweepReport struct {
	Dir     string
	Grid    []GridAxis
	Metrics []string
	Results []SweepResult
	// Pending are the runs that have not finished; they are left out.
	Pending []string
	Files   []string
}

// SweepResult is one run of a sweep: its grid point and a summary of each
// metric.
type SweepResult struct {
	Run     string                   `json:"run"`
	Point   map[string]string        `json:"point"`
	Steps   int                      `json:"steps"`
	Metrics map[string]MetricSummary `json:"metrics"`
}

// MetricSummary is one metric of one run. Training metrics (one value per
// step) are averaged over windowSteps steps at the start and end and
// smoothed by the same trailing mean before taking the peak and trough;
// validation metrics are taken as logged.
type MetricSummary struct {
	Key      string  `json:"key"` // the run-log key the metric resolved to
	Start    float64 `json:"start"`
	Final    float64 `json:"final"`
	Max      float64 `json:"max"`
	MaxStep  int     `json:"max_step"`
	Min      float64 `json:"min"`
	MinStep  int     `json:"min_step"`
	Smoothed bool    `json:"smoothed"`
}

// metricSeries finds metric in the run's logs: validation.jsonl for val/
// keys, metrics.jsonl otherwise; a key without "@k" matches the run's
// "@k" key. It returns the series and the key found.
func (r *finishedRun) metricSeries(metric string) (report.Series, string, bool) {
	rows := r.steps
	if strings.HasPrefix(metric, runlog.ValidationPrefix) {
		rows = r.validation
	}
	keys := runlog.SeriesOf(rows).Names("", "")
	key := ""
	if slices.Contains(keys, metric) {
		key = metric
	} else {
		for _, k := range keys {
			if strings.HasPrefix(k, metric+"@") {
				key = k
				break
			}
		}
	}
	if key == "" {
		return report.Series{}, "", false
	}
	return report.Extract(rows, key), key, true
}

// summariseSeries summarises one metric of a run.
func summariseSeries(s report.Series, key string, perStep bool) MetricSummary {
	m := MetricSummary{Key: key}
	if len(s.Values) == 0 {
		return m
	}
	values := s.Values
	if perStep {
		values = smooth(s, windowSteps).Values
		m.Smoothed = true
		m.Start = mean(s.Values[:min(windowSteps, len(s.Values))])
		m.Final = values[len(values)-1]
	} else {
		m.Start, m.Final = values[0], values[len(values)-1]
	}
	m.Max, m.Min = values[0], values[0]
	m.MaxStep, m.MinStep = int(s.Steps[0]), int(s.Steps[0])
	for i, v := range values {
		if v > m.Max {
			m.Max, m.MaxStep = v, int(s.Steps[i])
		}
		if v < m.Min {
			m.Min, m.MinStep = v, int(s.Steps[i])
		}
	}
	return m
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// ReportSweep reads the finished runs of the sweep in out and writes
// results.jsonl, results.md and one faceted figure per metric.
func ReportSweep(out string, metricNames []string) (*SweepReport, error) {
	var st sweepSettings
	if err := readSettings(out, "sweep", &st); err != nil {
		return nil, err
	}
	if len(metricNames) == 0 {
		metricNames = DefaultSweepMetrics
	}
	for _, m := range metricNames {
		if err := checkMetricName(m); err != nil {
			return nil, err
		}
	}
	rep := &SweepReport{Dir: out, Grid: st.Grid, Metrics: metricNames}
	var runs []*finishedRun
	var points [][]string
	for _, point := range gridPoints(st.Grid) {
		name := pointName(st.Grid, point)
		dir := filepath.Join(out, RunsDir, name)
		if !finished(dir) {
			rep.Pending = append(rep.Pending, name)
			continue
		}
		r, err := readRun(dir)
		if err != nil {
			return nil, err
		}
		res := SweepResult{Run: name, Point: map[string]string{}, Steps: r.summary.Steps, Metrics: map[string]MetricSummary{}}
		for i, a := range st.Grid {
			res.Point[a.Key] = point[i]
		}
		for _, m := range metricNames {
			if s, key, ok := r.metricSeries(m); ok {
				res.Metrics[m] = summariseSeries(s, key, !strings.HasPrefix(m, runlog.ValidationPrefix))
			}
		}
		rep.Results = append(rep.Results, res)
		runs = append(runs, r)
		points = append(points, point)
	}
	if len(rep.Results) == 0 {
		return nil, fmt.Errorf("no run of the sweep in %s has finished yet", out)
	}
	var missing []string
	for _, m := range metricNames {
		if !slices.ContainsFunc(rep.Results, func(r SweepResult) bool { _, ok := r.Metrics[m]; return ok }) {
			missing = append(missing, m)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("metric %s: no finished run logged it (the runs log e.g. %s)",
			strings.Join(missing, ", "), strings.Join(firstKeys(runs[0], 6), ", "))
	}
	path := filepath.Join(out, ResultsFile)
	if err := writeJSONL(path, asRows(rep.Results)); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	path = filepath.Join(out, ResultsTable)
	if err := writeText(path, sweepMarkdown(rep, st)); err != nil {
		return nil, err
	}
	rep.Files = append(rep.Files, path)
	for _, m := range metricNames {
		panels := sweepPanels(st.Grid, points, runs, m)
		name := strings.NewReplacer("/", "_", "@", "_at_").Replace(m)
		files, err := saveFigure(panels, 3, filepath.Join(out, PlotsDir), name, 4.2*vg.Inch, 3.2*vg.Inch)
		rep.Files = append(rep.Files, files...)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// firstKeys lists a few metric keys of a run, for an error message.
func firstKeys(r *finishedRun, n int) []string {
	keys := append(runlog.SeriesOf(r.steps).Names(runlog.TrainPrefix, ""), runlog.SeriesOf(r.validation).Names(runlog.ValidationKey(runlog.MeanSet, ""), "")...)
	return keys[:min(n, len(keys))]
}

// sweepPanels facets one metric by the grid's first key: one panel per
// value of it, one line per combination of the other keys' values.
func sweepPanels(grid []GridAxis, points [][]string, runs []*finishedRun, metric string) []panel {
	facet := grid[0]
	var panels []panel
	for _, v := range facet.Values {
		p := panel{Title: facet.Key + " = " + v, YLabel: metric}
		for i, point := range points {
			if point[0] != v {
				continue
			}
			s, key, ok := runs[i].metricSeries(metric)
			if !ok {
				continue
			}
			if !strings.HasPrefix(metric, runlog.ValidationPrefix) {
				s = smooth(s, min(windowSteps, max(1, len(s.Values)/10)))
				p.YLabel = key + " (trailing mean)"
			} else {
				p.YLabel = key
			}
			s.Name = pointLabel(grid[1:], point[1:])
			if s.Name == "" {
				s.Name = facet.Key + "=" + v
			}
			p.Lines = append(p.Lines, bandSeries{Series: s})
		}
		if len(p.Lines) > 0 {
			panels = append(panels, p)
		}
	}
	// One y range for every facet, so that facets compare at a glance.
	lo, hi := math.Inf(1), math.Inf(-1)
	most := 0
	for _, p := range panels {
		most = max(most, len(p.Lines))
		for _, l := range p.Lines {
			for _, v := range l.Values {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if hi > lo {
		for i := range panels {
			panels[i].YMin, panels[i].YMax = lo, hi+0.08*float64(most+1)*(hi-lo)
		}
	}
	return panels
}

// sweepMarkdown renders results.md: one row per run, each metric's start,
// peak (step) and final value.
func sweepMarkdown(rep *SweepReport, st sweepSettings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sweep\n\n")
	for _, a := range st.Grid {
		fmt.Fprintf(&b, "- %s: %s\n", a.Key, strings.Join(a.Values, ", "))
	}
	fmt.Fprintf(&b, "\nSettings: %s\n\n", settingsLine(st.Recipe, st.Overrides, nil))
	fmt.Fprintf(&b, "Each cell: start → peak (step) → final. Training metrics are averaged over the first %d steps (start) and smoothed by a trailing mean of %d steps (peak, final); validation metrics are as logged.\n\n", windowSteps, windowSteps)
	fmt.Fprintf(&b, "| run | steps |")
	for _, m := range rep.Metrics {
		fmt.Fprintf(&b, " %s |", m)
	}
	fmt.Fprintf(&b, "\n|---|---:|%s\n", strings.Repeat("---:|", len(rep.Metrics)))
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| %s | %d |", r.Run, r.Steps)
		for _, m := range rep.Metrics {
			s, ok := r.Metrics[m]
			if !ok {
				fmt.Fprintf(&b, " – |")
				continue
			}
			fmt.Fprintf(&b, " %.3f → %.3f (%d) → %.3f |", s.Start, s.Max, s.MaxStep, s.Final)
		}
		fmt.Fprintf(&b, "\n")
	}
	if len(rep.Pending) > 0 {
		fmt.Fprintf(&b, "\nNot finished yet, and left out: %s.\n", strings.Join(rep.Pending, ", "))
	}
	return b.String()
}
