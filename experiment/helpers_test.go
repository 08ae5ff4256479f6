package experiment

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/task/arith"
	"github.com/urlvr/urlvr/train"
)

// tinyModels writes small randomly initialised base models with the
// world's tokenizer, one per seed, so that studies train in seconds. It
// returns their directories.
func tinyModels(t *testing.T, seeds ...uint64) []string {
	t.Helper()
	root := t.TempDir()
	var dirs []string
	for i, seed := range seeds {
		dir := filepath.Join(root, "tiny-"+string(rune('a'+i)))
		if err := basemodel.WriteRandom(dir, tinyShape, seed); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

// tinyShape is a model small enough for a study to train in seconds.
var tinyShape = arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: 64}

// tinyOverrides make every sub-run a few steps on a few short problems.
var tinyOverrides = []string{
	"data.train=world:val-easy", "data.validation=[world:val-mid]",
	"rollout.n=4", "rollout.max_response_length=16",
	"trainer.global_batch=4", "trainer.mini_batch=4", "trainer.steps=3",
	"trainer.save_every=2", "trainer.sample_every=0",
	"eval.every=2", "eval.n=4", "optim.lr=1e-3",
}

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, row)
	}
	return rows
}

// fixtureRun writes a finished run directory by hand: its config, one
// metrics line per entry of steps, the validation rows and a summary with
// the given collapse, so that a study's analysis can be checked against
// hand-computed values.
type fixtureRun struct {
	rollouts, batch, evalN, steps int
	metrics                       []map[string]any
	validation                    []map[string]any
	collapse                      metrics.CollapseResult
}

func (f fixtureRun) write(t *testing.T, dir string) {
	t.Helper()
	cfg := train.Default()
	cfg.Name = filepath.Base(dir)
	cfg.Trainer.OutDir = filepath.Dir(dir)
	cfg.Rollout.N, cfg.Trainer.GlobalBatch, cfg.Trainer.MiniBatch = f.rollouts, f.batch, f.batch
	cfg.Eval.N, cfg.Trainer.Steps = f.evalN, f.steps
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	y, err := cfg.YAML()
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(train.ConfigFile, y)
	lines := func(rows []map[string]any) []byte {
		var out []byte
		for _, r := range rows {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(append(out, b...), '\n')
		}
		return out
	}
	write(train.MetricsFile, lines(f.metrics))
	write(train.ValidationFile, lines(f.validation))
	steps := 0
	if len(f.metrics) > 0 {
		steps = int(f.metrics[len(f.metrics)-1]["step"].(float64))
	}
	sum, err := json.Marshal(train.Summary{Dir: dir, Steps: steps, Collapse: f.collapse, CollapseMeasured: f.collapse.Observations > 0})
	if err != nil {
		t.Fatal(err)
	}
	write(train.SummaryFile, sum)
}

// stepRows makes metrics lines for steps 1.. with the given response
// lengths and reward accuracies.
func stepRows(lengths, rewardAccuracy []float64) []map[string]any {
	var rows []map[string]any
	for i, l := range lengths {
		row := map[string]any{"step": float64(i + 1), keyResponseLength: l}
		if rewardAccuracy != nil {
			row[keyRewardAccuracy] = rewardAccuracy[i]
		}
		rows = append(rows, row)
	}
	return rows
}
