package arith

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/urlvr/urlvr/task/countdown"
)

// ModelShape is the size of a base model, in Hugging Face config.json names.
type ModelShape struct {
	HiddenSize       int `yaml:"hidden_size" json:"hidden_size"`
	NumLayers        int `yaml:"num_hidden_layers" json:"num_hidden_layers"`
	NumHeads         int `yaml:"num_attention_heads" json:"num_attention_heads"`
	IntermediateSize int `yaml:"intermediate_size" json:"intermediate_size"`
	MaxPositions     int `yaml:"max_position_embeddings" json:"max_position_embeddings"`
}

// Stage is one training stage of a prior: Epochs passes over the corpus.
type Stage struct {
	Name   string       `yaml:"name" json:"name"`
	Corpus CorpusConfig `yaml:"corpus" json:"corpus"`
	Epochs float64      `yaml:"epochs" json:"epochs"`
	// LearningRate overrides the pretrain command's default when non-zero.
	LearningRate float64 `yaml:"lr,omitempty" json:"lr,omitempty"`
	// Countdown is the stage's corpus in the Countdown world (a prior
	// with world: countdown), which has no arithmetic corpus.
	Countdown *countdown.CorpusConfig `yaml:"countdown,omitempty" json:"countdown,omitempty"`
}

// Prior is the recipe of one base model: its size, the seed of its
// initialisation and data order, and the stages it is trained through.
type Prior struct {
	Name        string     `yaml:"name" json:"name"`
	Description string     `yaml:"description" json:"description"`
	Seed        uint64     `yaml:"seed" json:"seed"`
	Model       ModelShape `yaml:"model" json:"model"`
	Stages      []Stage    `yaml:"stages" json:"stages"`
	// WrongOn lists the families where the prior is meant to be
	// confidently wrong.
	WrongOn []Family `yaml:"wrong_on,omitempty" json:"wrong_on,omitempty"`
	// Budget, when in (0, 1), makes the model the checkpoint its full
	// pretraining run (foundation, then stages) passes through after that
	// fraction of the run's optimiser steps, with the full run's
	// learning-rate schedules: priors that differ only in budget are
	// checkpoints of one run. 0 (or 1) is the whole run.
	Budget float64 `yaml:"budget,omitempty" json:"budget,omitempty"`
	// From names a shipped base model this prior continues: its stages
	// train a copy of that model (whose files must match its manifest)
	// instead of a foundation, as an aligned model is made from a released
	// base checkpoint. Model must be that model's shape.
	From string `yaml:"from,omitempty" json:"from,omitempty"`
	// World is the world the model is pretrained on: "" for arithmetic
	// (this package's corpus) or WorldCountdown, whose stages read
	// Countdown corpora (solving and verifying, package countdown) with
	// the Countdown tokenizer and no foundation.
	World string `yaml:"world,omitempty" json:"world,omitempty"`
	// NumberTokens gives a Countdown model one token per two-digit number
	// (countdown.NumberTexts) besides its characters and phrases.
	NumberTokens bool `yaml:"number_tokens,omitempty" json:"number_tokens,omitempty"`
}

// WorldCountdown names the Countdown world in a prior's world key.
const WorldCountdown = "countdown"

// IsCountdown reports whether the prior's model is of the Countdown world.
func (p Prior) IsCountdown() bool { return p.World == WorldCountdown }

// Limits on a prior's sizes: beyond them a model or corpus could not be
// trained on the machines urlvr is for, and a typo (an extra zero) is far
// likelier than intent.
const (
	MaxHiddenSize   = 4096
	MaxLayers       = 64
	MaxIntermediate = 16384
	MaxPositions    = 8192
	MaxExamples     = 50_000_000
	MaxEpochs       = 1000
)

// FieldError is a problem with one field of a prior, named by its path in
// the priors file's layout (model.hidden_size, stages[0].corpus.examples),
// so that LoadPriors can point at the line.
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr wraps err as a problem with the field at path; a FieldError
// inside err extends the path.
func fieldErr(path string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Path: path + "." + fe.Path, Err: fe.Err}
	}
	return &FieldError{Path: path, Err: err}
}

// Validate reports the first problem with the prior.
func (p Prior) Validate() error {
	if p.Name == "" {
		return fieldErr("name", errors.New("prior has no name"))
	}
	wrap := func(path, format string, args ...any) error {
		return fmt.Errorf("prior %s: %w", p.Name, fieldErr(path, fmt.Errorf(format, args...)))
	}
	m := p.Model
	for _, f := range []struct {
		key   string
		v, hi int
	}{
		{"hidden_size", m.HiddenSize, MaxHiddenSize}, {"num_hidden_layers", m.NumLayers, MaxLayers},
		{"num_attention_heads", m.NumHeads, MaxHiddenSize}, {"intermediate_size", m.IntermediateSize, MaxIntermediate},
		{"max_position_embeddings", m.MaxPositions, MaxPositions},
	} {
		if f.v <= 0 || f.v > f.hi {
			return wrap("model."+f.key, "%d must be in 1..%d", f.v, f.hi)
		}
	}
	if m.HiddenSize%m.NumHeads != 0 {
		return wrap("model.num_attention_heads", "hidden_size %d is not a multiple of num_attention_heads %d", m.HiddenSize, m.NumHeads)
	}
	switch p.World {
	case "", WorldCountdown:
	default:
		return wrap("world", "unknown world %q (want %s, or none for arithmetic)", p.World, WorldCountdown)
	}
	if p.IsCountdown() {
		return p.validateCountdown(wrap)
	}
	if p.NumberTokens {
		return wrap("number_tokens", "number tokens are a Countdown world setting; the arithmetic world's tokenizer is fixed")
	}
	if need := MaxPromptLen + MaxResponseLen; m.MaxPositions < need {
		return wrap("model.max_position_embeddings", "%d is shorter than the longest document (%d)", m.MaxPositions, need)
	}
	if len(p.Stages) == 0 {
		return wrap("stages", "no stages")
	}
	if !(p.Budget >= 0 && p.Budget <= 1) {
		return wrap("budget", "%g outside [0, 1]", p.Budget)
	}
	if p.From != "" && p.Budget > 0 && p.Budget < 1 {
		return wrap("budget", "a budget applies to a run from scratch, not to one continuing %s", p.From)
	}
	for i, s := range p.Stages {
		at := fmt.Sprintf("stages[%d]", i)
		if !(s.Epochs > 0 && s.Epochs <= MaxEpochs) {
			return wrap(at+".epochs", "stage %s: epochs %g must be in (0, %d]", s.Name, s.Epochs, MaxEpochs)
		}
		if !(s.LearningRate >= 0 && s.LearningRate < 1) {
			return wrap(at+".lr", "stage %s: lr %g must be in [0, 1)", s.Name, s.LearningRate)
		}
		if s.Countdown != nil {
			return wrap(at+".countdown", "stage %s: a Countdown corpus needs world: %s", s.Name, WorldCountdown)
		}
		if err := s.Corpus.Validate(); err != nil {
			return fmt.Errorf("prior %s: %w", p.Name, fieldErr(at+".corpus", fmt.Errorf("stage %s: %w", s.Name, err)))
		}
	}
	return nil
}

// validateCountdown checks what a Countdown prior's stages and fields
// must be: every stage a Countdown corpus and nothing of the arithmetic
// world's (a corpus, misconception families, a budget, which is a
// checkpoint of the arithmetic foundation run).
func (p Prior) validateCountdown(wrap func(path, format string, args ...any) error) error {
	if len(p.WrongOn) > 0 {
		return wrap("wrong_on", "the Countdown world has no arithmetic families")
	}
	if p.Budget != 0 {
		return wrap("budget", "budgets are checkpoints of an arithmetic foundation run; a Countdown prior has none")
	}
	if len(p.Stages) == 0 {
		return wrap("stages", "no stages")
	}
	for i, s := range p.Stages {
		at := fmt.Sprintf("stages[%d]", i)
		if !(s.Epochs > 0 && s.Epochs <= MaxEpochs) {
			return wrap(at+".epochs", "stage %s: epochs %g must be in (0, %d]", s.Name, s.Epochs, MaxEpochs)
		}
		if !(s.LearningRate >= 0 && s.LearningRate < 1) {
			return wrap(at+".lr", "stage %s: lr %g must be in [0, 1)", s.Name, s.LearningRate)
		}
		if c := s.Corpus; c.Examples != 0 || c.Seed != 0 || len(c.Families)+len(c.Tiers)+len(c.TierWeights)+len(c.Misconceptions) > 0 {
			return wrap(at+".corpus", "stage %s: a Countdown stage reads a countdown corpus, not an arithmetic one", s.Name)
		}
		if s.Countdown == nil {
			return wrap(at+".countdown", "stage %s: no countdown corpus", s.Name)
		}
		if err := s.Countdown.Validate(); err != nil {
			var fe *countdown.FieldError
			if errors.As(err, &fe) {
				return wrap(at+".countdown."+fe.Path, "stage %s: %v", s.Name, fe.Err)
			}
			return wrap(at+".countdown", "stage %s: %v", s.Name, err)
		}
	}
	return nil
}

//go:embed priors.yaml
var priorsYAML []byte

// Priors returns the built-in suite of base-model priors: those of the
// arithmetic world (priors.yaml), then those of the Countdown world
// (package countdown's priors.yaml).
func Priors() ([]Prior, error) {
	ps, err := LoadPriors(bytes.NewReader(priorsYAML))
	if err != nil {
		return nil, fmt.Errorf("built-in priors.yaml: %w", err)
	}
	cd, err := LoadPriors(bytes.NewReader(countdown.PriorsYAML))
	if err != nil {
		return nil, fmt.Errorf("built-in countdown priors.yaml: %w", err)
	}
	for _, p := range cd {
		for _, q := range ps {
			if p.Name == q.Name {
				return nil, fmt.Errorf("built-in priors: two priors named %q", p.Name)
			}
		}
	}
	return append(ps, cd...), nil
}

// PriorByName returns the built-in prior called name.
func PriorByName(name string) (Prior, error) {
	ps, err := Priors()
	if err != nil {
		return Prior{}, err
	}
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return Prior{}, fmt.Errorf("no prior named %q (known: %s)", name, joinNames(names))
}

// LoadPriors reads a suite of priors in the layout of priors.yaml (a top
// level "priors" list). Unknown fields, families and misconceptions,
// impossible rates and sizes are errors naming the key and its line, and
// so are two priors with one name.
func LoadPriors(r io.Reader) ([]Prior, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading priors: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("reading priors: %w", err)
	}
	// Names of families and misconceptions are checked on the node tree
	// first, where their lines are known.
	if err := checkNames(&root); err != nil {
		return nil, err
	}
	var doc struct {
		Priors []Prior `yaml:"priors"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading priors: %w", err)
	}
	list := lookup(&root, "priors")
	seen := map[string]bool{}
	for i, p := range doc.Priors {
		var node *yaml.Node
		if list != nil && list.Kind == yaml.SequenceNode && i < len(list.Content) {
			node = list.Content[i]
		}
		if err := p.Validate(); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) && node != nil {
				if line := keyLine(node, fe.Path); line > 0 {
					return nil, fmt.Errorf("line %d: priors[%d].%s (prior %s): %w", line, i, fe.Path, p.Name, fe.Err)
				}
			}
			return nil, fmt.Errorf("priors[%d]: %w", i, err)
		}
		if seen[p.Name] {
			line := 0
			if node != nil {
				line = keyLine(node, "name")
			}
			return nil, fmt.Errorf("line %d: priors[%d].name: two priors named %q", line, i, p.Name)
		}
		seen[p.Name] = true
	}
	return doc.Priors, nil
}

// checkNames reports the first unknown family or misconception kind below
// n, with its line.
func checkNames(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			var vals []*yaml.Node
			switch {
			case v.Kind == yaml.ScalarNode:
				vals = []*yaml.Node{v}
			case v.Kind == yaml.SequenceNode:
				vals = v.Content
			}
			for _, x := range vals {
				if x.Kind != yaml.ScalarNode {
					continue
				}
				var err error
				switch k.Value {
				case "kind":
					_, err = ParseKind(x.Value)
				case "family", "families", "wrong_on":
					_, err = ParseFamily(x.Value)
				}
				if err != nil {
					return fmt.Errorf("line %d: %s: %w", x.Line, k.Value, err)
				}
			}
		}
	}
	for _, c := range n.Content {
		if err := checkNames(c); err != nil {
			return err
		}
	}
	return nil
}

// lookup returns the value of key in a mapping node (or a document's
// mapping), nil when absent.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// keyLine returns the line of the key at path (model.hidden_size,
// stages[0].corpus.misconceptions[1].rate) below n, or of the deepest part
// of the path that exists; 0 when none does.
func keyLine(n *yaml.Node, path string) int {
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if j := strings.IndexByte(part, '['); j > 0 && strings.HasSuffix(part, "]") {
			key = part[:j]
			if _, err := fmt.Sscanf(part[j:], "[%d]", &idx); err != nil {
				return line
			}
		}
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line, next = n.Content[i].Line, n.Content[i+1]
			}
		}
		if next == nil {
			return line
		}
		if next.Kind == yaml.AliasNode {
			next = next.Alias
		}
		if idx >= 0 {
			if next.Kind != yaml.SequenceNode || idx >= len(next.Content) {
				return line
			}
			next = next.Content[idx]
			line = next.Line
		}
		n = next
	}
	return line
}
