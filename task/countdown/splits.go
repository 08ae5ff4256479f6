package countdown

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/urlvr/urlvr/internal/atomicfile"
)

// SplitSpec names one split of the Countdown world: how many instances,
// drawn from DefaultGenConfig with a seed.
type SplitSpec struct {
	Name string `json:"name"`
	Size int    `json:"size"`
	Seed uint64 `json:"seed"`
}

// The Countdown world's splits, sized as the paper's §7 uses them (at
// least 4k training and 1k validation instances of Countdown-Tasks-3to4).
var (
	TrainSplit      = SplitSpec{Name: "countdown-train", Size: 4096, Seed: 3401}
	ValidationSplit = SplitSpec{Name: "countdown-val", Size: 1024, Seed: 3402}
)

// key identifies an instance up to the order of its numbers, so a
// validation instance is never a training one with its numbers shuffled.
func key(inst Instance) string {
	nums := slices.Clone(inst.Numbers)
	slices.Sort(nums)
	return fmt.Sprint(nums, inst.Target)
}

// draw takes spec.Size distinct instances from a generator seeded with
// spec.Seed, skipping those in exclude.
func draw(spec SplitSpec, exclude map[string]bool) ([]Instance, error) {
	g, err := NewGenerator(DefaultGenConfig(), spec.Seed)
	if err != nil {
		return nil, err
	}
	out := make([]Instance, 0, spec.Size)
	seen := map[string]bool{}
	for skipped := 0; len(out) < spec.Size; {
		inst, err := g.Next()
		if err != nil {
			return nil, fmt.Errorf("%s instance %d: %w", spec.Name, len(out), err)
		}
		k := key(inst)
		if exclude[k] || seen[k] {
			if skipped++; skipped > 100*spec.Size {
				return nil, fmt.Errorf("%s: no new instance after %d draws", spec.Name, skipped)
			}
			continue
		}
		seen[k] = true
		out = append(out, inst)
	}
	return out, nil
}

// Splits draws the training and validation splits; no validation instance
// equals a training one (numbers compared as a multiset).
func Splits() (train, val []Instance, err error) {
	if train, err = draw(TrainSplit, nil); err != nil {
		return nil, nil, err
	}
	exclude := make(map[string]bool, len(train))
	for _, inst := range train {
		exclude[key(inst)] = true
	}
	if val, err = draw(ValidationSplit, exclude); err != nil {
		return nil, nil, err
	}
	return train, val, nil
}

// Record is one line of a split file, in the {prompt, answer, data_source}
// layout of real datasets: the prompt is the paper's base form, the answer
// the {"numbers", "target"} ground truth as compact JSON (as the data
// package reads Countdown's reward_model.ground_truth), and the numbers,
// target and one known solution are kept as fields of their own.
type Record struct {
	Prompt     string `json:"prompt"`
	Answer     string `json:"answer"`
	DataSource string `json:"data_source"`
	Numbers    []int  `json:"numbers"`
	Target     int    `json:"target"`
	Solution   string `json:"solution"`
}

// RecordOf writes an instance of the named split as a Record.
func RecordOf(inst Instance, split string) Record {
	gt, _ := json.Marshal(struct {
		Numbers []int `json:"numbers"`
		Target  int   `json:"target"`
	}{inst.Numbers, inst.Target})
	return Record{Prompt: BasePrompt(inst.Numbers, inst.Target), Answer: string(gt), DataSource: split,
		Numbers: inst.Numbers, Target: inst.Target, Solution: inst.Solution}
}

// WriteSplits writes <dir>/countdown-train.jsonl and countdown-val.jsonl,
// each atomically, and returns how many instances of 3 and of 4 numbers
// each holds.
func WriteSplits(dir string) (map[string][2]int, error) {
	train, val, err := Splits()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	counts := map[string][2]int{}
	for _, s := range []struct {
		spec SplitSpec
		set  []Instance
	}{{TrainSplit, train}, {ValidationSplit, val}} {
		var c [2]int
		for _, inst := range s.set {
			c[len(inst.Numbers)-3]++
		}
		counts[s.spec.Name] = c
		path := filepath.Join(dir, s.spec.Name+".jsonl")
		err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
			bw := bufio.NewWriter(w)
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
			for _, inst := range s.set {
				if err := enc.Encode(RecordOf(inst, s.spec.Name)); err != nil {
					return err
				}
			}
			return bw.Flush()
		})
		if err != nil {
			return nil, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return counts, nil
}
