package train

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/urlvr/urlvr/grade"
	"go.yaml.in/yaml/v3"
)

// Config is a training recipe: every knob of the paper's Table 7 and B.3,
// scaled to the embedded models. Field names are the YAML keys users write
// in recipes/*.yaml and in --set overrides (e.g. --set rollout.n=16).
type Config struct {
	Name string `yaml:"name"` // run name; the run directory is out_dir/name
	Seed uint64 `yaml:"seed"` // one seed; each concern derives its own stream from it

	Model     ModelConfig     `yaml:"model"`
	Data      DataConfig      `yaml:"data"`
	Rollout   RolloutConfig   `yaml:"rollout"`
	Reward    RewardConfig    `yaml:"reward"`
	Algorithm AlgorithmConfig `yaml:"algorithm"`
	Optim     OptimConfig     `yaml:"optim"`
	Trainer   TrainerConfig   `yaml:"trainer"`
	Eval      EvalConfig      `yaml:"eval"`
	EarlyStop EarlyStopConfig `yaml:"early_stop"`
}

// ModelConfig names the policy to start from.
type ModelConfig struct {
	// Base is a base model of the embedded suite (e.g. "base-clean") or a
	// checkpoint directory written by urlvr.
	Base string `yaml:"base"`
}

// DataConfig selects training and validation problems.
type DataConfig struct {
	// Train is the training set: "world:train" for the synthetic world's
	// training split, "world:<split>" for any of its splits, or a JSONL or
	// Parquet file in a real dataset's layout.
	Train string `yaml:"train"`
	// Subset keeps only this many training problems (0 keeps all); the
	// paper's dataset-size studies (Sec. 5) vary it.
	Subset int `yaml:"subset"`
	// SubsetSeed picks which problems the subset keeps.
	SubsetSeed uint64 `yaml:"subset_seed"`
	// Validation sets, in the same forms as Train.
	Validation []string `yaml:"validation"`
	// Shuffle the training order each epoch.
	Shuffle bool `yaml:"shuffle"`
}

// RolloutConfig controls sampling during training.
type RolloutConfig struct {
	N                 int     `yaml:"n"`           // rollouts per prompt (Table 7: 8)
	Temperature       float64 `yaml:"temperature"` // training temperature (Table 7: 1.0)
	TopP              float64 `yaml:"top_p"`
	TopK              int     `yaml:"top_k"`
	MaxPromptLength   int     `yaml:"max_prompt_length"`   // tokens; longer prompts are dropped with a count
	MaxResponseLength int     `yaml:"max_response_length"` // tokens generated at most
}

// RewardConfig selects the reward estimator by its registry name and
// parameters (see `urlvr reward --list`).
type RewardConfig struct {
	Estimator string         `yaml:"estimator"`
	Params    map[string]any `yaml:"params"`
	// Extract is the answer-extraction policy of the grader behind answers,
	// voting classes and ground truth: lenient (final-answer statements,
	// boxes, <answer> tags, the last math span; the default) or strict
	// (boxes and <answer> tags only). Empty, as in recipes written before
	// the key existed, means lenient. See grade/RULES.md.
	Extract string `yaml:"extract"`
}

// AlgorithmConfig holds the policy-optimisation choices.
type AlgorithmConfig struct {
	Advantage   string  `yaml:"advantage"`    // grpo, dr_grpo, rloo, reinforce, reinforce_plus_plus_baseline
	LossAgg     string  `yaml:"loss_agg"`     // token-mean, seq-mean-token-mean, seq-mean-token-sum, seq-mean-token-sum-norm
	ClipLow     float64 `yaml:"clip_low"`     // PPO eps_low
	ClipHigh    float64 `yaml:"clip_high"`    // PPO eps_high
	DualClip    float64 `yaml:"dual_clip"`    // c for the dual clip on A<0; 0 turns it off
	KLCoef      float64 `yaml:"kl_coef"`      // beta of the KL penalty to the reference policy; 0 is off (Table 7)
	KLEstimator string  `yaml:"kl_estimator"` // k1 (kl), k2 (mse), k3 (low_var_kl), abs
	EntropyCoef float64 `yaml:"entropy_coef"` // entropy bonus; 0 is off (Table 7)
}

// OptimConfig is the optimiser and its schedule.
type OptimConfig struct {
	LR          float64 `yaml:"lr"`
	Schedule    string  `yaml:"schedule"` // constant, linear, cosine (each after WarmupSteps of linear warm-up)
	MinLR       float64 `yaml:"min_lr"`   // end of a decaying schedule
	WarmupSteps int     `yaml:"warmup_steps"`
	WeightDecay float64 `yaml:"weight_decay"`
	GradClip    float64 `yaml:"grad_clip"` // global grad-norm clip; 0 is off
	Beta1       float64 `yaml:"beta1"`
	Beta2       float64 `yaml:"beta2"`
}

// TrainerConfig sets the length and rhythm of a run.
type TrainerConfig struct {
	GlobalBatch int    `yaml:"global_batch"` // prompts per step (Table 7: 64)
	MiniBatch   int    `yaml:"mini_batch"`   // prompts per update; == global_batch is on-policy
	PPOEpochs   int    `yaml:"ppo_epochs"`   // passes over each rollout batch
	Steps       int    `yaml:"steps"`        // training steps; 0 means Epochs over the data
	Epochs      int    `yaml:"epochs"`       // data epochs when Steps is 0 (Table 7: 1)
	SaveEvery   int    `yaml:"save_every"`   // checkpoint every k steps (and at the end)
	KeepLast    int    `yaml:"keep_last"`    // checkpoints kept besides the best; 0 keeps all
	SampleEvery int    `yaml:"sample_every"` // write sample rollouts every k steps
	OutDir      string `yaml:"out_dir"`      // parent of run directories
}

// EvalConfig is validation (paper Sec. 4.1: 32 samples, T=0.6, top-p 0.95).
type EvalConfig struct {
	Every       int     `yaml:"every"` // validate every k steps (and before the first); 0 is off
	N           int     `yaml:"n"`     // samples per problem for avg@n, maj@n, pass@n
	Temperature float64 `yaml:"temperature"`
	TopP        float64 `yaml:"top_p"`
	PassK       []int   `yaml:"pass_k"` // extra k for pass@k (n is always reported)
}

// EarlyStopConfig is the calibrated early stopping of paper Sec. 6.3.
type EarlyStopConfig struct {
	Enabled bool `yaml:"enabled"`
	// Collapse: stop when the online Model Collapse Step detector fires.
	Collapse          bool    `yaml:"collapse"`
	CollapseThreshold float64 `yaml:"collapse_threshold"` // reward accuracy below this (1% in the paper)
	CollapseWindow    int     `yaml:"collapse_window"`    // moving-average window, steps
	CollapsePatience  int     `yaml:"collapse_patience"`  // consecutive steps below the threshold
	// ValidationDrops: stop when the mean validation avg@n has fallen for
	// this many evaluations in a row; 0 turns it off.
	ValidationDrops int `yaml:"validation_drops"`
}

// Default returns the default recipe: majority voting with the paper's
// Table 7 choices, scaled to the embedded base models.
func Default() Config {
	return Config{
		Name:  "default",
		Seed:  1,
		Model: ModelConfig{Base: "base"},
		Data: DataConfig{
			Train:      "world:train",
			SubsetSeed: 1,
			Validation: []string{"world:large-easy", "world:large-mid", "world:large-hard"},
			Shuffle:    true,
		},
		Rollout: RolloutConfig{N: 8, Temperature: 1.0, TopP: 1.0, MaxPromptLength: 48, MaxResponseLength: 96},
		Reward:  RewardConfig{Estimator: "majority_voting", Extract: grade.ExtractLenient},
		Algorithm: AlgorithmConfig{
			Advantage: "grpo", LossAgg: "token-mean", ClipLow: 0.2, ClipHigh: 0.2,
			DualClip: 3, KLEstimator: "k3",
		},
		Optim: OptimConfig{LR: 1e-4, Schedule: "constant", GradClip: 1.0, Beta1: 0.9, Beta2: 0.999},
		Trainer: TrainerConfig{
			GlobalBatch: 32, MiniBatch: 32, PPOEpochs: 1, Steps: 100, Epochs: 1,
			SaveEvery: 20, SampleEvery: 10, OutDir: "runs",
		},
		Eval:      EvalConfig{Every: 10, N: 8, Temperature: 0.6, TopP: 0.95},
		EarlyStop: EarlyStopConfig{CollapseThreshold: 0.01, CollapseWindow: 1, CollapsePatience: 1},
	}
}

// LoadConfig reads a recipe file over the defaults and applies --set
// overrides ("rollout.n=16"). Unknown keys are errors, so a typo in a
// recipe cannot silently fall back to a default. Errors name the line of
// the recipe file, or the --set override, that caused them.
func LoadConfig(path string, overrides []string) (Config, error) {
	cfg := Default()
	var doc *yaml.Node
	if path != "" {
		raw, err := readRecipe(path)
		if err != nil {
			return cfg, fmt.Errorf("reading recipe: %w", err)
		}
		// The file is decoded on its own, so the decoder's line numbers
		// are the user's.
		if err := decodeStrict(raw, &cfg); err != nil {
			return cfg, fmt.Errorf("recipe %s: %s", path, yamlMessage(err, true))
		}
		doc = new(yaml.Node)
		if err := yaml.Unmarshal(raw, doc); err != nil {
			return cfg, fmt.Errorf("recipe %s: %s", path, yamlMessage(err, true))
		}
	}
	setBy := map[string]string{} // key -> the override that set it last
	for _, o := range overrides {
		tree := map[string]any{}
		if err := applyOverride(tree, o); err != nil {
			return cfg, err
		}
		y, err := yaml.Marshal(tree)
		if err != nil {
			return cfg, fmt.Errorf("--set %s: %w", o, err)
		}
		if err := decodeStrict(y, &cfg); err != nil {
			return cfg, fmt.Errorf("--set %s: %s", o, yamlMessage(err, false))
		}
		key, _, _ := strings.Cut(o, "=")
		setBy[key] = o
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if !errors.As(err, &ce) {
			return cfg, err
		}
		if o, ok := setBy[ce.Key]; ok {
			return cfg, fmt.Errorf("--set %s: %w", o, err)
		}
		if line := keyLine(doc, ce.Key); line > 0 {
			return cfg, fmt.Errorf("recipe %s: line %d: %w", path, line, err)
		}
		return cfg, err
	}
	return cfg, nil
}

// decodeStrict decodes YAML into cfg, rejecting unknown keys. An empty
// document changes nothing.
func decodeStrict(y []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(y))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// lineRef matches the "line N: " that YAML errors start with.
var lineRef = regexp.MustCompile(`^line \d+: `)

// yamlMessage turns a YAML error into one line. Line numbers are kept for a
// recipe file and dropped for an override, whose YAML only exists inside
// LoadConfig.
func yamlMessage(err error, withLines bool) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		if !withLines {
			m = lineRef.ReplaceAllString(m, "")
		}
		msgs[i] = m
	}
	return strings.Join(msgs, "; ")
}

// keyLine is the line of a dotted key in a YAML document (0 if absent).
func keyLine(doc *yaml.Node, key string) int {
	if doc == nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return 0
	}
	node, line := doc.Content[0], 0
	for _, part := range strings.Split(key, ".") {
		if node.Kind != yaml.MappingNode {
			return 0
		}
		found := false
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == part {
				line, node, found = node.Content[i].Line, node.Content[i+1], true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return line
}

// applyOverride sets a dotted key in the YAML tree. The value is parsed as
// YAML, so numbers, booleans and lists ("[a, b]") work as in a recipe.
func applyOverride(tree map[string]any, o string) error {
	key, value, ok := strings.Cut(o, "=")
	if !ok || key == "" {
		return fmt.Errorf("--set %q: want key=value", o)
	}
	var v any
	if err := yaml.Unmarshal([]byte(value), &v); err != nil {
		return fmt.Errorf("--set %s: value %q: %w", key, value, err)
	}
	if v == nil && value != "" && value != "null" && value != "~" {
		v = value
	}
	parts := strings.Split(key, ".")
	node := tree
	for _, p := range parts[:len(parts)-1] {
		child, ok := node[p].(map[string]any)
		if !ok {
			child = map[string]any{}
			node[p] = child
		}
		node = child
	}
	node[parts[len(parts)-1]] = v
	return nil
}

// ConfigError is a setting that cannot work: Key is its dotted YAML key.
type ConfigError struct {
	Key, Msg string
}

func (e *ConfigError) Error() string { return "invalid recipe: " + e.Msg }

// Validate reports the first setting that cannot work, naming its key, as a
// *ConfigError.
func (c Config) Validate() error {
	check := []struct {
		bad      bool
		key, msg string
	}{
		{c.Name == "" || strings.ContainsAny(c.Name, `/\`), "name", "name must be a non-empty file name"},
		{c.Model.Base == "", "model.base", "model.base is required"},
		{c.Data.Train == "", "data.train", "data.train is required"},
		{c.Data.Subset < 0, "data.subset", "data.subset must be >= 0"},
		{c.Rollout.N < 1, "rollout.n", "rollout.n must be >= 1"},
		{!(c.Rollout.Temperature >= 0), "rollout.temperature", "rollout.temperature must be >= 0"},
		{!(c.Rollout.TopP > 0 && c.Rollout.TopP <= 1), "rollout.top_p", "rollout.top_p must be in (0, 1]"},
		{c.Rollout.TopK < 0, "rollout.top_k", "rollout.top_k must be >= 0"},
		{c.Rollout.MaxPromptLength < 1, "rollout.max_prompt_length", "rollout.max_prompt_length must be >= 1"},
		{c.Rollout.MaxResponseLength < 1, "rollout.max_response_length", "rollout.max_response_length must be >= 1"},
		{c.Reward.Estimator == "", "reward.estimator", "reward.estimator is required"},
		{c.Reward.Extract != "" && c.Reward.Extract != grade.ExtractLenient && c.Reward.Extract != grade.ExtractStrict, "reward.extract", "reward.extract must be lenient or strict"},
		{c.Algorithm.ClipLow < 0, "algorithm.clip_low", "algorithm.clip_low must be >= 0"},
		{c.Algorithm.ClipHigh < 0, "algorithm.clip_high", "algorithm.clip_high must be >= 0"},
		{c.Algorithm.DualClip != 0 && c.Algorithm.DualClip <= 1, "algorithm.dual_clip", "algorithm.dual_clip must be 0 (off) or > 1"},
		{c.Algorithm.KLCoef < 0, "algorithm.kl_coef", "algorithm.kl_coef must be >= 0"},
		{!(c.Optim.LR > 0), "optim.lr", "optim.lr must be > 0"},
		{c.Optim.GradClip < 0, "optim.grad_clip", "optim.grad_clip must be >= 0"},
		{c.Trainer.GlobalBatch < 1, "trainer.global_batch", "trainer.global_batch must be >= 1"},
		{c.Trainer.MiniBatch < 1 || c.Trainer.MiniBatch > c.Trainer.GlobalBatch, "trainer.mini_batch", "trainer.mini_batch must be in [1, global_batch]"},
		{c.Trainer.GlobalBatch%max(c.Trainer.MiniBatch, 1) != 0, "trainer.mini_batch", "trainer.global_batch must be a multiple of trainer.mini_batch"},
		{c.Trainer.PPOEpochs < 1, "trainer.ppo_epochs", "trainer.ppo_epochs must be >= 1"},
		{c.Trainer.Steps < 0 || (c.Trainer.Steps == 0 && c.Trainer.Epochs < 1), "trainer.steps", "set trainer.steps > 0 or trainer.epochs >= 1"},
		{c.Trainer.SaveEvery < 0, "trainer.save_every", "trainer.save_every must be >= 0"},
		{c.Trainer.SampleEvery < 0, "trainer.sample_every", "trainer.sample_every must be >= 0"},
		{c.Trainer.OutDir == "", "trainer.out_dir", "trainer.out_dir is required"},
		{c.Eval.Every < 0, "eval.every", "eval.every must be >= 0"},
		{c.Eval.Every > 0 && c.Eval.N < 1, "eval.n", "eval.n must be >= 1"},
		{c.EarlyStop.CollapseWindow < 1, "early_stop.collapse_window", "early_stop.collapse_window must be >= 1"},
		{c.EarlyStop.CollapsePatience < 1, "early_stop.collapse_patience", "early_stop.collapse_patience must be >= 1"},
		{c.EarlyStop.ValidationDrops < 0, "early_stop.validation_drops", "early_stop.validation_drops must be >= 0"},
	}
	for _, ch := range check {
		if ch.bad {
			return &ConfigError{Key: ch.key, Msg: ch.msg}
		}
	}
	for _, k := range c.Eval.PassK {
		if k < 1 || k > c.Eval.N {
			return &ConfigError{Key: "eval.pass_k", Msg: fmt.Sprintf("eval.pass_k %d must be in [1, eval.n=%d]", k, c.Eval.N)}
		}
	}
	return nil
}

// YAML renders the resolved config, as written to the run directory.
func (c Config) YAML() ([]byte, error) { return yaml.Marshal(c) }
