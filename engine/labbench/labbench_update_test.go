package labbench

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
)

// TestRLUpdateWaitsForTheReference: the update scores the reference beside
// its micro-batches; it takes its one optimiser step when the scoring
// succeeds, and none, returning the scoring's error, when it fails.
func TestRLUpdateWaitsForTheReference(t *testing.T) {
	base, err := basemodel.Open(Options{}.withDefaults().Model)
	if err != nil {
		t.Fatal(err)
	}
	m := base.Engine
	ref := m.Clone()
	seqs := [][]int{{1, 5, 6, 7, 8}, {1, 9, 10, 11}, {1, 4, 4, 4, 4, 4}}
	from := []int{2, 2, 3}
	for _, cancelled := range []bool{false, true} {
		tr, err := engine.NewLearner(m, engine.LearnerOptions{MaxBatch: 2, MaxSeqLen: 6, AdamW: engine.DefaultAdamW(), ClipNorm: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		if cancelled {
			cancel()
		}
		err = rlUpdate(ctx, ref, tr, seqs, from, 2, rand.New(rand.NewPCG(1, 2)))
		cancel()
		steps := tr.Optimizer().Steps()
		switch {
		case !cancelled && (err != nil || steps != 1):
			t.Fatalf("update: %v, %d optimiser steps; want no error and one step", err, steps)
		case cancelled && (!errors.Is(err, context.Canceled) || steps != 0):
			t.Fatalf("update with the reference cancelled: %v, %d optimiser steps; want the cancellation and none", err, steps)
		}
	}
}
