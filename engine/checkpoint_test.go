package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// trainedCheckpoint returns a model and trainer after a few optimiser steps,
// so that every part of the state is non-trivial.
func trainedCheckpoint(t *testing.T, kind string) (*Model, *Learner) {
	t.Helper()
	cfg := tinyConfig(kind)
	m := randomModel(t, cfg, 101)
	tr, err := NewLearner(m, LearnerOptions{MaxBatch: 2, MaxSeqLen: 6, AdamW: DefaultAdamW(), ClipNorm: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(102, 103))
	for range 3 {
		if _, err := tr.CrossEntropy(randomBatch(rng, cfg.VocabSize, 2, 6), 1); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Step(1e-2); err != nil {
			t.Fatal(err)
		}
	}
	return m, tr
}

func TestCheckpointRoundTripBitExact(t *testing.T) {
	for _, kind := range []string{"llama-gqa-bias", "qwen3"} {
		m, tr := trainedCheckpoint(t, kind)
		dir := filepath.Join(t.TempDir(), "ckpt")
		gen := rand.NewPCG(5, 6)
		gen.Uint64()
		ck := Checkpoint{Model: m, Optimizer: tr.Optimizer(), RNG: map[string]*rand.PCG{"sampling": gen}, Files: map[string][]byte{"trainer.json": []byte(`{"step":3}`)}}
		if err := SaveCheckpoint(dir, ck); err != nil {
			t.Fatal(err)
		}
		got, err := LoadCheckpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Model.cfg, m.cfg) {
			t.Errorf("%s: config %+v, want %+v", kind, got.Model.cfg, m.cfg)
		}
		if !equalFloats(got.Model.params, m.params) {
			t.Errorf("%s: weights differ after the round trip", kind)
		}
		o, want := got.Optimizer, tr.Optimizer()
		if o.steps != want.steps || o.Config != want.Config || !equalFloats(o.m, want.m) || !equalFloats(o.v, want.v) {
			t.Errorf("%s: optimiser state differs after the round trip", kind)
		}
		if g := got.RNG["sampling"]; g == nil || g.Uint64() != gen.Uint64() {
			t.Errorf("%s: generator state differs after the round trip", kind)
		}
		if string(got.Files["trainer.json"]) != `{"step":3}` || len(got.Files) != 1 {
			t.Errorf("%s: extra files %v", kind, got.Files)
		}
		// Saving again over the same directory writes identical bytes.
		first, _ := os.ReadFile(filepath.Join(dir, modelFile))
		if err := got.Model.Save(dir); err != nil {
			t.Fatal(err)
		}
		again, _ := os.ReadFile(filepath.Join(dir, modelFile))
		if !bytes.Equal(first, again) {
			t.Errorf("%s: re-saving the loaded model changed model.safetensors", kind)
		}
		if _, err := os.Stat(filepath.Join(dir, optimizerFile)); err == nil {
			t.Errorf("%s: replacing the checkpoint left the old optimiser state behind", kind)
		}
		if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
			t.Errorf("%s: temporary directories left behind: %v", kind, entries)
		}
	}
}

// TestResumeGivesSameLosses: training resumed from a checkpoint continues
// with bit-identical losses and weights.
func TestResumeGivesSameLosses(t *testing.T) {
	cfg := tinyConfig("qwen3")
	opts := LearnerOptions{MaxBatch: 2, MaxSeqLen: 6, AdamW: DefaultAdamW(), ClipNorm: 0.5}
	sched := Schedule{Kind: "cosine", PeakLR: 1e-2, WarmupSteps: 2, TotalSteps: 8}
	// run trains from step `from` to `to`, drawing batches from data.
	run := func(tr *Learner, data *rand.PCG, from, to int) []float64 {
		rng := rand.New(data)
		var losses []float64
		for step := from; step < to; step++ {
			loss, err := tr.CrossEntropy(randomBatch(rng, cfg.VocabSize, 2, 6), 1)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Step(sched.LR(step)); err != nil {
				t.Fatal(err)
			}
			losses = append(losses, loss)
		}
		return losses
	}
	m := randomModel(t, cfg, 111)
	tr, err := NewLearner(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	data := rand.NewPCG(1, 2)
	run(tr, data, 0, 4)
	dir := filepath.Join(t.TempDir(), "step4")
	if err := SaveCheckpoint(dir, Checkpoint{Model: m, Optimizer: tr.Optimizer(), RNG: map[string]*rand.PCG{"data": data}}); err != nil {
		t.Fatal(err)
	}
	want := run(tr, data, 4, 8)

	ck, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts.Resume = ck.Optimizer
	resumed, err := NewLearner(ck.Model, opts)
	if err != nil {
		t.Fatal(err)
	}
	got := run(resumed, ck.RNG["data"], 4, 8)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resumed losses %v, want %v", got, want)
	}
	if !equalFloats(ck.Model.params, m.params) {
		t.Error("resumed weights differ from uninterrupted training")
	}
}

// corrupt applies f to a saved checkpoint's model file and returns Load's error.
func corruptLoad(t *testing.T, f func(path string, data []byte)) error {
	t.Helper()
	m := randomModel(t, tinyConfig("llama"), 121)
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, modelFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f(path, data)
	_, err = Load(dir)
	return err
}

func TestLoadReportsCorruption(t *testing.T) {
	// The tiny llama's tensors in storage order end with model.norm.weight.
	cases := []struct {
		name   string
		mutate func(path string, data []byte)
		want   []string
	}{
		{"truncated", func(p string, d []byte) { os.WriteFile(p, d[:len(d)-10], 0o644) },
			[]string{"model.norm.weight", "truncated"}},
		{"flipped byte", func(p string, d []byte) { d[len(d)-3] ^= 0x40; os.WriteFile(p, d, 0o644) },
			[]string{"model.norm.weight", "checksum"}},
		{"corrupt header", func(p string, d []byte) { d[8] = '['; os.WriteFile(p, d, 0o644) },
			[]string{"corrupt header"}},
		{"header length", func(p string, d []byte) {
			binary.LittleEndian.PutUint64(d, uint64(len(d)))
			os.WriteFile(p, d, 0o644)
		}, []string{"header length"}},
		{"empty file", func(p string, d []byte) { os.WriteFile(p, nil, 0o644) }, []string{"too short"}},
		{"missing tensor", func(p string, d []byte) {
			os.WriteFile(p, bytes.Replace(d, []byte(`"model.norm.weight"`), []byte(`"model.norm.weighx"`), 1), 0o644)
		}, []string{"model.norm.weight is missing"}},
	}
	for _, c := range cases {
		err := corruptLoad(t, c.mutate)
		if err == nil {
			t.Errorf("%s: loaded without error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
	// A config that does not match the weights names the tensor and shapes.
	m := randomModel(t, tinyConfig("llama"), 122)
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	cfg := m.cfg
	cfg.IntermediateSize = 13
	js, _ := json.Marshal(cfg)
	os.WriteFile(filepath.Join(dir, configFile), js, 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "model.layers.0.mlp.gate_proj.weight has shape [12 8], the model needs [13 8]") {
		t.Errorf("mismatched config: %v", err)
	}
}

func TestSaveRefusesForeignDirectory(t *testing.T) {
	m := randomModel(t, tinyConfig("llama"), 131)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	if err := m.Save(dir); !errors.Is(err, errNotCheckpoint) {
		t.Errorf("saving over a directory of other files: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); string(data) != "mine" {
		t.Error("the foreign directory was changed")
	}
	if err := SaveCheckpoint(filepath.Join(dir, "c"), Checkpoint{Model: m, Files: map[string][]byte{"../x": nil}}); err == nil {
		t.Error("an extra file outside the checkpoint was accepted")
	}
	if err := SaveCheckpoint(filepath.Join(dir, "c"), Checkpoint{Model: m, Files: map[string][]byte{"config.json": nil}}); err == nil {
		t.Error("an extra file replacing config.json was accepted")
	}
}

// writeRawSafetensors writes tensors with explicit dtypes and raw bytes, as
// another tool would.
func writeRawSafetensors(t *testing.T, path string, tensors map[string]struct {
	dtype string
	shape []int
	data  []byte
}) {
	t.Helper()
	header := map[string]any{}
	var blob []byte
	for _, name := range slices.Sorted(maps.Keys(tensors)) {
		tt := tensors[name]
		header[name] = stEntry{Dtype: tt.dtype, Shape: tt.shape, DataOffsets: [2]int64{int64(len(blob)), int64(len(blob) + len(tt.data))}}
		blob = append(blob, tt.data...)
	}
	js, _ := json.Marshal(header)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	out = append(append(out, js...), blob...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadHalfPrecisionShards loads a checkpoint laid out as on the Hub:
// bfloat16 and float16 tensors in two shards named by an index.
func TestLoadHalfPrecisionShards(t *testing.T) {
	cfg := tinyConfig("llama")
	cfg.NumLayers = 1
	src := randomModel(t, cfg, 141)
	dir := t.TempDir()
	js, _ := json.Marshal(cfg)
	os.WriteFile(filepath.Join(dir, configFile), js, 0o644)
	// Hand-checked encodings: bf16 0x3F80 = 1, 0xC000 = −2; f16 0x3C00 = 1,
	// 0xC000 = −2, 0x3555 = 0.333251953125, 0x0001 = 2⁻²⁴ (subnormal).
	bf := []uint16{0x3F80, 0xC000}
	f16 := []uint16{0x3C00, 0xC000, 0x3555, 0x0001}
	want := map[string][]float32{}
	shards := map[string]map[string]struct {
		dtype string
		shape []int
		data  []byte
	}{"model-00001-of-00002.safetensors": {}, "model-00002-of-00002.safetensors": {}}
	weightMap := map[string]string{}
	for i, s := range src.specs {
		shard := "model-00001-of-00002.safetensors"
		dtype, codes := "BF16", bf
		if i%2 == 1 {
			shard, dtype, codes = "model-00002-of-00002.safetensors", "F16", f16
		}
		raw := make([]byte, 2*s.size)
		vals := make([]float32, s.size)
		for j := range vals {
			c := codes[j%len(codes)]
			binary.LittleEndian.PutUint16(raw[2*j:], c)
			vals[j] = map[string]map[uint16]float32{
				"BF16": {0x3F80: 1, 0xC000: -2},
				"F16":  {0x3C00: 1, 0xC000: -2, 0x3555: 0.333251953125, 0x0001: 1.0 / (1 << 24)},
			}[dtype][c]
		}
		shards[shard][s.name] = struct {
			dtype string
			shape []int
			data  []byte
		}{dtype, s.shape, raw}
		weightMap[s.name] = shard
		want[s.name] = vals
	}
	for name, tensors := range shards {
		writeRawSafetensors(t, filepath.Join(dir, name), tensors)
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": weightMap})
	os.WriteFile(filepath.Join(dir, modelIndexFile), idx, 0o644)
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, vals := range want {
		got, _, _ := m.Tensor(name)
		if !equalFloats(got, vals) {
			t.Errorf("%s: %v, want %v", name, got[:4], vals[:4])
		}
	}
}

func TestHalfToFloat32(t *testing.T) {
	cases := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0}, {0x3C00, 1}, {0xC000, -2}, {0x7BFF, 65504}, {0x0400, 1.0 / (1 << 14)},
		{0x0001, 1.0 / (1 << 24)}, {0x8001, -1.0 / (1 << 24)}, {0x7C00, float32(math.Inf(1))},
	}
	for _, c := range cases {
		if got := halfToFloat32(c.h); got != c.want {
			t.Errorf("%#04x: %v, want %v", c.h, got, c.want)
		}
	}
	if v := halfToFloat32(0x7E00); !math.IsNaN(float64(v)) {
		t.Errorf("0x7E00: %v, want NaN", v)
	}
}

// FuzzSafetensorsHeader: any bytes either open with a consistent header or
// fail with an error; reading every listed tensor never panics.
func FuzzSafetensorsHeader(f *testing.F) {
	var buf bytes.Buffer
	writeSafetensors(&buf, []namedTensor{{"a", []int{2}, []float32{1, 2}, DTypeF32}, {"b", []int{1, 1}, []float32{3}, DTypeBF16}}, nil)
	f.Add(buf.Bytes())
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, '{', '}'})
	f.Add([]byte(`garbage`))
	f.Add(append(binary.LittleEndian.AppendUint64(nil, 60), []byte(`{"x":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}    `+"\x00\x01\x02\x03\x04\x05\x06\x07")...))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "f.safetensors")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := openSafetensors(path)
		if err != nil {
			return
		}
		defer st.Close()
		var scratch []byte
		for name, e := range st.entries {
			n := 1
			for _, d := range e.Shape {
				n *= d
			}
			if n > 1<<20 {
				continue
			}
			st.read(name, e.Shape, make([]float32, n), &scratch)
		}
	})
}
