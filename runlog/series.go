package runlog

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
)

// Values is a log line as metric name -> number, whatever wrote it: nested
// objects are flattened with "/" between keys, booleans are 0 and 1, and
// strings and nulls are left out.
type Values map[string]float64

// UnmarshalJSON flattens a JSON object.
func (v *Values) UnmarshalJSON(b []byte) error {
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*v = Flatten(obj)
	return nil
}

// Step returns the line's step, if it has one.
func (v Values) Step() (int, bool) {
	s, ok := v[KeyStep]
	return int(s), ok
}

// Flatten turns a decoded JSON object into metric values: nested objects
// join their keys with "/" ({"a":{"b":1}} is a/b), booleans are 0 or 1, and
// everything that is not a number (strings, lists, null) is left out. Logs
// of other trainers (veRL's nested data, TRL's log_history) flatten the
// same way.
func Flatten(obj map[string]any) Values {
	out := Values{}
	var walk func(prefix string, obj map[string]any)
	walk = func(prefix string, obj map[string]any) {
		for k, x := range obj {
			key := k
			if prefix != "" {
				key = prefix + "/" + k
			}
			switch x := x.(type) {
			case float64:
				out[key] = x
			case bool:
				out[key] = 0
				if x {
					out[key] = 1
				}
			case map[string]any:
				walk(key, x)
			}
		}
	}
	walk("", obj)
	return out
}

// Point is a metric's value at a step.
type Point struct {
	Step  float64
	Value float64
}

// Series is every metric of a log as a series of points in line order:
// metric name -> points. Only lines with a step count, and only finite
// values.
type Series map[string][]Point

// SeriesOf builds the series of rows.
func SeriesOf(rows []Values) Series {
	s := Series{}
	for _, r := range rows {
		step, ok := r[KeyStep]
		if !ok {
			continue
		}
		for k, v := range r {
			if k == KeyStep || math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			s[k] = append(s[k], Point{Step: step, Value: v})
		}
	}
	return s
}

// Names returns the metric names that start with prefix and end with
// suffix, sorted.
func (s Series) Names(prefix, suffix string) []string {
	var names []string
	for k := range s {
		if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, suffix) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

// LastPerStep keeps one row per step, the last one logged (a resumed run
// may log a step twice), in step order; rows without a step are dropped.
func LastPerStep(rows []Values) []Values {
	byStep := map[float64]Values{}
	for _, r := range rows {
		if s, ok := r[KeyStep]; ok {
			byStep[s] = r
		}
	}
	out := make([]Values, 0, len(byStep))
	for _, r := range byStep {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][KeyStep] < out[j][KeyStep] })
	return out
}
