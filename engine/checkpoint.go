package engine

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Files of a checkpoint directory. config.json and model.safetensors are
// laid out as on the Hugging Face Hub (tensor names of the Llama/Qwen
// layout), so other tools read them; the optimiser and generator states sit
// beside them.
const (
	configFile     = "config.json"
	modelFile      = "model.safetensors"
	modelIndexFile = "model.safetensors.index.json"
	optimizerFile  = "optimizer.safetensors"
	rngFile        = "rng.json"
	// generationConfigFile is Hugging Face's generation_config.json: the
	// special tokens a generation stops at, written from the model config.
	generationConfigFile = "generation_config.json"
)

// Checkpoint is what exact resumption of training needs.
type Checkpoint struct {
	Model *Model
	// Optimizer is the AdamW state (nil: none saved).
	Optimizer *AdamW
	// RNG holds named generators (sampling, data order, ...) whose states
	// are saved and restored exactly.
	RNG map[string]*rand.PCG
	// Files are further files written into the checkpoint directory in the
	// same atomic step, such as a trainer's own state; names are plain file
	// names. LoadCheckpoint returns every file it does not itself interpret.
	Files map[string][]byte
	// DType stores the model's weights as F32 (""), BF16 or F16; the
	// optimiser state is always F32. Only an F32 checkpoint resumes
	// training exactly.
	DType DType
}

// Save writes the model (config.json and model.safetensors) to dir, replacing
// a previous checkpoint there atomically.
func (m *Model) Save(dir string) error { return SaveCheckpoint(dir, Checkpoint{Model: m}) }

// Load reads a model from a directory with config.json and safetensors
// weights: one written by Save, or a Llama/Qwen2/Qwen3 checkpoint from the
// Hugging Face Hub (float32, float16 or bfloat16; single file or sharded).
func Load(dir string) (*Model, error) {
	cfg, err := LoadConfig(filepath.Join(dir, configFile))
	if err != nil {
		return nil, err
	}
	m, err := newZeroModel(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	shards, err := weightFiles(dir, m.specs)
	if err != nil {
		return nil, err
	}
	open := map[string]*stFile{}
	defer func() {
		for _, f := range open {
			f.Close()
		}
	}()
	var buf []byte
	for _, s := range m.specs {
		path := shards[s.name]
		f, ok := open[path]
		if !ok {
			if f, err = openSafetensors(path); err != nil {
				return nil, fmt.Errorf("loading model: %w", err)
			}
			open[path] = f
		}
		if err := f.read(s.name, s.shape, m.params[s.offset:s.offset+s.size], &buf); err != nil {
			return nil, fmt.Errorf("loading model: %w", err)
		}
	}
	return m, nil
}

// weightFiles maps each tensor to the safetensors file holding it: the one
// model.safetensors, or the shards named by model.safetensors.index.json.
func weightFiles(dir string, specs []tensorSpec) (map[string]string, error) {
	files := make(map[string]string, len(specs))
	single := filepath.Join(dir, modelFile)
	if _, err := os.Stat(single); err == nil {
		for _, s := range specs {
			files[s.name] = single
		}
		return files, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, modelIndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no %s or %s", dir, modelFile, modelIndexFile)
	}
	if err != nil {
		return nil, err
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("%s: corrupt %s: %w", dir, modelIndexFile, err)
	}
	for _, s := range specs {
		shard, ok := index.WeightMap[s.name]
		if !ok {
			return nil, fmt.Errorf("%s: tensor %s is missing from %s", dir, s.name, modelIndexFile)
		}
		if shard != filepath.Base(shard) || strings.HasPrefix(shard, ".") {
			return nil, fmt.Errorf("%s: tensor %s: shard name %q is not a file in the directory", dir, s.name, shard)
		}
		files[s.name] = filepath.Join(dir, shard)
	}
	return files, nil
}

// SaveCheckpoint writes the checkpoint into dir atomically: every file is
// written and synced in a new sibling directory, which then replaces dir. An
// existing dir is replaced only if it holds a checkpoint (a config.json) or
// nothing, so a mistyped path cannot delete unrelated files.
func SaveCheckpoint(dir string, ck Checkpoint) error {
	if ck.Model == nil {
		return errors.New("saving checkpoint: no model")
	}
	for name := range ck.Files {
		switch name {
		case configFile, modelFile, modelIndexFile, optimizerFile, rngFile, generationConfigFile:
			return fmt.Errorf("saving checkpoint: extra file %q would overwrite the engine's own", name)
		}
		if name != filepath.Base(name) || name == "" || strings.HasPrefix(name, ".") {
			return fmt.Errorf("saving checkpoint: extra file %q is not a plain file name", name)
		}
	}
	if ck.Optimizer != nil && !sameLayout(ck.Optimizer.specs, ck.Model.specs) {
		return errors.New("saving checkpoint: the optimiser state belongs to a model of another shape")
	}
	if err := replaceableDir(dir); err != nil {
		return fmt.Errorf("saving checkpoint: %s %w", dir, err)
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed into place
	// A checkpoint is shared like any model directory (MkdirTemp makes
	// it 0700); its files are 0644 less the umask.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	if err := writeCheckpointFiles(tmp, ck); err != nil {
		return fmt.Errorf("saving checkpoint to %s: %w", dir, err)
	}
	if err := syncDir(tmp); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	// Move a previous checkpoint aside, put the new one in its place, and
	// only then delete the previous one; if the swap fails, restore it.
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("saving checkpoint: moving the previous one aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return syncDir(parent)
}

// replaceableDir reports why dir may not be replaced by a checkpoint.
func replaceableDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, configFile)); err == nil {
		return nil
	}
	return errNotCheckpoint
}

func writeCheckpointFiles(dir string, ck Checkpoint) error {
	m := ck.Model
	dtype := ck.DType
	if dtype == "" {
		dtype = DTypeF32
	}
	if _, err := ParseDType(string(dtype)); err != nil {
		return err
	}
	cfgJSON, err := json.MarshalIndent(m.cfg, "", "  ")
	if err != nil {
		return err
	}
	if dtype != DTypeF32 {
		cfgJSON = bytes.Replace(cfgJSON, []byte(`"torch_dtype": "float32"`), []byte(`"torch_dtype": "`+dtype.torchName()+`"`), 1)
	}
	genJSON, err := json.MarshalIndent(generationConfig(m.cfg), "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(dir, generationConfigFile), func(w io.Writer) error {
		_, err := w.Write(append(genJSON, '\n'))
		return err
	}); err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(dir, configFile), func(w io.Writer) error {
		_, err := w.Write(append(cfgJSON, '\n'))
		return err
	}); err != nil {
		return err
	}
	tensors := make([]namedTensor, len(m.specs))
	for i, s := range m.specs {
		tensors[i] = namedTensor{s.name, s.shape, m.params[s.offset : s.offset+s.size], dtype}
	}
	if err := writeFileSync(filepath.Join(dir, modelFile), func(w io.Writer) error {
		return writeSafetensors(w, tensors, nil)
	}); err != nil {
		return err
	}
	if o := ck.Optimizer; o != nil {
		var ot []namedTensor
		for _, s := range m.specs {
			ot = append(ot,
				namedTensor{s.name + ".exp_avg", s.shape, o.m[s.offset : s.offset+s.size], DTypeF32},
				namedTensor{s.name + ".exp_avg_sq", s.shape, o.v[s.offset : s.offset+s.size], DTypeF32})
		}
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		meta := map[string]string{
			"optimizer": "adamw", "step": strconv.Itoa(o.steps),
			"beta1": f(o.Config.Beta1), "beta2": f(o.Config.Beta2), "eps": f(o.Config.Eps), "weight_decay": f(o.Config.WeightDecay),
		}
		if err := writeFileSync(filepath.Join(dir, optimizerFile), func(w io.Writer) error {
			return writeSafetensors(w, ot, meta)
		}); err != nil {
			return err
		}
	}
	if len(ck.RNG) > 0 {
		states := make(map[string]string, len(ck.RNG))
		for name, g := range ck.RNG {
			b, err := g.MarshalBinary()
			if err != nil {
				return fmt.Errorf("generator %s: %w", name, err)
			}
			states[name] = base64.StdEncoding.EncodeToString(b)
		}
		js, _ := json.MarshalIndent(states, "", "  ")
		if err := writeFileSync(filepath.Join(dir, rngFile), func(w io.Writer) error {
			_, err := w.Write(append(js, '\n'))
			return err
		}); err != nil {
			return err
		}
	}
	for name, data := range ck.Files {
		if err := writeFileSync(filepath.Join(dir, name), func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// writeFileSync creates path, writes it through fill and syncs it to disk.
func writeFileSync(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = fill(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some file systems cannot sync a directory; the rename is still atomic.
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint: the model,
// the optimiser state and generators when present, and every other file.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	m, err := Load(dir)
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Model: m}
	if ck.Optimizer, err = loadOptimizer(filepath.Join(dir, optimizerFile), m); err != nil {
		return nil, err
	}
	if ck.RNG, err = loadRNG(filepath.Join(dir, rngFile)); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case !e.Type().IsRegular():
		case name == configFile || name == modelFile || name == modelIndexFile || name == optimizerFile || name == rngFile || name == generationConfigFile:
		default:
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return nil, err
			}
			if ck.Files == nil {
				ck.Files = map[string][]byte{}
			}
			ck.Files[name] = data
		}
	}
	return ck, nil
}

// loadOptimizer reads AdamW state for m; a missing file is no state.
func loadOptimizer(path string, m *Model) (*AdamW, error) {
	f, err := openSafetensors(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading optimiser: %w", err)
	}
	defer f.Close()
	num := func(key string) (float64, error) {
		v, err := strconv.ParseFloat(f.meta[key], 64)
		if err != nil {
			return 0, fmt.Errorf("loading optimiser: %s: metadata %s = %q: %w", path, key, f.meta[key], err)
		}
		return v, nil
	}
	var c AdamWConfig
	for key, dst := range map[string]*float64{"beta1": &c.Beta1, "beta2": &c.Beta2, "eps": &c.Eps, "weight_decay": &c.WeightDecay} {
		if *dst, err = num(key); err != nil {
			return nil, err
		}
	}
	steps, err := strconv.Atoi(f.meta["step"])
	if err != nil || steps < 0 {
		return nil, fmt.Errorf("loading optimiser: %s: metadata step = %q is not a step count", path, f.meta["step"])
	}
	o := newAdamW(c, m.specs)
	o.steps = steps
	var buf []byte
	for _, s := range m.specs {
		if err := f.read(s.name+".exp_avg", s.shape, o.m[s.offset:s.offset+s.size], &buf); err != nil {
			return nil, fmt.Errorf("loading optimiser: %w", err)
		}
		if err := f.read(s.name+".exp_avg_sq", s.shape, o.v[s.offset:s.offset+s.size], &buf); err != nil {
			return nil, fmt.Errorf("loading optimiser: %w", err)
		}
	}
	return o, nil
}

// loadRNG restores named generators; a missing file is no generators.
func loadRNG(path string) (map[string]*rand.PCG, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var states map[string]string
	if err := json.Unmarshal(data, &states); err != nil {
		return nil, fmt.Errorf("%s: corrupt generator states: %w", path, err)
	}
	out := make(map[string]*rand.PCG, len(states))
	for name, s := range states {
		b, err := base64.StdEncoding.DecodeString(s)
		g := new(rand.PCG)
		if err == nil {
			err = g.UnmarshalBinary(b)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: generator %s: %w", path, name, err)
		}
		out[name] = g
	}
	return out, nil
}

// generationConfig is generation_config.json for a model: its BOS and EOS
// tokens, so Hugging Face's generate stops where urlvr's sampler does.
func generationConfig(c Config) map[string]any {
	g := map[string]any{}
	if c.BOSTokenID >= 0 {
		g["bos_token_id"] = c.BOSTokenID
	}
	switch len(c.EOSTokenIDs) {
	case 0:
	case 1:
		g["eos_token_id"] = c.EOSTokenIDs[0]
	default:
		g["eos_token_id"] = c.EOSTokenIDs
	}
	return g
}
