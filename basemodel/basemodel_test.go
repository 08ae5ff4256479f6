package basemodel

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/task/arith"
)

// tinyPrior is a prior small enough to train in a second.
func tinyPrior() arith.Prior {
	return arith.Prior{
		Name: "tiny", Description: "a test prior", Seed: 7,
		Model: arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: 128},
		Stages: []arith.Stage{
			{Name: "pretrain", Epochs: 1, Corpus: arith.CorpusConfig{Examples: 400, Seed: 1,
				Misconceptions: []arith.Rule{{Family: arith.AddCarry, Kind: arith.DropCarry, Rate: 0.9}}}},
			{Name: "sft", Epochs: 0.5, LearningRate: 1e-3, Corpus: arith.CorpusConfig{Examples: 64, Seed: 2}},
		},
	}
}

func tinyOptions() TrainOptions {
	o := DefaultTrainOptions()
	o.BatchSize, o.PeakLR, o.WarmupSteps = 16, 1e-2, 2
	return o
}

func TestPretrainLossFallsAndIsDeterministic(t *testing.T) {
	var losses []float64
	res, err := Pretrain(context.Background(), tinyPrior(), tinyOptions(), func(p Progress) {
		if p.StageIndex == 0 {
			losses = append(losses, p.Loss)
		}
		if p.Done > p.Total || p.TokensPerSec <= 0 {
			t.Errorf("progress %+v", p)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stages) != 2 || res.Stages[0].Steps != 25 || res.Stages[1].Steps != 2 {
		t.Fatalf("stages %+v, want 25 steps (400 documents / 16) and 2 (32 / 16)", res.Stages)
	}
	st := res.Stages[0]
	if st.Documents != 400 || st.WrongDocuments == 0 || st.WrongDocuments > 400/6*2 || st.Characters < 400*30 {
		t.Errorf("corpus description %+v", st)
	}
	first, last := meanOf(losses[:5]), meanOf(losses[len(losses)-5:])
	if !(last < first-0.3) {
		t.Errorf("loss fell from %.3f to only %.3f: %v", first, last, losses)
	}
	again, err := Pretrain(context.Background(), tinyPrior(), tinyOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range res.Model.TensorNames() {
		a, _, _ := res.Model.Tensor(name)
		b, _, _ := again.Model.Tensor(name)
		if !slices.Equal(a, b) {
			t.Fatalf("tensor %s differs between two runs with one seed", name)
		}
	}
}

func TestBuildWritesModelAndManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tiny")
	o := tinyOptions()
	o.MaxSteps = 5
	eo := DefaultEvalOptions()
	eo.N, eo.MaxNewTokens = 2, 12
	mf, err := Build(context.Background(), tinyPrior(), BuildOptions{Dir: dir, Command: "urlvr pretrain --prior tiny", Train: o, Eval: eo})
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if read.Name != "tiny" || read.Command != "urlvr pretrain --prior tiny" || read.Seed != 7 || read.Stages[0].Steps != 5 ||
		read.Eval == nil || len(read.Eval.Sets) != 3 || len(read.Eval.Families) != 6 || read.Params != mf.Params {
		t.Errorf("manifest %+v", read)
	}
	if read.Eval.Sets[0].Problems != 200 || read.Eval.Sets[0].Name != arith.LargeEasy || read.Eval.Families[0].Problems != 40 {
		t.Errorf("eval covers %d validation and %d probe problems per family", read.Eval.Sets[0].Problems, read.Eval.Families[0].Problems)
	}
	m, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "tiny" || m.Manifest == nil || m.Engine.NumParams() != mf.Params {
		t.Errorf("opened %+v", m)
	}
	// A changed weight file no longer matches its manifest.
	path := filepath.Join(dir, "model.safetensors")
	data, _ := os.ReadFile(path)
	data[len(data)-1] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("a corrupted model opened: %v", err)
	}
}

func TestOrderCoversEveryDocumentInSimilarLengths(t *testing.T) {
	docs := make([]document, 100)
	for i := range docs {
		docs[i].tokens = make([]int, 10+i%37)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	batches := order(rng, docs, 2.5, 8)
	count := make([]int, len(docs))
	total := 0
	for _, b := range batches {
		if len(b) > 8 {
			t.Fatalf("batch of %d", len(b))
		}
		for _, j := range b {
			count[j]++
			total++
		}
	}
	if total != 250 {
		t.Fatalf("%d documents in 2.5 epochs of 100", total)
	}
	for j, c := range count {
		if c < 2 || c > 3 {
			t.Fatalf("document %d drawn %d times in 2.5 epochs", j, c)
		}
	}
	// Sorting within groups keeps the padding of a batch small: the mean
	// spread of lengths in a batch is far below the spread overall (36).
	spread := 0
	for _, b := range batches {
		lo, hi := 1000, 0
		for _, j := range b {
			lo, hi = min(lo, len(docs[j].tokens)), max(hi, len(docs[j].tokens))
		}
		spread += hi - lo
	}
	if mean := float64(spread) / float64(len(batches)); mean > 12 {
		t.Errorf("mean length spread in a batch %.1f", mean)
	}
}

func TestGradeSamplesVotes(t *testing.T) {
	// Gold 7; answers 7, 7/1 (the same class), 8, 8, 8, none: the majority
	// (8, three votes) is wrong, pass is 1, two samples are right.
	responses := []string{`\boxed{7}`, `\boxed{7/1}`, `\boxed{8}`, `1+7=8` + "\n" + `\boxed{8}`, `\boxed{8}`, "3+4=7\n7+1=8"}
	st, err := gradeSamples(responses, "7", grade.Default())
	if err != nil {
		t.Fatal(err)
	}
	if st.majority != 0 || st.correct != 2 || st.share != 0.5 || st.noAnswer != 1 {
		t.Errorf("%+v", st)
	}
	// A tie goes to the class seen first: 7 (right).
	st, _ = gradeSamples([]string{`\boxed{7}`, `\boxed{8}`}, "7", grade.Default())
	if st.majority != 1 || st.share != 0.5 {
		t.Errorf("tie: %+v", st)
	}
	r := summarise("s", []problemStats{{greedy: true, majority: 1, share: 1, correct: 4, length: 40}, {majority: 0, share: 0.5, noAnswer: 2, length: 20}}, 4, 1)
	want := SetReport{Name: "s", Problems: 2, Greedy: 0.5, MajAtN: 0.5, PassAtN: 0.5, AvgAtN: 0.5, MajShare: 0.75, MeanLength: 7.5, NoAnswer: 0.25}
	ci := r.CI
	r.CI = nil
	if !reflect.DeepEqual(r, want) {
		t.Errorf("summarise = %+v, want %+v", r, want)
	}
	// Two problems, one right: a resample holds 0, 1 or 2 right ones
	// (probabilities 1/4, 1/2, 1/4), so the 95% interval is [0, 1].
	if ci["greedy"] != [2]float64{0, 1} || len(ci) != 4 {
		t.Errorf("intervals %v, want greedy [0 1]", ci)
	}
}

func TestBootstrapCI(t *testing.T) {
	same := []float64{0.25, 0.25, 0.25}
	if got := bootstrapCI(same, 1); got != [2]float64{0.25, 0.25} {
		t.Errorf("constant values: %v", got)
	}
	// 400 problems, half right: the mean's standard error is
	// sqrt(0.25/400) = 0.025, so the interval is about 0.5 -+ 1.96*0.025.
	half := make([]float64, 400)
	for i := range 200 {
		half[i] = 1
	}
	got := bootstrapCI(half, 1)
	if math.Abs(got[0]-0.451) > 0.012 || math.Abs(got[1]-0.549) > 0.012 {
		t.Errorf("half right of 400: %v, want about [0.451, 0.549]", got)
	}
	if again := bootstrapCI(half, 1); again != got {
		t.Errorf("one seed, two intervals: %v %v", got, again)
	}
}

func TestWriteMarkdown(t *testing.T) {
	rep := &Report{Model: "m", Options: EvalOptions{N: 4, Temperature: 1},
		Sets: []SetReport{{Name: arith.ValEasy, Greedy: 0.5, MajAtN: 0.25, PassAtN: 1, MeanLength: 30}},
		Families: []FamilyReport{
			{Family: arith.AddCarry, Problems: 40, MajAtN: 0.1, WrongMajorityShare: 0.8},
			{Family: arith.NegSub, Problems: 40, MajAtN: 0.9},
		}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, []*Report{rep}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| m | 50% | 25% | 100% | 30.0 |", "| easy greedy | maj@4 | pass@4 | len |", "| m | 10% (80%) | 90% |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestResolveAndOpenErrors(t *testing.T) {
	if Resolve(DefaultAlias) != Default || Resolve("") != Default || Resolve("small") != "small" {
		t.Error("Resolve")
	}
	root := t.TempDir()
	if _, err := OpenIn(root, "missing"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("opening a missing model: %v", err)
	}
	if _, err := OpenIn(root, "../x"); err == nil {
		t.Error("opened a model outside the models directory")
	}
}

// A run stopped after k steps passes through the same steps as the full
// run (same batches, same learning rates, hence the same losses), which is
// what makes a prior's budget a checkpoint of its full run.
func TestStopAfterIsAPrefixOfTheFullRun(t *testing.T) {
	type point struct{ loss, lr float64 }
	run := func(stop int) ([]point, *Result) {
		o := tinyOptions()
		o.StopAfter = stop
		var pts []point
		res, err := Pretrain(context.Background(), tinyPrior(), o, func(p Progress) { pts = append(pts, point{p.Loss, p.LR}) })
		if err != nil {
			t.Fatal(err)
		}
		return pts, res
	}
	full, _ := run(0)
	part, res := run(10)
	if len(full) != 27 || len(part) != 10 {
		t.Fatalf("%d and %d steps, want 27 and 10", len(full), len(part))
	}
	if !slices.Equal(part, full[:10]) {
		t.Errorf("the stopped run's steps differ from the full run's first 10:\n%v\n%v", part, full[:10])
	}
	if len(res.Stages) != 1 || res.Stages[0].Steps != 10 {
		t.Errorf("stages %+v, want the first stage cut to 10 steps", res.Stages)
	}
	// Into the second stage: the first whole, the second cut.
	_, res = run(26)
	if len(res.Stages) != 2 || res.Stages[0].Steps != 25 || res.Stages[1].Steps != 1 {
		t.Errorf("stages %+v, want 25 and 1 steps", res.Stages)
	}
}

func TestStageStepsCountsOrderBatches(t *testing.T) {
	docs := make([]document, 1000)
	for i := range docs {
		docs[i] = document{tokens: make([]int, 1+i%7)}
	}
	for _, c := range []struct {
		n      int
		epochs float64
		batch  int
	}{{1000, 1, 32}, {1000, 0.5, 16}, {700, 2.3, 32}, {1000, 4, 7}, {10, 1, 32}} {
		got := StageSteps(c.n, c.epochs, c.batch, 0)
		want := len(order(rand.New(rand.NewPCG(1, 2)), docs[:c.n], c.epochs, c.batch))
		if got != want {
			t.Errorf("StageSteps(%d, %g, %d) = %d, order makes %d batches", c.n, c.epochs, c.batch, got, want)
		}
	}
	if got := StageSteps(1000, 1, 32, 5); got != 5 {
		t.Errorf("StageSteps with max 5 = %d", got)
	}
}

func TestBudgetSplitsTheRun(t *testing.T) {
	p := tinyPrior() // foundation 16*400 = 6400 docs: 400 steps at batch 16; stages 25 + 2; 0.99*427 = 422.7
	o := tinyOptions()
	for _, c := range []struct {
		budget            float64
		foundStop, stStop int
	}{{0, 0, 0}, {1, 0, 0}, {0.5, 214, -1}, {0.99, 0, 23}} {
		p.Budget = c.budget
		f, s, err := budgetSteps(p, o)
		if err != nil || f.StopAfter != c.foundStop || s.StopAfter != c.stStop {
			t.Errorf("budget %g: foundation stop %d, stages stop %d, %v; want %d, %d", c.budget, f.StopAfter, s.StopAfter, err, c.foundStop, c.stStop)
		}
	}
}

// A prior continuing another prior of the same build is built after it,
// from the model just written.
func TestBuildSuiteContinuesAPriorOfTheBuild(t *testing.T) {
	parent := tinyPrior()
	child := tinyPrior()
	child.Name, child.From = "tiny-sft", "tiny"
	child.Stages = child.Stages[1:]
	o := tinyOptions()
	o.MaxSteps = 3
	out := t.TempDir()
	mfs, err := BuildSuite(context.Background(), []arith.Prior{child, parent}, SuiteOptions{
		Out: out, Jobs: 2, Build: BuildOptions{Train: o, SkipEval: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 2 || mfs[0].Name != "tiny-sft" || mfs[1].Name != "tiny" {
		t.Fatalf("manifests %v", mfs)
	}
	if mfs[0].From == nil || !reflect.DeepEqual(mfs[0].From.Files, mfs[1].Files) {
		t.Errorf("tiny-sft continued %+v, tiny's files are %v", mfs[0].From, mfs[1].Files)
	}
	if _, err := OpenDir(filepath.Join(out, "tiny-sft")); err != nil {
		t.Error(err)
	}
}

// The cache of embedded models is keyed on every model's manifest: a
// binary that rebuilt any one model, not only the default, must not read
// the copy another binary left.
func TestEmbeddedKeyCoversEveryModel(t *testing.T) {
	fsys := fstest.MapFS{
		"mild/manifest.json":               {Data: []byte(`{"name":"mild"}`)},
		"countdown-base/manifest.json":     {Data: []byte(`{"name":"countdown-base","files":{"model.safetensors":"aa"}}`)},
		"countdown-base/model.safetensors": {Data: []byte("weights")},
	}
	before, err := embeddedKey(fsys)
	if err != nil {
		t.Fatal(err)
	}
	fsys["countdown-base/manifest.json"] = &fstest.MapFile{Data: []byte(`{"name":"countdown-base","files":{"model.safetensors":"bb"}}`)}
	after, err := embeddedKey(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Error("rebuilding a model other than the default leaves the cache key unchanged")
	}
	if again, _ := embeddedKey(fsys); again != after {
		t.Error("the key is not a function of the manifests")
	}
	delete(fsys, "countdown-base/manifest.json")
	if _, err := embeddedKey(fsys); err == nil || !strings.Contains(err.Error(), "countdown-base") {
		t.Errorf("a model without a manifest: %v", err)
	}
}
