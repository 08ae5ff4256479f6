package basemodel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/task/arith"
)

// Foundation is the clean pretraining a prior's model starts from, before
// the prior's own stages: FoundationScale times the documents of the
// prior's first stage, all with correct solutions, on a model of the
// prior's shape. Priors of one shape and budget share their foundation
// (same seed, same corpus, same order), so the suite spends the long,
// common part of pretraining once, as a family of real models shares a
// pretrained base; the priors then differ in what they read last
// (misconceptions, a clean SFT stage), in their budget (the undertrained
// prior's foundation is an eighth as long) and in their size.
type Foundation struct {
	Shape      arith.ModelShape `json:"shape"`
	Examples   int              `json:"examples"`
	CorpusSeed uint64           `json:"corpus_seed"`
	Seed       uint64           `json:"seed"`
}

// FoundationScale is how many times the documents of a prior's first
// stage its foundation reads.
const FoundationScale = 16

// FoundationSeed seeds every foundation's initialisation and data order;
// its corpus uses seed 1, as the priors' first stages do.
const FoundationSeed = 100

// FoundationOf returns the foundation of a prior.
func FoundationOf(p arith.Prior) Foundation {
	n := 0
	if len(p.Stages) > 0 {
		n = p.Stages[0].Corpus.Examples
	}
	return Foundation{Shape: p.Model, Examples: FoundationScale * n, CorpusSeed: 1, Seed: FoundationSeed}
}

// Name identifies the foundation in progress lines and file names.
func (f Foundation) Name() string {
	return fmt.Sprintf("foundation-%dx%d-%d", f.Shape.HiddenSize, f.Shape.NumLayers, f.Examples)
}

// Prior is the foundation as a one-stage clean prior.
func (f Foundation) Prior() arith.Prior {
	return arith.Prior{
		Name: f.Name(), Description: "clean foundation pretraining", Seed: f.Seed, Model: f.Shape,
		Stages: []arith.Stage{{Name: "foundation", Epochs: 1, Corpus: arith.CorpusConfig{Examples: f.Examples, Seed: f.CorpusSeed}}},
	}
}

// Key identifies the foundation trained with o: equal keys, equal models.
func (f Foundation) Key(o TrainOptions) string {
	js, _ := json.Marshal(struct {
		F Foundation
		O TrainOptions
	}{f, o})
	sum := sha256.Sum256(js)
	return hex.EncodeToString(sum[:8])
}

// FoundationRecord is what a manifest says about a model's foundation.
type FoundationRecord struct {
	Foundation
	Key   string      `json:"key"`
	Stage StageResult `json:"stage"`
}

// Foundations trains each foundation once and hands out copies; with a
// Dir it also keeps them on disk (Dir/<name>-<key>), so a rebuild of one
// prior reuses the foundation an earlier build made. It is safe for
// concurrent use; a second request for a foundation in training waits for
// it.
type Foundations struct {
	Dir string

	mu      sync.Mutex
	entries map[string]*foundationEntry
}

type foundationEntry struct {
	done  chan struct{}
	model *engine.Model
	rec   FoundationRecord
	err   error
}

// Get returns a copy of the foundation's model trained with o, and its
// record.
func (s *Foundations) Get(ctx context.Context, f Foundation, o TrainOptions, progress func(Progress)) (*engine.Model, FoundationRecord, error) {
	key := f.Key(o)
	s.mu.Lock()
	if s.entries == nil {
		s.entries = map[string]*foundationEntry{}
	}
	e, ok := s.entries[key]
	if !ok {
		e = &foundationEntry{done: make(chan struct{})}
		s.entries[key] = e
	}
	s.mu.Unlock()
	if !ok {
		e.model, e.rec, e.err = s.make(ctx, f, key, o, progress)
		close(e.done)
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, FoundationRecord{}, ctx.Err()
	}
	if e.err != nil {
		return nil, FoundationRecord{}, e.err
	}
	return e.model.Clone(), e.rec, nil
}

const foundationRecordFile = "foundation.json"

// make loads the foundation from Dir or trains it.
func (s *Foundations) make(ctx context.Context, f Foundation, key string, o TrainOptions, progress func(Progress)) (*engine.Model, FoundationRecord, error) {
	dir := ""
	if s.Dir != "" {
		dir = filepath.Join(s.Dir, f.Name()+"-"+key)
		if m, rec, err := loadFoundation(dir); err == nil && rec.Key == key && rec.Foundation == f {
			return m, rec, nil
		}
	}
	res, err := Pretrain(ctx, f.Prior(), o, progress)
	if err != nil {
		return nil, FoundationRecord{}, err
	}
	rec := FoundationRecord{Foundation: f, Key: key, Stage: res.Stages[0]}
	if dir != "" {
		js, _ := json.MarshalIndent(rec, "", "  ")
		if err := engine.SaveCheckpoint(dir, engine.Checkpoint{Model: res.Model, Files: map[string][]byte{foundationRecordFile: js}}); err != nil {
			return nil, FoundationRecord{}, fmt.Errorf("keeping foundation %s: %w", f.Name(), err)
		}
	}
	return res.Model, rec, nil
}

func loadFoundation(dir string) (*engine.Model, FoundationRecord, error) {
	var rec FoundationRecord
	data, err := os.ReadFile(filepath.Join(dir, foundationRecordFile))
	if err != nil {
		return nil, rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, rec, err
	}
	m, err := engine.Load(dir)
	return m, rec, err
}
