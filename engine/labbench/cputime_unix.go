//go:build unix

package labbench

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) this process has used so far:
// on a shared machine, the work a phase costs whatever the other processes
// take of the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
