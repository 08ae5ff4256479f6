package rollout

// Verifier is how a task checks responses to one of its problems: the
// "verifiable" of RLVR (paper Sec. 2.2). It reads the answer a response
// commits to, and says whether an answer, or a whole response, solves the
// problem. A task attaches one to each group of its problems
// (Group.Verifier), so the rewards and metrics that need ground truth work
// for any task without knowing it: a math problem graded against its gold
// answer, a Countdown instance checked by evaluating the expression, a
// task added later.
type Verifier interface {
	// Extract returns ans(y), the answer a response commits to, or an
	// error when it has none (Group.ExtractAnswers uses it).
	Extract(response string) (string, error)
	// Check says whether an extracted answer solves the problem; a
	// majority vote's label is checked this way.
	Check(answer string) Outcome
	// Verify scores a rollout: its response, or its Answer when that was
	// given (for example by the trainer that sampled it).
	Verify(r *Rollout) Outcome
}

// Outcome is a verifier's verdict on one answer or response.
type Outcome struct {
	// Score is the verifiable reward: 1 when correct, 0 without an answer,
	// and in between for a present but wrong answer when the task gives
	// partial credit for the format (Countdown's 0.1).
	Score float64
	// Correct says the answer solves the problem.
	Correct bool
	// Answered says the response had an answer to check.
	Answered bool
}
