// Package foreignlog reads the metric logs that other RL trainers write
// without any tracking server, and renames their metrics to urlvr's run-log
// keys where the two mean the same thing, so that urlvr's panels, collapse
// detection (the Model Collapse Step, paper Sec. 6) and proxy/ground-truth
// divergence check (the gap of Sec. 4 and Appendix B.2) work on runs
// trained elsewhere.
//
// Three layouts are read, as their trainers write them:
//
//   - veRL's console logger (verl/utils/logger/aggregate_logger.py,
//     LocalLogger): one line per step, "step:N - key:value - key:value",
//     every value printed with three decimals; other console output between
//     those lines is ignored.
//   - veRL's file logger (FileLogger in verl/utils/tracking.py, with
//     trainer.logger=[...,file]; at $VERL_FILE_LOGGER_PATH or
//     $VERL_FILE_LOGGER_ROOT/<project>/<experiment>.jsonl): JSON Lines of
//     {"step": N, "data": {...}}.
//   - TRL's trainer_state.json, written beside every checkpoint: its
//     "log_history" array holds one object per logging step with "step",
//     "epoch" and the trainer's metrics (GRPOTrainer: reward, reward_std,
//     rewards/<function>/mean, kl, entropy, completions/mean_length, ...).
//
// A metric whose name has no urlvr counterpart keeps its own name; Found,
// Missing and Unmapped say what was recognised and what the standard panels
// lack, so that a log with unknown names is shown for what it is rather
// than silently plotted as empty.
package foreignlog
