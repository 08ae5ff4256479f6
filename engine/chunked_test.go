package engine

import (
	"context"
	"reflect"
	"testing"
)

func TestSampleChunksSeedsEachChunk(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 5)
	prompts := [][]int{{1, 2}, {3}, {4, 5, 6}, {7}, {2, 2}}
	o := SampleOptions{MaxNewTokens: 4, Temperature: 1, Seed: 11}
	got, err := m.SampleChunks(context.Background(), prompts, o, 2)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: chunks {0,1}, {2,3}, {4}, the c-th seeded 11 + c·step.
	var want []Generation
	for c, lo := range []int{0, 2, 4} {
		hi := min(len(prompts), lo+2)
		oc := o
		oc.Seed = 11 + uint64(c)*chunkSeedStep
		g, err := m.Sample(context.Background(), prompts[lo:hi], oc)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, g...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("chunked sampling differs from the chunks sampled by hand")
	}
	if _, err := m.SampleChunks(context.Background(), prompts, o, 0); err == nil {
		t.Error("chunks of 0 sequences: no error")
	}
}
