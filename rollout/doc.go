// Package rollout is the data that every reward, metric and trainer in urlvr
// reads: a prompt's Group of N sampled Rollouts, each with its response text,
// extracted answer and the per-token statistics of the sampling distribution
// (paper Sec. 2, Table 1, and the notation of Appendix B.2.1).
//
// The statistics are those of pi_t, the policy's next-token distribution at
// response position t computed on temperature-scaled logits z_t (the sampling
// temperature): the log-probability of the sampled token, the entropy
// H(pi_t), the self-certainty term logsumexp(z_t) - mean_v z_t,v (which is the
// cross-entropy H(U_V, pi_t) = KL(U_V || pi_t) + log|V|), and the gap
// p_top1 - p_top2. Rollouts produced by another system (vLLM, veRL, OpenRLHF)
// enter through the JSONL encoding of ParseRecord (or DecodeFields) and
// leave through Record's MarshalJSON.
//
// What counts as a correct answer is the task's business, not this
// package's: a task attaches a Verifier to the groups of its problems
// (extract the answer a response commits to; check an answer; verify a
// rollout), and everything that needs ground truth asks the group's
// verifier, so a new task plugs in without changes here or in the rewards.
// A group without one is a math problem with a gold answer.
package rollout
