// Package rewardserver is the reward service that distributed RL engines
// call: urlvr's estimators (paper Sec. 2: majority voting and the other
// ensemble rewards, certainty rewards, the ground-truth oracle), its
// training-dynamics metrics (B.2) and its Model Collapse Step detector
// (Sec. 6), over HTTP.
//
// It speaks OpenRLHF's remote reward-model protocol (POST /get_reward with
// "query", "prompts" and "labels" lists; answer with "rewards", "scores" and
// "extra_logs") and a batch protocol (POST /v1/rewards) that the veRL adapter
// in integrations/python uses. Ensemble rewards need every rollout of a
// prompt at once, so rollouts are grouped by an explicit group id or by
// prompt text, and a group that a request splits is rejected, scored as a
// partial group with a warning, or held until the rest of it arrives in later
// requests (SplitPolicy). Held rollouts only meet rollouts of the same owner
// (bearer token, or client address without tokens), run and client id, so
// nobody else's rollouts vote on a trainer's rewards; a client that leaves
// takes its held rollouts with it. Every answered batch feeds a per-run tracker that
// serves label and reward accuracy, proxy against ground-truth reward and the
// running collapse step at /runs/{id}, and as Prometheus text at /metrics.
package rewardserver
