// Package theory reproduces the paper's sharpening analysis (Section 3,
// Appendix A.1-A.2). Theorem 1: with a majority-vote reward, the optimum of
// one KL-regularised step moves the majority's probability mass from p to
// p* = alpha p / (1 + (alpha - 1) p), alpha = e^(1/beta), so iterating
// drives p_maj to 1 geometrically at rate e^(-1/beta) - whether or not the
// majority is correct.
//
// Recursion iterates that map (with a partial step of efficiency eta, as in
// the proof) and measures the convergence rate. SimulateTabular trains an
// exact tabular softmax policy over a finite answer set with sampled
// rollouts, answer-level rewards and GRPO/REINFORCE updates, reproducing
// the monotone rise of p_maj (Tables 4-5) and the collapse onto the initial
// majority even when it is wrong.
package theory
