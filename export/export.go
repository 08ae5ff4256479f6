package export

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/urlvr/urlvr/foreignlog"
	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/runlog"
)

// Row is one step's values by metric name.
type Row struct {
	Step   int64
	Values map[string]float64
}

// Log is what was read from a run.
type Log struct {
	Rows []Row
	// Skipped counts lines that were not JSON objects with a step.
	Skipped int
	// Source says what was read: the files of a run directory or a foreign
	// log's format.
	Source string
}

// The run-directory logs that hold per-step numbers.
var runLogs = []string{runlog.MetricsFile, runlog.ValidationFile}

// Read reads a urlvr run directory (metrics.jsonl and validation.jsonl, a
// step's lines merged into one row) or a veRL/TRL log file.
func Read(path string) (*Log, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		lg, err := foreignlog.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out := &Log{Skipped: lg.Skipped, Source: string(lg.Format)}
		for _, r := range lg.Rows {
			v := map[string]float64{}
			for k, x := range r {
				if k != runlog.KeyStep {
					v[k] = x
				}
			}
			out.Rows = append(out.Rows, Row{Step: int64(r[runlog.KeyStep]), Values: v})
		}
		return out, nil
	}
	out := &Log{Source: "urlvr run"}
	byStep := map[int64]map[string]float64{}
	found := false
	for _, name := range runLogs {
		f, err := os.Open(filepath.Join(path, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		skipped, err := readJSONL(f, byStep)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(path, name), err)
		}
		out.Skipped += skipped
	}
	if !found {
		return nil, fmt.Errorf("%s has neither metrics.jsonl nor validation.jsonl", path)
	}
	steps := make([]int64, 0, len(byStep))
	for s := range byStep {
		steps = append(steps, s)
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	for _, s := range steps {
		out.Rows = append(out.Rows, Row{Step: s, Values: byStep[s]})
	}
	return out, nil
}

// readJSONL merges the numeric fields of each line into the row of its
// step (a later line for a step overrides an earlier one, as after a
// resume); lines that are not JSON objects with a numeric step are
// skipped and counted (runlog.Scan).
func readJSONL(r io.Reader, byStep map[int64]map[string]float64) (int, error) {
	st, err := runlog.Scan(r, func(_ int, line []byte) error {
		var obj map[string]any
		if json.Unmarshal(line, &obj) != nil {
			return runlog.ErrSkip
		}
		step, ok := obj[runlog.KeyStep].(float64)
		if !ok {
			return runlog.ErrSkip
		}
		row := byStep[int64(step)]
		if row == nil {
			row = map[string]float64{}
			byStep[int64(step)] = row
		}
		maps.Copy(row, runlog.Flatten(obj))
		delete(row, runlog.KeyStep)
		return nil
	})
	return st.Skipped, err
}

// WriteCSV writes one row per step: "step", then every metric in name
// order, empty where the step did not log it.
func WriteCSV(w io.Writer, rows []Row) error {
	seen := map[string]bool{}
	for _, r := range rows {
		for k := range r.Values {
			seen[k] = true
		}
	}
	cols := make([]string, 0, len(seen))
	for k := range seen {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{runlog.KeyStep}, cols...)); err != nil {
		return err
	}
	rec := make([]string, len(cols)+1)
	for _, r := range rows {
		rec[0] = strconv.FormatInt(r.Step, 10)
		for i, c := range cols {
			if v, ok := r.Values[c]; ok {
				rec[i+1] = strconv.FormatFloat(v, 'g', -1, 64)
			} else {
				rec[i+1] = ""
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Files are the paths Write produced.
type Files struct {
	TFEvents, CSV string
}

// Write exports lg into dir: an event file named as TensorBoard's writers
// name theirs (events.out.tfevents.<unix seconds>.<host>) and metrics.csv,
// each written atomically. wallTime is the first event's time in Unix
// seconds.
func Write(lg *Log, dir string, wallTime float64, tensorboard, csvOut bool) (Files, error) {
	var fs Files
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fs, err
	}
	if tensorboard {
		fs.TFEvents = filepath.Join(dir, fmt.Sprintf("events.out.tfevents.%d.urlvr", int64(wallTime)))
		err := atomicfile.Write(fs.TFEvents, 0o644, func(w io.Writer) error {
			return WriteEvents(w, wallTime, Steps(lg.Rows, wallTime))
		})
		if err != nil {
			return fs, fmt.Errorf("writing %s: %w", fs.TFEvents, err)
		}
	}
	if csvOut {
		fs.CSV = filepath.Join(dir, "metrics.csv")
		if err := atomicfile.Write(fs.CSV, 0o644, func(w io.Writer) error { return WriteCSV(w, lg.Rows) }); err != nil {
			return fs, fmt.Errorf("writing %s: %w", fs.CSV, err)
		}
	}
	return fs, nil
}
