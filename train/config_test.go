package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfigMergesRecipeAndOverrides(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	os.WriteFile(path, []byte("name: mine\nrollout:\n  n: 16\nreward:\n  estimator: self_certainty\n"), 0o644)
	cfg, err := LoadConfig(path, []string{"rollout.temperature=1.2", "trainer.steps=7", "data.validation=[world:val-hard]", "reward.params.threshold=0.5"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "mine" || cfg.Rollout.N != 16 || cfg.Rollout.Temperature != 1.2 || cfg.Trainer.Steps != 7 {
		t.Fatalf("merged config wrong: %+v", cfg)
	}
	if cfg.Reward.Estimator != "self_certainty" || cfg.Reward.Params["threshold"] != 0.5 {
		t.Fatalf("reward = %+v", cfg.Reward)
	}
	if len(cfg.Data.Validation) != 1 || cfg.Data.Validation[0] != "world:val-hard" {
		t.Fatalf("validation = %v", cfg.Data.Validation)
	}
	// Untouched fields keep their defaults.
	if d := Default(); cfg.Trainer.GlobalBatch != d.Trainer.GlobalBatch || cfg.Eval.N != 8 || cfg.Eval.Temperature != 0.6 {
		t.Fatalf("defaults lost: %+v", cfg)
	}
}

func TestLoadConfigRejectsTyposAndBadValues(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"rollout.nn=3"}, "field nn not found"},
		{[]string{"rollout.n=0"}, "rollout.n must be >= 1"},
		{[]string{"rollout.n=abc"}, "cannot unmarshal"},
		{[]string{"trainer.mini_batch=5"}, "multiple of trainer.mini_batch"},
		{[]string{"rollout.top_p=0"}, "rollout.top_p"},
		{[]string{"eval.pass_k=[64]"}, "eval.pass_k 64"},
		{[]string{"noequals"}, "want key=value"},
	} {
		_, err := LoadConfig("", tc.set)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %v: error %v, want %q", tc.set, err, tc.want)
		}
	}
}

func TestDefaultConfigIsValidAndRoundTrips(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	y, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, y, 0o644)
	back, err := LoadConfig(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	y2, _ := back.YAML()
	if string(y) != string(y2) {
		t.Fatalf("round trip changed the config:\n%s\nvs\n%s", y, y2)
	}
}

func TestShippedRecipesLoad(t *testing.T) {
	paths, err := filepath.Glob("../recipes/*.yaml")
	if err != nil || len(paths) < 8 {
		t.Fatalf("recipes: %v %v", paths, err)
	}
	for _, p := range paths {
		cfg, err := LoadConfig(p, nil)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		for _, spec := range append([]string{cfg.Data.Train}, cfg.Data.Validation...) {
			if _, _, err := LoadProblems(spec); err != nil {
				t.Errorf("%s: dataset %s: %v", p, spec, err)
			}
		}
	}
}
