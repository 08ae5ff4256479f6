package engine

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHalfPrecisionRoundingHandValues(t *testing.T) {
	f := math.Float32frombits
	for _, c := range []struct {
		x    float32
		bf16 uint16
	}{
		{1, 0x3f80}, {-2, 0xc000},
		{f(0x3f808000), 0x3f80}, // halfway, to the even 0x3f80
		{f(0x3f818000), 0x3f82}, // halfway, to the even 0x3f82
		{f(0x3f808001), 0x3f81}, // just above halfway
		{float32(math.Inf(-1)), 0xff80},
	} {
		if got := toBF16(c.x); got != c.bf16 {
			t.Errorf("bf16(%v) = %#x, want %#x", c.x, got, c.bf16)
		}
	}
	if got := toBF16(float32(math.NaN())); got&0x7f80 != 0x7f80 || got&0x7f == 0 {
		t.Errorf("bf16(NaN) = %#x, not a NaN", got)
	}
	for _, c := range []struct {
		x   float32
		f16 uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800},
		{65504, 0x7bff},         // the largest half
		{65520, 0x7c00},         // halfway to 65536: rounds to even, infinity
		{1e9, 0x7c00},           // overflow
		{f(0x33800000), 0x0001}, // 2^-24, the smallest subnormal
		{f(0x33000000), 0x0000}, // 2^-25, halfway to 0: even
		{f(0x33400000), 0x0001}, // 1.5·2^-25
		{f(0x38800000), 0x0400}, // 2^-14, the smallest normal
		{f(0x3f801000), 0x3c00}, // 1 + 2^-11, halfway: even
		{f(0x3f803000), 0x3c02}, // 1 + 3·2^-11, halfway: even
		{float32(math.NaN()), 0x7e00},
	} {
		if got := toF16(c.x); got != c.f16 {
			t.Errorf("f16(%v) = %#x, want %#x", c.x, got, c.f16)
		}
	}
}

func TestCheckpointInBF16(t *testing.T) {
	cfg := tinyConfig("llama")
	cfg.BOSTokenID, cfg.EOSTokenIDs = 1, []int{2}
	m := randomModel(t, cfg, 3)
	dir := filepath.Join(t.TempDir(), "ck")
	if err := SaveCheckpoint(dir, Checkpoint{Model: m, DType: DTypeBF16}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range m.params {
		want := math.Float32frombits(uint32(toBF16(x)) << 16)
		if back.params[i] != want {
			t.Fatalf("weight %d: %v read back as %v, want its bf16 rounding %v", i, x, back.params[i], want)
		}
	}
	cfgJSON, _ := os.ReadFile(filepath.Join(dir, configFile))
	if !strings.Contains(string(cfgJSON), `"torch_dtype": "bfloat16"`) {
		t.Errorf("config.json does not say bfloat16:\n%s", cfgJSON)
	}
	st, err := os.Stat(filepath.Join(dir, modelFile))
	if err != nil || st.Size() > int64(2*len(m.params))+4096 {
		t.Errorf("model.safetensors of %d bytes for %d weights in bf16", st.Size(), len(m.params))
	}
	var gen map[string]any
	raw, err := os.ReadFile(filepath.Join(dir, generationConfigFile))
	if err != nil || json.Unmarshal(raw, &gen) != nil || gen["eos_token_id"] != 2.0 || gen["bos_token_id"] != 1.0 {
		t.Errorf("generation_config.json: %s %v", raw, err)
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("checkpoint directory mode %v, want 0755", info.Mode().Perm())
	}
	if _, err := ParseDType("int8"); err == nil {
		t.Error("int8: no error")
	}
	if d, err := ParseDType("bfloat16"); err != nil || d != DTypeBF16 {
		t.Errorf("bfloat16: %v %v", d, err)
	}
}
