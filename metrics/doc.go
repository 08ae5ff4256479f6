// Package metrics measures what unsupervised rewards do to a policy: the
// training-dynamics metrics of paper Appendix B.2 (label accuracy, reward
// accuracy, ground-truth and proxy reward, majority ratio, point-biserial
// correlation), the evaluation metrics of Section 4.1 (avg@k, maj@k, unbiased
// pass@k), rank and linear correlations, and the Model Collapse Step of
// Section 6 (the first step at which reward accuracy falls below 1%).
//
// A set's score is a mean over its problems, and its uncertainty comes
// from which problems the set happens to hold, not from the samples of
// each: every interval over problems is one percentile bootstrap
// (BootstrapCI), problems resampled with replacement from a seeded
// generator, optionally within strata (several validation sets, each
// keeping its size, scored by the mean of the sets' means), the same draws
// for every metric of a set. EvaluateSet and EvaluateAtK score a set with
// it; rank correlations across models use the same percentile rules.
//
// Ground truth is known in every experiment even when training is
// unsupervised, so each function takes ground-truth correctness next to the
// proxy reward. Nothing here grades answers: callers pass correctness and,
// for voting, answer-equivalence class indices computed by the grader.
package metrics
