package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// Row is one line of a metrics file: every numeric field by name. The
// training step is under the key "step".
type Row map[string]float64

// ReadRows reads a JSONL metrics file, keeping the numeric fields of each
// line (nested objects are flattened with "/" between keys). A missing file
// gives no rows and no error, since a run may not have validated yet; a
// malformed line is an error naming the file and line.
func ReadRows(path string) ([]Row, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			return rows, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		row := Row{}
		flatten("", obj, row)
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return rows, fmt.Errorf("reading %s: %w", path, err)
	}
	return rows, nil
}

func flatten(prefix string, obj map[string]any, into Row) {
	for k, v := range obj {
		key := k
		if prefix != "" {
			key = prefix + "/" + k
		}
		switch x := v.(type) {
		case float64:
			into[key] = x
		case bool:
			if x {
				into[key] = 1
			} else {
				into[key] = 0
			}
		case map[string]any:
			flatten(key, x, into)
		}
	}
}

// Series is one metric over training steps.
type Series struct {
	Name   string
	Steps  []float64
	Values []float64
}

// Extract returns the series of key over rows that have both "step" and key
// with a finite value, in row order.
func Extract(rows []Row, key string) Series {
	s := Series{Name: key}
	for _, r := range rows {
		step, ok1 := r["step"]
		v, ok2 := r[key]
		if !ok1 || !ok2 || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		s.Steps = append(s.Steps, step)
		s.Values = append(s.Values, v)
	}
	return s
}

// KeysMatching returns the sorted keys present in rows that start with
// prefix and end with suffix.
func KeysMatching(rows []Row, prefix, suffix string) []string {
	seen := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, suffix) {
				seen[k] = true
			}
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
