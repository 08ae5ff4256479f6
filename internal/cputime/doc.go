// Package cputime reads the CPU time a process has used. On a shared
// machine a benchmark's CPU time is a steadier measure of its cost than its
// wall time, which other processes stretch; the benchmarks report both.
package cputime
