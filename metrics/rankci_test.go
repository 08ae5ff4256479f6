package metrics

import (
	"errors"
	"math"
	"testing"
)

func TestBootstrapCorrelationMonotoneIsOne(t *testing.T) {
	// y strictly increases with x, so every resample with two distinct
	// units has rank correlation exactly 1: the interval is [1, 1].
	x := []float64{1, 2, 3, 4, 5, 6}
	y := []float64{0.1, 0.4, 0.5, 0.9, 1.2, 2}
	for name, f := range map[string]func(x, y []float64) (float64, error){"spearman": Spearman, "kendall": KendallTauB} {
		c, err := BootstrapCorrelation(x, y, f, BootstrapConfig{Resamples: 200, Seed: 3})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if c.Value != 1 || c.CI.Lo != 1 || c.CI.Hi != 1 {
			t.Errorf("%s: got %v %+v, want 1 [1, 1]", name, c.Value, c.CI)
		}
		// Resamples that drew one unit six times are constant and
		// skipped: 6/6^6 of them in expectation, so nearly none.
		if c.Resamples < 195 || c.Resamples > 200 {
			t.Errorf("%s: %d defined resamples of 200", name, c.Resamples)
		}
	}
}

func TestBootstrapCorrelationIntervalHoldsValueAndIsReproducible(t *testing.T) {
	// Spearman of these five pairs: ranks x = 1..5, ranks y = 2,1,4,3,5:
	// sum d^2 = 1+1+1+1+0 = 4, rho = 1 - 6*4/(5*24) = 0.8.
	x := []float64{1, 2, 3, 4, 5}
	y := []float64{20, 10, 40, 30, 50}
	a, err := BootstrapCorrelation(x, y, Spearman, BootstrapConfig{Resamples: 500, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.Value-0.8) > 1e-12 {
		t.Errorf("spearman = %v, want 0.8", a.Value)
	}
	if !(a.CI.Lo <= a.Value && a.Value <= a.CI.Hi) || a.CI.Lo >= a.CI.Hi || a.CI.Hi > 1 || a.CI.Lo < -1 {
		t.Errorf("interval %+v around %v", a.CI, a.Value)
	}
	b, _ := BootstrapCorrelation(x, y, Spearman, BootstrapConfig{Resamples: 500, Seed: 7})
	if a != b {
		t.Errorf("same seed gave %+v and %+v", a, b)
	}
}

func TestBootstrapCorrelationRejectsUndefined(t *testing.T) {
	if _, err := BootstrapCorrelation([]float64{1, 2, 3}, []float64{5, 5, 5}, Spearman, BootstrapConfig{}); !errors.Is(err, ErrConstant) {
		t.Errorf("constant y: err = %v, want ErrConstant", err)
	}
	if _, err := BootstrapCorrelation([]float64{1}, []float64{2}, Spearman, BootstrapConfig{}); err == nil {
		t.Error("one unit: no error")
	}
	// Two units: a resample is constant whenever it draws the same unit
	// twice, half the time in expectation; with a fixed seed this fails
	// or passes deterministically, and it must never return an interval
	// from fewer than half the resamples.
	c, err := BootstrapCorrelation([]float64{1, 2}, []float64{1, 2}, Spearman, BootstrapConfig{Resamples: 100, Seed: 1})
	if err == nil && c.Resamples < 50 {
		t.Errorf("interval from %d of 100 resamples", c.Resamples)
	}
	if _, err := BootstrapCorrelation([]float64{1, 2, 3}, []float64{1, 2, 3}, Spearman, BootstrapConfig{Level: 1.5}); err == nil {
		t.Error("level 1.5: no error")
	}
}

func TestRankingAgreement(t *testing.T) {
	// Collapse steps of four models under two settings: one swapped pair
	// of six, so tau = (5-1)/6.
	got, err := RankingAgreement([]float64{10, 20, 30, 40}, []float64{12, 25, 24, 41})
	if err != nil {
		t.Fatal(err)
	}
	if want := 4.0 / 6; math.Abs(got-want) > 1e-12 {
		t.Errorf("agreement = %v, want %v", got, want)
	}
	if got, _ := RankingAgreement([]float64{1, 2, 3}, []float64{3, 2, 1}); got != -1 {
		t.Errorf("reversed ranking: %v, want -1", got)
	}
}
