package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
)

// Two fresh runs of the same name started at the same instant: exactly one
// may create the run; the other is refused and writes nothing.
func TestSimultaneousFreshRunsHaveOneWinner(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	for trial := range 20 {
		cfg.Name = fmt.Sprintf("dup%d", trial)
		var wg sync.WaitGroup
		start := make(chan struct{})
		runs := make([]*run, 4)
		errs := make([]error, 4)
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				runs[i], errs[i] = createRun(cfg)
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, r := range runs {
			if errs[i] == nil {
				won++
				defer r.Close()
				continue
			}
			if !errors.Is(errs[i], ErrRunInUse) && !strings.Contains(errs[i].Error(), "already holds a run") {
				t.Errorf("trial %d: a losing run failed with %v, want in use or already a run", trial, errs[i])
			}
		}
		if won != 1 {
			t.Fatalf("trial %d: %d of 4 simultaneous runs were created, want exactly 1", trial, won)
		}
	}
}

// A resume of a run that is still being written fails at once, naming the
// writer's process, and touches nothing; after the run ends it works.
func TestResumeOfARunningRunIsRefused(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Trainer.Steps = 2
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Resume(tr.Dir(), []string{"trainer.steps=3"})
	var inUse *RunInUseError
	if !errors.As(err, &inUse) || inUse.PID != os.Getpid() || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) {
		t.Fatalf("resume of a running run: %v, want a refusal naming process %d", err, os.Getpid())
	}
	if _, err := New(cfg); !errors.Is(err, ErrRunInUse) {
		t.Fatalf("a fresh run into a running one: %v, want in use", err)
	}
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if rows := readLines(t, filepath.Join(tr.Dir(), MetricsFile)); len(rows) != 2 {
		t.Fatalf("%d metric lines, want 2: the refused writers must not have logged", len(rows))
	}
	cfgYAML, _ := os.ReadFile(filepath.Join(tr.Dir(), ConfigFile))
	if strings.Contains(string(cfgYAML), "steps: 3") {
		t.Fatal("the refused resume rewrote config.yaml")
	}
	again, err := Resume(tr.Dir(), nil)
	if err != nil {
		t.Fatalf("resume after the run ended: %v", err)
	}
	again.run.Close()
}

// A resume whose overrides fail leaves config.yaml byte for byte as it
// was, so a later plain resume trains with the run's own settings.
func TestFailedResumeKeepsTheConfig(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Trainer.Steps = 2
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tr.Dir(), ConfigFile)
	before, _ := os.ReadFile(path)
	for _, set := range [][]string{
		{"data.subset=3", "trainer.steps=4"}, // the checkpoint ordered another number of problems
		{"rollout.n=100000000"},              // refused by the memory check
		{"rollout.n=0"},                      // invalid
	} {
		if _, err := Resume(tr.Dir(), set); err == nil {
			t.Fatalf("resume --set %v succeeded", set)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Fatalf("a failed resume with --set %v rewrote config.yaml:\n%s", set, after)
		}
	}
	r, err := Resume(tr.Dir(), []string{"trainer.steps=3"})
	if err != nil {
		t.Fatal(err)
	}
	r.run.Close()
	if after, _ := os.ReadFile(path); !strings.Contains(string(after), "steps: 3") {
		t.Fatal("a successful resume did not record its override")
	}
}

// A damaged last checkpoint makes the resume fall back to the one before,
// record it in events.jsonl and move the damaged one aside; the run then
// writes what an uninterrupted one does.
func TestResumeFallsBackFromAnUnreadableCheckpoint(t *testing.T) {
	base := tinyBase(t)
	cfg := tinyConfig(t, base)
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
	if _, err := part.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// Tear the weights of the last checkpoint, as a disk fault would.
	weights := filepath.Join(part.Dir(), CheckpointDir, checkpointName(4), "model.safetensors")
	b, err := os.ReadFile(weights)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(weights, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	resumed, err := Resume(part.Dir(), nil)
	if err != nil {
		t.Fatalf("resume with a torn last checkpoint: %v", err)
	}
	if resumed.st.Step != 2 {
		t.Fatalf("resumed at step %d, want the step-2 checkpoint", resumed.st.Step)
	}
	if _, err := resumed.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	sameLogs(t, full.Dir(), part.Dir())
	var fell bool
	for _, e := range readLines(t, filepath.Join(part.Dir(), EventsFile)) {
		if e["event"] == "checkpoint_fallback" && e["unreadable_checkpoint"] == 4.0 && e["from_checkpoint"] == 2.0 {
			fell = true
		}
	}
	if !fell {
		t.Fatal("events.jsonl does not record the fallback from step 4 to step 2")
	}
	if _, err := os.Stat(filepath.Join(part.Dir(), CheckpointDir, "unreadable-"+checkpointName(4), "model.safetensors")); err != nil {
		t.Fatalf("the unreadable checkpoint was not kept aside: %v", err)
	}
}

// The README's promise: after a resume, metrics.jsonl differs from the
// uninterrupted run's only in the perf/* timings, and validation.jsonl and
// the sample files are identical byte for byte.
func TestResumedRunDiffersOnlyInTimings(t *testing.T) {
	base := tinyBase(t)
	cfg := tinyConfig(t, base)
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
	part.Run(ctx, func(p Progress) {
		if p.Step == 3 {
			cancel()
		}
	})
	os.RemoveAll(filepath.Join(part.Dir(), CheckpointDir, checkpointName(3)))
	resumed, err := Resume(part.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumed.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ValidationFile, filepath.Join(SamplesDir, "step-000002.jsonl"), filepath.Join(SamplesDir, "step-000004.jsonl")} {
		want, _ := os.ReadFile(filepath.Join(full.Dir(), name))
		got, _ := os.ReadFile(filepath.Join(part.Dir(), name))
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("%s differs after resume", name)
		}
	}
	want := readLines(t, filepath.Join(full.Dir(), MetricsFile))
	got := readLines(t, filepath.Join(part.Dir(), MetricsFile))
	for i := range want {
		for k, v := range want[i] {
			if !strings.HasPrefix(k, "perf/") && !jsonEqual(v, got[i][k]) {
				t.Errorf("metrics line %d: %s = %v after resume, %v uninterrupted", i+1, k, got[i][k], v)
			}
		}
		if len(got[i]) != len(want[i]) {
			t.Errorf("metrics line %d has %d keys after resume, %d uninterrupted", i+1, len(got[i]), len(want[i]))
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// checkpoints/best is replaced without a moment in which it is missing: a
// reader opening it while it is replaced again and again always finds a
// whole checkpoint.
func TestBestCheckpointIsNeverMissing(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.run.Close()
	best := filepath.Join(tr.Dir(), CheckpointDir, bestLink)
	if err := tr.writeBestCheckpoint(); err != nil {
		t.Fatal(err)
	}
	// What a process killed in the middle of saving leaves behind.
	for _, junk := range []string{"best-step-000099", ".best-step-000099.tmp-123"} {
		if err := os.MkdirAll(filepath.Join(tr.Dir(), CheckpointDir, junk), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	var misses, reads int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			reads++
			if _, err := os.ReadFile(filepath.Join(best, "config.json")); err != nil {
				misses++
			}
		}
	}()
	for step := range 40 {
		tr.st.Step = step % 3 // the same step again, as after a resume
		if err := tr.writeBestCheckpoint(); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if misses > 0 {
		t.Fatalf("checkpoints/best was missing in %d of %d reads", misses, reads)
	}
	t.Logf("%d reads of checkpoints/best during 40 replacements", reads)
	if _, err := engine.Load(best); err != nil {
		t.Fatalf("loading the best checkpoint: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(tr.Dir(), CheckpointDir))
	var targets []string
	for _, e := range entries {
		if strings.HasPrefix(strings.TrimPrefix(e.Name(), "."), bestTargetPrefix) {
			targets = append(targets, e.Name())
		}
	}
	if len(targets) != 2 {
		t.Fatalf("best checkpoints kept: %v, want the current one and the one it replaced", targets)
	}
}

// A best checkpoint left as a plain directory by an earlier version is
// replaced by the link.
func TestBestCheckpointReplacesALegacyDirectory(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.run.Close()
	best := filepath.Join(tr.Dir(), CheckpointDir, bestLink)
	if err := tr.policy.Engine.Save(best); err != nil {
		t.Fatal(err)
	}
	if err := tr.writeBestCheckpoint(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(best); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("checkpoints/best: %v %v, want a link", fi, err)
	}
	if _, err := engine.Load(best); err != nil {
		t.Fatal(err)
	}
}

// hubDAPO writes a DAPO-17k record in the Hugging Face layout (prompt as a
// chat, answer under reward_model.ground_truth) with the given question.
func hubDAPO(t *testing.T, questions ...string) string {
	t.Helper()
	var b bytes.Buffer
	for i, q := range questions {
		rec := map[string]any{
			"data_source": "math_dapo", "ability": "MATH",
			"prompt":       []map[string]string{{"role": "user", "content": q}},
			"reward_model": map[string]string{"ground_truth": "34", "style": "rule-lighteval/MATH_v2"},
			"extra_info":   map[string]string{"index": strconv.Itoa(i)},
		}
		line, _ := json.Marshal(rec)
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "dapo.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A validation set whose prompts are all longer than the model's context
// is refused before the run directory exists, and the error names the
// context, not max_prompt_length, when the context is the binding limit.
func TestValidationSetWithNoUsablePromptIsRefused(t *testing.T) {
	long := strings.Repeat("In triangle ABC, sin A = 4/5 and A < 90. Find k + m. ", 6)
	dapo := hubDAPO(t, long, long+"?")
	for _, tc := range []struct {
		maxPrompt int
		want      string
	}{
		{400, "the model's context of 64 positions (rollout.max_prompt_length is 400) allows at most 63"},
		{40, "rollout.max_prompt_length allows at most 40"},
	} {
		cfg := tinyConfig(t, tinyBase(t))
		cfg.Data.Validation = []string{dapo}
		cfg.Rollout.MaxPromptLength = tc.maxPrompt
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "data.validation") {
			t.Fatalf("max_prompt_length %d: %v, want an error naming %q", tc.maxPrompt, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(cfg.Trainer.OutDir, cfg.Name)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the refused run left its directory: %v", err)
		}
	}
}

// A Hub-layout DAPO validation set of which only some prompts fit trains,
// records the dropped count, and leaves only valid JSON without NaN, a
// best.json and a whole best checkpoint.
func TestPartlyTooLongValidationSetWritesOnlyFiniteJSON(t *testing.T) {
	long := strings.Repeat("In triangle ABC, sin A = 4/5 and A < 90. Find k + m. ", 6)
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Data.Validation = []string{hubDAPO(t, long, "What is 2+3?")}
	cfg.Trainer.Steps = 2
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	dir := tr.Dir()
	var dropped bool
	for _, e := range readLines(t, filepath.Join(dir, EventsFile)) {
		if e["event"] == "prompts_dropped" && e["dropped"] == 1.0 && e["of"] == 2.0 {
			dropped = true
		}
	}
	if !dropped {
		t.Error("events.jsonl does not count the dropped prompt")
	}
	if _, err := engine.Load(filepath.Join(dir, CheckpointDir, bestLink)); err != nil {
		t.Fatalf("best checkpoint: %v", err)
	}
	assertCleanJSON(t, dir)
}

// assertCleanJSON checks that every .json and .jsonl file under dir parses
// and that no number in them is NaN or infinite.
func assertCleanJSON(t *testing.T, dir string) {
	t.Helper()
	seen := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl")) {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Error(err)
			return nil
		}
		seen++
		if i := bytes.Index(b, []byte("NaN")); i >= 0 {
			t.Errorf("%s holds a non-finite number: %s", path, b[max(0, i-200):min(len(b), i+50)])
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Errorf("%s: %v", path, err)
				break
			}
		}
		return nil
	})
	if seen < 3 {
		t.Fatalf("only %d JSON files under %s", seen, dir)
	}
}

// optim.lr=1e10 breaks the policy at its first update: the run stops at
// once with an error naming optim.lr, the update is undone (the weights and
// optimiser are those of the start) and events.jsonl records it.
func TestDivergingUpdateIsUndoneAndNamesTheLearningRate(t *testing.T) {
	base := tinyBase(t)
	cfg := tinyConfig(t, base)
	cfg.Optim.LR = 1e10
	cfg.Eval.Every = 0
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Run(context.Background(), nil)
	var div *DivergedError
	if !errors.As(err, &div) || !strings.Contains(err.Error(), "optim.lr (1e+10)") || div.OptimizerStep != 1 {
		t.Fatalf("run with optim.lr=1e10: %v, want a divergence at update 1 naming optim.lr", err)
	}
	if tr.et.Optimizer().Steps() != 0 {
		t.Fatalf("optimiser at step %d after the undo, want 0", tr.et.Optimizer().Steps())
	}
	start, err := basemodel.OpenDir(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range start.Engine.TensorNames() {
		want, _, _ := start.Engine.Tensor(name)
		got, _, _ := tr.policy.Engine.Tensor(name)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s[%d] = %v after the undo, want the starting %v", name, i, got[i], want[i])
			}
		}
	}
	var logged bool
	for _, e := range readLines(t, filepath.Join(tr.Dir(), EventsFile)) {
		logged = logged || e["event"] == "diverged"
	}
	if !logged {
		t.Fatal("events.jsonl does not record the divergence")
	}
	assertCleanJSON(t, tr.Dir())
}

// A step whose rollouts need far more memory than the machine has is
// refused with the estimate before the run directory is created.
func TestHugeRolloutCountIsRefusedBeforeTheRunExists(t *testing.T) {
	if _, _, ok := availableMemory(); !ok {
		t.Skip("no way to read the available memory here")
	}
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Rollout.N = 100000000
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "rollout.n=100000000") || !strings.Contains(err.Error(), "available") ||
		!strings.Contains(err.Error(), "lower rollout.n or trainer.global_batch") {
		t.Fatalf("rollout.n=1e8: %v, want a refusal with the memory figure", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Trainer.OutDir, cfg.Name)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the refused run left its directory: %v", err)
	}
	cfg.Rollout.N = 4
	cfg.Eval.N = 1 << 40
	cfg.Eval.PassK = nil
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "lower eval.n") {
		t.Fatalf("eval.n=2^40: %v, want a refusal naming eval.n", err)
	}
}

func TestEstimateMemoryCountsTheLargestBatch(t *testing.T) {
	cfg := Default()
	cfg.Trainer.GlobalBatch, cfg.Rollout.N, cfg.Eval.N = 4, 3, 5
	mc := engine.Config{HiddenSize: 8, IntermediateSize: 16, NumLayers: 1, NumHeads: 2, NumKVHeads: 2, HeadDim: 4, MaxPositions: 10}
	est := estimateMemory(cfg, mc, 100, 6, 4, []int{2})
	if est.sequences != 12 || est.seqTokens != 10 || !strings.HasPrefix(est.setting, "rollout.n=3") {
		t.Fatalf("training batch: %+v, want 4×3 sequences of 6+4 tokens", est)
	}
	if want := perSeqBytes + 10*perTokenBytes; est.perSeq != want {
		t.Fatalf("bytes per sequence %v, want %v", est.perSeq, want)
	}
	// Fixed part by hand: 8 copies of 100 float32 parameters; two sets of
	// activations of 64×10 rows of (1 layer × (8·8 + 3·16 + 2·(8+2·8) +
	// 2·10) + 8·8 + 3·16) float32; a key/value cache of 2·1·512·10·8
	// float32.
	want := 4*8*100.0 + 2*4*640*(64+48+48+20+64+48) + 4*2*512*10*8
	if est.fixed != want {
		t.Fatalf("fixed memory %v, want %v", est.fixed, want)
	}
	est = estimateMemory(cfg, mc, 100, 6, 4, []int{2, 7})
	if est.sequences != 35 || !strings.HasPrefix(est.setting, "eval.n=5 × 7") {
		t.Fatalf("validation batch of 7×5 is the largest: %+v", est)
	}
	if got := formatBytes(3 * 1024 * 1024 * 1024); got != "3.0 GiB" {
		t.Fatalf("formatBytes = %q", got)
	}
	if kb, ok := meminfoField([]byte("MemTotal:  100 kB\nMemAvailable:   2048 kB\n"), "MemAvailable"); !ok || kb != 2048 {
		t.Fatalf("MemAvailable = %d %v", kb, ok)
	}
}

// Validation draws from its own generator and never touches the policy, so
// how often a run validates changes nothing it trains: the training rows
// and the final validation are the same whether the run validates every
// step or only at the start and the end. The Model Collapse Step study
// relies on it to validate its one-epoch runs sparsely.
func TestValidationFrequencyDoesNotChangeTraining(t *testing.T) {
	base := tinyBase(t)
	run := func(every int) (metrics, validation []map[string]any) {
		cfg := tinyConfig(t, base)
		cfg.Eval.Every = every
		tr, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		return withoutTimings(readLines(t, filepath.Join(tr.Dir(), MetricsFile))), readLines(t, filepath.Join(tr.Dir(), ValidationFile))
	}
	denseMetrics, dense := run(1)
	sparseMetrics, sparse := run(100)
	if len(dense) != 5 || len(sparse) != 2 {
		t.Fatalf("%d and %d validations, want 5 (every step of 4) and 2 (start and end)", len(dense), len(sparse))
	}
	if !jsonEqual(denseMetrics, sparseMetrics) {
		t.Errorf("training rows differ between validating every step and only at the ends")
	}
	for i, pair := range [][2]map[string]any{{dense[0], sparse[0]}, {dense[4], sparse[1]}} {
		if !jsonEqual(pair[0], pair[1]) {
			t.Errorf("validation %d differs: every step %v, ends only %v", i, pair[0], pair[1])
		}
	}
}
