package dashboard

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func studyNamed(t *testing.T, srv *Server, name string) *StudyInfo {
	t.Helper()
	for _, s := range srv.Catalog().Studies {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no study %q in %+v", name, srv.Catalog().Studies)
	return nil
}

func studyOf(t *testing.T, name string) *StudyPayload {
	t.Helper()
	srv := New([]string{"testdata"})
	_, body := get(t, srv, "/api/study?id="+studyNamed(t, srv, name).ID)
	var p StudyPayload
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return &p
}

// The fixture is a real per-problem study (6 problems, 12 epochs); its
// results.jsonl was read by hand for the cells below.
func TestPerProblemHeatmap(t *testing.T) {
	p := studyOf(t, "per-problem")
	h := p.Heatmap
	if h == nil || p.Scatter != nil || p.Intrinsic != nil {
		t.Fatalf("views: heatmap %v scatter %v intrinsic %v", h, p.Scatter, p.Intrinsic)
	}
	if h.Epochs != 12 || len(h.Rows) != 6 {
		t.Fatalf("%d epochs, %d rows", h.Epochs, len(h.Rows))
	}
	var ids []string
	for _, r := range h.Rows {
		ids = append(ids, r.ID)
		if len(r.Greedy) != 13 || len(r.Wave) != 13 {
			t.Errorf("%s: %d greedy, %d wave cells", r.ID, len(r.Greedy), len(r.Wave))
		}
	}
	// Grouped by pattern in the study's order, then by id.
	want := []string{"arith-probe/214", "arith-probe/38", "arith-probe/208", "arith-probe/183", "arith-probe/219", "arith-probe/37"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("rows %v, want %v", ids, want)
	}
	wantCounts := []PatternCount{{"amplifying success", 2}, {"wrong→correct", 1}, {"correct→wrong", 0}, {"amplifying failure", 3}}
	if !reflect.DeepEqual(h.Patterns, wantCounts) {
		t.Errorf("counts %v", h.Patterns)
	}
	// arith-probe/208: wrong before training, right from epoch 1; its
	// top-reward rollout first right at epoch 2, wrong at 3, then right.
	r := h.Rows[2]
	if r.Pattern != "wrong→correct" || r.Greedy[0] || !r.Greedy[1] || r.Wave[1] || !r.Wave[2] || r.Wave[3] || !r.Wave[4] {
		t.Errorf("row %+v", r)
	}
	// arith-probe/219: never right greedily, one lucky top rollout at 3.
	if r := h.Rows[4]; r.Greedy[3] || !r.Wave[3] || math.Abs(r.WaveShare-1.0/12) > 1e-12 || r.Confidence[2] != 0.25 {
		t.Errorf("row %+v", r)
	}
}

func TestPerProblemHeatmapSkipsRowsWithoutEpochs(t *testing.T) {
	h := perProblemHeatmap([]map[string]any{
		{"id": "a", "pattern": "correct→wrong", "greedy": []any{true, false}, "wave": []any{false, false}},
		{"id": "b", "pattern": "amplifying success"}, // no per-epoch arrays
		{"id": "c", "pattern": "something new", "greedy": []any{false, false, true}},
	})
	if h == nil || h.Epochs != 2 || len(h.Rows) != 2 || h.Rows[0].ID != "a" || h.Rows[1].ID != "c" {
		t.Fatalf("heatmap %+v", h)
	}
	if h.Patterns[2] != (PatternCount{"correct→wrong", 1}) || h.Patterns[0].Count != 0 {
		t.Errorf("counts %v", h.Patterns)
	}
	if perProblemHeatmap([]map[string]any{{"model": "x"}}) != nil {
		t.Error("a heatmap from rows with no epochs")
	}
}

// The fixture is a real intrinsic study (3 rewards × 2 seeds, 8 steps,
// validation every 2); the figures are its rewards.json's.
func TestIntrinsicView(t *testing.T) {
	p := studyOf(t, "intrinsic")
	v := p.Intrinsic
	if v == nil || p.Heatmap != nil || p.Scatter != nil {
		t.Fatalf("views: intrinsic %v heatmap %v scatter %v", v, p.Heatmap, p.Scatter)
	}
	if len(v.Rewards) != 3 || v.Rewards[0].Reward != "majority_voting" || v.Rewards[2].Reward != "trajectory_entropy" {
		t.Fatalf("rewards %+v", v.Rewards)
	}
	mv := v.Rewards[0]
	if !reflect.DeepEqual(mv.Steps, []float64{0, 2, 4, 6, 8}) || mv.Seeds != 2 || mv.Metric != "avg@2" {
		t.Errorf("curve %+v", mv)
	}
	// Step 2: 0.225 in [0.125, 0.325].
	if math.Abs(mv.Value[1]-0.225) > 1e-9 || math.Abs(mv.Lo[1]-0.125) > 1e-9 || math.Abs(mv.Hi[1]-0.325) > 1e-9 {
		t.Errorf("step 2: %v [%v, %v]", mv.Value[1], mv.Lo[1], mv.Hi[1])
	}
	if !reflect.DeepEqual(v.Modes, []string{"decline without a named pattern"}) || mv.Modes[v.Modes[0]] != 2 {
		t.Errorf("modes %v, %v", v.Modes, mv.Modes)
	}
	if len(p.Results) != 6 || len(p.Facets) != 6 {
		t.Errorf("%d results, %d facets", len(p.Results), len(p.Facets))
	}
}

// The self-contained report of a per-problem study carries its heatmap.
func TestBundleOfAPerProblemStudy(t *testing.T) {
	b, err := NewBundle("testdata/per-problem", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Studies) != 1 {
		t.Fatalf("%d studies", len(b.Studies))
	}
	for _, st := range b.Studies {
		if st.Heatmap == nil || len(st.Heatmap.Rows) != 6 {
			t.Errorf("study payload %+v", st)
		}
	}
}

// Before the study's report, the heatmap's greedy cells come from the
// runs' own per-epoch logs; a torn line is skipped.
func TestPerProblemHeatmapWhileRunning(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "pp")
	for _, f := range []string{"study.json", "problems.json", "runs/arith-probe_208/per-problem.jsonl", "runs/arith-probe_38/metrics.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata/per-problem", f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, "per-problem.jsonl") {
			lines := strings.SplitAfter(string(b), "\n")
			b = []byte(strings.Join(lines[:3], "") + `{"step":3,"greedy_cor`) // epochs 0-2, then torn
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := New([]string{root})
	_, body := get(t, srv, "/api/study?id="+studyNamed(t, srv, "pp").ID)
	var p StudyPayload
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	h := p.Heatmap
	if h == nil || !h.Live || h.Epochs != 12 || len(h.Rows) != 1 {
		t.Fatalf("heatmap %+v", h)
	}
	// arith-probe/208: wrong at 0, right at 1 and 2 (confidence 0.25, 0.5, 0).
	r := h.Rows[0]
	if r.ID != "arith-probe/208" || !reflect.DeepEqual(r.Greedy, []bool{false, true, true}) || !reflect.DeepEqual(r.Confidence, []float64{0.25, 0.5, 0}) || r.Pattern != "" {
		t.Errorf("row %+v", r)
	}
}
