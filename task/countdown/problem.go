package countdown

import (
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/rollout"
)

// ProblemVerifier is the verifier of one Countdown instance, in the form
// every reward and metric takes (rollout.Verifier): the task attaches it to
// the group of rollouts of the instance.
type ProblemVerifier struct {
	Scores  Verifier // the scores of the outcomes (DefaultVerifier: 1 / 0.1 / 0)
	Numbers []int
	Target  int
}

// ForProblem is the verifier of the instance reaching target from numbers,
// with the reference scores.
func ForProblem(numbers []int, target int) ProblemVerifier {
	return ProblemVerifier{Scores: DefaultVerifier(), Numbers: numbers, Target: target}
}

// Extract returns the content of the last <answer> tag.
func (p ProblemVerifier) Extract(response string) (string, error) {
	return grade.ExtractAnswerTag(response)
}

// Check checks a bare expression: correct when it reaches the target with
// the given numbers; a present but wrong one gets the format score.
func (p ProblemVerifier) Check(answer string) rollout.Outcome {
	if answer == "" {
		return rollout.Outcome{Score: p.Scores.NoAnswer}
	}
	c := p.Scores.CheckExpression(answer, p.Numbers, p.Target)
	return p.Scores.outcome(p.Scores.result(c, answer))
}

// Verify scores a rollout's whole response as the reference scorer does
// (see Verifier.Verify): the answer given with the rollout is not used.
func (p ProblemVerifier) Verify(r *rollout.Rollout) rollout.Outcome {
	return p.Scores.outcome(p.Scores.Verify(r.Text, p.Numbers, p.Target))
}

func (v Verifier) outcome(r Result) rollout.Outcome {
	return rollout.Outcome{Score: r.Score, Correct: r.Outcome == Correct, Answered: r.Outcome != NoAnswer}
}
