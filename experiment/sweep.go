package experiment

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/train"
)

// A sweep trains one run per point of a grid over recipe keys (paper B.3:
// temperature, rollout count, mini-batch, learning rate, KL, entropy
// bonus), all from one recipe, and draws the chosen metrics faceted by the
// grid's first key.

// GridAxis is one key of a sweep's grid and the values it takes.
type GridAxis struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// ParseGridAxis parses "optim.lr=1e-4,5e-4" into a grid axis. Values are
// split at commas outside brackets, so "data.validation=[a, b],[c]" gives
// two list values.
func ParseGridAxis(s string) (GridAxis, error) {
	key, list, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return GridAxis{}, fmt.Errorf("--grid %q: want key=value1,value2,...", s)
	}
	var values []string
	depth, from := 0, 0
	for i, c := range list {
		switch c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				values = append(values, strings.TrimSpace(list[from:i]))
				from = i + 1
			}
		}
	}
	values = append(values, strings.TrimSpace(list[from:]))
	a := GridAxis{Key: key}
	for _, v := range values {
		if v == "" {
			return GridAxis{}, fmt.Errorf("--grid %s: an empty value in %q", key, list)
		}
		if slices.Contains(a.Values, v) {
			return GridAxis{}, fmt.Errorf("--grid %s: value %q given twice", key, v)
		}
		a.Values = append(a.Values, v)
	}
	return a, nil
}

// SweepOptions configure a sweep.
type SweepOptions struct {
	Options
	// Grid is the axes of the grid; every combination of their values is
	// one run.
	Grid []GridAxis
	// Metrics are the keys drawn and tabulated: metrics.jsonl keys
	// (train/..., actor/..., perf/...) or validation.jsonl keys (val/...);
	// a key without "@k" matches the run's "@k" key (val/mean/avg matches
	// val/mean/avg@32). Empty means DefaultSweepMetrics.
	Metrics []string
}

// DefaultSweepMetrics are the panels of the paper's B.3 figures.
var DefaultSweepMetrics = []string{
	runlog.ValidationKey(runlog.MeanSet, "avg"), runlog.KeyProxyReward, runlog.KeyGroundTruthReward,
	runlog.KeyRewardAccuracy, runlog.KeyEntropy, runlog.KeyResponseLength,
}

// sweepOwned are the keys a sweep sets per run itself.
var sweepOwned = map[string]string{
	"name":            "runs are named after their grid point",
	"trainer.out_dir": "runs live in <out>/runs",
}

// sweepSettings is what study.json records for a sweep: everything that
// defines its runs (the metrics only change the rendering).
type sweepSettings struct {
	Kind      string     `json:"kind"`
	Recipe    string     `json:"recipe"`
	Overrides []string   `json:"overrides"`
	Grid      []GridAxis `json:"grid"`
}

// PlannedRun is one run of a study's plan.
type PlannedRun struct {
	Name  string // path under RunsDir
	Steps int    // training steps the run will take at most
	// Point is the run's value of each grid axis, in grid order (sweeps).
	Point []string
}

// Plan is the runs a study will train, checked before any of them starts.
type Plan struct {
	Runs     []PlannedRun
	runs     []subRun
	problems []SelectedProblem // per-problem study: the chosen problems
}

// TotalSteps is the sum of the runs' steps, for a progress bar.
func (p *Plan) TotalSteps() int {
	n := 0
	for _, r := range p.Runs {
		n += r.Steps
	}
	return n
}

// PlanSweep checks the options and resolves every run's recipe, so that a
// bad key or value is reported before any training.
func PlanSweep(o SweepOptions) (*Plan, error) {
	if o.Out == "" {
		return nil, errors.New("sweep: no output directory")
	}
	if len(o.Grid) == 0 {
		return nil, errors.New("sweep: the grid is empty (give at least one --grid key=v1,v2)")
	}
	seen := map[string]bool{}
	for _, a := range o.Grid {
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("sweep: --grid %s has no values", a.Key)
		}
		if seen[a.Key] {
			return nil, fmt.Errorf("sweep: --grid %s given twice", a.Key)
		}
		seen[a.Key] = true
		if err := checkRecipeKey(a.Key); err != nil {
			return nil, fmt.Errorf("sweep: --grid %s: %w", a.Key, err)
		}
		for k, why := range sweepOwned {
			if a.Key == k || strings.HasPrefix(k, a.Key+".") || strings.HasPrefix(a.Key, k+".") {
				return nil, fmt.Errorf("sweep: --grid %s: the sweep sets %s itself (%s)", a.Key, k, why)
			}
		}
		for _, ov := range o.Overrides {
			if k, _, _ := strings.Cut(ov, "="); strings.TrimSpace(k) == a.Key {
				return nil, fmt.Errorf("sweep: --grid %s and --set %s set the same key", a.Key, ov)
			}
		}
	}
	for _, m := range o.Metrics {
		if err := checkMetricName(m); err != nil {
			return nil, err
		}
	}
	if _, err := baseConfig(o.Options, nil, sweepOwned); err != nil {
		return nil, err
	}
	plan := &Plan{}
	names := map[string]string{}
	for _, point := range gridPoints(o.Grid) {
		sets := slices.Clone(o.Overrides)
		for i, a := range o.Grid {
			sets = append(sets, a.Key+"="+point[i])
		}
		cfg, err := train.LoadConfig(o.Recipe, sets)
		if err != nil {
			return nil, fmt.Errorf("sweep point %s: %w", pointLabel(o.Grid, point), err)
		}
		if _, err := reward.New(cfg.Reward.Estimator, cfg.Reward.Params); err != nil {
			return nil, fmt.Errorf("sweep point %s: reward.estimator: %w", pointLabel(o.Grid, point), err)
		}
		name := pointName(o.Grid, point)
		if other, dup := names[name]; dup {
			return nil, fmt.Errorf("sweep points %s and %s get the same run name %s; choose values that differ in letters or digits", other, pointLabel(o.Grid, point), name)
		}
		names[name] = pointLabel(o.Grid, point)
		r, err := place(o.Out, cfg, name)
		if err != nil {
			return nil, err
		}
		plan.runs = append(plan.runs, r)
		plan.Runs = append(plan.Runs, PlannedRun{Name: name, Steps: plannedSteps(cfg), Point: point})
	}
	return plan, nil
}

// checkMetricName rejects a metric no run log can hold.
func checkMetricName(m string) error {
	for _, prefix := range []string{runlog.TrainPrefix, runlog.ActorPrefix, runlog.PerfPrefix, runlog.ValidationPrefix} {
		if strings.HasPrefix(m, prefix) && len(m) > len(prefix) {
			return nil
		}
	}
	return fmt.Errorf("metric %q: want a run-log key starting with train/, actor/, perf/ or val/", m)
}

// plannedSteps is the number of steps a run of cfg trains; for a run set
// by epochs it is an estimate from the training set's size.
func plannedSteps(cfg train.Config) int {
	if cfg.Trainer.Steps > 0 {
		return cfg.Trainer.Steps
	}
	ps, _, err := train.LoadProblems(cfg.Data.Train)
	if err != nil {
		return 0
	}
	n := len(ps)
	if cfg.Data.Subset > 0 {
		n = min(n, cfg.Data.Subset)
	}
	return cfg.Trainer.Epochs * ((n + cfg.Trainer.GlobalBatch - 1) / cfg.Trainer.GlobalBatch)
}

// gridPoints lists every combination of the axes' values, the last axis
// varying fastest.
func gridPoints(grid []GridAxis) [][]string {
	points := [][]string{{}}
	for _, a := range grid {
		var next [][]string
		for _, p := range points {
			for _, v := range a.Values {
				next = append(next, append(slices.Clone(p), v))
			}
		}
		points = next
	}
	return points
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._+-]+`)

// pointName names a grid point's run directory: the last part of each key
// and its value, e.g. "lr=1e-4,n=8" for optim.lr and rollout.n.
func pointName(grid []GridAxis, point []string) string {
	parts := make([]string, len(grid))
	for i, a := range grid {
		key := a.Key[strings.LastIndex(a.Key, ".")+1:]
		parts[i] = key + "=" + strings.Trim(unsafeName.ReplaceAllString(point[i], "_"), "_")
	}
	return strings.Join(parts, ",")
}

// pointLabel spells a grid point with full keys, for messages.
func pointLabel(grid []GridAxis, point []string) string {
	parts := make([]string, len(grid))
	for i, a := range grid {
		parts[i] = a.Key + "=" + point[i]
	}
	return strings.Join(parts, " ")
}

// RunSweep trains the sweep's runs in o.Out (skipping finished runs and
// resuming interrupted ones) and writes its results and plots.
func RunSweep(ctx context.Context, o SweepOptions) (*SweepReport, error) {
	plan, err := PlanSweep(o)
	if err != nil {
		return nil, err
	}
	if err := claimStudy(o.Out, sweepSettingsOf(o)); err != nil {
		return nil, err
	}
	if err := runAll(ctx, plan.runs, o.Jobs, o.Progress); err != nil {
		return nil, err
	}
	return ReportSweep(o.Out, o.Metrics)
}

func sweepSettingsOf(o SweepOptions) sweepSettings {
	return sweepSettings{Kind: "sweep", Recipe: o.Recipe, Overrides: nonNil(o.Overrides), Grid: o.Grid}
}

// checkRecipeKey reports a dotted key that no recipe has, naming the keys
// that its parent does have. Keys under a map (reward.params) are free.
func checkRecipeKey(key string) error {
	t := reflect.TypeFor[train.Config]()
	parts := strings.Split(key, ".")
	for i, part := range parts {
		if t.Kind() != reflect.Struct {
			return fmt.Errorf("unknown recipe key %q: %s has no sub-keys", key, strings.Join(parts[:i], "."))
		}
		found := false
		for f := range t.Fields() {
			if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == part {
				t, found = f.Type, true
				break
			}
		}
		if !found {
			where := "a recipe"
			if i > 0 {
				where = strings.Join(parts[:i], ".")
			}
			return fmt.Errorf("unknown recipe key %q: %s has no key %q (known: %s)", key, where, part, strings.Join(allKeys(t), ", "))
		}
		if t.Kind() == reflect.Map {
			return nil
		}
	}
	return nil
}

// allKeys lists the YAML keys of a struct type.
func allKeys(t reflect.Type) []string {
	var keys []string
	if t.Kind() != reflect.Struct {
		return nil
	}
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}
