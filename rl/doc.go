// Package rl is the policy-gradient arithmetic of URLVR training: group
// advantages (GRPO, Dr.GRPO, RLOO, REINFORCE with a group-mean baseline,
// REINFORCE++-baseline), the PPO clipped surrogate with asymmetric and dual
// clipping, loss aggregation, KL penalties to a reference policy and an
// entropy bonus (paper Table 7 and Appendix B.3).
//
// Everything is a pure function over flat slices laid out [sequences x
// tokens], row-major, with a 0/1 response mask. Loss returns, besides the
// scalar loss, its derivative with respect to every token's log-probability
// (and entropy): the engine back-propagates those through the model, so the
// engine never needs to know which algorithm produced them.
package rl
