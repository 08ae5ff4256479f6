package experiment

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/report"
)

// bandSeries is a line with an optional interval around it (a confidence
// band), drawn as a translucent area.
type bandSeries struct {
	report.Series
	Lo, Hi []float64 // same length as Values when set
	Dashed bool
}

// panel is one plot of a figure: a title, a y label and its lines.
type panel struct {
	Title, XLabel, YLabel string
	Lines                 []bandSeries
	// YMin, YMax fix the y range when YMax > YMin.
	YMin, YMax float64
}

// colourOf gives line i its colour; every figure of a study colours the
// same run label alike because lines are always listed in one order.
func colourOf(i int) color.Color { return report.Palette[i%len(report.Palette)] }

// plot renders the panel.
func (p panel) plot() (*plot.Plot, error) {
	plt := plot.New()
	plt.Title.Text = p.Title
	plt.X.Label.Text = p.XLabel
	if plt.X.Label.Text == "" {
		plt.X.Label.Text = "step"
	}
	plt.Y.Label.Text = p.YLabel
	plt.Add(plotter.NewGrid())
	plt.Legend.Top = true
	plt.Legend.TextStyle.Font.Size = vg.Points(8)
	for i, s := range p.Lines {
		if len(s.Steps) == 0 {
			continue
		}
		c := colourOf(i)
		if len(s.Lo) == len(s.Values) && len(s.Hi) == len(s.Values) && len(s.Values) > 1 {
			var poly plotter.XYs
			for j := range s.Steps {
				poly = append(poly, plotter.XY{X: s.Steps[j], Y: s.Hi[j]})
			}
			for j := len(s.Steps) - 1; j >= 0; j-- {
				poly = append(poly, plotter.XY{X: s.Steps[j], Y: s.Lo[j]})
			}
			area, err := plotter.NewPolygon(poly)
			if err != nil {
				return nil, fmt.Errorf("panel %q, band of %s: %w", p.Title, s.Name, err)
			}
			r, g, b, _ := c.RGBA()
			area.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x38}
			area.LineStyle.Width = 0
			plt.Add(area)
		}
		xys := make(plotter.XYs, len(s.Steps))
		for j := range s.Steps {
			xys[j] = plotter.XY{X: s.Steps[j], Y: s.Values[j]}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("panel %q, series %s: %w", p.Title, s.Name, err)
		}
		line.Color = c
		line.Width = vg.Points(1.4)
		if s.Dashed || i >= len(report.Palette) {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		plt.Add(line)
		plt.Legend.Add(s.Name, line)
	}
	if p.YMax > p.YMin {
		plt.Y.Min, plt.Y.Max = p.YMin, p.YMax
	} else {
		// Headroom above the data for the legend.
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range p.Lines {
			for j, v := range s.Values {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
				if len(s.Hi) == len(s.Values) {
					lo, hi = math.Min(lo, s.Lo[j]), math.Max(hi, s.Hi[j])
				}
			}
		}
		if hi > lo {
			plt.Y.Min, plt.Y.Max = lo, hi+0.08*float64(len(p.Lines)+1)*(hi-lo)
		}
	}
	return plt, nil
}

// saveFigure draws panels in a grid of cols columns as dir/name.png and
// dir/name.svg, each panel w × h, and returns the paths written.
func saveFigure(panels []panel, cols int, dir, name string, w, h vg.Length) ([]string, error) {
	if len(panels) == 0 {
		return nil, fmt.Errorf("figure %s: no panels", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating plot directory: %w", err)
	}
	cols = max(1, min(cols, len(panels)))
	rows := (len(panels) + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	for i, p := range panels {
		plt, err := p.plot()
		if err != nil {
			return nil, err
		}
		plots[i/cols][i%cols] = plt
	}
	width, height := w*vg.Length(cols), h*vg.Length(rows)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(6), PadY: vg.Points(6),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4)}
	render := func(c vg.CanvasSizer) {
		dc := draw.New(c)
		canvases := plot.Align(plots, tiles, dc)
		for r := range plots {
			for c := range plots[r] {
				if plots[r][c] != nil {
					plots[r][c].Draw(canvases[r][c])
				}
			}
		}
	}
	var paths []string
	png := vgimg.New(width, height)
	render(png)
	path := filepath.Join(dir, name+".png")
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: png}.WriteTo(w)
		return err
	}); err != nil {
		return paths, err
	}
	paths = append(paths, path)
	svg := vgsvg.New(width, height)
	render(svg)
	path = filepath.Join(dir, name+".svg")
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := svg.WriteTo(w)
		return err
	}); err != nil {
		return paths, err
	}
	return append(paths, path), nil
}
