package report

import (
	"math"

	"github.com/urlvr/urlvr/runlog"
)

// Series is one metric over training steps, as a plot draws it.
type Series struct {
	Name   string
	Steps  []float64
	Values []float64
}

// Extract returns the series of key over rows that have both a step and key
// with a finite value, in row order.
func Extract(rows []runlog.Values, key string) Series {
	s := Series{Name: key}
	for _, r := range rows {
		step, ok1 := r[runlog.KeyStep]
		v, ok2 := r[key]
		if !ok1 || !ok2 || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		s.Steps = append(s.Steps, step)
		s.Values = append(s.Values, v)
	}
	return s
}
