package kernels

import (
	"context"
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
