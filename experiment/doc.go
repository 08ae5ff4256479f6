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
//
// Three more studies follow paper Sec. 4 and Appendix B.3. A sweep trains
// one run per point of a grid over any recipe keys and plots chosen
// metrics faceted by the first key. The intrinsic-reward study trains
// majority voting, the five certainty rewards and ground truth side by
// side over several seeds, validates every run per problem so that
// validation carries bootstrap intervals over problems, asks whether
// validation rose and then fell beyond them (Fig. 2), and names each run's
// failure mode by a fixed rule (Fig. 3). The per-problem study trains on
// single problems and records, epoch by epoch, greedy correctness, the
// confidence in it, whether the highest-reward rollout was correct, held-out
// problems and p_maj, the sharpening of Sec. 4.2 and Tables 4-5.
package experiment
