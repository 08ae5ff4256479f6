// Package runlog is the schema of a training run's directory: the names of
// its files, the metric keys of its logs, the typed rows the trainer writes
// and the one reader every other package uses to read them back.
//
// A run logs four JSON Lines files. metrics.jsonl has one StepRow per
// training step, with the paper's training dynamics (Appendix B.2: proxy
// and ground-truth reward, label and reward accuracy, majority ratio,
// point-biserial correlation) under train/, the policy's statistics
// (entropy, response length, KL to the reference, PPO loss and clipping)
// under actor/, and timings under perf/ — the prefix habit of RL trainers,
// so dashboards group them without configuration. validation.jsonl has one
// ValidationRow per validation: avg@k, maj@k and pass@k of every set
// (Sec. 4.1) under val/<set>/, with their confidence intervals, and the
// mean avg@k over the sets under val/mean/. validation_problems.jsonl has
// one ProblemScoresRow per set per validation: each problem's correct
// samples, so gains can be bootstrapped problem by problem (paired).
// events.jsonl has one EventRow
// per skipped update, collapse, early stop, resume or dropped prompts.
//
// The JSON tags of the row types are the metric keys, and the Key
// constants spell the same keys for readers; no other package spells a key.
// A line is written with its keys in sorted order and non-finite numbers as
// null (JSON has no NaN), so files are byte-for-byte reproducible.
//
// Reading is forgiving, because a log may be read while it is written or
// after a kill: Scan, Read and ReadFile skip lines that are not JSON objects
// (a torn last line, a stray header) and count them in Stats rather than
// fail. Values flattens any JSON line into metric name -> number, and Series
// turns rows into one series of (step, value) points per metric, the view
// plots and dashboards need, also for logs of other trainers.
package runlog
