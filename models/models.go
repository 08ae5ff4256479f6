// Package models holds urlvr's shipped base models, one directory per
// prior of the suite (config.json, model.safetensors, tokenizer.json and
// manifest.json), built by `urlvr pretrain --all` and embedded here so that
// a urlvr binary carries them wherever it runs (package basemodel opens
// them by name).
package models

import "embed"

// FS holds every shipped model directory.
//
//go:embed */config.json */model.safetensors */tokenizer.json */manifest.json
var FS embed.FS
