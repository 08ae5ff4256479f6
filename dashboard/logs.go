package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"sort"

	"github.com/urlvr/urlvr/runlog"
)

// Series is one metric over steps, in step order of the file.
type Series struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// Table is a JSONL log read as named numeric series, with how much of the
// file has been consumed.
type Table struct {
	Series map[string]*Series `json:"series"`
	// Offset is the byte offset just past the last complete line read.
	Offset int64 `json:"offset"`
	// Lines counts complete non-empty lines; Skipped those that were not a
	// JSON object; Torn is 1 when the file ends in an incomplete line.
	Lines   int `json:"lines"`
	Skipped int `json:"skipped"`
	Torn    int `json:"torn"`
	// Objects are the decoded lines themselves, kept only for logs whose
	// lines carry text (events).
	Objects []map[string]any `json:"-"`
}

func newTable() *Table { return &Table{Series: map[string]*Series{}} }

// maxTail bounds how much of a log one read consumes, so that one request
// never holds a huge file in memory; the rest is read on the next poll.
const maxTail = 256 << 20

// readFrom reads the complete lines of path after t.Offset into t. It
// reports reset when the file became shorter than what was read (a resumed
// run truncates its logs to the checkpoint), in which case t is cleared and
// read again from the start.
func (t *Table) readFrom(path string, keepObjects bool) (reset bool, err error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		if t.Offset > 0 {
			*t = *newTable()
			return true, nil
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, err
	}
	if st.Size() < t.Offset {
		*t = *newTable()
		reset = true
	}
	if st.Size() == t.Offset {
		return reset, nil
	}
	if _, err := f.Seek(t.Offset, io.SeekStart); err != nil {
		return reset, err
	}
	buf, err := io.ReadAll(io.LimitReader(f, maxTail))
	if err != nil {
		return reset, fmt.Errorf("reading %s: %w", path, err)
	}
	t.Torn = 0
	for len(buf) > 0 {
		nl := bytes.IndexByte(buf, '\n')
		if nl < 0 {
			// A line still being written, or a torn end: read it again
			// next time.
			t.Torn = 1
			break
		}
		line := bytes.TrimSpace(buf[:nl])
		buf = buf[nl+1:]
		t.Offset += int64(nl + 1)
		if len(line) == 0 {
			continue
		}
		t.Lines++
		var obj map[string]any
		if line[0] != '{' || json.Unmarshal(line, &obj) != nil || obj == nil {
			t.Skipped++
			continue
		}
		if keepObjects {
			t.Objects = append(t.Objects, obj)
		}
		row := map[string]float64{}
		maps.Copy(row, runlog.Flatten(obj))
		t.add(row)
	}
	return reset, nil
}

// add appends a row of numbers; a row without "step" is placed at its line
// number.
func (t *Table) add(row map[string]float64) {
	step, ok := row["step"]
	if !ok {
		step = float64(t.Lines)
	}
	for k, v := range row {
		if k == "step" {
			continue
		}
		s := t.Series[k]
		if s == nil {
			s = &Series{}
			t.Series[k] = s
		}
		s.X = append(s.X, step)
		s.Y = append(s.Y, v)
	}
}

// Keys returns the series names in order.
func (t *Table) Keys() []string {
	keys := make([]string, 0, len(t.Series))
	for k := range t.Series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// since returns the points of every series with a step after `after`,
// for a client that already has the rest. Steps of a log increase, so a
// binary search finds the start.
func (t *Table) since(after float64) map[string]*Series {
	out := map[string]*Series{}
	for k, s := range t.Series {
		i := sort.Search(len(s.X), func(i int) bool { return s.X[i] > after })
		if i < len(s.X) {
			out[k] = &Series{X: s.X[i:], Y: s.Y[i:]}
		}
	}
	return out
}

// Downsample reduces a series to at most about maxPoints points for
// drawing: the steps are split into maxPoints/2 equal buckets and each
// keeps its lowest and highest point, in step order, plus the first and
// last point of the series. Unlike averaging, every spike and dip of the
// full series stays visible.
func Downsample(s *Series, maxPoints int) *Series {
	n := len(s.X)
	if maxPoints < 4 {
		maxPoints = 4
	}
	if n <= maxPoints {
		return s
	}
	buckets := maxPoints / 2
	lo, hi := s.X[0], s.X[n-1]
	span := hi - lo
	out := &Series{X: make([]float64, 0, maxPoints+2), Y: make([]float64, 0, maxPoints+2)}
	push := func(i int) {
		if k := len(out.X); k > 0 && out.X[k-1] == s.X[i] && out.Y[k-1] == s.Y[i] {
			return
		}
		out.X = append(out.X, s.X[i])
		out.Y = append(out.Y, s.Y[i])
	}
	push(0)
	start := 1
	for b := 0; b < buckets && start < n-1; b++ {
		edge := lo + span*float64(b+1)/float64(buckets)
		end := start
		for end < n-1 && (s.X[end] <= edge || b == buckets-1) {
			end++
		}
		if end == start {
			continue
		}
		iMin, iMax := start, start
		for i := start; i < end; i++ {
			if s.Y[i] < s.Y[iMin] {
				iMin = i
			}
			if s.Y[i] > s.Y[iMax] {
				iMax = i
			}
		}
		if iMin > iMax {
			iMin, iMax = iMax, iMin
		}
		push(iMin)
		if iMax != iMin {
			push(iMax)
		}
		start = end
	}
	push(n - 1)
	return out
}
