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

// Errors cite the line of the user's recipe file (comments, blank lines and
// all), not of the YAML merged from it and the overrides, and errors of an
// override name the override.
func TestConfigErrorsCiteTheUsersLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	head := "# my recipe\n\nname: mine\nseed: 3\n\n# sampling\nrollout:\n  temperature: 1.0\n"
	for _, tc := range []struct {
		body string
		set  []string
		want string
	}{
		{head + "  nn: 3\n", nil, "recipe " + path + ": line 9: field nn not found"},
		{head + "  n: abc\n", nil, "line 9: cannot unmarshal"},
		{head + "  n: 0\n", nil, "recipe " + path + ": line 9: invalid recipe: rollout.n must be >= 1"},
		{head + "trainer:\n  mini_batch: 5\n", nil, "line 10: invalid recipe: trainer.global_batch must be a multiple"},
		{head, []string{"rollout.nn=3"}, "--set rollout.nn=3: field nn not found"},
		{head + "  n: 0\n", []string{"rollout.n=-2"}, "--set rollout.n=-2: invalid recipe: rollout.n must be >= 1"},
	} {
		write(tc.body)
		_, err := LoadConfig(path, tc.set)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q --set %v: error %v, want %q", tc.body, tc.set, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
		if tc.set != nil && strings.Contains(err.Error(), "line ") {
			t.Errorf("an override's error cites a line of no file: %v", err)
		}
	}
}

// Maps merge across the recipe and overrides, as they did when both were
// merged into one tree.
func TestOverridesMergeIntoRecipeMaps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.yaml")
	os.WriteFile(path, []byte("reward:\n  estimator: unified\n  params:\n    tau: 0.5\n"), 0o644)
	cfg, err := LoadConfig(path, []string{"reward.params.sign=1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Reward.Params["tau"] != 0.5 || cfg.Reward.Params["sign"] != 1 {
		t.Fatalf("params = %v, want tau from the file and sign from --set", cfg.Reward.Params)
	}
}
