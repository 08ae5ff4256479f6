package arith

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urlvr/urlvr/internal/atomicfile"
)

// DatasetsManifest says how a directory of world datasets was made: the
// command, the alphabet, and each set's file, spec and statistics.
type DatasetsManifest struct {
	Command  string         `json:"command"`
	Alphabet string         `json:"alphabet"`
	Sets     []DatasetEntry `json:"sets"`
}

// DatasetEntry describes one written set.
type DatasetEntry struct {
	File  string   `json:"file"`
	Spec  SetSpec  `json:"spec"`
	Stats SetStats `json:"stats"`
}

// DatasetsManifestFile is the name of the manifest WriteDatasets writes.
const DatasetsManifestFile = "manifest.json"

// AllSets generates the training set of train, the paper-sized validation
// sets, the large held-out sets and the probe set, in that order. The
// large sets are drawn again with GenerateLarge when regenerate is set and
// read from the shipped copies (Large) otherwise.
func AllSets(train SetSpec, regenerate bool) ([]SetSpec, [][]Problem, error) {
	val, err := Validation()
	if err != nil {
		return nil, nil, err
	}
	large, err := Large()
	if regenerate {
		large, err = GenerateLarge()
	}
	if err != nil {
		return nil, nil, err
	}
	probe, err := Probe()
	if err != nil {
		return nil, nil, err
	}
	tr, err := Train(train)
	if err != nil {
		return nil, nil, err
	}
	specs := append(append(append([]SetSpec{train}, ValidationSpecs...), LargeSpecs...), ProbeSpec)
	sets := append(append(append([][]Problem{tr}, val...), large...), probe)
	return specs, sets, nil
}

// WriteDatasets writes every set of AllSets(train) to dir as
// <name>.jsonl and a manifest.json recording command; each file is written
// atomically, so an interrupted run leaves whole files.
func WriteDatasets(dir string, train SetSpec, command string) (*DatasetsManifest, error) {
	specs, sets, err := AllSets(train, true)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	mf := &DatasetsManifest{Command: command, Alphabet: Alphabet}
	for i, set := range sets {
		path := filepath.Join(dir, specs[i].Name+".jsonl")
		if err := SaveJSONL(path, set); err != nil {
			return nil, err
		}
		st, err := Describe(specs[i].Name, set)
		if err != nil {
			return nil, err
		}
		mf.Sets = append(mf.Sets, DatasetEntry{File: filepath.Base(path), Spec: specs[i], Stats: st})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(mf); err != nil {
		return nil, fmt.Errorf("encoding the datasets manifest: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, DatasetsManifestFile), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return mf, nil
}
