package train

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
)

// RLCCF in the trainer (paper Table 2): the peer models of
// reward.params.peers answer every training prompt with N rollouts each,
// next to the policy's N; the group votes with each model weighted by its
// self-consistency, and the policy's rollouts take their rewards from that
// vote. Only the policy is trained; the peers stay as loaded.

// sourcePolicy labels the policy's rollouts in an RLCCF group; a peer's
// are labelled with its name.
const sourcePolicy = "policy"

// peer is one other model of an RLCCF collective.
type peer struct {
	name  string
	model *basemodel.Model
}

// loadPeers opens the RLCCF peers before training. A peer with another
// tokenizer than the policy is an error: the peers answer the policy's
// tokenised prompts.
func (t *Trainer) loadPeers() error {
	e, ok := t.est.(reward.RLCCF)
	if !ok {
		return nil
	}
	for _, name := range e.Peers {
		m, err := basemodel.OpenNamed(name)
		if err != nil {
			return fmt.Errorf("reward rlccf: peer %s: %w", name, err)
		}
		tok, err := os.ReadFile(filepath.Join(m.Dir, "tokenizer.json"))
		if err != nil {
			return fmt.Errorf("reward rlccf: peer %s: reading its tokenizer: %w", name, err)
		}
		if !bytes.Equal(tok, t.tokenizerJSON) {
			return fmt.Errorf("reward rlccf: peer %s has another tokenizer than the policy %s (tokenizer.json differs); the peers answer the policy's tokenised prompts, so they must share its tokenizer", name, t.cfg.Model.Base)
		}
		t.peers = append(t.peers, peer{name: name, model: m})
	}
	return nil
}

// peerGroups samples every peer's N rollouts for each problem and returns
// the groups the RLCCF vote is taken over: the policy's rollouts first,
// then each peer's, told apart by Source.
func (t *Trainer) peerGroups(ctx context.Context, rb *rolloutBatch) ([]*rollout.Group, error) {
	N := t.cfg.Rollout.N
	out := make([]*rollout.Group, len(rb.groups))
	for j, g := range rb.groups {
		c := *g
		c.Rollouts = make([]rollout.Rollout, 0, N*(1+len(t.peers)))
		for _, r := range g.Rollouts {
			r.Source = sourcePolicy
			c.Rollouts = append(c.Rollouts, r)
		}
		out[j] = &c
	}
	prompts := make([][]int, 0, len(rb.gens))
	for i := range rb.gens {
		prompts = append(prompts, rb.seqs[i][:rb.scoreFrom[i]])
	}
	for _, p := range t.peers {
		o := t.rolloutOptions()
		o.StopTokens = p.model.StopTokens()
		o.Seed = t.rngSample.Uint64()
		gens, err := p.model.Engine.SampleChunks(ctx, prompts, o, sampleChunk)
		if err != nil {
			return nil, fmt.Errorf("rlccf peer %s: sampling: %w", p.name, err)
		}
		for j, g := range out {
			extract := t.grader.Extract
			if g.Verifier != nil {
				extract = g.Verifier.Extract
			}
			for k := range N {
				text := p.model.Response(gens[j*N+k].Tokens)
				ans, _ := extract(text)
				g.Rollouts = append(g.Rollouts, rollout.Rollout{Text: text, Answer: ans, Source: p.name})
			}
		}
	}
	return out, nil
}

// policyScores keeps the policy's share of each collective vote: its
// rollouts' rewards, and the label with the count of policy rollouts that
// gave it, for the training-dynamics metrics.
func policyScores(joined []reward.Scores, n int) []reward.Scores {
	out := make([]reward.Scores, len(joined))
	for j, s := range joined {
		ps := reward.Scores{Rewards: s.Rewards[:n], Stats: s.Stats}
		if label, ok := s.Label(); ok {
			top := 0
			for i := range n {
				if s.Partition.Class != nil && s.Partition.Class[i] >= 0 && s.Partition.Rep[s.Partition.Class[i]] == label {
					top++
				}
			}
			ps.Votes = []reward.Vote{{Label: label, HasLabel: true, TopCount: top, Voters: n}}
		}
		out[j] = ps
	}
	return out
}
