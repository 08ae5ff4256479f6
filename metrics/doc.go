// Package metrics measures what unsupervised rewards do to a policy: the
// training-dynamics metrics of paper Appendix B.2 (label accuracy, reward
// accuracy, ground-truth and proxy reward, majority ratio, point-biserial
// correlation), the evaluation metrics of Section 4.1 (avg@k, maj@k, unbiased
// pass@k), rank and linear correlations, and the Model Collapse Step of
// Section 6 (the first step at which reward accuracy falls below 1%).
//
// Ground truth is known in every experiment even when training is
// unsupervised, so each function takes ground-truth correctness next to the
// proxy reward. Nothing here grades answers: callers pass correctness and,
// for voting, answer-equivalence class indices computed by the grader.
package metrics
