package reward

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/rollout"
)

// External rewards (paper Sec. 2.2, 7) come from a procedure outside the
// policy's beliefs: a task's verifier (a grader against the gold answer, a
// Countdown checker), or the policy's own verdict on a candidate
// (generation is hard, verification is easy).

// ErrNoGroundTruth reports a group with neither a gold answer nor a task
// verifier, where a ground-truth reward was asked for.
var ErrNoGroundTruth = errors.New("no ground truth: the group has neither a gold answer nor a task verifier")

// Oracle names the verifier a GroundTruth reward uses.
type Oracle int

const (
	// OracleAuto uses the group's task verifier when it has one, and the
	// math grader against the gold answer otherwise.
	OracleAuto Oracle = iota
	// OracleMath grades each rollout's answer against Group.Gold.
	OracleMath
	// OracleTask verifies each rollout with Group.Verifier (the
	// parameter value "countdown" names it, after the one such task).
	OracleTask
)

// GroundTruth is the supervised RLVR reward (the paper's Oracle
// Supervision): the verifier's score of each rollout. With the math grader
// that is 1 when the rollout's answer is equivalent to the gold answer and
// 0 otherwise (Rollout.Answer is compared when it is set, so the ground
// truth agrees with what voting estimators counted, and otherwise the whole
// response is graded); with a task verifier it is the task's score (for
// Countdown 1 correct, 0.1 for a present but wrong answer, 0 for none).
// Stats["correct"] counts the correct rollouts.
type GroundTruth struct {
	Oracle Oracle
	// Grader compares math answers; nil means grade.Default().
	Grader *grade.Grader
	// FormatScore, when set, replaces the partial credit a task verifier
	// gives a present but wrong answer (Countdown's 0.1); verifiers that
	// give none (the math grader) are not affected.
	FormatScore *float64
}

func (GroundTruth) Name() string { return "ground_truth" }

func (e GroundTruth) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	rewards, correct, err := e.score(ctx, g)
	if err != nil {
		return Scores{}, err
	}
	n := 0
	for _, c := range correct {
		if c {
			n++
		}
	}
	return Scores{Rewards: rewards, Stats: map[string]float64{"correct": float64(n)}}, nil
}

// score returns the reward and the correctness of every rollout.
func (e GroundTruth) score(ctx context.Context, g *rollout.Group) ([]float64, []bool, error) {
	var v rollout.Verifier
	switch e.Oracle {
	case OracleAuto:
		if v = verifierOf(g, e.Grader); v == nil {
			return nil, nil, fmt.Errorf("ground_truth: prompt %q: %w", g.PromptID, ErrNoGroundTruth)
		}
	case OracleMath:
		if !g.HasGold {
			return nil, nil, fmt.Errorf("ground_truth (math): prompt %q has no gold answer", g.PromptID)
		}
		v = Gold{Grader: e.Grader, Answer: g.Gold}
	case OracleTask:
		if v = g.Verifier; v == nil {
			return nil, nil, fmt.Errorf("ground_truth (task): prompt %q has no task verifier (for Countdown: numbers and target)", g.PromptID)
		}
	default:
		return nil, nil, fmt.Errorf("ground_truth: unknown oracle %d", e.Oracle)
	}
	rewards := make([]float64, len(g.Rollouts))
	correct := make([]bool, len(g.Rollouts))
	for i := range g.Rollouts {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		o := v.Verify(&g.Rollouts[i])
		rewards[i], correct[i] = o.Score, o.Correct
		if e.FormatScore != nil && !o.Correct && o.Score > 0 {
			rewards[i] = *e.FormatScore // the verifier's partial credit, replaced
		}
	}
	return rewards, correct, nil
}

// Truth returns the 0/1 ground-truth correctness of every rollout, for
// monitoring (paper B.2's r_gt): the task verifier's "correct" when the
// group has one, else the math grader against the gold answer. It returns
// ErrNoGroundTruth when the group has neither.
func Truth(ctx context.Context, g *rollout.Group, gr *grade.Grader) ([]float64, error) {
	if err := checkGroup(ctx, g); err != nil {
		return nil, err
	}
	if verifierOf(g, gr) == nil {
		return nil, ErrNoGroundTruth
	}
	_, correct, err := GroundTruth{Grader: gr}.score(ctx, g)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(correct))
	for i, c := range correct {
		out[i] = b2f(c)
	}
	return out, nil
}

// SelfVerification rewards a rollout with the policy's own verdict on it
// (paper Sec. 7): the policy was shown its candidate in a verification
// prompt (Appendix C.1, P1 or P2) and Rollout.Verdict holds its reply. The
// reward is 1 when the reply's last \boxed{} says True, 0 when it says False
// or holds no verdict. Stats counts "verdict_true", "verdict_false" and
// "no_verdict". A group in which no rollout has verdict text is an error:
// the verdicts were not attached.
type SelfVerification struct {
	// NoVerdictReward is the reward of a reply without a verdict (0: a
	// reply that does not accept the candidate rejects it).
	NoVerdictReward float64
	// Prompt names the verification prompt the trainer asks with: "P1" or
	// "P2" (Appendix C.1); Template, when set, replaces it with a user
	// template holding {expr} and optionally {nums}, {target}. The reward
	// itself only reads the replies; the trainer renders the prompts.
	Prompt, Template string
}

func (SelfVerification) Name() string { return "self_verification" }

func (e SelfVerification) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	rewards := make([]float64, len(g.Rollouts))
	var counts [3]int
	any := false
	for i := range g.Rollouts {
		text := g.Rollouts[i].Verdict
		any = any || text != ""
		v, _ := ParseVerdict(text)
		rewards[i] = v.Reward()
		if v == NoVerdict {
			rewards[i] = e.NoVerdictReward
		}
		switch v {
		case VerdictTrue:
			counts[0]++
		case VerdictFalse:
			counts[1]++
		default:
			counts[2]++
		}
	}
	if !any {
		return Scores{}, fmt.Errorf("%w: self_verification needs the policy's verdict on each rollout (\"verdict\"); prompt %q has none", ErrMissingInput, g.PromptID)
	}
	return Scores{Rewards: rewards, Stats: map[string]float64{
		"verdict_true": float64(counts[0]), "verdict_false": float64(counts[1]), "no_verdict": float64(counts[2]),
	}}, nil
}

func buildGroundTruth(a args) (Estimator, error) {
	o, err := a.choice("oracle", "auto", []string{"auto", "math", "countdown", "task"})
	if err != nil {
		return nil, err
	}
	e := GroundTruth{Oracle: Oracle(min(o, int(OracleTask)))}
	if _, given := a.m["format_score"]; given {
		f, err := a.float("format_score", 0.1)
		if err != nil {
			return nil, err
		}
		e.FormatScore = &f
	}
	return e, nil
}

func buildSelfVerification(a args) (Estimator, error) {
	var e SelfVerification
	p, err := a.choice("prompt", "P2", []string{"P1", "P2"})
	if err != nil {
		return nil, err
	}
	e.Prompt = []string{"P1", "P2"}[p]
	if e.Template, err = a.str("template", ""); err != nil {
		return nil, err
	}
	if e.Template != "" && !strings.Contains(e.Template, "{expr}") {
		return nil, fmt.Errorf("parameter template: no {expr} placeholder for the candidate solution, so the verifier would never see it")
	}
	if e.NoVerdictReward, err = a.float("no_verdict_reward", 0); err != nil {
		return nil, err
	}
	return e, nil
}
