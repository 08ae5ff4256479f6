package engine

import (
	"math"
	"slices"
	"testing"
)

func TestFiniteSeesOneBadParameter(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 1)
	if !m.Finite() {
		t.Fatal("a fresh model reported non-finite")
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		c := m.Clone()
		c.params[len(c.params)-1] = bad
		if c.Finite() {
			t.Fatalf("a parameter %v went unnoticed", bad)
		}
	}
}

// Restore undoes an update exactly: parameters, both moments and the step
// count, so the next update is the one the undone update would have been.
func TestSnapshotRestoreUndoesAnUpdate(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 2)
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 2, MaxSeqLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBatch([][]int{{1, 2, 3, 4}, {5, 6, 7}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	update := func() {
		t.Helper()
		if _, err := tr.CrossEntropy(b, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Step(1e-2); err != nil {
			t.Fatal(err)
		}
	}
	update()
	params, mom, vel := slices.Clone(m.params), slices.Clone(tr.opt.m), slices.Clone(tr.opt.v)
	var s LearnerSnapshot
	tr.Snapshot(&s)
	update()
	if slices.Equal(params, m.params) {
		t.Fatal("the update changed nothing; the test proves nothing")
	}
	if err := tr.Restore(&s); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(params, m.params) || !slices.Equal(mom, tr.opt.m) || !slices.Equal(vel, tr.opt.v) || tr.opt.steps != 1 {
		t.Fatal("restore did not bring back the parameters and optimiser state of the snapshot")
	}
	var other LearnerSnapshot
	if err := tr.Restore(&other); err == nil {
		t.Fatal("restoring an empty snapshot succeeded")
	}
}
