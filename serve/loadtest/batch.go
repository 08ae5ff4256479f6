package loadtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
)

// RolloutBatch is one training batch of rollouts: Prompts prompts with N
// rollouts each, as the reward service receives it and as the library
// scores it. (The engine's Batch is token sequences; this is text.)
type RolloutBatch struct {
	Prompts, N int
	// Items are the rollouts as reward.ScoreRecords reads them (the
	// in-process reference).
	Items []reward.Item
	// OpenRLHF and Verl are the request bodies of POST /get_reward and
	// POST /v1/rewards (columns).
	OpenRLHF, Verl []byte
	// Queries, PromptTexts and Labels are the OpenRLHF fields per rollout,
	// for sending one rollout per request as OpenRLHF's executor does.
	Queries, PromptTexts, Labels []string
}

// words fill responses with text of a realistic length.
var words = strings.Fields(`let us compute the value step by step first note that we have so the total
is then substitute into equation therefore which gives check again multiply both sides divide by add
subtract simplify fraction factor root square sum product remaining terms answer`)

// answerForms are ways of writing a value: most answers are integers (the
// grader's fast path); some are fractions and decimals that need real
// equivalence checks.
func answerForm(rng *rand.Rand, v int) string {
	switch u := rng.Float64(); {
	case u < 0.75:
		return fmt.Sprint(v)
	case u < 0.85:
		return fmt.Sprintf(`\frac{%d}{2}`, 2*v)
	case u < 0.95:
		return fmt.Sprintf("%d.0", v)
	default:
		return fmt.Sprintf(`\dfrac{%d}{1}`, v)
	}
}

// MakeRolloutBatch draws a batch from seed: each prompt has a gold integer
// answer; each rollout answers it with probability pCorrect (in some spelling),
// else one of three distractors, or gives no answer (5%). Responses are
// about respChars characters of working ending in \boxed{...}.
func MakeRolloutBatch(seed uint64, prompts, n, respChars int) (*RolloutBatch, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	b := &RolloutBatch{Prompts: prompts, N: n}
	var (
		queries, promptTexts, labels, responses []string
		groupIDs                                []int
	)
	for k := range prompts {
		gold := 1 + rng.IntN(500)
		prompt := fmt.Sprintf("<|im_start|>user\nProblem %d of batch %d: find the value. Put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>assistant\n", k, seed)
		pCorrect := rng.Float64()
		for range n {
			var sb strings.Builder
			for sb.Len() < respChars {
				sb.WriteString(words[rng.IntN(len(words))])
				sb.WriteByte(' ')
				if rng.IntN(12) == 0 {
					fmt.Fprintf(&sb, "%d + %d = %d. ", rng.IntN(100), rng.IntN(100), rng.IntN(200))
				}
			}
			switch u := rng.Float64(); {
			case u < 0.05:
				sb.WriteString("I could not finish.")
			case u < 0.05+0.95*pCorrect:
				fmt.Fprintf(&sb, "The answer is \\boxed{%s}.", answerForm(rng, gold))
			default:
				fmt.Fprintf(&sb, "The answer is \\boxed{%s}.", answerForm(rng, gold+1+rng.IntN(3)))
			}
			sb.WriteString("<|im_end|>")
			resp := sb.String()
			b.Items = append(b.Items, reward.Item{Record: rollout.Record{
				PromptID: fmt.Sprint(k), Gold: fmt.Sprint(gold), HasGold: true, Rollout: rollout.Rollout{Text: resp}}})
			queries = append(queries, prompt+resp)
			promptTexts = append(promptTexts, prompt)
			labels = append(labels, fmt.Sprint(gold))
			responses = append(responses, resp)
			groupIDs = append(groupIDs, k)
		}
	}
	b.Queries, b.PromptTexts, b.Labels = queries, promptTexts, labels
	var err error
	if b.OpenRLHF, err = json.Marshal(map[string]any{"query": queries, "prompts": promptTexts, "labels": labels, "group_ids": groupIDs}); err != nil {
		return nil, err
	}
	if b.Verl, err = json.Marshal(map[string]any{"responses": responses, "group_ids": groupIDs, "golds": labels}); err != nil {
		return nil, err
	}
	return b, nil
}
