package train

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/task/countdown"
)

// countdownPrefix names a generated Countdown split instead of a file:
// "countdown:train" or "countdown:val", drawn from the public
// Countdown-Tasks-3to4 distribution (paper Sec. 7) with fixed seeds, so a
// recipe trains on Countdown from a fresh clone. Files in the public
// layout (nums, target) load like any dataset.
const countdownPrefix = "countdown:"

// countdownSplits are the generated splits: seed and size. The paper's
// case study uses a few thousand training and 1k validation problems; the
// validation split drops any instance that also occurs in the training
// split.
var countdownSplits = map[string]struct {
	seed uint64
	n    int
}{
	"train": {seed: 1, n: 4000},
	"val":   {seed: 2, n: 1000},
}

// countdownSet generates one Countdown split as problems with the base
// model's prompt.
func countdownSet(name string) ([]Problem, error) {
	split, ok := countdownSplits[name]
	if !ok {
		return nil, fmt.Errorf("no such split %q (have train, val)", name)
	}
	insts, err := countdown.Generate(countdown.DefaultGenConfig(), split.seed, split.n)
	if err != nil {
		return nil, err
	}
	if name != "train" {
		train, err := countdownSet("train")
		if err != nil {
			return nil, err
		}
		seen := make(map[string]bool, len(train))
		for _, p := range train {
			seen[countdownKey(p.Countdown.Numbers, p.Countdown.Target)] = true
		}
		insts = slices.DeleteFunc(insts, func(in countdown.Instance) bool { return seen[countdownKey(in.Numbers, in.Target)] })
	}
	out := make([]Problem, len(insts))
	for i, in := range insts {
		out[i] = Problem{
			ID: fmt.Sprintf("countdown-%s/%d", name, i), Prompt: countdown.BasePrompt(in.Numbers, in.Target),
			Source: "countdown", Countdown: &rollout.Countdown{Numbers: in.Numbers, Target: in.Target},
		}
	}
	return out, nil
}

// countdownKey identifies an instance by its target and sorted numbers.
func countdownKey(nums []int, target int) string {
	s := slices.Clone(nums)
	slices.Sort(s)
	var b strings.Builder
	b.WriteString(strconv.Itoa(target))
	for _, n := range s {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
