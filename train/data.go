package train

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/urlvr/urlvr/data"
	"github.com/urlvr/urlvr/task/arith"
)

// Problem is one prompt with its gold answer. The gold answer is used for
// monitoring and validation, never by an unsupervised reward.
type Problem struct {
	ID     string
	Prompt string
	Answer string
	Source string
}

// worldPrefix marks a dataset of the synthetic world instead of a file.
const worldPrefix = "world:"

// LoadProblems reads a dataset named as in DataConfig: "world:train",
// "world:val-easy", "world:val-mid", "world:val-hard", "world:large-easy",
// "world:large-mid", "world:large-hard", "world:probe", or a
// JSONL/JSON/Parquet file in a real dataset's layout. It also returns the
// dataset's short name for metric keys.
func LoadProblems(spec string) ([]Problem, string, error) {
	if name, ok := strings.CutPrefix(spec, worldPrefix); ok {
		ps, err := worldSet(name)
		if err != nil {
			return nil, "", fmt.Errorf("dataset %s: %w", spec, err)
		}
		out := make([]Problem, len(ps))
		for i, p := range ps {
			out[i] = Problem{ID: fmt.Sprintf("%s/%d", p.DataSource, i), Prompt: p.Prompt, Answer: p.Answer, Source: p.DataSource}
		}
		return out, name, nil
	}
	recs, err := data.Load(spec, data.Options{})
	if err != nil {
		return nil, "", err
	}
	out := make([]Problem, len(recs))
	for i, r := range recs {
		out[i] = Problem{ID: r.ID, Prompt: r.Prompt, Answer: r.Answer, Source: r.DataSource}
	}
	return out, shortName(spec), nil
}

// worldSet generates (or, for the large held-out sets, reads) one split
// of the synthetic arithmetic world.
func worldSet(name string) ([]arith.Problem, error) { return arith.Split(name) }

// shortName is a file's base name without directory and extensions.
func shortName(path string) string {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

// subset keeps n problems chosen by a generator seeded with seed (the
// paper's dataset-size studies); n <= 0 or n >= len(ps) keeps all, in order.
func subset(ps []Problem, n int, seed uint64) []Problem {
	if n <= 0 || n >= len(ps) {
		return ps
	}
	rng := rand.New(rand.NewPCG(seed, 0x5ab5e7))
	idx := rng.Perm(len(ps))[:n]
	out := make([]Problem, n)
	for i, j := range idx {
		out[i] = ps[j]
	}
	return out
}
