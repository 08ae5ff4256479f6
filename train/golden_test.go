package train

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/engine/kernels"
	"github.com/urlvr/urlvr/runlog"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite train/testdata/golden from a fresh run")

// goldenFiles are the run files the golden comparison covers, and what the
// summary table prints.
var goldenFiles = []string{MetricsFile, ValidationFile, EventsFile, BestFile, SummaryFile, "samples/step-000002.jsonl", "table.txt"}

// timings are the wall-clock metrics, the only values that differ between
// two runs of the same seed and config.
var timings = regexp.MustCompile(`"perf/[a-z_]+":[^,}]*,?`)

// addedKeys are keys validation rows gained after the golden files were
// recorded (confidence intervals); the old keys must stay identical.
var addedKeys = regexp.MustCompile(`,?"val/[^"]+/(avg|maj|pass)@[0-9]+_ci_(lo|hi)":[^,}]*`)

// TestGoldenRun runs a tiny seeded recipe and compares its metrics,
// validation, events, best checkpoint record, samples, summary and summary
// table with files recorded from the same recipe, so a refactoring of the
// run log or the training step that changes what a run writes is caught.
//
// The recorded numbers come from this repository's AVX-512 kernels on an
// x86-64 machine; another kernel path rounds differently in the last bits,
// and over the run's updates those differences grow: so numbers are
// compared to a relative 1e-6 when the bytes differ, or 1e-3 where the
// AVX-512 kernels are not the ones in use (the portable Go of a purego or
// non-amd64 build drifted by up to 3.5e-4), and keys, key order and
// everything else exactly.
func TestGoldenRun(t *testing.T) {
	// The shipped "small" model answers some problems right, so the
	// accuracy columns are not all zero; a high collapse threshold makes
	// the run log a collapse event.
	cfg := tinyConfig(t, "small")
	cfg.Seed = 3
	cfg.Rollout.MaxResponseLength = 48
	cfg.EarlyStop.CollapseThreshold = 0.9
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tr.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := sum.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{"table.txt": table.Bytes()}
	for _, name := range goldenFiles[:len(goldenFiles)-1] {
		b, err := os.ReadFile(filepath.Join(tr.Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		got[name] = b
	}
	got[MetricsFile] = timings.ReplaceAll(got[MetricsFile], nil)
	// Every validation line carries the intervals of avg, maj and pass@2,
	// pass@4 on its one set.
	for i, line := range bytes.Split(bytes.TrimSpace(got[ValidationFile]), []byte("\n")) {
		if n := len(addedKeys.FindAll(line, -1)); n != 8 {
			t.Errorf("validation line %d has %d interval keys, want 8: %s", i+1, n, line)
		}
	}
	checkProblemScores(t, tr.Dir())
	got[ValidationFile] = addedKeys.ReplaceAll(got[ValidationFile], nil)
	// The summary names the run directory, a temporary one here.
	got[SummaryFile] = bytes.ReplaceAll(got[SummaryFile], []byte(tr.Dir()), []byte("RUN"))

	tol := 1e-6
	if kernels.Backends()[0].Name != "avx512" {
		tol = 1e-3
	}
	dir := filepath.Join("testdata", "golden")
	if *updateGolden {
		for name, b := range got {
			path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_"))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for _, name := range goldenFiles {
		want, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(name, "/", "_")))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(got[name], want) {
			continue
		}
		if err := sameUpToRounding(got[name], want, tol); err != nil {
			t.Errorf("%s differs from testdata/golden: %v\n got %s\nwant %s", name, err, got[name], want)
		} else {
			t.Logf("%s: equal up to last-bit rounding (another kernel path)", name)
		}
	}
}

// sameUpToRounding compares two texts token by token: numbers to a relative
// tol (absolute below 1), everything else exactly.
func sameUpToRounding(got, want []byte, tol float64) error {
	num := regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?`)
	gs, ws := num.Split(string(got), -1), num.Split(string(want), -1)
	if len(gs) != len(ws) {
		return fmt.Errorf("%d numbers, want %d", len(gs)-1, len(ws)-1)
	}
	for i := range gs {
		if gs[i] != ws[i] {
			return fmt.Errorf("text %q, want %q", gs[i], ws[i])
		}
	}
	gn, wn := num.FindAllString(string(got), -1), num.FindAllString(string(want), -1)
	for i := range gn {
		var g, w float64
		if json.Unmarshal([]byte(gn[i]), &g) != nil || json.Unmarshal([]byte(wn[i]), &w) != nil {
			if gn[i] != wn[i] {
				return fmt.Errorf("%s, want %s", gn[i], wn[i])
			}
			continue
		}
		if math.Abs(g-w) > tol*math.Max(1, math.Abs(w)) {
			return fmt.Errorf("%s, want %s", gn[i], wn[i])
		}
	}
	return nil
}

// checkProblemScores checks that validation_problems.jsonl has one row per
// set per validation and that each row's per-problem counts reproduce the
// set's avg@n in validation.jsonl.
func checkProblemScores(t *testing.T, dir string) {
	t.Helper()
	vals, _, err := runlog.ReadFile[runlog.ValidationRow](filepath.Join(dir, ValidationFile))
	if err != nil {
		t.Fatal(err)
	}
	probs, _, err := runlog.ReadFile[runlog.ProblemScoresRow](filepath.Join(dir, ValidationProblemsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) == 0 || len(probs) != len(vals) {
		t.Fatalf("%d per-problem rows for %d validations of one set", len(probs), len(vals))
	}
	for i, v := range vals {
		p := probs[i]
		if p.Step != v.Step || p.N != v.K || len(v.Sets) != 1 || p.Set != v.Sets[0].Name {
			t.Fatalf("per-problem row %+v does not match validation %+v", p, v)
		}
		var sum float64
		for _, a := range p.Accuracy() {
			sum += a
		}
		if got, want := sum/float64(len(p.Correct)), v.Sets[0].Avg.Value; math.Abs(got-want) > 1e-12 {
			t.Errorf("step %d: per-problem mean %v, validation avg %v", v.Step, got, want)
		}
	}
}
