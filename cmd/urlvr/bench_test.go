package main

import (
	"strings"
	"testing"

	"github.com/urlvr/urlvr/engine/kernels"
)

// TestBenchPeakFractions: rates print as fractions of the higher peak of
// the bracket, and nothing prints without a measured peak.
func TestBenchPeakFractions(t *testing.T) {
	p := benchPeak{PeakBracket: kernels.PeakBracket{
		Before: kernels.PeakFLOPS{ISA: "avx512", Cores: 2, Rounds: 25, AllGFLOPS: 400},
		After:  kernels.PeakFLOPS{ISA: "avx512", Cores: 2, Rounds: 25, AllGFLOPS: 500},
	}}
	if got := p.of(350); got != ", 70% of peak" {
		t.Fatalf("of(350) = %q", got)
	}
	var b strings.Builder
	printPeak(&b, p)
	if want := "400.0 GFLOP/s just before the timing, 500.0 just after; fractions of peak are of 500.0"; !strings.Contains(b.String(), want) {
		t.Fatalf("printPeak wrote %q, want it to contain %q", b.String(), want)
	}
	var none benchPeak
	b.Reset()
	printPeak(&b, none)
	if got := none.of(350); got != "" || b.Len() != 0 {
		t.Fatalf("without a peak: of = %q, printPeak wrote %q", got, b.String())
	}
}
