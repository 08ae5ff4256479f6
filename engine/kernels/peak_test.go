package kernels

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestMeasurePeakRuns: the FMA loop runs and the measurement is well formed
// and cancellable (no timing is asserted).
func TestMeasurePeakRuns(t *testing.T) {
	p, ok, err := MeasurePeak(context.Background(), 1, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip("no FMA loop on this architecture")
	}
	if !(p.CoreGFLOPS > 0) || !(p.AllGFLOPS > 0) || p.Cores < 1 || p.ISA == "" {
		t.Fatalf("malformed peak %+v", p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := MeasurePeak(ctx, 1, time.Millisecond); err == nil {
		t.Fatal("cancelled measurement returned no error")
	}
}

// TestPeakBracketFraction: the fraction divides by the higher of the two
// all-core peaks, and is 0 with no peak at all.
func TestPeakBracketFraction(t *testing.T) {
	b := PeakBracket{Before: PeakFLOPS{AllGFLOPS: 400}, After: PeakFLOPS{AllGFLOPS: 500}}
	if got := b.GFLOPS(); got != 500 {
		t.Fatalf("GFLOPS = %v, want 500", got)
	}
	if got := b.Fraction(350); got != 0.7 {
		t.Fatalf("Fraction(350) = %v, want 0.7", got)
	}
	b.Before.AllGFLOPS, b.After.AllGFLOPS = 520, 500
	if got := b.Fraction(260); got != 0.5 {
		t.Fatalf("Fraction(260) = %v, want 0.5", got)
	}
	if got := (PeakBracket{}).Fraction(100); got != 0 {
		t.Fatalf("Fraction without a peak = %v, want 0", got)
	}
}

// TestMeasurePeakAroundRunsBetween: the run happens between the two
// measurements, its error comes back, and both peaks are filled.
func TestMeasurePeakAroundRunsBetween(t *testing.T) {
	calls := 0
	b, ok, err := MeasurePeakAround(context.Background(), 1, time.Millisecond, func() error { calls++; return nil })
	if err != nil || calls != 1 {
		t.Fatalf("err %v, %d calls of run", err, calls)
	}
	if ok && (!(b.Before.AllGFLOPS > 0) || !(b.After.AllGFLOPS > 0)) {
		t.Fatalf("a peak is missing: %+v", b)
	}
	boom := errors.New("boom")
	if _, _, err := MeasurePeakAround(context.Background(), 1, time.Millisecond, func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("run's error: got %v", err)
	}
}
