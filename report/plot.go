package report

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

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/runlog"
)

// Panel is one figure: several series against the training step.
type Panel struct {
	File   string // base file name without extension, e.g. "reward"
	Title  string
	YLabel string
	Series []Series
}

// StandardPanels builds the paper's panels from a run's metrics rows and
// validation rows. Panels whose series are all empty are left out.
func StandardPanels(train, val []runlog.Values) []Panel {
	pick := func(rows []runlog.Values, keys ...string) []Series {
		var out []Series
		for _, k := range keys {
			if s := Extract(rows, k); len(s.Steps) > 0 {
				out = append(out, s)
			}
		}
		return out
	}
	// Every set's avg@k, and their mean; not the confidence intervals.
	var valKeys []string
	for _, k := range runlog.SeriesOf(val).Names(runlog.ValidationPrefix, "") {
		if _, metric, ok := runlog.ParseValidationKey(k); ok {
			if name, _, ok := runlog.ParseAtK(metric); ok && name == "avg" {
				valKeys = append(valKeys, k)
			}
		}
	}
	candidates := []Panel{
		{File: "reward", Title: "Proxy reward vs ground-truth reward", YLabel: "mean reward",
			Series: pick(train, runlog.KeyProxyReward, runlog.KeyGroundTruthReward)},
		{File: "accuracy", Title: "Reward and label accuracy", YLabel: "accuracy",
			Series: pick(train, runlog.KeyRewardAccuracy, runlog.KeyLabelAccuracy)},
		{File: "validation", Title: "Validation accuracy", YLabel: "avg@k",
			Series: pick(val, valKeys...)},
		{File: "entropy", Title: "Actor entropy", YLabel: "nats per token",
			Series: pick(train, runlog.KeyEntropy)},
		{File: "response_length", Title: "Response length", YLabel: "tokens",
			Series: pick(train, runlog.KeyResponseLength)},
		{File: "kl", Title: "KL to the reference policy", YLabel: "KL",
			Series: pick(train, runlog.KeyKL)},
	}
	var panels []Panel
	for _, p := range candidates {
		if len(p.Series) > 0 {
			panels = append(panels, p)
		}
	}
	return panels
}

// Palette is a set of distinct colours that stay readable in print, for
// plots with several series (the eight shipped models fit).
var Palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff},
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

// Plot renders the panel as a gonum plot.
func (p Panel) Plot() (*plot.Plot, error) {
	plt := plot.New()
	plt.Title.Text = p.Title
	plt.X.Label.Text = "step"
	plt.Y.Label.Text = p.YLabel
	plt.Add(plotter.NewGrid())
	plt.Legend.Top = true
	for i, s := range p.Series {
		c := Palette[i%len(Palette)]
		raw, err := plotter.NewLine(points(s.Steps, s.Values))
		if err != nil {
			return nil, fmt.Errorf("panel %s, series %s: %w", p.File, s.Name, err)
		}
		raw.Color = c
		raw.Width = vg.Points(1.5)
		w := smoothingWindow(len(s.Values))
		if w > 1 {
			// Per-step metrics are noisy: draw them faintly, with a moving
			// average over them, as training curves are usually shown.
			r, g, b, _ := c.RGBA()
			raw.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x50}
			raw.Width = vg.Points(0.75)
			plt.Add(raw)
			smooth, err := plotter.NewLine(points(s.Steps, MovingAverage(s.Values, w)))
			if err != nil {
				return nil, fmt.Errorf("panel %s, series %s: %w", p.File, s.Name, err)
			}
			smooth.Color = c
			smooth.Width = vg.Points(1.75)
			plt.Add(smooth)
			plt.Legend.Add(fmt.Sprintf("%s (mean of %d steps)", s.Name, w), smooth)
			continue
		}
		plt.Add(raw)
		plt.Legend.Add(s.Name, raw)
	}
	// Leave headroom above the data so the legend does not cover it.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range p.Series {
		for _, v := range s.Values {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi > lo {
		plt.Y.Min = lo
		plt.Y.Max = hi + 0.12*float64(len(p.Series)+1)*(hi-lo)
	}
	plt.Legend.Padding = vg.Points(2)
	plt.Legend.YOffs = -vg.Points(2)
	plt.Legend.TextStyle.XAlign = draw.XLeft
	return plt, nil
}

// Save writes the panel as dir/File.png and dir/File.svg, atomically, and
// returns the paths written.
func (p Panel) Save(dir string) ([]string, error) {
	plt, err := p.Plot()
	if err != nil {
		return nil, err
	}
	return SavePlot(plt, dir, p.File, 6*vg.Inch, 4*vg.Inch)
}

// SavePlot writes plt as dir/name.png and dir/name.svg of the given size,
// each atomically, and returns the paths written.
func SavePlot(plt *plot.Plot, dir, name string, width, height vg.Length) ([]string, error) {
	var paths []string
	for _, format := range []string{"png", "svg"} {
		wt, err := plt.WriterTo(width, height, format)
		if err != nil {
			return paths, fmt.Errorf("plot %s as %s: %w", name, format, err)
		}
		path := filepath.Join(dir, name+"."+format)
		if err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
			_, err := wt.WriteTo(w)
			return err
		}); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// WriteRunPlots reads a run directory's metrics and validation logs and
// writes the standard panels into its plots directory. It returns the files
// written. Lines that are not JSON objects (a torn last line) are skipped.
func WriteRunPlots(runDir string) ([]string, error) {
	train, _, err := runlog.ReadFile[runlog.Values](filepath.Join(runDir, runlog.MetricsFile))
	if err != nil {
		return nil, err
	}
	val, _, err := runlog.ReadFile[runlog.Values](filepath.Join(runDir, runlog.ValidationFile))
	if err != nil {
		return nil, err
	}
	return SavePanels(StandardPanels(train, val), filepath.Join(runDir, runlog.PlotsDir))
}

// SavePanels writes every panel into dir (created if needed).
func SavePanels(panels []Panel, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating plot directory: %w", err)
	}
	var all []string
	for _, p := range panels {
		paths, err := p.Save(dir)
		all = append(all, paths...)
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

func points(xs, ys []float64) plotter.XYs {
	xys := make(plotter.XYs, len(xs))
	for j := range xs {
		xys[j] = plotter.XY{X: xs[j], Y: ys[j]}
	}
	return xys
}

// smoothingWindow is the moving-average window for a series of n points:
// none for short series, about a fortieth of the run for long ones.
func smoothingWindow(n int) int {
	if n < 40 {
		return 1
	}
	return max(5, n/40)
}

// MovingAverage returns the trailing moving average of xs over w points
// (fewer at the start).
func MovingAverage(xs []float64, w int) []float64 {
	out := make([]float64, len(xs))
	var sum float64
	for i, x := range xs {
		sum += x
		if i >= w {
			sum -= xs[i-w]
		}
		out[i] = sum / float64(min(i+1, w))
	}
	return out
}
