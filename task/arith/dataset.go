package arith

import (
	"fmt"
	"math/rand/v2"
)

// Problem is one dataset record in the layout real datasets use (prompt,
// answer, data_source), plus the family and tier it was drawn from.
type Problem struct {
	Prompt     string `json:"prompt"`
	Answer     string `json:"answer"`
	DataSource string `json:"data_source"`
	Family     Family `json:"family"`
	Tier       int    `json:"tier"`
}

// Expression returns the expression the problem asks for.
func (p Problem) Expression() (string, error) { return ExpressionOf(p.Prompt) }

// SetSpec describes a dataset of the world: its name (the data_source of
// its records), how many problems, which families and tiers, and its seed.
// Problems cycle through the families in order and draw the tier from
// Tiers with the given weights (equal when Weights is empty), so every set
// is balanced over families.
type SetSpec struct {
	Name     string    `yaml:"name" json:"name"`
	Role     string    `yaml:"role" json:"role"` // the real dataset whose place it takes
	Size     int       `yaml:"size" json:"size"`
	Families []Family  `yaml:"families,omitempty" json:"families,omitempty"` // empty: all
	Tiers    []int     `yaml:"tiers" json:"tiers"`
	Weights  []float64 `yaml:"weights,omitempty" json:"weights,omitempty"`
	Seed     uint64    `yaml:"seed" json:"seed"`
}

// Dataset names.
const (
	TrainName = "arith-train"
	ValEasy   = "arith-val-easy"
	ValMid    = "arith-val-mid"
	ValHard   = "arith-val-hard"
	ProbeName = "arith-probe"
)

// TrainSpec is the training set, in the place of DAPO-17k: 17,000 problems
// over all families and tiers.
var TrainSpec = SetSpec{Name: TrainName, Role: "DAPO-17k", Size: 17000, Tiers: []int{1, 2, 3}, Seed: 17}

// ValidationSpecs are the three held-out sets, of rising difficulty: 40
// tier-1 problems in the place of AMC23, 30 tier-2 problems in the
// place of AIME24 and 30 tier-3 problems in the place of AIME25.
var ValidationSpecs = []SetSpec{
	{Name: ValEasy, Role: "AMC23", Size: 40, Tiers: []int{1}, Seed: 23},
	{Name: ValMid, Role: "AIME24", Size: 30, Tiers: []int{2}, Seed: 24},
	{Name: ValHard, Role: "AIME25", Size: 30, Tiers: []int{3}, Seed: 25},
}

// ProbeSpec is a larger held-out set for measuring a model per family: 40
// problems of each family at tiers 1 and 2. The validation sets hold only
// 5-7 problems per family each, too few to tell whether a model's majority
// answer is right or wrong on a family.
var ProbeSpec = SetSpec{Name: ProbeName, Role: "per-family evaluation", Size: 240, Tiers: []int{1, 2}, Seed: 31}

// maxDrawsPerProblem bounds how many draws Generate spends per problem
// skipping excluded or repeated expressions.
const maxDrawsPerProblem = 1000

// Generate draws the problems of spec. Expressions in exclude, and repeats
// within the set, are drawn again, so the set holds distinct problems and
// none of the excluded ones. The result depends only on spec and exclude.
func Generate(spec SetSpec, exclude map[string]bool) ([]Problem, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	fams := spec.Families
	if len(fams) == 0 {
		fams = Families()
	}
	rng := rand.New(rand.NewPCG(spec.Seed, seedStream(spec.Name)))
	seen := make(map[string]bool, spec.Size)
	out := make([]Problem, 0, spec.Size)
	for i := range spec.Size {
		f := fams[i%len(fams)]
		tier := pickTier(rng, spec.Tiers, spec.Weights)
		found := false
		for range maxDrawsPerProblem {
			expr, sol, err := NewExpression(rng, f, tier)
			if err != nil {
				return nil, fmt.Errorf("generating %s problem %d: %w", spec.Name, i, err)
			}
			if exclude[expr] || seen[expr] {
				continue
			}
			seen[expr] = true
			out = append(out, Problem{Prompt: Prompt(expr), Answer: sol.Answer, DataSource: spec.Name, Family: f, Tier: tier})
			found = true
			break
		}
		if !found {
			return nil, fmt.Errorf("generating %s problem %d: %s tier %d has no new problem left after %d draws", spec.Name, i, f, tier, maxDrawsPerProblem)
		}
	}
	return out, nil
}

func (s SetSpec) validate() error {
	if s.Name == "" {
		return fmt.Errorf("set spec has no name")
	}
	if s.Size < 0 {
		return fmt.Errorf("set %s: negative size %d", s.Name, s.Size)
	}
	if len(s.Tiers) == 0 {
		return fmt.Errorf("set %s: no tiers", s.Name)
	}
	for _, t := range s.Tiers {
		if t < MinTier || t > MaxTier {
			return fmt.Errorf("set %s: tier %d outside %d..%d", s.Name, t, MinTier, MaxTier)
		}
	}
	if len(s.Weights) != 0 && len(s.Weights) != len(s.Tiers) {
		return fmt.Errorf("set %s: %d weights for %d tiers", s.Name, len(s.Weights), len(s.Tiers))
	}
	total := 0.0
	for _, w := range s.Weights {
		if w < 0 {
			return fmt.Errorf("set %s: negative tier weight %g", s.Name, w)
		}
		total += w
	}
	if len(s.Weights) != 0 && total == 0 {
		return fmt.Errorf("set %s: tier weights sum to zero", s.Name)
	}
	for _, f := range s.Families {
		if _, ok := specs[f]; !ok {
			return fmt.Errorf("set %s: unknown family %q", s.Name, f)
		}
	}
	return nil
}

// pickTier draws a tier with the given weights (equal when none).
func pickTier(rng *rand.Rand, tiers []int, weights []float64) int {
	if len(weights) == 0 {
		return tiers[rng.IntN(len(tiers))]
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	u := rng.Float64() * total
	for i, w := range weights {
		if u < w {
			return tiers[i]
		}
		u -= w
	}
	return tiers[len(tiers)-1]
}

// seedStream derives a second PCG seed word from a set's name, so two sets
// with the same numeric seed still draw different problems.
func seedStream(name string) uint64 {
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return h
}

// Validation generates the three validation sets, each disjoint from the
// ones before it.
func Validation() ([][]Problem, error) {
	exclude := map[string]bool{}
	sets := make([][]Problem, 0, len(ValidationSpecs))
	for _, spec := range ValidationSpecs {
		set, err := Generate(spec, exclude)
		if err != nil {
			return nil, err
		}
		for _, p := range set {
			exclude[exprOf(p)] = true
		}
		sets = append(sets, set)
	}
	return sets, nil
}

// Probe generates the probe set, disjoint from the validation sets.
func Probe() ([]Problem, error) {
	sets, err := Validation()
	if err != nil {
		return nil, err
	}
	return Generate(ProbeSpec, expressions(sets...))
}

// HeldOut returns the expressions of every validation and probe problem:
// training sets and pretraining corpora leave them out.
func HeldOut() (map[string]bool, error) {
	sets, err := Validation()
	if err != nil {
		return nil, err
	}
	probe, err := Generate(ProbeSpec, expressions(sets...))
	if err != nil {
		return nil, err
	}
	return expressions(append(sets, probe)...), nil
}

// expressions returns the set of expressions of the problems in sets.
func expressions(sets ...[]Problem) map[string]bool {
	held := map[string]bool{}
	for _, set := range sets {
		for _, p := range set {
			held[exprOf(p)] = true
		}
	}
	return held
}

// Train generates the training set of spec with every validation and probe
// problem left out.
func Train(spec SetSpec) ([]Problem, error) {
	held, err := HeldOut()
	if err != nil {
		return nil, err
	}
	return Generate(spec, held)
}

// exprOf returns the expression of a generated problem, whose prompt is
// well formed by construction.
func exprOf(p Problem) string {
	e, _ := p.Expression()
	return e
}
