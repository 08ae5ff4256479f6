package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task/arith"
)

func TestRLCCFRecipeTrainsWithPeers(t *testing.T) {
	peer := filepath.Join(t.TempDir(), "peer")
	shape := arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: 64}
	if err := basemodel.WriteRandom(peer, shape, 11); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(peer, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	tr, rows := trainRecipe(t, "rlccf",
		"model.base="+tinyBase(t), "trainer.steps=2", "trainer.global_batch=2", "trainer.mini_batch=2",
		"rollout.n=4", "rollout.max_response_length=16", "data.train=world:val-easy",
		"data.validation=[]", "reward.params.peers=["+peer+"]", "trainer.out_dir="+t.TempDir(),
	)
	if len(tr.peers) != 1 {
		t.Fatalf("%d peers loaded, want 1", len(tr.peers))
	}
	if len(rows) != 2 {
		t.Fatalf("%d metric lines", len(rows))
	}
	if v, ok := rows[1][runlog.KeyProxyReward].(float64); !ok || v < 0 || v > 1 {
		t.Errorf("proxy reward %v", rows[1][runlog.KeyProxyReward])
	}
	after, err := os.ReadFile(filepath.Join(peer, "model.safetensors"))
	if err != nil || string(after) != string(before) {
		t.Fatalf("the peer's weights changed on disk (%v)", err)
	}
}

func TestRLCCFPeerWithAnotherTokenizerFailsBeforeTraining(t *testing.T) {
	peer := filepath.Join(t.TempDir(), "peer")
	shape := arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: 64}
	if err := basemodel.WriteRandom(peer, shape, 11); err != nil {
		t.Fatal(err)
	}
	tok := filepath.Join(peer, "tokenizer.json")
	b, err := os.ReadFile(tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tok, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Reward.Estimator = "rlccf"
	cfg.Reward.Params = map[string]any{"peers": []any{peer}}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "another tokenizer") || !strings.Contains(err.Error(), peer) {
		t.Fatalf("a peer with another tokenizer: %v, want an error naming it", err)
	}
}

func TestPolicyScoresKeepThePolicysShare(t *testing.T) {
	// Policy answers 1 1 2, a peer 2 2 2: the peer's weight 3 beats the
	// policy's 2, so the label is 2; the policy's rollouts get 0 0 1.
	joined := []reward.Scores{{Rewards: []float64{0, 0, 1, 1, 1, 1},
		Votes: []reward.Vote{{Label: "2", HasLabel: true, TopCount: 4, Voters: 6}}}}
	joined[0].Partition.Class = []int{0, 0, 1, 1, 1, 1}
	joined[0].Partition.Rep = []string{"1", "2"}
	ps := policyScores(joined, 3)
	if got := ps[0].Rewards; len(got) != 3 || got[2] != 1 || got[0] != 0 {
		t.Fatalf("rewards %v", got)
	}
	if v := ps[0].Votes[0]; v.Label != "2" || v.TopCount != 1 || v.Voters != 3 {
		t.Fatalf("vote %+v, want label 2 given by 1 of 3 policy rollouts", v)
	}
}
