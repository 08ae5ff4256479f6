package arith

import (
	"bytes"
	"fmt"

	"github.com/urlvr/urlvr/datasets"
)

// Names of the large held-out sets.
const (
	LargeEasy = "arith-large-easy"
	LargeMid  = "arith-large-mid"
	LargeHard = "arith-large-hard"
)

// LargeSpecs are the powered held-out sets that studies decide on: 200
// problems of each tier, 600 in all. The paper-sized validation sets (40,
// 30 and 30 problems, the AMC23/AIME roles) are kept for comparison with
// the paper, but the standard error of avg@k on 30 problems is 0.05-0.08,
// too wide to tell two runs apart; on 200 problems per tier it is about
// 0.03 per set and 0.02 for the mean of the three, and a paired comparison
// of two runs on the same problems resolves less.
var LargeSpecs = []SetSpec{
	{Name: LargeEasy, Role: "decisions, tier 1", Size: 200, Tiers: []int{1}, Seed: 41},
	{Name: LargeMid, Role: "decisions, tier 2", Size: 200, Tiers: []int{2}, Seed: 42},
	{Name: LargeHard, Role: "decisions, tier 3", Size: 200, Tiers: []int{3}, Seed: 43},
}

// SuiteCorpora are the pretraining corpora the built-in suite reads, as
// the longest corpus of each seed (a corpus with fewer examples and the
// same seed is a prefix of it; misconception rules change solutions, not
// problems). The large held-out sets leave out every problem of these, so
// no built-in base model has read a large-set problem; a custom prior with
// other corpus seeds may have.
var SuiteCorpora = []CorpusConfig{
	{Examples: 320000, Seed: 1}, // the foundations (16 x 20,000) and first stages
	{Examples: 4000, Seed: 2},   // the clean fine-tuning stages
}

// GenerateLarge draws the large held-out sets, each disjoint from the
// training set (TrainSpec), the paper-sized validation and probe sets, the
// suite's pretraining corpora and the large sets before it. It builds
// those corpora, so it takes seconds; Large reads the shipped copies.
func GenerateLarge() ([][]Problem, error) {
	exclude, err := HeldOut()
	if err != nil {
		return nil, err
	}
	train, err := Train(TrainSpec)
	if err != nil {
		return nil, err
	}
	for e := range expressions(train) {
		exclude[e] = true
	}
	for _, c := range SuiteCorpora {
		docs, err := BuildCorpus(c)
		if err != nil {
			return nil, fmt.Errorf("large held-out sets: corpus seed %d: %w", c.Seed, err)
		}
		for _, d := range docs {
			e, err := ExpressionOf(d.Prompt)
			if err != nil {
				return nil, err
			}
			exclude[e] = true
		}
	}
	sets := make([][]Problem, 0, len(LargeSpecs))
	for _, spec := range LargeSpecs {
		set, err := Generate(spec, exclude)
		if err != nil {
			return nil, err
		}
		for e := range expressions(set) {
			exclude[e] = true
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// Large returns the large held-out sets as shipped in datasets/arith (and
// embedded in the binary), in the order of LargeSpecs; a test checks that
// they are what GenerateLarge draws.
func Large() ([][]Problem, error) {
	sets := make([][]Problem, 0, len(LargeSpecs))
	for _, spec := range LargeSpecs {
		name := "arith/" + spec.Name + ".jsonl"
		data, err := datasets.FS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("large held-out set %s: %w", spec.Name, err)
		}
		set, err := ReadJSONL(bytes.NewReader(data), name)
		if err != nil {
			return nil, err
		}
		if len(set) != spec.Size {
			return nil, fmt.Errorf("large held-out set %s: %d problems, want %d", spec.Name, len(set), spec.Size)
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// SplitNames lists the world's splits, as "world:<name>" recipes name
// them: the training set, the paper-sized validation sets, the large
// held-out sets and the probe set.
func SplitNames() []string {
	names := []string{"train"}
	for _, s := range ValidationSpecs {
		names = append(names, shortSetName(s.Name))
	}
	for _, s := range LargeSpecs {
		names = append(names, shortSetName(s.Name))
	}
	return append(names, "probe")
}

// Split returns the world's split called name (see SplitNames).
func Split(name string) ([]Problem, error) {
	switch name {
	case "train":
		return Train(TrainSpec)
	case "probe":
		return Probe()
	}
	for i, s := range ValidationSpecs {
		if shortSetName(s.Name) == name {
			sets, err := Validation()
			if err != nil {
				return nil, err
			}
			return sets[i], nil
		}
	}
	for i, s := range LargeSpecs {
		if shortSetName(s.Name) == name {
			sets, err := Large()
			if err != nil {
				return nil, err
			}
			return sets[i], nil
		}
	}
	return nil, fmt.Errorf("no such split %q (have %s)", name, joinNames(SplitNames()))
}

// shortSetName drops the world's "arith-" prefix: arith-val-easy is the
// split val-easy.
func shortSetName(name string) string {
	if len(name) > 6 && name[:6] == "arith-" {
		return name[6:]
	}
	return name
}
