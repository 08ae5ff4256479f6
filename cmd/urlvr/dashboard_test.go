package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/export"
)

func writeTinyRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(
		`{"step":1,"train/proxy_reward":0.5,"perf/step_seconds":2}`+"\n"+`{"step":2,"train/proxy_reward":0.75}`+"\n"+`{"step":3,"tr`), 0o644)
	return dir
}

func TestExportWritesReadableEventsAndCSV(t *testing.T) {
	dir := writeTinyRun(t)
	out, err := runRoot(t, "export", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "2 steps from urlvr run (1 unreadable lines skipped)") {
		t.Errorf("output %q", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "export", "events.out.tfevents.*.urlvr"))
	if len(files) != 1 {
		t.Fatalf("event files %v", files)
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	events, err := export.ReadEvents(f)
	if err != nil || len(events) != 3 || events[2].Step != 2 || events[2].Scalars[0] != (export.Scalar{Tag: "train/proxy_reward", Value: 0.75}) {
		t.Errorf("events %+v, %v", events, err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "export", "metrics.csv"))
	if string(csv) != "step,perf/step_seconds,train/proxy_reward\n1,2,0.5\n2,,0.75\n" {
		t.Errorf("csv %q", csv)
	}
	if _, err := runRoot(t, "export", dir, "--format", "parquet"); err == nil || !strings.Contains(err.Error(), "parquet") {
		t.Errorf("unknown format: %v", err)
	}
	runRoot(t, "export", dir, "--format", "tensorboard,csv") // reset the flag for later tests
}

func TestReportHTMLIsSelfContained(t *testing.T) {
	dir := writeTinyRun(t)
	page := filepath.Join(t.TempDir(), "r.html")
	if _, err := runRoot(t, "report", "--html", dir, "--out", page); err != nil {
		t.Fatal(err)
	}
	runRoot(t, "report", "--html", "", "--out", "")
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, "window.URLVR_DATA = ") || strings.Contains(s, "<script src") || strings.Contains(s, "<link rel=\"stylesheet\"") || !strings.Contains(s, "Leon Sorokin") {
		t.Error("report is not self-contained or lacks uPlot's license")
	}
	if _, err := runRoot(t, "report", "--html", t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no run") {
		t.Errorf("empty dir: %v", err)
	}
	runRoot(t, "report", "--html", "")
}

func TestMetricsCollapseOnVeRLLog(t *testing.T) {
	out, err := runRoot(t, "metrics", "collapse", "--file", filepath.Join("..", "..", "foreignlog", "testdata", "verl_metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Format   string `json:"format"`
		Collapse struct {
			Step int `json:"collapse_step"`
		} `json:"collapse"`
		Divergence struct {
			Step int `json:"divergence_step"`
		} `json:"divergence"`
		Found map[string]string `json:"found"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Format != "verl-file" || res.Collapse.Step != 32 || res.Divergence.Step != 12 || res.Found["train/proxy_reward"] != "critic/score/mean" {
		t.Errorf("result %+v", res)
	}
}

func TestDashboardRejectsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if _, err := runRoot(t, "dashboard", file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("err = %v", err)
	}
}
