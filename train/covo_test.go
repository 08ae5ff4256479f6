package train

import (
	"context"
	"math"
	"testing"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/runlog"
)

func TestCoVoRecipeTrains(t *testing.T) {
	_, rows := trainRecipe(t, "covo",
		"model.base="+tinyBase(t), "trainer.steps=2", "trainer.global_batch=2", "trainer.mini_batch=2",
		"rollout.n=4", "rollout.max_response_length=16", "data.train=world:val-easy",
		"data.validation=[]", "reward.params.states=4", "trainer.out_dir="+t.TempDir(),
	)
	if len(rows) != 2 {
		t.Fatalf("%d metric lines", len(rows))
	}
	for _, r := range rows {
		// CoVo rewards lie in [0, 1]: a mean of unit-bounded vectors.
		if v, ok := r[runlog.KeyProxyReward].(float64); !ok || v < 0 || v > 1 || math.IsNaN(v) {
			t.Errorf("step %v: proxy reward %v", r[runlog.KeyStep], r[runlog.KeyProxyReward])
		}
	}
}

// TestStateDistances checks the matrix against a direct scoring of one
// cell: the mean negative log-likelihood of the answer's tokens after the
// state's prefix.
func TestStateDistances(t *testing.T) {
	cfg := tinyConfig(t, tinyBase(t))
	cfg.Reward.Estimator = "covo"
	cfg.Rollout.N = 2
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.run.Close()
	prompt := tr.policy.EncodePrompt("Q 1+2=?")
	resp := [][]int{tr.policy.Tokenizer.Encode(`3 \boxed{3}`), tr.policy.Tokenizer.Encode(`4 \boxed{4}`)}
	rb := &rolloutBatch{groups: []*rollout.Group{{PromptID: "p", Rollouts: []rollout.Rollout{{Answer: "3"}, {Answer: "4"}}}}}
	for _, r := range resp {
		rb.seqs = append(rb.seqs, append(append([]int{}, prompt...), r...))
		rb.scoreFrom = append(rb.scoreFrom, len(prompt))
		rb.gens = append(rb.gens, engine.Generation{Tokens: r})
	}
	cv := reward.CoVo{States: 3}
	if err := tr.stateDistances(context.Background(), rb, cv); err != nil {
		t.Fatal(err)
	}
	d := rb.groups[0].Rollouts[1].StateDistances
	if len(d) != 3 || len(d[0]) != 2 {
		t.Fatalf("matrix %v, want 3 states x 2 answers", d)
	}
	// State 1 of rollout 1 is the prompt and the first len/3 response
	// tokens; answer column 0 is "3".
	cut := len(resp[1]) / 3
	seq := append(append(append([]int{}, prompt...), resp[1][:cut]...), tr.policy.Tokenizer.Encode("3")...)
	sc, err := tr.policy.Engine.LogProbs(context.Background(), [][]int{seq}, engine.ScoreOptions{Temperature: 1, ScoreFrom: []int{len(prompt) + cut}})
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	lp := sc[0].LogProbs[len(prompt)+cut:]
	for _, v := range lp {
		want -= float64(v) / float64(len(lp))
	}
	if math.Abs(d[1][0]-want) > 1e-9 || want <= 0 {
		t.Fatalf("d(s_1, \"3\") = %v, want %v", d[1][0], want)
	}
}
