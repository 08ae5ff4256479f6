package report

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/runlog"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRunPlotsSkipsATornLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "metrics.jsonl"), `{"step":1,"actor/entropy":0.5}`+"\n"+`{"step":2,"actor/entropy":0.4}`+"\n"+`{"step":3,`)
	paths, err := WriteRunPlots(dir)
	if err != nil || len(paths) != 2 || filepath.Base(paths[0]) != "entropy.png" {
		t.Fatalf("paths %v, err %v", paths, err)
	}
}

func TestExtractSkipsRowsWithoutTheKey(t *testing.T) {
	rows := []runlog.Values{{"step": 1, "a": 2}, {"step": 2}, {"a": 5}, {"step": 3, "a": 4}}
	s := Extract(rows, "a")
	if fmt.Sprint(s.Steps, s.Values) != "[1 3] [2 4]" {
		t.Fatalf("got %v %v", s.Steps, s.Values)
	}
}

func TestWriteRunPlots(t *testing.T) {
	dir := t.TempDir()
	var m, v strings.Builder
	for step := 1; step <= 20; step++ {
		fmt.Fprintf(&m, `{"step":%d,"train/proxy_reward":%g,"train/ground_truth_reward":%g,"train/reward_accuracy":%g,"actor/entropy":%g}`+"\n",
			step, 0.5+0.02*float64(step), 0.4, 0.9-0.01*float64(step), 1.0/float64(step))
		if step%5 == 0 {
			fmt.Fprintf(&v, `{"step":%d,"val/easy/avg@32":%g,"val/easy/pass@32":0.9,"val/hard/avg@32":%g}`+"\n", step, 0.3, 0.1)
		}
	}
	writeFile(t, filepath.Join(dir, "metrics.jsonl"), m.String())
	writeFile(t, filepath.Join(dir, "validation.jsonl"), v.String())
	paths, err := WriteRunPlots(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	want := "reward.png reward.svg accuracy.png accuracy.svg validation.png validation.svg entropy.png entropy.svg"
	if strings.Join(names, " ") != want {
		t.Fatalf("wrote %v, want %s", names, want)
	}
	f, err := os.Open(filepath.Join(dir, "plots", "validation.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("validation.png does not decode: %v", err)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "plots", "validation.svg"))
	for _, s := range []string{"Validation accuracy", "val/easy/avg@32", "val/hard/avg@32"} {
		if !strings.Contains(string(svg), s) {
			t.Errorf("validation.svg lacks %q", s)
		}
	}
	if strings.Contains(string(svg), "pass@32") {
		t.Error("validation panel plots pass@k; it should show avg@k only")
	}
}

func TestMovingAverage(t *testing.T) {
	got := MovingAverage([]float64{1, 2, 3, 4, 5}, 2)
	want := []float64{1, 1.5, 2.5, 3.5, 4.5}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("MovingAverage = %v, want %v", got, want)
	}
	if smoothingWindow(20) != 1 || smoothingWindow(400) != 10 || smoothingWindow(100) != 5 {
		t.Fatal("smoothing window")
	}
}
