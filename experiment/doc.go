// Package experiment runs urlvr's multi-run studies, each a directory of
// independent training runs (package train) plus a results table and plots.
// The Model Collapse Step study (paper Sec. 6) trains every base model with
// majority voting until its reward accuracy collapses and with ground-truth
// RLVR for the same budget, then asks whether the step at which a model
// collapses ranks the models as their ground-truth gains do, and what each
// costs in generated tokens (Table 3). The dataset-size study (Sec. 5)
// trains majority voting on training subsets of growing size and on a
// validation set itself (test-time training), recording whether and when
// each collapses.
package experiment
