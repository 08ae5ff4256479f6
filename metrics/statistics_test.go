package metrics

import "testing"

// The ratio of two sums over drawn problems: with every problem alike the
// interval is that ratio exactly; and the draws are those of a seeded
// generator, so the same config gives the same interval.
func TestBootstrapStatisticsByHand(t *testing.T) {
	hits, items := []float64{1, 2, 3}, []float64{2, 4, 6} // every problem at 0.5
	stat := func(draw []int) []float64 {
		var h, n float64
		for _, i := range draw {
			h, n = h+hits[i], n+items[i]
		}
		return []float64{h / n, n}
	}
	iv, err := BootstrapStatistics(3, stat, BootstrapConfig{Seed: 7, Resamples: 200, Percentiles: Trimmed})
	if err != nil {
		t.Fatal(err)
	}
	if iv[0].Lo != 0.5 || iv[0].Hi != 0.5 {
		t.Fatalf("ratio interval %+v, want [0.5, 0.5]", iv[0])
	}
	if !(iv[1].Lo >= 6 && iv[1].Lo <= 12 && iv[1].Hi >= iv[1].Lo && iv[1].Hi <= 18) {
		t.Fatalf("item-count interval %+v outside the possible [6, 18]", iv[1])
	}
	again, _ := BootstrapStatistics(3, stat, BootstrapConfig{Seed: 7, Resamples: 200, Percentiles: Trimmed})
	if again[1] != iv[1] {
		t.Fatalf("same seed, intervals %+v and %+v", iv[1], again[1])
	}
	if _, err := BootstrapStatistics(0, stat, BootstrapConfig{}); err == nil {
		t.Fatal("no problems: want an error")
	}
	if _, err := BootstrapStatistics(3, stat, BootstrapConfig{Strata: []int{3}}); err == nil {
		t.Fatal("strata: want an error")
	}
}
