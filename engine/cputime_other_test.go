//go:build !unix

package engine

import "time"

// cpuTime is unknown off unix; benchmarks report zero CPU time.
func cpuTime() time.Duration { return 0 }
