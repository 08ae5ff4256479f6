package train

import (
	"fmt"

	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/task/countdown"
)

// countdownPrefix names one of the world's Countdown splits instead of a
// file: "countdown:train" (4,096 problems) or "countdown:val" (1,024, none
// equal to a training problem up to the order of the numbers), drawn from
// the public Countdown-Tasks-3to4 distribution (paper Sec. 7) with fixed
// seeds by countdown.Splits, the same splits `urlvr world countdown` writes
// to datasets/countdown/. So a recipe trains on Countdown from a fresh
// clone. Files in the public layout (nums, target) load like any dataset.
const countdownPrefix = "countdown:"

// countdownSet returns one of the world's Countdown splits as problems with
// the base model's prompt.
func countdownSet(name string) ([]Problem, error) {
	train, val, err := countdown.Splits()
	if err != nil {
		return nil, err
	}
	var insts []countdown.Instance
	switch name {
	case "train":
		insts = train
	case "val":
		insts = val
	default:
		return nil, fmt.Errorf("no such split %q (have train, val)", name)
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
