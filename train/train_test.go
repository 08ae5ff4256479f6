package train

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task/arith"
)

// tinyBase writes a small randomly initialised base model with the world's
// tokenizer, so trainer tests run in seconds.
func tinyBase(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny")
	shape := arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: 64}
	if err := basemodel.WriteRandom(dir, shape, 7); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tinyConfig is a recipe small enough for a unit test.
func tinyConfig(t *testing.T, base string) Config {
	cfg := Default()
	cfg.Name = "tiny"
	cfg.Model.Base = base
	cfg.Data.Train = "world:val-easy"
	cfg.Data.Validation = []string{"world:val-mid"}
	cfg.Rollout.N = 4
	cfg.Rollout.MaxResponseLength = 24
	cfg.Trainer = TrainerConfig{GlobalBatch: 4, MiniBatch: 2, PPOEpochs: 1, Steps: 4, SaveEvery: 2, SampleEvery: 2, OutDir: t.TempDir()}
	cfg.Eval = EvalConfig{Every: 2, N: 4, Temperature: 0.6, TopP: 0.95, PassK: []int{2}}
	cfg.Optim.LR = 1e-3
	return cfg
}

// trainRecipe loads a built-in recipe with overrides, trains it to the end
// and returns the trainer with its metrics.jsonl lines.
func trainRecipe(t *testing.T, recipe string, overrides ...string) (*Trainer, []map[string]any) {
	t.Helper()
	cfg, err := LoadConfig(recipe, overrides)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return tr, readLines(t, filepath.Join(tr.Dir(), MetricsFile))
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows = append(rows, row)
	}
	return rows
}

// withoutTimings drops the wall-clock metrics, which differ between runs.
func withoutTimings(rows []map[string]any) []map[string]any {
	for _, r := range rows {
		for k := range r {
			if strings.HasPrefix(k, "perf/") {
				delete(r, k)
			}
		}
	}
	return rows
}

func TestRunWritesEveryMetricAndArtifact(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := tr.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := tr.Dir()
	rows := readLines(t, filepath.Join(dir, MetricsFile))
	if len(rows) != 4 {
		t.Fatalf("%d metric lines, want 4", len(rows))
	}
	for _, key := range []string{runlog.KeyStep, runlog.KeyEpoch, runlog.KeyProxyReward, runlog.KeyGroundTruthReward,
		runlog.KeyLabelAccuracy, runlog.KeyRewardAccuracy, runlog.KeyMajorityRatio, runlog.KeyPointBiserial,
		runlog.KeyZeroVariance, runlog.KeyNoAnswer, runlog.KeyEntropy, runlog.KeyResponseLength, runlog.KeyTruncated,
		runlog.KeyKL, runlog.KeyPGLoss, runlog.KeyLoss, runlog.KeyClipFraction, runlog.KeyPPOKL, runlog.KeyGradNorm,
		runlog.KeyLR, runlog.KeySkippedUpdates, runlog.KeyStepSeconds, runlog.KeyTokensPerSecond} {
		if _, ok := rows[3][key]; !ok {
			t.Errorf("metrics.jsonl lacks %s", key)
		}
	}
	val := readLines(t, filepath.Join(dir, ValidationFile))
	var steps []float64
	for _, r := range val {
		steps = append(steps, r["step"].(float64))
		for _, k := range []string{"val/val-mid/avg@4", "val/val-mid/maj@4", "val/val-mid/pass@4", "val/val-mid/pass@2", "val/mean/avg@4"} {
			if _, ok := r[k]; !ok {
				t.Errorf("validation row lacks %s", k)
			}
		}
	}
	if !reflect.DeepEqual(steps, []float64{0, 2, 4}) {
		t.Fatalf("validated at steps %v, want 0 2 4", steps)
	}
	for _, p := range []string{ConfigFile, SummaryFile, BestFile, "checkpoints/step-000002", "checkpoints/step-000004", "checkpoints/best/model.safetensors",
		"samples/step-000002.jsonl", "plots/reward.png", "plots/validation.svg"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("run directory lacks %s", p)
		}
	}
	if sum.Steps != 4 || len(sum.Sets) != 1 || sum.Sets[0].Name != "val-mid" {
		t.Fatalf("summary %+v", sum)
	}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("a second run into the same directory: %v, want a refusal naming --resume", err)
	}
}

func TestResumeGivesIdenticalMetrics(t *testing.T) {
	base := tinyBase(t)
	cfg := tinyConfig(t, base)
	cfg.Trainer.Steps = 5
	full, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := full.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	// A second run is interrupted after step 3; the checkpoint Ctrl-C
	// writes is then deleted, as if the process had been killed, so the
	// resume starts from the step-2 checkpoint and must discard step 3.
	cfg.Trainer.OutDir = t.TempDir()
	part, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, err = part.Run(ctx, func(p Progress) {
		if p.Step == 3 {
			cancel()
		}
	})
	if err == nil || !strings.Contains(err.Error(), "interrupted after step 3") {
		t.Fatalf("interrupted run: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(part.Dir(), CheckpointDir, checkpointName(3))); err != nil {
		t.Fatal(err)
	}
	resumed, err := Resume(part.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	sameLogs(t, full.Dir(), part.Dir())
}

// sameLogs compares the metrics and validation logs of two runs line by
// line, leaving out wall-clock timings.
func sameLogs(t *testing.T, wantDir, gotDir string) {
	t.Helper()
	for _, name := range []string{MetricsFile, ValidationFile} {
		want := withoutTimings(readLines(t, filepath.Join(wantDir, name)))
		got := withoutTimings(readLines(t, filepath.Join(gotDir, name)))
		if len(got) != len(want) {
			t.Fatalf("%s: %d lines after resume, %d uninterrupted", name, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s line %d differs after resume:\n got %v\nwant %v", name, i+1, got[i], want[i])
			}
		}
	}
}

func TestAnswerMaskCoversTheAnswerTokens(t *testing.T) {
	base, err := basemodel.OpenDir(tinyBase(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := &Trainer{policy: base}
	text := "2+3=5\n\\boxed{5}"
	ids := base.Tokenizer.Encode(text)
	mask := tr.answerMask(append(ids, 2), text, "5")
	var got []int
	for i, m := range mask {
		if m {
			got = append(got, i)
		}
	}
	// The answer's last occurrence is the 5 inside \boxed{}: character 13.
	if !reflect.DeepEqual(got, []int{13}) {
		t.Fatalf("answer tokens %v, want [13]", got)
	}
	if m := tr.answerMask(ids, text, ""); slices.Contains(m, true) {
		t.Fatal("no answer must mark no token")
	}
}

func TestResumeWithoutCheckpointStartsOver(t *testing.T) {
	base := tinyBase(t)
	cfg := tinyConfig(t, base)
	cfg.Trainer.Steps = 2
	full, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := full.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	cfg.Trainer.OutDir = t.TempDir()
	part, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := part.Run(ctx, func(Progress) { cancel() }); err == nil {
		t.Fatal("a cancelled run reported success")
	}
	// As if killed before its first checkpoint: the logs of step 0 and 1
	// are there, no checkpoint is.
	if err := os.RemoveAll(filepath.Join(part.Dir(), CheckpointDir)); err != nil {
		t.Fatal(err)
	}
	resumed, err := Resume(part.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	sameLogs(t, full.Dir(), part.Dir())
}

func TestEarlyStopReasons(t *testing.T) {
	det, err := metrics.NewCollapseDetector(metrics.CollapseConfig{Threshold: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	tr := &Trainer{cfg: Default(), collapse: det}
	tr.cfg.EarlyStop.Collapse = true
	tr.cfg.EarlyStop.ValidationDrops = 2
	if _, err := det.Observe(1, 0.5); err != nil {
		t.Fatal(err)
	}
	tr.valMeans = []float64{0.5, 0.4, 0.3}
	if r := tr.earlyStopReason(); r != "" {
		t.Fatalf("early stop off, got %q", r)
	}
	tr.cfg.EarlyStop.Enabled = true
	if r := tr.earlyStopReason(); !strings.Contains(r, "fell for 2 evaluations") {
		t.Fatalf("two falling validations: %q", r)
	}
	tr.valMeans = []float64{0.5, 0.4, 0.45}
	if r := tr.earlyStopReason(); r != "" {
		t.Fatalf("validation recovered, got %q", r)
	}
	if _, err := det.Observe(2, 0.005); err != nil {
		t.Fatal(err)
	}
	if r := tr.earlyStopReason(); !strings.Contains(r, "Model Collapse Step 2") {
		t.Fatalf("collapse: %q", r)
	}
}
