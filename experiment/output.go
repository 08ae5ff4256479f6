package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/report"
)

// writeJSONL writes one JSON line per value, atomically.
func writeJSONL(path string, values []any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
		}
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

func writeText(path, text string) error {
	return atomicfile.WriteFile(path, []byte(text), 0o644)
}

// palette colours one series per model; series beyond it repeat a colour
// with a dashed line.
var palette = report.Palette

// savePlot writes plt as dir/name.png and dir/name.svg.
func savePlot(plt *plot.Plot, dir, name string) ([]string, error) {
	return report.SavePlot(plt, dir, name, 7*vg.Inch, 4.5*vg.Inch)
}

// linePlot draws one line per series against the training step.
func linePlot(title, yLabel string, series []report.Series) (*plot.Plot, error) {
	plt := plot.New()
	plt.Title.Text = title
	plt.X.Label.Text = "step"
	plt.Y.Label.Text = yLabel
	plt.Add(plotter.NewGrid())
	plt.Legend.Top = true
	plt.Legend.Left = false
	for i, s := range series {
		if len(s.Steps) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.Steps))
		for j := range s.Steps {
			xys[j] = plotter.XY{X: s.Steps[j], Y: s.Values[j]}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("plot %q, series %s: %w", title, s.Name, err)
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.4)
		if i >= len(palette) {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		plt.Add(line)
		plt.Legend.Add(s.Name, line)
	}
	return plt, nil
}

// scatterPoint is one labelled point; Censored marks a value known only to
// exceed what the budget could measure (drawn hollow).
type scatterPoint struct {
	X, Y     float64
	Label    string
	Censored bool
}

// scatterPlot draws labelled points, solid ones and hollow (censored) ones;
// censoredNote, said in the x label when a point is hollow, explains them
// (a legend would cover points in any corner).
func scatterPlot(title, xLabel, yLabel string, points []scatterPoint, censoredNote string) (*plot.Plot, error) {
	plt := plot.New()
	plt.Title.Text = title
	plt.X.Label.Text = xLabel
	if slices.ContainsFunc(points, func(p scatterPoint) bool { return p.Censored }) && censoredNote != "" {
		plt.X.Label.Text += " (hollow: " + censoredNote + ")"
	}
	plt.Y.Label.Text = yLabel
	plt.Add(plotter.NewGrid())
	var solid, hollow plotter.XYs
	labels := plotter.XYLabels{}
	for _, p := range points {
		xy := plotter.XY{X: p.X, Y: p.Y}
		if p.Censored {
			hollow = append(hollow, xy)
		} else {
			solid = append(solid, xy)
		}
		labels.XYs = append(labels.XYs, xy)
		labels.Labels = append(labels.Labels, p.Label)
	}
	for _, set := range []struct {
		xys   plotter.XYs
		glyph draw.GlyphDrawer
	}{{solid, draw.CircleGlyph{}}, {hollow, draw.RingGlyph{}}} {
		if len(set.xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(set.xys)
		if err != nil {
			return nil, fmt.Errorf("plot %q: %w", title, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: palette[0], Radius: vg.Points(4), Shape: set.glyph}
		plt.Add(sc)
	}
	if len(labels.XYs) > 0 {
		lab, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, fmt.Errorf("plot %q: %w", title, err)
		}
		lab.Offset = vg.Point{X: vg.Points(6), Y: vg.Points(-3)}
		plt.Add(lab)
	}
	// Pad the axes so that points and labels clear the frame.
	padAxis(&plt.X, points, func(p scatterPoint) float64 { return p.X }, 0.08, 0.25)
	padAxis(&plt.Y, points, func(p scatterPoint) float64 { return p.Y }, 0.1, 0.1)
	return plt, nil
}

// padAxis widens an axis to the points' range plus a share of it on each
// side.
func padAxis(ax *plot.Axis, points []scatterPoint, at func(scatterPoint) float64, below, above float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range points {
		lo, hi = math.Min(lo, at(p)), math.Max(hi, at(p))
	}
	if math.IsInf(lo, 0) {
		return
	}
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(hi), 1)
	}
	ax.Min, ax.Max = lo-below*span, hi+above*span
}
