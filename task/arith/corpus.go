package arith

import (
	"fmt"
	"math/rand/v2"
)

// Rule makes a writer hold misconception Kind on problems of Family with
// probability Rate, drawn once per problem; an empty Family means every
// family. A held misconception is applied at every step it applies to.
type Rule struct {
	Family Family  `yaml:"family,omitempty" json:"family,omitempty"`
	Kind   Kind    `yaml:"kind" json:"kind"`
	Rate   float64 `yaml:"rate" json:"rate"`
}

// CorpusConfig describes a pretraining corpus of worked problems.
type CorpusConfig struct {
	// Families to draw from, uniformly; a family listed twice is drawn
	// twice as often. Empty means every family.
	Families []Family `yaml:"families,omitempty" json:"families,omitempty"`
	// Tiers to draw from, with TierWeights (equal when empty). Empty means
	// every tier.
	Tiers       []int     `yaml:"tiers,omitempty" json:"tiers,omitempty"`
	TierWeights []float64 `yaml:"tier_weights,omitempty" json:"tier_weights,omitempty"`
	// Examples is the number of documents.
	Examples int    `yaml:"examples" json:"examples"`
	Seed     uint64 `yaml:"seed" json:"seed"`
	// Misconceptions are the rules the solution writer follows.
	Misconceptions []Rule `yaml:"misconceptions,omitempty" json:"misconceptions,omitempty"`
}

// Validate reports the first problem with the config.
func (c CorpusConfig) Validate() error {
	if c.Examples < 0 || c.Examples > MaxExamples {
		return fieldErr("examples", fmt.Errorf("corpus: example count %d outside 0..%d", c.Examples, MaxExamples))
	}
	spec := c.setSpec()
	if err := spec.validate(); err != nil {
		return fieldErr("tiers", fmt.Errorf("corpus: %w", err))
	}
	for i, r := range c.Misconceptions {
		at := fmt.Sprintf("misconceptions[%d]", i)
		if r.Family != "" {
			if _, ok := specs[r.Family]; !ok {
				return fieldErr(at+".family", fmt.Errorf("corpus: misconception rule %d: unknown family %q", i, r.Family))
			}
		}
		if _, err := ParseKind(string(r.Kind)); err != nil {
			return fieldErr(at+".kind", fmt.Errorf("corpus: misconception rule %d: %w", i, err))
		}
		if !(r.Rate >= 0 && r.Rate <= 1) {
			return fieldErr(at+".rate", fmt.Errorf("corpus: misconception rule %d: rate %g outside [0, 1]", i, r.Rate))
		}
	}
	return nil
}

func (c CorpusConfig) setSpec() SetSpec {
	tiers := c.Tiers
	if len(tiers) == 0 {
		tiers = []int{1, 2, 3}
	}
	return SetSpec{Name: "corpus", Size: c.Examples, Families: c.Families, Tiers: tiers, Weights: c.TierWeights, Seed: c.Seed}
}

// Document is one pretraining example: a prompt and the response a writer
// with the corpus's misconceptions gave.
type Document struct {
	Prompt   string `json:"prompt"`
	Response string `json:"response"`
	Answer   string `json:"answer"` // the correct answer
	Family   Family `json:"family"`
	Tier     int    `json:"tier"`
	// Misconceptions lists the kinds that made the response wrong; empty
	// when the response is correct.
	Misconceptions []Kind `json:"misconceptions,omitempty"`
}

// Text is the document as a model reads it: the prompt, then the response.
func (d Document) Text() string { return d.Prompt + d.Response }

// BuildCorpus writes cfg.Examples documents. Problems of the validation
// sets never appear; problems may repeat, as they do in real pretraining
// text. The corpus depends only on cfg.
func BuildCorpus(cfg CorpusConfig) ([]Document, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	held, err := HeldOut()
	if err != nil {
		return nil, err
	}
	spec := cfg.setSpec()
	fams := spec.Families
	if len(fams) == 0 {
		fams = Families()
	}
	// Problems and misconceptions draw from separate streams, so corpora
	// that differ only in their rules hold the same problems in the same
	// order, and a smaller corpus is a prefix of a larger one.
	rng := rand.New(rand.NewPCG(cfg.Seed, seedStream("corpus")))
	errRng := rand.New(rand.NewPCG(cfg.Seed, seedStream("misconceptions")))
	docs := make([]Document, 0, cfg.Examples)
	skipped := 0
	for len(docs) < cfg.Examples {
		f := fams[rng.IntN(len(fams))]
		tier := pickTier(rng, spec.Tiers, spec.Weights)
		expr, clean, err := NewExpression(rng, f, tier)
		if err != nil {
			return nil, fmt.Errorf("corpus document %d: %w", len(docs), err)
		}
		if held[expr] {
			if skipped++; skipped > maxDrawsPerProblem {
				return nil, fmt.Errorf("corpus document %d: only held-out problems left after %d draws", len(docs), skipped)
			}
			continue
		}
		skipped = 0
		var kinds []Kind
		for _, r := range cfg.Misconceptions {
			if (r.Family == "" || r.Family == f) && errRng.Float64() < r.Rate {
				kinds = append(kinds, r.Kind)
			}
		}
		sol := clean
		if len(kinds) > 0 {
			if sol, err = SolveWith(expr, kinds); err != nil {
				return nil, fmt.Errorf("corpus document %d: %w", len(docs), err)
			}
		}
		docs = append(docs, Document{
			Prompt: Prompt(expr), Response: sol.Text(), Answer: clean.Answer,
			Family: f, Tier: tier, Misconceptions: sol.Misconceptions,
		})
	}
	return docs, nil
}
