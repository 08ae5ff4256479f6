package cputime

import (
	"runtime"
	"testing"
)

// Spinning on the CPU must advance the process's CPU time, and it never
// goes backwards.
func TestProcessAdvancesWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("CPU time is not measured on this system")
	}
	before := Process()
	x := 1.0
	for Process()-before < 20e6 { // 20 ms of CPU
		for range 100000 {
			x = x*1.0000001 + 1e-9
		}
	}
	if after := Process(); after < before {
		t.Fatalf("CPU time went backwards: %v then %v", before, after)
	}
	if x == 0 {
		t.Fatal("unreachable")
	}
}
