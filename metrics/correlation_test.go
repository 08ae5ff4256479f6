package metrics

import "testing"

// When the two classes have equal mean scores the correlation is exactly
// 0, not the rounding residue of summing float deviations from the mean
// (which for a constant score of 0.1 even came out as -1, and in general
// as tiny values such as 7.85e-17).
func TestPointBiserialExactZero(t *testing.T) {
	cases := []struct{ score, outcome []float64 }{
		{[]float64{0.1, 0.1, 0.1}, []float64{1, 0, 0}},
		{[]float64{0.7, 0.2, 0.7, 0.2}, []float64{1, 1, 0, 0}},
		{[]float64{1.0 / 3, 2.0 / 3, 1.0 / 3, 2.0 / 3, 0.1, 0.1}, []float64{1, 1, 0, 0, 1, 0}},
	}
	for _, c := range cases {
		r, err := PointBiserial(c.score, c.outcome)
		if err != nil || r != 0 {
			t.Errorf("PointBiserial(%v, %v) = %v, %v; want exactly 0", c.score, c.outcome, r, err)
		}
		var n1 float64
		for _, o := range c.outcome {
			n1 += o
		}
		groups := []Group{{Proxy: c.score, GT: c.outcome}}
		if got := groupsPointBiserial(groups, mean(c.score), n1, float64(len(c.score))); got != 0 {
			t.Errorf("groupsPointBiserial(%v, %v) = %v, want exactly 0", c.score, c.outcome, got)
		}
	}
}
