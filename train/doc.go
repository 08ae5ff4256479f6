// Package train is the URLVR trainer (paper Sec. 4-5, B.1-B.3): each step
// samples N rollouts per prompt from the policy, scores them with an
// unsupervised reward estimator, grades them against the gold answers for
// monitoring only, turns rewards into advantages and updates the policy with
// the clipped policy-gradient loss. Every step's training dynamics (paper
// B.2), validation (avg@k, maj@k, pass@k) and checkpoints go to a run
// directory that can be resumed after a kill with identical results, and an
// optional detector stops the run at the Model Collapse Step (Sec. 6.3). A
// run directory has one writer at a time (a kernel lock on run.lock), and a
// run checks its data, its memory needs and every update's numbers so that
// bad settings stop it with a message rather than a crash or a NaN.
// Test-time training (Sec. 5) is the same trainer pointed at a small
// unlabeled set.
//
// A step (trainStep in step.go) reads in the order it runs: collect the
// rollouts, score them, turn the rewards into advantages, update the
// policy, log the step's runlog.StepRow. What a run writes, and how to read
// it back, is package runlog.
//
// Some rewards need more than the policy's rollouts, and the score part of
// the step supplies it: self-verification asks the current policy to judge
// each rollout (selfverify.go, Sec. 7), CoVo scores the group's answers
// after prefixes of each response (covo.go), Co-Reward samples a rephrasing
// of each problem as well (coreward.go) and RLCCF has peer models answer
// (rlccf.go); the paper's Table 2 defines the ensemble rewards. Countdown
// problems (Sec. 7) are graded by the exact Countdown verifier instead of
// a gold answer.
package train
