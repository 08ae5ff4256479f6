package dashboard

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/urlvr/urlvr/foreignlog"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/runlog"
)

// MaxPoints is how many points a series keeps at most when it is sent for
// drawing; longer series are downsampled (see Downsample).
const MaxPoints = 2000

// runState is the parsed logs of one run, kept between polls.
type runState struct {
	mu         sync.Mutex
	info       *RunInfo
	gen        int // bumped whenever the logs are read again from the start
	metrics    *Table
	validation *Table
	events     *Table
	foreign    *foreignlog.Log
	foreignSz  int64
	foreignMod int64
}

func newRunState(info *RunInfo) *runState {
	return &runState{info: info, metrics: newTable(), validation: newTable(), events: newTable()}
}

// Payload is what the page gets for one run.
type Payload struct {
	Run        *RunInfo          `json:"run"`
	Gen        int               `json:"gen"`
	Full       bool              `json:"full"` // false: only the points after the client's steps
	Metrics    *TablePayload     `json:"metrics"`
	Validation *TablePayload     `json:"validation"`
	Events     []map[string]any  `json:"events"`
	Summary    json.RawMessage   `json:"summary,omitempty"`
	Samples    []int             `json:"samples"`
	Mapping    *Mapping          `json:"mapping,omitempty"`
	Flags      *foreignlog.Flags `json:"flags,omitempty"`
}

// TablePayload is a log's series as sent: possibly downsampled, or only the
// new points.
type TablePayload struct {
	Series      map[string]*Series `json:"series"`
	Lines       int                `json:"lines"`
	Skipped     int                `json:"skipped"`
	Torn        int                `json:"torn"`
	Downsampled bool               `json:"downsampled"`
	LastStep    float64            `json:"last_step"`
}

// Mapping tells, for a foreign log, which urlvr metrics were recognised.
type Mapping struct {
	Format   string            `json:"format"`
	Found    map[string]string `json:"found"`
	Missing  []string          `json:"missing"`
	Unmapped []string          `json:"unmapped"`
}

// refresh reads whatever was appended to the run's logs.
func (r *runState) refresh() error {
	if r.info.file != "" {
		return r.refreshForeign()
	}
	read := func(t *Table, name string, keep bool) error {
		path := filepath.Join(r.info.dir, name)
		if !fileExists(path) {
			return nil
		}
		real, err := resolveInside(r.info.root, path)
		if err != nil {
			return err
		}
		reset, err := t.readFrom(real, keep)
		if reset {
			r.gen++
		}
		return err
	}
	if err := read(r.metrics, metricsFile, false); err != nil {
		return err
	}
	if err := read(r.validation, validationFile, false); err != nil {
		return err
	}
	return read(r.events, eventsFile, true)
}

// refreshForeign reads a foreign log again when it changed; such logs are
// small (one line per step of a large-model run) and not always appended.
func (r *runState) refreshForeign() error {
	real, err := resolveInside(r.info.root, r.info.file)
	if err != nil {
		return err
	}
	st, err := os.Stat(real)
	if err != nil {
		return err
	}
	if r.foreign != nil && st.Size() == r.foreignSz && st.ModTime().UnixNano() == r.foreignMod {
		return nil
	}
	lg, err := foreignlog.ReadFile(real)
	if err != nil {
		return err
	}
	r.foreign, r.foreignSz, r.foreignMod = lg, st.Size(), st.ModTime().UnixNano()
	r.gen++
	r.metrics, r.validation = newTable(), newTable()
	r.metrics.Skipped = lg.Skipped
	for _, row := range lg.Rows {
		train, val := map[string]float64{}, map[string]float64{}
		for k, v := range row {
			if k == "step" {
				train[k], val[k] = v, v
			} else if strings.HasPrefix(k, runlog.ValidationPrefix) {
				val[k] = v
			} else {
				train[k] = v
			}
		}
		r.metrics.Lines++
		r.metrics.add(train)
		if len(val) > 1 {
			r.validation.Lines++
			r.validation.add(val)
		}
	}
	return nil
}

// payload builds what the page gets. A client that has the run's steps up
// to afterMetrics and afterValidation under generation gen gets only the
// newer points; any other client gets everything, downsampled.
func (r *runState) payload(gen int, afterMetrics, afterValidation float64, incremental bool) (*Payload, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.refresh(); err != nil {
		return nil, fmt.Errorf("run %s: %w", r.info.Name, err)
	}
	p := &Payload{Run: r.info, Gen: r.gen, Full: !incremental || gen != r.gen}
	if p.Full {
		p.Metrics, p.Validation = tablePayload(r.metrics, nil), tablePayload(r.validation, nil)
	} else {
		p.Metrics = tablePayload(r.metrics, r.metrics.since(afterMetrics))
		p.Validation = tablePayload(r.validation, r.validation.since(afterValidation))
	}
	p.Events = r.eventList()
	if r.info.file == "" {
		if b, err := readInside(r.info.root, filepath.Join(r.info.dir, summaryFile), 4<<20); err == nil && json.Valid(b) {
			p.Summary = b
		}
		p.Samples = sampleSteps(r.info.dir)
	}
	if r.foreign != nil {
		lg := r.foreign
		p.Mapping = &Mapping{Format: string(lg.Format), Found: lg.Found, Missing: lg.Missing, Unmapped: lg.Unmapped}
		fl, err := foreignlog.Check(lg.Rows, metrics.CollapseConfig{}, foreignlog.DivergenceConfig{})
		if err == nil {
			p.Flags = &fl
		}
	}
	if p.Samples == nil {
		p.Samples = []int{}
	}
	return p, nil
}

// eventList is the run's events, plus for a foreign log the flags found in
// it, each with a step and a name under "event".
func (r *runState) eventList() []map[string]any {
	out := []map[string]any{}
	for _, o := range r.events.Objects {
		if _, ok := o["step"].(float64); ok {
			if _, ok := o["event"].(string); ok {
				out = append(out, o)
			}
		}
	}
	if r.foreign != nil {
		if fl, err := foreignlog.Check(r.foreign.Rows, metrics.CollapseConfig{}, foreignlog.DivergenceConfig{}); err == nil {
			if fl.Collapse != nil && fl.Collapse.Collapsed {
				out = append(out, map[string]any{"step": float64(fl.Collapse.Step), "event": "collapse"})
			}
			if fl.Divergence != nil && fl.Divergence.Diverged {
				out = append(out, map[string]any{"step": float64(fl.Divergence.Step), "event": "divergence"})
			}
		}
	}
	return out
}

func tablePayload(t *Table, only map[string]*Series) *TablePayload {
	tp := &TablePayload{Series: map[string]*Series{}, Lines: t.Lines, Skipped: t.Skipped, Torn: t.Torn}
	for k, s := range t.Series {
		if n := len(s.X); n > 0 && s.X[n-1] > tp.LastStep {
			tp.LastStep = s.X[n-1]
		}
		if only != nil {
			continue
		}
		d := Downsample(s, MaxPoints)
		if len(d.X) < len(s.X) {
			tp.Downsampled = true
		}
		tp.Series[k] = d
	}
	for k, s := range only {
		d := Downsample(s, MaxPoints)
		tp.Downsampled = tp.Downsampled || len(d.X) < len(s.X)
		tp.Series[k] = d
	}
	return tp
}

var sampleName = regexp.MustCompile(`^step-(\d+)\.jsonl$`)

// sampleSteps lists the steps with a sample dump.
func sampleSteps(dir string) []int {
	entries, err := os.ReadDir(filepath.Join(dir, samplesDir))
	if err != nil {
		return nil
	}
	var steps []int
	for _, e := range entries {
		if m := sampleName.FindStringSubmatch(e.Name()); m != nil && e.Type().IsRegular() {
			if n, err := strconv.Atoi(m[1]); err == nil {
				steps = append(steps, n)
			}
		}
	}
	sort.Ints(steps)
	return steps
}

// maxSampleBytes bounds one sample file sent to the page.
const maxSampleBytes = 8 << 20

// samples reads the sample rollouts of one step.
func (r *runState) samples(step int) ([]map[string]any, error) {
	path := filepath.Join(r.info.dir, samplesDir, fmt.Sprintf("step-%06d.jsonl", step))
	b, err := readInside(r.info.root, path, maxSampleBytes)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, line := range splitLines(b) {
		var o map[string]any
		if json.Unmarshal(line, &o) == nil && o != nil {
			out = append(out, o)
		}
	}
	return out, nil
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		if i > 0 {
			out = append(out, b[:i])
		}
		if i == len(b) {
			break
		}
		b = b[i+1:]
	}
	return out
}
