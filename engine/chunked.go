package engine

import (
	"context"
	"fmt"
)

// chunkSeedStep separates the seeds of consecutive chunks (the 64-bit
// golden-ratio increment, so nearby seeds give unrelated streams).
const chunkSeedStep = 0x9e3779b97f4a7c15

// SampleChunks generates continuations of prompts in Sample calls of at
// most chunk sequences, which bounds the key/value cache of one call. The
// c-th call (from 0) is seeded with o.Seed + c·0x9e3779b97f4a7c15, so the
// result depends only on the arguments, never on how many calls ran before
// or in parallel. An error from Sample is returned as it is.
func (m *Model) SampleChunks(ctx context.Context, prompts [][]int, o SampleOptions, chunk int) ([]Generation, error) {
	if chunk <= 0 {
		return nil, fmt.Errorf("sampling in chunks of %d sequences: must be positive", chunk)
	}
	out := make([]Generation, 0, len(prompts))
	seed := o.Seed
	for c, lo := 0, 0; lo < len(prompts); c, lo = c+1, lo+chunk {
		hi := min(len(prompts), lo+chunk)
		o.Seed = seed + uint64(c)*chunkSeedStep
		g, err := m.Sample(ctx, prompts[lo:hi], o)
		if err != nil {
			return nil, err
		}
		out = append(out, g...)
	}
	return out, nil
}
