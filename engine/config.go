package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
)

// Config describes a decoder of the Llama/Qwen2/Qwen3 family with the fields
// of a Hugging Face config.json. ParseConfig reads one; MarshalJSON writes the
// same fields back, so a saved checkpoint is laid out like one on the Hub.
type Config struct {
	// ModelType is the Hugging Face model_type: "llama", "qwen2" or "qwen3".
	// It decides the per-family details: Qwen2 has biases on the q/k/v
	// projections, Qwen3 normalises each query and key head (QK RMSNorm).
	ModelType string

	VocabSize        int // vocab_size
	HiddenSize       int // hidden_size (C)
	IntermediateSize int // intermediate_size of the SwiGLU MLP (F)
	NumLayers        int // num_hidden_layers (L)
	NumHeads         int // num_attention_heads (H)
	NumKVHeads       int // num_key_value_heads (grouped-query attention); 0 in JSON means NumHeads
	HeadDim          int // head_dim (D); 0 in JSON means HiddenSize/NumHeads
	MaxPositions     int // max_position_embeddings: longest sequence the model accepts

	RMSNormEps float64 // rms_norm_eps
	RopeTheta  float64 // rope_theta
	// RopeScaling is rope_scaling; nil means plain rotary embeddings.
	RopeScaling *RopeScaling

	TieWordEmbeddings bool // tie_word_embeddings: the LM head reuses the token embedding
	// AttentionBias is attention_bias (Llama, Qwen3): biases on the q, k, v
	// and o projections. Qwen2 always has q/k/v biases and never an o bias,
	// whatever this field says.
	AttentionBias bool

	BOSTokenID  int   // bos_token_id; -1 when the config names none
	EOSTokenIDs []int // eos_token_id (a number or a list in JSON)
}

// RopeScaling is the rope_scaling object of config.json. Supported types are
// "linear" (positions divided by Factor) and "llama3" (Llama 3.1's
// frequency-dependent interpolation).
type RopeScaling struct {
	Type                          string  `json:"rope_type"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`
}

// QKNorm reports whether each query and key head is RMS-normalised before the
// rotary embedding (Qwen3).
func (c Config) QKNorm() bool { return c.ModelType == "qwen3" }

// QKVBias reports whether the q, k and v projections carry biases.
func (c Config) QKVBias() bool { return c.ModelType == "qwen2" || c.AttentionBias }

// OutputBias reports whether the attention output projection carries a bias.
func (c Config) OutputBias() bool { return c.ModelType != "qwen2" && c.AttentionBias }

// architecture is the Hugging Face class name written into config.json.
func (c Config) architecture() string {
	switch c.ModelType {
	case "qwen2":
		return "Qwen2ForCausalLM"
	case "qwen3":
		return "Qwen3ForCausalLM"
	default:
		return "LlamaForCausalLM"
	}
}

// BenchConfig is the reference model of `urlvr bench engine`: vocabulary 64,
// context 64, 4 layers of width 256 with 4 heads and a 1024-wide MLP.
func BenchConfig() Config {
	return Config{
		ModelType:         "llama",
		VocabSize:         64,
		HiddenSize:        256,
		IntermediateSize:  1024,
		NumLayers:         4,
		NumHeads:          4,
		NumKVHeads:        4,
		HeadDim:           64,
		MaxPositions:      64,
		RMSNormEps:        1e-5,
		RopeTheta:         10000,
		TieWordEmbeddings: true,
		BOSTokenID:        -1,
	}
}

// Validate reports the first field that makes the configuration unusable.
func (c Config) Validate() error {
	switch c.ModelType {
	case "llama", "qwen2", "qwen3":
	default:
		return fmt.Errorf("model_type %q: supported types are llama, qwen2 and qwen3", c.ModelType)
	}
	positive := []struct {
		name string
		v    int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize},
		{"intermediate_size", c.IntermediateSize}, {"num_hidden_layers", c.NumLayers},
		{"num_attention_heads", c.NumHeads}, {"num_key_value_heads", c.NumKVHeads},
		{"head_dim", c.HeadDim}, {"max_position_embeddings", c.MaxPositions},
	}
	for _, f := range positive {
		if f.v <= 0 {
			return fmt.Errorf("%s = %d: must be positive", f.name, f.v)
		}
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads = %d is not a multiple of num_key_value_heads = %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim = %d: rotary embeddings need an even head dimension", c.HeadDim)
	}
	if !(c.RMSNormEps > 0) || math.IsInf(c.RMSNormEps, 0) {
		return fmt.Errorf("rms_norm_eps = %v: must be positive and finite", c.RMSNormEps)
	}
	if !(c.RopeTheta > 1) || math.IsInf(c.RopeTheta, 0) {
		return fmt.Errorf("rope_theta = %v: must be finite and greater than 1", c.RopeTheta)
	}
	if c.BOSTokenID < -1 || c.BOSTokenID >= c.VocabSize {
		return fmt.Errorf("bos_token_id = %d: outside the vocabulary of %d", c.BOSTokenID, c.VocabSize)
	}
	for _, id := range c.EOSTokenIDs {
		if id < 0 || id >= c.VocabSize {
			return fmt.Errorf("eos_token_id %d: outside the vocabulary of %d", id, c.VocabSize)
		}
	}
	if s := c.RopeScaling; s != nil {
		switch s.Type {
		case "linear":
			if !(s.Factor >= 1) {
				return fmt.Errorf("rope_scaling.factor = %v: must be at least 1", s.Factor)
			}
		case "llama3":
			if !(s.Factor >= 1) || !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) || s.OriginalMaxPositionEmbeddings <= 0 {
				return fmt.Errorf("rope_scaling llama3: need factor >= 1, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0, have %+v", *s)
			}
		default:
			return fmt.Errorf("rope_scaling type %q: supported types are linear and llama3", s.Type)
		}
	}
	return nil
}

// hfConfig is config.json as Hugging Face writes it for these families.
type hfConfig struct {
	Architectures         []string        `json:"architectures,omitempty"`
	ModelType             string          `json:"model_type"`
	VocabSize             int             `json:"vocab_size"`
	HiddenSize            int             `json:"hidden_size"`
	IntermediateSize      int             `json:"intermediate_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      int             `json:"num_key_value_heads,omitempty"`
	HeadDim               *int            `json:"head_dim,omitempty"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	RMSNormEps            float64         `json:"rms_norm_eps"`
	RopeTheta             float64         `json:"rope_theta,omitempty"`
	RopeScaling           *hfRopeScaling  `json:"rope_scaling"`
	TieWordEmbeddings     bool            `json:"tie_word_embeddings"`
	AttentionBias         bool            `json:"attention_bias"`
	MLPBias               bool            `json:"mlp_bias,omitempty"`
	HiddenAct             string          `json:"hidden_act"`
	UseSlidingWindow      bool            `json:"use_sliding_window,omitempty"`
	BOSTokenID            *int            `json:"bos_token_id,omitempty"`
	EOSTokenID            json.RawMessage `json:"eos_token_id,omitempty"`
	TorchDtype            string          `json:"torch_dtype,omitempty"`
}

// hfRopeScaling accepts both spellings of the scaling type ("type" in older
// configs, "rope_type" in newer ones).
type hfRopeScaling struct {
	RopeType                      string  `json:"rope_type,omitempty"`
	Type                          string  `json:"type,omitempty"`
	Factor                        float64 `json:"factor"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`
}

// ParseConfig reads a Hugging Face config.json of a Llama, Qwen2 or Qwen3
// model. Fields the engine does not use are ignored; fields that would change
// the architecture in ways the engine does not implement are errors.
func ParseConfig(data []byte) (Config, error) {
	var h hfConfig
	if err := json.Unmarshal(data, &h); err != nil {
		return Config{}, fmt.Errorf("parsing config.json: %w", err)
	}
	if h.HiddenAct != "" && h.HiddenAct != "silu" {
		return Config{}, fmt.Errorf("config.json: hidden_act %q: only silu (SwiGLU) is implemented", h.HiddenAct)
	}
	if h.MLPBias {
		return Config{}, errors.New("config.json: mlp_bias is not implemented")
	}
	if h.UseSlidingWindow {
		return Config{}, errors.New("config.json: use_sliding_window is not implemented")
	}
	c := Config{
		ModelType:         strings.ToLower(h.ModelType),
		VocabSize:         h.VocabSize,
		HiddenSize:        h.HiddenSize,
		IntermediateSize:  h.IntermediateSize,
		NumLayers:         h.NumHiddenLayers,
		NumHeads:          h.NumAttentionHeads,
		NumKVHeads:        h.NumKeyValueHeads,
		MaxPositions:      h.MaxPositionEmbeddings,
		RMSNormEps:        h.RMSNormEps,
		RopeTheta:         h.RopeTheta,
		TieWordEmbeddings: h.TieWordEmbeddings,
		AttentionBias:     h.AttentionBias,
		BOSTokenID:        -1,
	}
	if c.NumKVHeads == 0 {
		c.NumKVHeads = c.NumHeads
	}
	if h.HeadDim != nil {
		c.HeadDim = *h.HeadDim
	} else if c.NumHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000 // the Hugging Face default when the field is absent
	}
	if h.BOSTokenID != nil {
		c.BOSTokenID = *h.BOSTokenID
	}
	if len(h.EOSTokenID) > 0 && string(h.EOSTokenID) != "null" {
		var one int
		if err := json.Unmarshal(h.EOSTokenID, &one); err == nil {
			c.EOSTokenIDs = []int{one}
		} else if err := json.Unmarshal(h.EOSTokenID, &c.EOSTokenIDs); err != nil {
			return Config{}, fmt.Errorf("config.json: eos_token_id %s: want a number or a list of numbers", h.EOSTokenID)
		}
		if len(c.EOSTokenIDs) == 0 {
			c.EOSTokenIDs = nil // an empty list names no token, as an absent field does
		}
	}
	if s := h.RopeScaling; s != nil {
		kind := s.RopeType
		if kind == "" {
			kind = s.Type
		}
		if kind != "default" {
			c.RopeScaling = &RopeScaling{
				Type:                          kind,
				Factor:                        s.Factor,
				LowFreqFactor:                 s.LowFreqFactor,
				HighFreqFactor:                s.HighFreqFactor,
				OriginalMaxPositionEmbeddings: s.OriginalMaxPositionEmbeddings,
			}
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config.json: %w", err)
	}
	return c, nil
}

// LoadConfig reads and parses the config.json at path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading model config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// MarshalJSON writes the configuration as a Hugging Face config.json.
func (c Config) MarshalJSON() ([]byte, error) {
	headDim := c.HeadDim
	h := hfConfig{
		Architectures:         []string{c.architecture()},
		ModelType:             c.ModelType,
		VocabSize:             c.VocabSize,
		HiddenSize:            c.HiddenSize,
		IntermediateSize:      c.IntermediateSize,
		NumHiddenLayers:       c.NumLayers,
		NumAttentionHeads:     c.NumHeads,
		NumKeyValueHeads:      c.NumKVHeads,
		HeadDim:               &headDim,
		MaxPositionEmbeddings: c.MaxPositions,
		RMSNormEps:            c.RMSNormEps,
		RopeTheta:             c.RopeTheta,
		TieWordEmbeddings:     c.TieWordEmbeddings,
		AttentionBias:         c.AttentionBias,
		HiddenAct:             "silu",
		TorchDtype:            "float32",
	}
	if c.BOSTokenID >= 0 {
		bos := c.BOSTokenID
		h.BOSTokenID = &bos
	}
	switch len(c.EOSTokenIDs) {
	case 0:
	case 1:
		h.EOSTokenID, _ = json.Marshal(c.EOSTokenIDs[0])
	default:
		h.EOSTokenID, _ = json.Marshal(c.EOSTokenIDs)
	}
	if s := c.RopeScaling; s != nil {
		h.RopeScaling = &hfRopeScaling{
			RopeType:                      s.Type,
			Type:                          s.Type,
			Factor:                        s.Factor,
			LowFreqFactor:                 s.LowFreqFactor,
			HighFreqFactor:                s.HighFreqFactor,
			OriginalMaxPositionEmbeddings: s.OriginalMaxPositionEmbeddings,
		}
	}
	return json.MarshalIndent(h, "", "  ")
}

// ropeInvFreq returns the D/2 rotary inverse frequencies θ^(-2i/D), adjusted
// by the configured scaling.
func (c Config) ropeInvFreq() []float64 {
	half := c.HeadDim / 2
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = math.Pow(c.RopeTheta, -float64(2*i)/float64(c.HeadDim))
	}
	s := c.RopeScaling
	if s == nil {
		return inv
	}
	switch s.Type {
	case "linear":
		for i := range inv {
			inv[i] /= s.Factor
		}
	case "llama3":
		// Wavelengths shorter than the original context divided by
		// high_freq_factor keep their frequency, longer ones than the context
		// divided by low_freq_factor are slowed by factor, and the band in
		// between is interpolated smoothly.
		old := float64(s.OriginalMaxPositionEmbeddings)
		lowWave, highWave := old/s.LowFreqFactor, old/s.HighFreqFactor
		for i, f := range inv {
			wave := 2 * math.Pi / f
			switch {
			case wave < highWave:
			case wave > lowWave:
				inv[i] = f / s.Factor
			default:
				smooth := (old/wave - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				inv[i] = (1-smooth)*f/s.Factor + smooth*f
			}
		}
	}
	return inv
}

// ropeTable returns cos and sin [n × D/2] for positions 0..n-1.
func (c Config) ropeTable(n int) (cos, sin []float32) {
	inv := c.ropeInvFreq()
	half := len(inv)
	cos, sin = make([]float32, n*half), make([]float32, n*half)
	for p := 0; p < n; p++ {
		for i, f := range inv {
			s, co := math.Sincos(float64(p) * f)
			cos[p*half+i], sin[p*half+i] = float32(co), float32(s)
		}
	}
	return cos, sin
}
