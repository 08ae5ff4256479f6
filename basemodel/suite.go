package basemodel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/task/arith"
)

// Default is the name of the base model a trainer starts from when its
// recipe names none: a mid-strength prior whose majority is right on
// roughly half the easy and medium validation problems and whose samples
// at T=1 still disagree, so that RL with ground-truth reward has room to
// raise accuracy and majority-vote training has room to collapse.
const Default = "mild"

// DefaultAlias is the name recipes use for Default.
const DefaultAlias = "base"

// ModelsEnv names the environment variable that overrides where the
// shipped models are looked for.
const ModelsEnv = "URLVR_MODELS"

// BuildOptions configure Build.
type BuildOptions struct {
	// Dir is the model directory to write (replaced if it holds a model).
	Dir string
	// Command is recorded in the manifest as the command that made the
	// model.
	Command string
	Train   TrainOptions
	Eval    EvalOptions
	// CountdownEval measures a Countdown world's model (its zero value:
	// DefaultCountdownEvalOptions).
	CountdownEval CountdownEvalOptions
	// SkipEval leaves the manifest without measurements.
	SkipEval bool
	// Foundations supplies the prior's foundation (nil: a private store,
	// so the foundation is trained here).
	Foundations *Foundations
	// ModelsRoot is where a prior's From model is looked for (empty:
	// Root, the shipped models).
	ModelsRoot string
	Progress   func(Progress)
}

// Build pretrains the prior's model, saves it with its tokenizer to
// o.Dir, evaluates the saved model, and writes its manifest.
func Build(ctx context.Context, prior arith.Prior, o BuildOptions) (*Manifest, error) {
	if o.Dir == "" {
		return nil, errors.New("build: no output directory")
	}
	if err := prior.Validate(); err != nil {
		return nil, err
	}
	store := o.Foundations
	if store == nil {
		store = &Foundations{}
	}
	var (
		res    *Result
		rec    FoundationRecord
		parent *Parent
	)
	if prior.From != "" {
		p, err := o.parent(prior)
		if err != nil {
			return nil, err
		}
		if p.Manifest.Foundation != nil {
			rec = *p.Manifest.Foundation
		}
		parent = &Parent{Name: p.Manifest.Name, Files: p.Manifest.Files}
		if res, err = PretrainFrom(ctx, p.Engine, prior, o.Train, o.Progress); err != nil {
			return nil, err
		}
	} else if prior.IsCountdown() {
		// The Countdown world has no foundation: the prior's stages are
		// its whole pretraining, from a fresh initialisation.
		var err error
		if res, err = Pretrain(ctx, prior, o.Train, o.Progress); err != nil {
			return nil, err
		}
	} else {
		found := FoundationOf(prior)
		foundTrain, stagesTrain, err := budgetSteps(prior, o.Train)
		if err != nil {
			return nil, err
		}
		base, frec, err := store.Get(ctx, found, foundTrain, o.Progress)
		if err != nil {
			return nil, fmt.Errorf("prior %s: foundation: %w", prior.Name, err)
		}
		rec = frec
		if stagesTrain.StopAfter < 0 {
			// The budget ends inside the foundation: the model is the
			// foundation's checkpoint, before any of the prior's stages.
			tok, err := NewTokenizer()
			if err != nil {
				return nil, err
			}
			res = &Result{Model: base, Tokenizer: tok}
		} else if res, err = PretrainFrom(ctx, base, prior, stagesTrain, o.Progress); err != nil {
			return nil, err
		}
	}
	tokJSON, err := res.Tokenizer.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if err := engine.SaveCheckpoint(o.Dir, engine.Checkpoint{Model: res.Model, Files: map[string][]byte{tokenizer.FileName: tokJSON}}); err != nil {
		return nil, err
	}
	files, err := HashFiles(o.Dir)
	if err != nil {
		return nil, err
	}
	mf := &Manifest{
		Name: prior.Name, Description: prior.Description, Command: o.Command, Seed: prior.Seed,
		Prior: prior, Train: o.Train, Alphabet: AlphabetOf(prior), VocabSize: res.Tokenizer.VocabSize(),
		Params: res.Model.NumParams(), Stages: res.Stages, FinalLoss: res.FinalLoss(),
		TrainSeconds: res.Seconds, Machine: machine(), Files: files, Foundation: &rec, From: parent,
	}
	if prior.IsCountdown() {
		mf.Foundation = nil
	}
	if !o.SkipEval && prior.IsCountdown() {
		m, err := OpenDir(o.Dir)
		if err != nil {
			return nil, err
		}
		m.Name = prior.Name
		if mf.Countdown, err = EvaluateCountdown(ctx, m, o.CountdownEval); err != nil {
			return nil, err
		}
	} else if !o.SkipEval {
		m, err := OpenDir(o.Dir)
		if err != nil {
			return nil, err
		}
		m.Name = prior.Name
		if mf.Eval, err = Evaluate(ctx, m, o.Eval); err != nil {
			return nil, err
		}
	}
	if len(res.Stages) == 0 {
		mf.FinalLoss = rec.Stage.FinalLoss
	}
	if err := WriteManifest(o.Dir, mf); err != nil {
		return nil, err
	}
	return mf, nil
}

// parent opens the shipped model a prior continues and checks that it has
// the prior's shape.
func (o BuildOptions) parent(prior arith.Prior) (*Model, error) {
	root := o.ModelsRoot
	if root == "" {
		var err error
		if root, err = Root(); err != nil {
			return nil, err
		}
	}
	m, err := OpenIn(root, prior.From)
	if err != nil {
		return nil, fmt.Errorf("prior %s continues %s: %w", prior.Name, prior.From, err)
	}
	if m.Manifest == nil {
		return nil, fmt.Errorf("prior %s continues %s, which has no manifest to check its files against", prior.Name, prior.From)
	}
	if m.Manifest.Prior.Model != prior.Model {
		return nil, fmt.Errorf("prior %s has model %+v, but %s is %+v", prior.Name, prior.Model, prior.From, m.Manifest.Prior.Model)
	}
	return m, nil
}

// budgetSteps splits a prior's budget into the training options of its
// foundation and of its stages. Without a budget both are o. With one,
// the run (foundation steps, then stage steps) stops after
// round(budget·total) steps: if that falls inside the foundation, the
// foundation stops there and the stages' options carry StopAfter -1 (no
// stage is trained); otherwise the stages stop after what is left.
func budgetSteps(p arith.Prior, o TrainOptions) (found, stages TrainOptions, err error) {
	found, stages = o, o
	if p.Budget <= 0 || p.Budget >= 1 {
		return found, stages, nil
	}
	if o.StopAfter != 0 {
		return found, stages, fmt.Errorf("prior %s: a budget and a step limit cannot be combined", p.Name)
	}
	f := FoundationOf(p)
	fSteps := StageSteps(f.Examples, 1, o.BatchSize, o.MaxSteps)
	total := fSteps
	for _, st := range p.Stages {
		total += StageSteps(st.Corpus.Examples, st.Epochs, o.BatchSize, o.MaxSteps)
	}
	k := max(1, int(math.Round(p.Budget*float64(total))))
	if k <= fSteps {
		found.StopAfter = k
		stages.StopAfter = -1
		return found, stages, nil
	}
	stages.StopAfter = k - fSteps
	return found, stages, nil
}

// OpenDir loads the model in dir: its weights, tokenizer and, when
// present, manifest (whose file hashes must then match).
func OpenDir(dir string) (*Model, error) {
	// The manifest's hashes are checked before anything is loaded, so a
	// missing or altered file is named as such.
	mf, err := ReadManifest(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		mf = nil
	case err != nil:
		return nil, err
	default:
		if err := mf.CheckFiles(dir); err != nil {
			return nil, err
		}
	}
	em, err := engine.Load(dir)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	if tok.VocabSize() > em.Config().VocabSize {
		return nil, fmt.Errorf("%s: the tokenizer has %d tokens, the model's embedding %d", dir, tok.VocabSize(), em.Config().VocabSize)
	}
	m := &Model{Name: filepath.Base(dir), Dir: dir, Engine: em, Tokenizer: tok}
	if mf != nil {
		m.Manifest, m.Name = mf, mf.Name
	}
	if len(m.StopTokens()) == 0 {
		return nil, fmt.Errorf("%s: config.json names no eos_token_id to end a response", dir)
	}
	return m, nil
}

// ModelsDir finds the directory of shipped models: $URLVR_MODELS when set,
// else the models directory of the urlvr checkout that holds the working
// directory or the executable.
func ModelsDir() (string, error) {
	if d := os.Getenv(ModelsEnv); d != "" {
		return d, nil
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for {
			if isModelsRoot(dir) {
				return filepath.Join(dir, "models"), nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("no models directory found above the working directory or the executable; set %s", ModelsEnv)
}

// isModelsRoot reports whether dir is a urlvr checkout with a models
// directory.
func isModelsRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil || !slices.Equal(firstLine(data), []byte("module github.com/urlvr/urlvr")) {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, "models"))
	return err == nil && st.IsDir()
}

func firstLine(b []byte) []byte {
	for i, c := range b {
		if c == '\n' {
			return b[:i]
		}
	}
	return b
}

// Resolve maps DefaultAlias to Default and returns other names unchanged.
func Resolve(name string) string {
	if name == DefaultAlias || name == "" {
		return Default
	}
	return name
}

// OpenNamed opens what a recipe's model.base names: a model of the shipped
// suite by name ("mild", "base"), or a model or checkpoint directory by path
// (any name with a path separator, such as ./mine or
// runs/x/checkpoints/best, and "." or "..").
func OpenNamed(name string) (*Model, error) {
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return OpenDir(name)
	}
	return Open(name)
}

// Root returns the directory of the shipped models: ModelsDir or, outside a
// checkout, the copies embedded in the binary (package models).
func Root() (string, error) {
	root, err := ModelsDir()
	if err == nil {
		return root, nil
	}
	root, embErr := embeddedRoot()
	if embErr != nil {
		return "", fmt.Errorf("%w; %w", err, embErr)
	}
	return root, nil
}

// Open loads the shipped model called name (DefaultAlias or "" for
// Default) from Root.
func Open(name string) (*Model, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	return OpenIn(root, name)
}

// OpenIn loads the model called name from the models directory root.
func OpenIn(root, name string) (*Model, error) {
	name = Resolve(name)
	dir := filepath.Join(root, name)
	if name != filepath.Base(name) || name == "." || name == ".." {
		return nil, fmt.Errorf("model name %q is not a plain name", name)
	}
	if _, err := os.Stat(dir); err != nil {
		names, _ := List(root)
		return nil, fmt.Errorf("no base model %q in %s (have %v): %w", name, root, names, err)
	}
	return OpenDir(dir)
}

// List returns the names of the models in root (directories with a
// config.json), in the order of the built-in priors, then by name.
func List(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(root, e.Name(), "config.json")); e.IsDir() && err == nil {
			names = append(names, e.Name())
		}
	}
	rank := map[string]int{}
	if ps, err := arith.Priors(); err == nil {
		for i, p := range ps {
			rank[p.Name] = i + 1
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		ra, rb := rank[a], rank[b]
		if ra == 0 {
			ra = len(rank) + 1
		}
		if rb == 0 {
			rb = len(rank) + 1
		}
		if ra != rb {
			return ra - rb
		}
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
		return 0
	})
	return names, nil
}

// Shipped returns the names of the shipped base models in the suite's
// order: those of the checkout's models directory (or $URLVR_MODELS), else
// those embedded in the binary.
func Shipped() ([]string, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	names, err := List(root)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no base models in %s", root)
	}
	return names, nil
}

// Label names a base model in a study or a table: the suite name
// (DefaultAlias is resolved to Default) or, for a model directory, its
// base name.
func Label(model string) string {
	if strings.ContainsAny(model, `/\`) || model == "." || model == ".." {
		return filepath.Base(filepath.Clean(model))
	}
	return Resolve(model)
}
