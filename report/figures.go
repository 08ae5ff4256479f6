package report

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// LinePlot draws one line per series against the training step, a colour
// per series (the eight shipped models fit; more repeat a colour dashed),
// for figures that compare runs.
func LinePlot(title, yLabel string, series []Series) (*plot.Plot, error) {
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
		line.Color = Palette[i%len(Palette)]
		line.Width = vg.Points(1.4)
		if i >= len(Palette) {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		plt.Add(line)
		plt.Legend.Add(s.Name, line)
	}
	return plt, nil
}

// ScatterPoint is one labelled point; Censored marks a value known only to
// exceed what the budget could measure (drawn hollow).
type ScatterPoint struct {
	X, Y     float64
	Label    string
	Censored bool
}

// ScatterPlot draws labelled points, solid ones and hollow (censored) ones;
// censoredNote, said in the x label when a point is hollow, explains them
// (a legend would cover points in any corner).
func ScatterPlot(title, xLabel, yLabel string, points []ScatterPoint, censoredNote string) (*plot.Plot, error) {
	plt := plot.New()
	plt.Title.Text = title
	plt.X.Label.Text = xLabel
	if slices.ContainsFunc(points, func(p ScatterPoint) bool { return p.Censored }) && censoredNote != "" {
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
		sc.GlyphStyle = draw.GlyphStyle{Color: Palette[0], Radius: vg.Points(4), Shape: set.glyph}
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
	padAxis(&plt.X, points, func(p ScatterPoint) float64 { return p.X }, 0.08, 0.25)
	padAxis(&plt.Y, points, func(p ScatterPoint) float64 { return p.Y }, 0.1, 0.1)
	return plt, nil
}

// padAxis widens an axis to the points' range plus a share of it on each
// side.
func padAxis(ax *plot.Axis, points []ScatterPoint, at func(ScatterPoint) float64, below, above float64) {
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
