package train

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task"
	"github.com/urlvr/urlvr/task/arith"
)

// countdownBase is a tiny random model with room in its context for the
// paper's Countdown prompt and the P1 verification prompt.
func countdownBase(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny-cd")
	shape := arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: 768}
	if err := basemodel.WriteRandom(dir, shape, 7); err != nil {
		t.Fatal(err)
	}
	return dir
}

// countdownFile writes Countdown instances in the public layout.
func countdownFile(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	lines := `{"target": 98, "nums": [44, 19, 35]}
{"target": 24, "nums": [3, 8, 1]}
{"target": 10, "nums": [2, 5, 1]}
{"target": 7, "nums": [1, 2, 4]}
`
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func countdownConfig(t *testing.T) Config {
	cfg := tinyConfig(t, countdownBase(t))
	cfg.Data.Train = countdownFile(t, "cd-train.jsonl")
	cfg.Data.Validation = []string{countdownFile(t, "cd-val.jsonl")}
	cfg.Rollout.MaxPromptLength = 700
	cfg.Rollout.MaxResponseLength = 16
	cfg.Trainer.Steps = 2
	cfg.Trainer.SaveEvery = 0
	cfg.Trainer.SampleEvery = 0
	cfg.Eval.Every = 2
	return cfg
}

func TestSelfVerificationTrainsOnCountdown(t *testing.T) {
	cfg := countdownConfig(t)
	cfg.Reward.Estimator = "self_verification"
	cfg.Reward.Params = map[string]any{"prompt": "P1"}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	rows := readLines(t, filepath.Join(tr.Dir(), MetricsFile))
	if len(rows) != 2 {
		t.Fatalf("%d metric lines, want 2", len(rows))
	}
	for _, row := range rows {
		for _, key := range []string{runlog.KeySelfVerifyReward, runlog.KeySelfVerifyOracleReward, runlog.KeySelfVerifyAccuracy,
			runlog.KeySelfVerifyParseRate, runlog.KeySelfVerifyFalsePositive, runlog.KeySelfVerifyTokens, runlog.KeySelfVerifySeconds} {
			v, ok := row[key].(float64)
			if !ok {
				t.Fatalf("step %v lacks %s: %v", row["step"], key, row)
			}
			if key != runlog.KeySelfVerifyTokens && key != runlog.KeySelfVerifySeconds && (v < 0 || v > 1) {
				t.Errorf("%s = %v, outside [0, 1]", key, v)
			}
		}
		// 4 prompts x 4 rollouts, each verified with at most 16 tokens.
		if tok := row[runlog.KeySelfVerifyTokens].(float64); tok < 16 || tok > 16*16 {
			t.Errorf("verification tokens %v, want between 16 and 256", tok)
		}
		// A random model over the world's alphabet cannot write True or
		// False, so no verdict parses, every reward is the no-verdict 0,
		// and the verifier accepts nothing.
		if row[runlog.KeySelfVerifyParseRate] != 0.0 || row[runlog.KeyProxyReward] != 0.0 || row[runlog.KeySelfVerifyFalsePositive] != 0.0 {
			t.Errorf("parse rate %v, proxy reward %v, false positives %v; want 0, 0, 0",
				row[runlog.KeySelfVerifyParseRate], row[runlog.KeyProxyReward], row[runlog.KeySelfVerifyFalsePositive])
		}
	}
	val := readLines(t, filepath.Join(tr.Dir(), ValidationFile))
	for _, k := range []string{"val/cd-val/avg@4", "val/cd-val/avg@4_ci_lo", "val/cd-val/avg@4_ci_hi"} {
		if _, ok := val[len(val)-1][k]; !ok {
			t.Errorf("validation row lacks %s: %v", k, val[len(val)-1])
		}
	}
}

func TestSelfVerificationBadSetupFailsBeforeTraining(t *testing.T) {
	cfg := countdownConfig(t)
	cfg.Reward.Estimator = "self_verification"
	cfg.Reward.Params = map[string]any{"template": "Is it right? Answer \\boxed{True} or \\boxed{False}."}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "{expr}") {
		t.Fatalf("a template without {expr}: %v, want an error naming the placeholder", err)
	}
	cfg = countdownConfig(t)
	cfg.Reward.Estimator = "self_verification"
	cfg.Data.Train = "world:val-easy"
	cfg.Rollout.MaxPromptLength = 48
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "not a Countdown instance") {
		t.Fatalf("self-verification on arithmetic problems: %v, want an error", err)
	}
	cfg = countdownConfig(t)
	cfg.Data.Train = filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(cfg.Data.Train, []byte("{\"nums\": [1, 2], \"target\": 3}\n{\"nums\": [1, 2]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), `bad.jsonl:2: field "target"`) {
		t.Fatalf("a Countdown row without target: %v, want an error naming line 2 and the field", err)
	}
}

// TestVerifyStats checks the verifier metrics on hand-made verdicts:
// rollouts 1 and 2 are correct, 3 and 4 wrong; the verdicts accept 1 and
// 3, reject 2, and 4's reply has none (scored 0 here).
func TestVerifyStats(t *testing.T) {
	g := &rollout.Group{PromptID: "p", Countdown: &rollout.Countdown{Numbers: []int{1, 2, 4}, Target: 7}, Rollouts: []rollout.Rollout{
		{Text: "<answer>1+2+4</answer>", Verdict: `\boxed{True}`},
		{Text: "<answer>4+2+1</answer>", Verdict: `so \boxed{False}`},
		{Text: "<answer>4+2-1</answer>", Verdict: `\boxed{ \text{true} }`},
		{Text: "no answer", Verdict: "I think it is fine"},
	}}
	task.Attach(g)
	var row runlog.StepRow
	verifyStats([]*rollout.Group{g}, 0).write(&row)
	want := map[string]float64{
		runlog.KeySelfVerifyReward:        2.0 / 4,
		runlog.KeySelfVerifyOracleReward:  2.0 / 4,
		runlog.KeySelfVerifyAccuracy:      2.0 / 4, // 1 (accept, correct) and 4 (reject, wrong)
		runlog.KeySelfVerifyParseRate:     3.0 / 4,
		runlog.KeySelfVerifyTruePositive:  1.0 / 2,
		runlog.KeySelfVerifyFalsePositive: 1.0 / 2,
	}
	got := row.Fields()
	for k, w := range want {
		if v, ok := got[k].(float64); !ok || v != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	// Scoring an unparseable reply as acceptance moves rollout 4.
	row = runlog.StepRow{}
	verifyStats([]*rollout.Group{g}, 1).write(&row)
	got = row.Fields()
	if got[runlog.KeySelfVerifyReward] != 3.0/4 || got[runlog.KeySelfVerifyFalsePositive] != 1.0 || got[runlog.KeySelfVerifyAccuracy] != 1.0/4 {
		t.Errorf("no_verdict_reward 1: reward %v, false positives %v, accuracy %v; want 0.75, 1, 0.25",
			got[runlog.KeySelfVerifyReward], got[runlog.KeySelfVerifyFalsePositive], got[runlog.KeySelfVerifyAccuracy])
	}
}

// TestCountdownSplits checks the world's Countdown splits as the trainer
// loads them: sizes, disjointness up to number order, the prompt.
func TestCountdownSplits(t *testing.T) {
	train, name, err := LoadProblems("countdown:train")
	if err != nil {
		t.Fatal(err)
	}
	val, _, err := LoadProblems("countdown:val")
	if err != nil {
		t.Fatal(err)
	}
	if name != "countdown-train" || len(train) != 4096 || len(val) != 1024 {
		t.Fatalf("%s: %d train, %d validation problems", name, len(train), len(val))
	}
	seen := map[string]bool{}
	for _, p := range train {
		seen[countdownKey(p.Countdown.Numbers, p.Countdown.Target)] = true
	}
	for _, p := range val {
		if seen[countdownKey(p.Countdown.Numbers, p.Countdown.Target)] {
			t.Fatalf("validation problem %s is also in the training split", p.ID)
		}
		if !strings.Contains(p.Prompt, "<answer>") {
			t.Fatalf("prompt %q", p.Prompt)
		}
	}
	if _, _, err := LoadProblems("countdown:test"); err == nil || !strings.Contains(err.Error(), "have train, val") {
		t.Fatalf("unknown split: %v", err)
	}
}

func TestSelfVerificationRecipeTrainsOnATinyModel(t *testing.T) {
	_, rows := trainRecipe(t, "self_verification",
		"model.base="+countdownBase(t), "trainer.steps=1", "trainer.global_batch=2", "trainer.mini_batch=2",
		"rollout.n=2", "rollout.max_response_length=8", "rollout.max_prompt_length=700",
		"reward.params.prompt=P1", "data.validation=[]", "trainer.out_dir="+t.TempDir(),
	)
	if _, ok := rows[0][runlog.KeySelfVerifyAccuracy]; len(rows) != 1 || !ok {
		t.Fatalf("metrics %v", rows)
	}
}

func TestCorrectUsesTheTaskVerifier(t *testing.T) {
	tr := &Trainer{grader: grade.Default()}
	cd := &rollout.Group{Countdown: &rollout.Countdown{Numbers: []int{1, 2, 4}, Target: 7}}
	task.Attach(cd)
	math := &rollout.Group{Gold: "7", HasGold: true}
	for _, c := range []struct {
		g      *rollout.Group
		answer string
		want   bool
	}{
		{cd, "1+2+4", true}, {cd, "7", false}, {cd, "", false},
		{math, "7", true}, {math, "14/2", true}, {math, "8", false}, {math, "", false},
	} {
		if got := tr.correct(c.g, c.answer); got != c.want {
			t.Errorf("correct(%q) = %v, want %v", c.answer, got, c.want)
		}
	}
}

// countdownKey identifies an instance by its target and sorted numbers.
func countdownKey(nums []int, target int) string {
	s := slices.Clone(nums)
	slices.Sort(s)
	var b strings.Builder
	b.WriteString(strconv.Itoa(target))
	for _, n := range s {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
