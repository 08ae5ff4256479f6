package foreignlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/runlog"
)

// Format is a trainer's log layout.
type Format string

const (
	VeRLConsole Format = "verl-console" // "step:N - key:value - ..." lines
	VeRLFile    Format = "verl-file"    // {"step": N, "data": {...}} lines
	TRLState    Format = "trl"          // trainer_state.json with log_history
)

// Formats lists the layouts Read understands.
var Formats = []Format{VeRLConsole, VeRLFile, TRLState}

// ParseFormat accepts a Format's name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown log format %q (want one of verl-console, verl-file, trl)", s)
}

// Log is a foreign run's metrics under urlvr's names.
type Log struct {
	Format Format
	// Rows holds one row per logged step in file order, keyed by urlvr's
	// metric names where a mapping exists and by the trainer's own names
	// otherwise; the step is under "step".
	Rows []map[string]float64
	// Found maps each urlvr key that was recognised to the trainer's name.
	Found map[string]string
	// Missing lists the urlvr keys of the standard panels that the log
	// does not have.
	Missing []string
	// Unmapped lists the trainer's metric names kept under their own name.
	Unmapped []string
	// Skipped counts lines or entries that were not metric records (other
	// console output, torn or non-JSON lines, log entries without a step).
	Skipped int
}

// Panel keys: what the standard panels plot, checked for Missing.
var panelKeys = []string{
	runlog.KeyProxyReward, runlog.KeyGroundTruthReward, runlog.KeyRewardAccuracy,
	runlog.KeyLabelAccuracy, runlog.KeyEntropy, runlog.KeyResponseLength, runlog.KeyKL,
	runlog.KeyStepSeconds,
}

// consoleStep matches the start of a veRL console metrics line.
var consoleStep = regexp.MustCompile(`^step:(\d+)( - |$)`)

// Detect guesses the layout of a file from its name and first bytes.
func Detect(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if fm, ok := DetectBytes(head[:n]); ok {
		return fm, nil
	}
	return "", fmt.Errorf("%s is not a veRL console log, veRL file-logger JSONL or TRL trainer_state.json", path)
}

// DetectBytes guesses the layout from the start of a file; ok is false when
// it matches none.
func DetectBytes(head []byte) (Format, bool) {
	trimmed := bytes.TrimSpace(head)
	if bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(head[:min(len(head), 1<<16)], []byte(`"log_history"`)) {
		return TRLState, true
	}
	sc := bufio.NewScanner(bytes.NewReader(head))
	sc.Buffer(make([]byte, 0, 4096), len(head)+1)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if line[0] == '{' {
			var probe struct {
				Step *float64       `json:"step"`
				Data map[string]any `json:"data"`
			}
			if json.Unmarshal(line, &probe) == nil && probe.Step != nil && probe.Data != nil {
				return VeRLFile, true
			}
			continue
		}
		if consoleStep.MatchString(stripRayPrefix(string(line))) {
			return VeRLConsole, true
		}
	}
	return "", false
}

// ReadFile detects the layout of path and reads it.
func ReadFile(path string) (*Log, error) {
	fm, err := Detect(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lg, err := Read(f, fm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lg, nil
}

// Read reads a log of the given layout.
func Read(r io.Reader, fm Format) (*Log, error) {
	var raw []map[string]float64
	skipped := 0
	var err error
	switch fm {
	case VeRLConsole:
		raw, skipped, err = readConsole(r)
	case VeRLFile:
		raw, skipped, err = readVeRLFile(r)
	case TRLState:
		raw, skipped, err = readTRL(r)
	default:
		return nil, fmt.Errorf("unknown log format %q", fm)
	}
	if err != nil {
		return nil, err
	}
	return rename(fm, raw, skipped), nil
}

func readConsole(r io.Reader) ([]map[string]float64, int, error) {
	var rows []map[string]float64
	skipped := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		line = stripRayPrefix(line)
		if !consoleStep.MatchString(line) {
			skipped++
			continue
		}
		row := map[string]float64{}
		ok := true
		for _, field := range strings.Split(line, " - ") {
			// Metric names hold '/', '@' and ':'-free text; the value
			// follows the last ':'.
			i := strings.LastIndex(field, ":")
			if i <= 0 {
				ok = false
				break
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(field[i+1:]), 64)
			if err != nil {
				ok = false
				break
			}
			row[strings.TrimSpace(field[:i])] = v
		}
		if !ok {
			skipped++ // a torn line, cut in the middle of a field
			continue
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return rows, skipped, fmt.Errorf("reading console log: %w", err)
	}
	return rows, skipped, nil
}

// stripRayPrefix removes the "(TaskRunner pid=123) " that Ray puts before
// a worker's output.
func stripRayPrefix(line string) string {
	if strings.HasPrefix(line, "(") {
		if i := strings.Index(line, ") "); i > 0 {
			return strings.TrimSpace(line[i+2:])
		}
	}
	return line
}

func readVeRLFile(r io.Reader) ([]map[string]float64, int, error) {
	var rows []map[string]float64
	skipped := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec struct {
			Step *float64       `json:"step"`
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(line, &rec); err != nil || rec.Step == nil {
			skipped++
			continue
		}
		row := map[string]float64{}
		maps.Copy(row, runlog.Flatten(rec.Data))
		row[runlog.KeyStep] = *rec.Step
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return rows, skipped, fmt.Errorf("reading file-logger JSONL: %w", err)
	}
	return rows, skipped, nil
}

func readTRL(r io.Reader) ([]map[string]float64, int, error) {
	var state struct {
		LogHistory []map[string]any `json:"log_history"`
	}
	if err := json.NewDecoder(r).Decode(&state); err != nil {
		return nil, 0, fmt.Errorf("trainer_state.json: %w", err)
	}
	if state.LogHistory == nil {
		return nil, 0, errors.New("trainer_state.json has no log_history")
	}
	var rows []map[string]float64
	skipped := 0
	for _, entry := range state.LogHistory {
		row := map[string]float64{}
		maps.Copy(row, runlog.Flatten(entry))
		if _, ok := row["step"]; !ok {
			skipped++
			continue
		}
		// The final entry of a run (train_runtime, train_loss, ...) is a
		// summary, not a step.
		if _, ok := row["train_runtime"]; ok {
			skipped++
			continue
		}
		rows = append(rows, row)
	}
	return rows, skipped, nil
}

// rename maps the trainer's names to urlvr's and records what was found.
func rename(fm Format, raw []map[string]float64, skipped int) *Log {
	lg := &Log{Format: fm, Found: map[string]string{}, Missing: []string{}, Unmapped: []string{}, Skipped: skipped}
	unmapped := map[string]bool{}
	for _, in := range raw {
		out := make(map[string]float64, len(in))
		// Exact names win over patterns, so iterate in a fixed order and
		// let an earlier source for a urlvr key stand.
		keys := make([]string, 0, len(in))
		for k := range in {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			pi, pj := priority(fm, keys[i]), priority(fm, keys[j])
			if pi != pj {
				return pi < pj
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			v := in[k]
			if k == "step" { // the trainer's step counter
				out[runlog.KeyStep] = v
				continue
			}
			if to, ok := MapName(fm, k); ok {
				if _, dup := out[to]; !dup {
					out[to] = v
					if _, seen := lg.Found[to]; !seen {
						lg.Found[to] = k
					}
				}
				continue
			}
			out[k] = v
			unmapped[k] = true
		}
		lg.Rows = append(lg.Rows, out)
	}
	for _, k := range panelKeys {
		if _, ok := lg.Found[k]; !ok {
			lg.Missing = append(lg.Missing, k)
		}
	}
	hasVal := false
	for k := range lg.Found {
		if strings.HasPrefix(k, runlog.ValidationPrefix) {
			hasVal = true
		}
	}
	if !hasVal {
		lg.Missing = append(lg.Missing, runlog.ValidationKey("<set>", runlog.AvgPrefix+"k"))
	}
	for k := range unmapped {
		lg.Unmapped = append(lg.Unmapped, k)
	}
	sort.Strings(lg.Unmapped)
	return lg
}
