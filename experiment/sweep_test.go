package experiment

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/report"
)

func TestParseGridAxis(t *testing.T) {
	for _, c := range []struct {
		in   string
		want GridAxis
	}{
		{"optim.lr=1e-4,5e-4", GridAxis{"optim.lr", []string{"1e-4", "5e-4"}}},
		{" rollout.n = 4, 8 ,16", GridAxis{"rollout.n", []string{"4", "8", "16"}}},
		{"data.validation=[world:val-easy, world:val-mid],[world:val-hard]", GridAxis{"data.validation", []string{"[world:val-easy, world:val-mid]", "[world:val-hard]"}}},
	} {
		got, err := ParseGridAxis(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseGridAxis(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"optim.lr", "=1,2", "optim.lr=", "optim.lr=1,,2", "rollout.n=4,4"} {
		if _, err := ParseGridAxis(bad); err == nil {
			t.Errorf("ParseGridAxis(%q) accepted", bad)
		}
	}
}

func TestGridPointsAndNames(t *testing.T) {
	grid := []GridAxis{{"optim.lr", []string{"1e-4", "5e-4"}}, {"rollout.n", []string{"4", "8", "16"}}}
	pts := gridPoints(grid)
	if len(pts) != 6 || !reflect.DeepEqual(pts[0], []string{"1e-4", "4"}) || !reflect.DeepEqual(pts[5], []string{"5e-4", "16"}) {
		t.Fatalf("points %v", pts)
	}
	if got := pointName(grid, pts[1]); got != "lr=1e-4,n=8" {
		t.Errorf("name %q", got)
	}
	if got := pointName([]GridAxis{{"data.train", nil}}, []string{"datasets/x y.jsonl"}); got != "train=datasets_x_y.jsonl" {
		t.Errorf("name of a path value %q", got)
	}
}

// TestPlanSweepRejectsBadInputBeforeTraining checks that every kind of bad
// input is an error naming the offending key or value, and that nothing is
// written.
func TestPlanSweepRejectsBadInputBeforeTraining(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	for _, c := range []struct {
		o    SweepOptions
		want string
	}{
		{SweepOptions{}, "the grid is empty"},
		{SweepOptions{Grid: []GridAxis{{"optim.lrr", []string{"1"}}}}, `optim has no key "lrr"`},
		{SweepOptions{Grid: []GridAxis{{"optimizer.lr", []string{"1"}}}}, `a recipe has no key "optimizer"`},
		{SweepOptions{Grid: []GridAxis{{"optim.lr.x", []string{"1"}}}}, "optim.lr has no sub-keys"},
		{SweepOptions{Grid: []GridAxis{{"name", []string{"a", "b"}}}}, "the sweep sets name itself"},
		{SweepOptions{Grid: []GridAxis{{"trainer", []string{"{}"}}}}, "the sweep sets trainer.out_dir itself"},
		{SweepOptions{Grid: []GridAxis{{"optim.lr", nil}}}, "has no values"},
		{SweepOptions{Grid: []GridAxis{{"reward.estimator", []string{"majority_voting", "nope"}}}}, `unknown estimator "nope"`},
		{SweepOptions{Grid: []GridAxis{{"optim.lr", []string{"1e-4", "-1"}}}}, "optim.lr=-1: invalid recipe: optim.lr must be > 0"},
		{SweepOptions{Grid: []GridAxis{{"optim.lr", []string{"1e-4"}}}, Metrics: []string{"loss"}}, `metric "loss"`},
		{SweepOptions{Options: Options{Overrides: []string{"optim.lr=1"}}, Grid: []GridAxis{{"optim.lr", []string{"1e-4"}}}}, "set the same key"},
		{SweepOptions{Grid: []GridAxis{{"reward.params.x", []string{"1"}}}}, `has no parameter "x"`},
	} {
		c.o.Out = out
		_, err := PlanSweep(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.o.Grid, err, c.want)
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused sweep wrote %s", out)
	}
}

func TestSweepTrainsEveryPointSkipsAndPlots(t *testing.T) {
	models := tinyModels(t, 3)
	out := t.TempDir()
	o := SweepOptions{
		Options: Options{Out: out, Overrides: append([]string{"model.base=" + models[0]}, tinyOverrides...), Jobs: 2},
		Grid:    []GridAxis{{"rollout.temperature", []string{"0.8", "1.2"}}, {"seed", []string{"1", "2"}}},
		Metrics: []string{"val/mean/avg", "actor/entropy"},
	}
	plan, err := PlanSweep(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Runs) != 4 || plan.TotalSteps() != 12 || plan.Runs[3].Name != "temperature=1.2,seed=2" {
		t.Fatalf("plan %+v", plan.Runs)
	}
	rep, err := RunSweep(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 4 || len(rep.Pending) != 0 {
		t.Fatalf("results %+v pending %v", rep.Results, rep.Pending)
	}
	r := rep.Results[1]
	if r.Point["seed"] != "2" || r.Point["rollout.temperature"] != "0.8" || r.Metrics["val/mean/avg"].Key != "val/mean/avg@4" {
		t.Errorf("result %+v", r)
	}
	for _, name := range []string{"val_mean_avg", "actor_entropy"} {
		if st, err := os.Stat(filepath.Join(out, PlotsDir, name+".png")); err != nil || st.Size() == 0 {
			t.Errorf("plot %s: %v", name, err)
		}
	}
	// A second invocation skips every finished run.
	var kinds []EventKind
	o.Progress = func(e Event) { kinds = append(kinds, e.Kind) }
	if _, err := RunSweep(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(kinds, []EventKind{RunSkipped, RunSkipped, RunSkipped, RunSkipped}) {
		t.Errorf("rerun events %v, want four skips", kinds)
	}
	// The study directory refuses another grid.
	o.Grid[1].Values = []string{"3"}
	if _, err := RunSweep(context.Background(), o); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("another grid in the same directory: %v", err)
	}
	if _, err := ReportSweep(out, []string{"train/nothing"}); err == nil || !strings.Contains(err.Error(), "train/nothing") {
		t.Errorf("a metric no run logged: %v", err)
	}
}

func TestSummariseSeriesHandComputed(t *testing.T) {
	s := report.Series{Steps: []float64{0, 10, 20, 30}, Values: []float64{0.4, 0.5, 0.45, 0.3}}
	m := summariseSeries(s, "val/mean/avg@8", false)
	want := MetricSummary{Key: "val/mean/avg@8", Start: 0.4, Final: 0.3, Max: 0.5, MaxStep: 10, Min: 0.3, MinStep: 30}
	if m != want {
		t.Errorf("validation summary %+v, want %+v", m, want)
	}
	// Per-step metrics: start is the mean of the first windowSteps (here
	// all 4) values; peak and final come from the trailing mean.
	s = report.Series{Steps: []float64{1, 2, 3, 4}, Values: []float64{1, 3, 2, 6}}
	m = summariseSeries(s, "actor/entropy", true)
	// trailing means: 1, 2, 2, 3
	if !near(m.Start, 3) || !near(m.Final, 3) || !near(m.Max, 3) || m.MaxStep != 4 || !near(m.Min, 1) || m.MinStep != 1 {
		t.Errorf("per-step summary %+v", m)
	}
}
