//go:build !unix

package labbench

import "time"

// cpuTime is not measured here: CPU-time figures read zero.
func cpuTime() time.Duration { return 0 }
