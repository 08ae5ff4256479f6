package rewardserver

import (
	"testing"
	"time"

	"github.com/urlvr/urlvr/metrics"
)

// group returns a batch of one group with the given proxy and ground-truth
// rewards.
func group(proxy, gt []float64) batchRecord {
	var b batchRecord
	b.addGroup(proxy, false, []metrics.Group{{Proxy: proxy, GT: gt}})
	return b
}

func TestTrackerSteps(t *testing.T) {
	tr, err := newTracker(TrackerConfig{StepIdle: 10 * time.Millisecond}, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	good := group([]float64{1, 0}, []float64{1, 0}) // reward accuracy 1
	bad := group([]float64{1, 1}, []float64{0, 0})  // reward accuracy 0

	// Groups arriving one by one join the open step until it idles.
	tr.record("a", nil, true, good, at(0))
	tr.record("a", nil, true, bad, at(5))
	st := tr.record("a", nil, true, good, at(30))
	if st.Step != 2 {
		t.Fatalf("after an idle gap: step %d, want 2", st.Step)
	}
	rep, _ := tr.report("a", -1, at(31))
	if rep.Steps != 1 || rep.History[0].Groups != 2 || rep.History[0].Dynamics.RewardAccuracy != 0.5 || rep.History[0].ProxyReward != 0.75 {
		t.Fatalf("step 1: %+v", rep.History)
	}
	// Reading a report after another gap closes the open step.
	rep, _ = tr.report("a", -1, at(100))
	if rep.Steps != 2 || rep.Current != nil {
		t.Fatalf("after reading idle: %d steps, current %+v", rep.Steps, rep.Current)
	}

	// Explicit steps: a later step closes the open one; an earlier one
	// rewinds and replays the collapse detector over what is kept.
	for s, b := range []batchRecord{good, bad, bad, bad} {
		step := s + 1
		tr.record("b", &step, false, b, at(s))
	}
	rep, _ = tr.report("b", -1, at(5))
	if !rep.Collapse.Collapsed || rep.Collapse.Step != 2 || rep.Steps != 3 || rep.Current.Step != 4 {
		t.Fatalf("collapse %+v, %d steps, current %+v", rep.Collapse, rep.Steps, rep.Current)
	}
	two := 2
	st = tr.record("b", &two, false, good, at(6))
	if st.Collapsed || st.Step != 2 {
		t.Fatalf("after rewinding to step 2: %+v", st)
	}
	rep, _ = tr.report("b", -1, at(7))
	if rep.Steps != 1 || rep.Current.Step != 2 || rep.Current.Groups != 1 {
		t.Fatalf("after rewind: %d steps, current %+v", rep.Steps, rep.Current)
	}
	// The same step again, once it was closed by idling, is reopened with
	// its earlier batches kept.
	tr.report("b", -1, at(100))
	tr.record("b", &two, false, bad, at(101))
	rep, _ = tr.report("b", -1, at(102))
	if rep.Current == nil || rep.Current.Step != 2 || rep.Current.Groups != 2 || rep.Current.Dynamics.RewardAccuracy != 0.5 {
		t.Fatalf("reopened step: %+v", rep.Current)
	}
}

func TestTrackerForgetsOldestRun(t *testing.T) {
	tr, _ := newTracker(TrackerConfig{MaxRuns: 2}, func(string, ...any) {})
	t0 := time.Unix(0, 0)
	b := group([]float64{1}, []float64{1})
	tr.record("r1", nil, false, b, t0)
	tr.record("r2", nil, false, b, t0.Add(time.Second))
	tr.record("r1", nil, false, b, t0.Add(2*time.Second))
	tr.record("r3", nil, false, b, t0.Add(3*time.Second))
	if _, ok := tr.report("r2", 0, t0); ok {
		t.Error("r2, the least recently updated, should be forgotten")
	}
	if _, ok := tr.report("r1", 0, t0); !ok {
		t.Error("r1 was forgotten")
	}
}
