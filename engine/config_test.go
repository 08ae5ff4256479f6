package engine

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Configs as published on the Hugging Face Hub (fields the engine ignores
// trimmed), with their published parameter counts.
const (
	qwen25Config = `{
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
  "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
  "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "use_cache": true, "use_sliding_window": false, "vocab_size": 151936}`
	qwen3Config = `{
  "architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
  "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
  "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
  "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000, "sliding_window": null,
  "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true,
  "use_sliding_window": false, "vocab_size": 151936}`
	llama32Config = `{
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64,
  "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
  "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16,
  "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
    "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "use_cache": true, "vocab_size": 128256}`
)

func TestParseHubConfigs(t *testing.T) {
	cases := []struct {
		name        string
		json        string
		params      int // published parameter count
		headDim     int
		qkvBias     bool
		qkNorm      bool
		eos         []int
		ropeScaling bool
	}{
		{"Qwen2.5-0.5B", qwen25Config, 494032768, 64, true, false, []int{151643}, false},
		{"Qwen3-0.6B", qwen3Config, 596049920, 128, false, true, []int{151645}, false},
		{"Llama-3.2-1B", llama32Config, 1235814400, 64, false, false, []int{128001, 128008, 128009}, true},
	}
	for _, c := range cases {
		cfg, err := ParseConfig([]byte(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, specs := bindWeights(cfg, nil)
		if n := numParams(specs); n != c.params {
			t.Errorf("%s: %d parameters, want %d", c.name, n, c.params)
		}
		if cfg.HeadDim != c.headDim || cfg.QKVBias() != c.qkvBias || cfg.QKNorm() != c.qkNorm || cfg.OutputBias() {
			t.Errorf("%s: head_dim %d, qkv bias %v, qk norm %v, o bias %v", c.name, cfg.HeadDim, cfg.QKVBias(), cfg.QKNorm(), cfg.OutputBias())
		}
		if !reflect.DeepEqual(cfg.EOSTokenIDs, c.eos) {
			t.Errorf("%s: eos %v, want %v", c.name, cfg.EOSTokenIDs, c.eos)
		}
		if (cfg.RopeScaling != nil) != c.ropeScaling {
			t.Errorf("%s: rope scaling %+v", c.name, cfg.RopeScaling)
		}
		// Writing and re-reading the config gives the same configuration.
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseConfig(js)
		if err != nil {
			t.Fatalf("%s: re-reading %s: %v", c.name, js, err)
		}
		if !reflect.DeepEqual(again, cfg) {
			t.Errorf("%s: round trip gave %+v, want %+v", c.name, again, cfg)
		}
		if !strings.Contains(string(js), `"architectures":["`) {
			t.Errorf("%s: written config lacks architectures: %s", c.name, js)
		}
	}
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"model_type":"llama","vocab_size":10,"hidden_size":8,"intermediate_size":16,
		"num_hidden_layers":1,"num_attention_heads":2,"max_position_embeddings":4,"rms_norm_eps":1e-5}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NumKVHeads != 2 || cfg.HeadDim != 4 || cfg.RopeTheta != 10000 || cfg.BOSTokenID != -1 || cfg.EOSTokenIDs != nil {
		t.Errorf("defaults: %+v", cfg)
	}
	base := `"vocab_size":10,"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,"max_position_embeddings":4,"rms_norm_eps":1e-5`
	bad := []struct{ json, want string }{
		{`{"model_type":"gpt2",` + base + `,"num_attention_heads":2}`, "model_type"},
		{`{"model_type":"llama",` + base + `,"num_attention_heads":2,"num_key_value_heads":3}`, "multiple"},
		{`{"model_type":"llama",` + base + `,"num_attention_heads":2,"head_dim":3}`, "even"},
		{`{"model_type":"llama",` + base + `,"num_attention_heads":2,"hidden_act":"gelu"}`, "hidden_act"},
		{`{"model_type":"llama",` + base + `,"num_attention_heads":2,"mlp_bias":true}`, "mlp_bias"},
		{`{"model_type":"qwen2",` + base + `,"num_attention_heads":2,"use_sliding_window":true}`, "sliding"},
		{`{"model_type":"llama",` + base + `,"num_attention_heads":2,"rope_scaling":{"type":"yarn","factor":4}}`, "yarn"},
		{`{"model_type":"llama",` + base + `,"num_attention_heads":2,"eos_token_id":"x"}`, "eos_token_id"},
		{`{"model_type":"llama",` + base + `,"num_attention_heads":2,"eos_token_id":10}`, "eos_token_id 10"},
		{`{"model_type":"llama",` + base + `}`, "num_attention_heads"},
		{`{"model_type":"llama",`, "parsing"},
	}
	for _, c := range bad {
		if _, err := ParseConfig([]byte(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.json, err, c.want)
		}
	}
}

// TestRopeInvFreq checks the rotary frequencies by hand: θ^(-2i/D) plainly,
// and Llama 3's interpolation, which keeps short wavelengths, slows long
// ones by the factor and blends the band between.
func TestRopeInvFreq(t *testing.T) {
	c := Config{HeadDim: 4, RopeTheta: 100}
	if got := c.ropeInvFreq(); got[0] != 1 || math.Abs(got[1]-0.1) > 1e-15 {
		t.Errorf("plain: %v, want [1 0.1]", got)
	}
	c.RopeScaling = &RopeScaling{Type: "linear", Factor: 4}
	if got := c.ropeInvFreq(); got[0] != 0.25 || math.Abs(got[1]-0.025) > 1e-15 {
		t.Errorf("linear: %v, want [0.25 0.025]", got)
	}
	// Original context 64, low/high factors 1 and 4: wavelengths below 16
	// are kept, above 64 divided by 8, in between blended.
	c = Config{HeadDim: 6, RopeTheta: 10000, RopeScaling: &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 64}}
	got := c.ropeInvFreq()
	// i=0: f=1, wavelength 2π < 16: kept. i=2: f=10000^(-2/3)≈0.00215,
	// wavelength ≈ 2916 > 64: f/8. i=1: f=10000^(-1/3)≈0.0464, wavelength
	// ≈ 135.3 > 64: f/8.
	want := []float64{1, math.Pow(10000, -1.0/3) / 8, math.Pow(10000, -2.0/3) / 8}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("llama3 i=%d: %v, want %v", i, got[i], want[i])
		}
	}
	// With D = 2 the one frequency is 1, wavelength 2π, inside the band
	// (4, 16) of an original context of 16: smooth = (16/2π − 1)/(4 − 1)
	// = 0.51549302982344, blended (1−smooth)/8 + smooth = 0.57605640109551.
	c = Config{HeadDim: 2, RopeTheta: 10, RopeScaling: &RopeScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositionEmbeddings: 16}}
	if got := c.ropeInvFreq()[0]; math.Abs(got-0.57605640109551) > 1e-13 {
		t.Errorf("llama3 blend: %v, want 0.57605640109551", got)
	}
}

// FuzzParseConfig: any input is either rejected or gives a valid config that
// survives a write/read round trip.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(qwen25Config))
	f.Add([]byte(qwen3Config))
	f.Add([]byte(llama32Config))
	f.Add([]byte(`{"model_type":"llama","num_attention_heads":0}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("parsed config does not validate: %v", err)
		}
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseConfig(js)
		if err != nil || !reflect.DeepEqual(again, cfg) {
			t.Fatalf("round trip: %+v, %v; want %+v", again, err, cfg)
		}
	})
}
