// Package serve holds what urlvr's HTTP services share: a server runner with
// read/write timeouts, a connection cap and graceful shutdown; bearer-token
// authentication (Auth: every endpoint but the health probes, tokens
// compared in constant time); middleware that recovers panics, logs each
// request with log/slog and counts requests and latencies; a concurrency
// limiter that answers 503 when saturated; request bodies read only after
// admission, under a byte budget shared by all requests and a minimum upload
// rate (ReadBodyWithin), so that what a service holds in memory is bounded by
// its flags and not by its connections; JSON body decoding whose errors say
// which field is wrong and how; and a writer for the Prometheus text
// exposition format.
//
// The services themselves live in subpackages: rewardserver (the reward
// service distributed RL engines call), modelserver (an OpenAI-compatible
// server over an embedded checkpoint), evalclient (avg@k, maj@k and pass@k
// against any such server) and loadtest. They are how urlvr's rewards,
// metrics and collapse detection (paper Sec. 2, 6 and B.2) reach trainers
// that run elsewhere.
package serve
