package kernels

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"
)

// PeakFLOPS is the machine's measured single-precision peak: a loop of
// independent FMAs on registers only (no memory traffic), on one core and on
// GOMAXPROCS cores at once. It is the ceiling every kernel's GFLOP/s is a
// fraction of.
type PeakFLOPS struct {
	ISA        string  // "avx512" or "avx2"
	Cores      int     // goroutines of the all-core measurement
	CoreGFLOPS float64 // one core, best round
	AllGFLOPS  float64 // all cores together, best round
	Rounds     int
}

// MeasurePeak times the FMA loop for rounds rounds of about round each and
// reports the best: interference from other processes only ever slows the
// loop, so the fastest round is the closest to the hardware's peak. It
// reports false where the package has no assembly FMA loop.
func MeasurePeak(ctx context.Context, rounds int, round time.Duration) (PeakFLOPS, bool, error) {
	loop, flopsPerIter, isa := peakLoop()
	if loop == nil {
		return PeakFLOPS{}, false, nil
	}
	rounds = max(rounds, 1)
	// Calibrate: iterations for about one round.
	iters := 1 << 16
	for {
		start := time.Now()
		loop(iters)
		if el := time.Since(start); el > round/4 || iters > 1<<34 {
			iters = int(float64(iters) * float64(round) / float64(max(el, time.Microsecond)))
			break
		}
		iters *= 4
	}
	iters = max(iters, 1)
	run := func(cores int) float64 {
		var wg sync.WaitGroup
		start := time.Now()
		for range cores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				loop(iters)
			}()
		}
		wg.Wait()
		return float64(cores) * float64(iters) * flopsPerIter / time.Since(start).Seconds() / 1e9
	}
	p := PeakFLOPS{ISA: isa, Cores: runtime.GOMAXPROCS(0), Rounds: rounds}
	var one, all []float64
	for range rounds {
		if err := ctx.Err(); err != nil {
			return PeakFLOPS{}, true, err
		}
		one = append(one, run(1))
		all = append(all, run(p.Cores))
	}
	p.CoreGFLOPS, p.AllGFLOPS = slices.Max(one), slices.Max(all)
	return p, true, nil
}

// PeakBracket is the peak measured just before and just after a timed run.
// The speed of a shared machine drifts over minutes (other tenants take
// cycles, clocks change), so a fraction of peak means something only
// against a peak taken around the very run it divides; the two readings
// also show how far the machine drifted meanwhile.
type PeakBracket struct {
	Before, After PeakFLOPS
}

// GFLOPS is the higher of the two all-core peaks: the ceiling the run's
// GFLOP/s are fractions of. Taking the higher never flatters a fraction.
func (b PeakBracket) GFLOPS() float64 { return max(b.Before.AllGFLOPS, b.After.AllGFLOPS) }

// Fraction is gflops as a fraction of GFLOPS, or 0 when no peak was
// measured.
func (b PeakBracket) Fraction(gflops float64) float64 {
	p := b.GFLOPS()
	if !(p > 0) {
		return 0
	}
	return gflops / p
}

// MeasurePeakAround runs MeasurePeak, then run, then MeasurePeak again, and
// returns both peaks. It reports false, after calling run, where the package
// has no FMA loop; an error from run or a cancelled context is returned as
// it is.
func MeasurePeakAround(ctx context.Context, rounds int, round time.Duration, run func() error) (PeakBracket, bool, error) {
	var b PeakBracket
	before, ok, err := MeasurePeak(ctx, rounds, round)
	if err != nil {
		return b, ok, err
	}
	if err := run(); err != nil {
		return b, ok, err
	}
	if !ok {
		return b, false, nil
	}
	after, _, err := MeasurePeak(ctx, rounds, round)
	if err != nil {
		return b, true, err
	}
	return PeakBracket{Before: before, After: after}, true, nil
}
