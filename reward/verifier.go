package reward

import (
	"fmt"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/rollout"
)

// Gold is the verifier of a math problem with a gold answer: answers are
// compared with it by the grader's exact equivalence (the paper's r_gt).
// It is what a group without a task verifier is checked with.
type Gold struct {
	Grader *grade.Grader // nil means grade.Default()
	Answer string
}

func (v Gold) grader() *grade.Grader {
	if v.Grader == nil {
		return grade.Default()
	}
	return v.Grader
}

// Extract reads the last \boxed{} answer, else the last <answer> tag, else
// "the answer is ...".
func (v Gold) Extract(response string) (string, error) { return grade.ExtractAnswer(response) }

// Check compares an answer with the gold answer.
func (v Gold) Check(answer string) rollout.Outcome {
	ok := answer != "" && v.grader().Equivalent(answer, v.Answer)
	return rollout.Outcome{Score: b2f(ok), Correct: ok, Answered: answer != ""}
}

// Verify compares the rollout's Answer when it is set, so the ground truth
// agrees with what voting estimators counted, and otherwise grades the
// whole response text.
func (v Gold) Verify(r *rollout.Rollout) rollout.Outcome {
	if r.Answer != "" {
		return v.Check(r.Answer)
	}
	res := v.grader().Grade(r.Text, v.Answer)
	return rollout.Outcome{Score: b2f(res.Correct), Correct: res.Correct, Answered: res.Answer != ""}
}

// verifierOf returns the verifier of a group: its task's, else the gold
// answer's, else nil (no ground truth).
func verifierOf(g *rollout.Group, gr *grade.Grader) rollout.Verifier {
	if g.Verifier != nil {
		return g.Verifier
	}
	if g.HasGold {
		return Gold{Grader: gr, Answer: g.Gold}
	}
	return nil
}

// ExtractAnswers fills in the missing answers of a group with its
// verifier's extraction (the answer tag for Countdown), or for a math
// problem the last \boxed{} answer, else the last <answer> tag, else "the
// answer is ...". A group that carries Countdown data but no verifier is an
// error: the Countdown task was not attached (task.Attach), and it would
// be scored as a math problem.
func ExtractAnswers(g *rollout.Group) error {
	if g.Verifier != nil {
		g.ExtractAnswers(g.Verifier.Extract)
		return nil
	}
	if g.Countdown != nil {
		return fmt.Errorf("prompt %q: a Countdown problem without its verifier (attach one with task.Attach)", g.PromptID)
	}
	g.ExtractAnswers(grade.ExtractAnswer)
	return nil
}
