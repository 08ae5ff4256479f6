package basemodel

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/task/arith"
)

// ManifestFile is the name of a model directory's manifest.
const ManifestFile = "manifest.json"

// HashedFiles are the files of a model directory whose SHA-256 the
// manifest records.
var HashedFiles = []string{"config.json", "model.safetensors", "tokenizer.json"}

// Manifest records how a base model was made and what it measured.
type Manifest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Command is the command line that made the model.
	Command string       `json:"command"`
	Seed    uint64       `json:"seed"`
	Prior   arith.Prior  `json:"prior"`
	Train   TrainOptions `json:"train"`
	// Alphabet is the tokenizer's alphabet, after its special tokens.
	Alphabet  string `json:"alphabet"`
	VocabSize int    `json:"vocab_size"`
	Params    int    `json:"params"`
	// Foundation is the clean pretraining the model started from; its
	// training time is not in TrainSeconds (it is shared between priors).
	Foundation *FoundationRecord `json:"foundation"`
	// From is the shipped model the prior continued, if any (its
	// foundation is then that model's).
	From *Parent `json:"from,omitempty"`
	// Stages describe each stage's corpus (documents, characters) and
	// training (steps, tokens, losses, seconds).
	Stages    []StageResult `json:"stages"`
	FinalLoss float64       `json:"final_loss"`
	// TrainSeconds is the wall time of training; it depends on the machine
	// and its load, unlike everything else here.
	TrainSeconds float64 `json:"train_seconds"`
	Machine      string  `json:"machine"`
	// Eval is the model's measurement with DefaultEvalOptions.
	Eval *Report `json:"eval,omitempty"`
	// Countdown is the measurement of a Countdown world's model: solving
	// countdown:val and judging candidates with P1 and P2.
	Countdown *CountdownReport `json:"countdown_eval,omitempty"`
	// Files maps each of HashedFiles to its SHA-256, hex.
	Files map[string]string `json:"files"`
}

// Parent names the model a prior continued and the hashes of its files.
type Parent struct {
	Name  string            `json:"name"`
	Files map[string]string `json:"files"`
}

// HashFiles returns the SHA-256 of each of HashedFiles in dir.
func HashFiles(dir string) (map[string]string, error) {
	out := make(map[string]string, len(HashedFiles))
	for _, name := range HashedFiles {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("hashing model files: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("hashing %s: %w", filepath.Join(dir, name), err)
		}
		out[name] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}

// CheckFiles reports whether the files in dir are those the manifest
// records, naming the first that is missing or differs.
func (mf *Manifest) CheckFiles(dir string) error {
	for _, name := range HashedFiles {
		if _, ok := mf.Files[name]; !ok {
			return fmt.Errorf("%s: the manifest records no hash for %s", dir, name)
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: %s is missing (the manifest records its hash): %w", dir, name, err)
		}
	}
	got, err := HashFiles(dir)
	if err != nil {
		return err
	}
	for _, name := range HashedFiles {
		if want := mf.Files[name]; got[name] != want {
			return fmt.Errorf("%s: %s has SHA-256 %s, the manifest records %s", dir, name, got[name], want)
		}
	}
	return nil
}

// WriteManifest writes mf to dir/manifest.json atomically.
func WriteManifest(dir string, mf *Manifest) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(mf); err != nil {
		return fmt.Errorf("encoding manifest of %s: %w", mf.Name, err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, ManifestFile), buf.Bytes(), 0o644)
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var mf Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mf); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &mf, nil
}

// machine describes where training ran, for the manifest's wall time.
func machine() string {
	return fmt.Sprintf("%s/%s, %d CPUs, GOMAXPROCS %d, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
}
