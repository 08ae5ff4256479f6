package report

import (
	"strings"
	"testing"
)

func TestScatterPlotNamesHollowPointsAndPadsAxes(t *testing.T) {
	plt, err := ScatterPlot("t", "collapse step", "gain", []ScatterPoint{{X: 10, Y: 0.1, Label: "a"}, {X: 30, Y: 0.3, Label: "b", Censored: true}}, "no collapse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plt.X.Label.Text, "hollow: no collapse") {
		t.Errorf("x label %q", plt.X.Label.Text)
	}
	// x spans 20: 8% below, 25% above; y spans 0.2: 10% each side.
	if plt.X.Min != 10-1.6 || plt.X.Max != 30+5 || !near(plt.Y.Min, 0.08) || !near(plt.Y.Max, 0.32) {
		t.Errorf("axes x [%v, %v] y [%v, %v]", plt.X.Min, plt.X.Max, plt.Y.Min, plt.Y.Max)
	}
	if _, err := LinePlot("t", "y", []Series{{Name: "s", Steps: []float64{1, 2}, Values: []float64{3, 4}}, {Name: "empty"}}); err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 }
