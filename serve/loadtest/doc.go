// Package loadtest drives a running reward service (package rewardserver)
// the way a trainer does, from another process over loopback: sustained
// streams of 64 x 8-rollout majority-voting batches (paper Table 7's batch
// shape) at several concurrencies, with every answer checked against the
// library scoring the same batch in-process, then clients that disconnect
// mid-request and fuzzed request bodies, then a health check. It reports
// throughput, p50/p90/p99 latency and the service's overhead over the
// library (`urlvr serve loadtest`).
package loadtest
