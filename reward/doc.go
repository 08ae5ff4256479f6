// Package reward turns a prompt's group of rollouts into one reward per
// rollout: the unsupervised rewards of paper Sec. 2 (certainty-based,
// Table 1; ensemble-based, Table 2), the external rewards of Sec. 2.2 and 7
// (ground-truth oracle, self-verification), and the unified framework of
// Appendix A.3 (Table 6) as a way to declare one.
//
// Every estimator implements Estimator: a pure function from a
// rollout.Group to Scores (rewards plus diagnostics such as the majority
// label and class sizes), independent of any engine, so rollouts sampled
// anywhere are scored the same way. The registry (New, Specs) builds
// estimators by snake_case name from a configuration map, as the trainer,
// the services and `urlvr reward` do.
package reward
