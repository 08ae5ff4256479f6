package arith

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
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
}

// Validate reports the first problem with the prior.
func (p Prior) Validate() error {
	if p.Name == "" {
		return errors.New("prior has no name")
	}
	m := p.Model
	if m.HiddenSize <= 0 || m.NumLayers <= 0 || m.NumHeads <= 0 || m.IntermediateSize <= 0 || m.MaxPositions <= 0 {
		return fmt.Errorf("prior %s: model sizes must be positive: %+v", p.Name, m)
	}
	if m.HiddenSize%m.NumHeads != 0 {
		return fmt.Errorf("prior %s: hidden_size %d is not a multiple of num_attention_heads %d", p.Name, m.HiddenSize, m.NumHeads)
	}
	if need := MaxPromptLen + MaxResponseLen; m.MaxPositions < need {
		return fmt.Errorf("prior %s: max_position_embeddings %d is shorter than the longest document (%d)", p.Name, m.MaxPositions, need)
	}
	if len(p.Stages) == 0 {
		return fmt.Errorf("prior %s: no stages", p.Name)
	}
	if !(p.Budget >= 0 && p.Budget <= 1) {
		return fmt.Errorf("prior %s: budget %g outside [0, 1]", p.Name, p.Budget)
	}
	if p.From != "" && p.Budget > 0 && p.Budget < 1 {
		return fmt.Errorf("prior %s: budget applies to a run from scratch, not to one continuing %s", p.Name, p.From)
	}
	for i, s := range p.Stages {
		if s.Epochs <= 0 {
			return fmt.Errorf("prior %s stage %d (%s): epochs %g must be positive", p.Name, i, s.Name, s.Epochs)
		}
		if s.LearningRate < 0 {
			return fmt.Errorf("prior %s stage %d (%s): negative lr %g", p.Name, i, s.Name, s.LearningRate)
		}
		if err := s.Corpus.Validate(); err != nil {
			return fmt.Errorf("prior %s stage %d (%s): %w", p.Name, i, s.Name, err)
		}
	}
	return nil
}

//go:embed priors.yaml
var priorsYAML []byte

// Priors returns the built-in suite of base-model priors (priors.yaml).
func Priors() ([]Prior, error) {
	ps, err := LoadPriors(bytes.NewReader(priorsYAML))
	if err != nil {
		return nil, fmt.Errorf("built-in priors.yaml: %w", err)
	}
	return ps, nil
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
// level "priors" list). Unknown fields, families and misconceptions are
// errors, and so are two priors with one name.
func LoadPriors(r io.Reader) ([]Prior, error) {
	var doc struct {
		Priors []Prior `yaml:"priors"`
	}
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading priors: %w", err)
	}
	seen := map[string]bool{}
	for _, p := range doc.Priors {
		if err := p.Validate(); err != nil {
			return nil, err
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("two priors named %q", p.Name)
		}
		seen[p.Name] = true
	}
	return doc.Priors, nil
}
