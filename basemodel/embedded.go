package basemodel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/models"
)

// embeddedRoot returns a directory holding the models embedded in the
// binary, written once into the user's cache directory under a name
// derived from every embedded manifest (each names the hashes of its
// model's files), so that a binary whose models differ in any one model
// never reads another binary's copy.
func embeddedRoot() (string, error) {
	names, err := fs.ReadDir(models.FS, ".")
	if err != nil || len(names) == 0 {
		return "", fmt.Errorf("this binary embeds no models")
	}
	key, err := embeddedKey(models.FS)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	root := filepath.Join(cache, "urlvr", "models-"+key)
	for _, d := range names {
		if !d.IsDir() {
			continue
		}
		for _, f := range append([]string{ManifestFile}, HashedFiles...) {
			dst := filepath.Join(root, d.Name(), f)
			if _, err := os.Stat(dst); err == nil {
				continue
			}
			data, err := fs.ReadFile(models.FS, d.Name()+"/"+f)
			if err != nil {
				return "", fmt.Errorf("embedded model %s: %w", d.Name(), err)
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return "", err
			}
			if err := atomicfile.WriteFile(dst, data, 0o644); err != nil {
				return "", err
			}
		}
	}
	return root, nil
}

// embeddedKey hashes the manifests of every model directory of fsys, in
// directory order: any rebuilt model changes it.
func embeddedKey(fsys fs.FS) (string, error) {
	names, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", fmt.Errorf("embedded models: %w", err)
	}
	var all []byte
	for _, d := range names {
		if !d.IsDir() {
			continue
		}
		mf, err := fs.ReadFile(fsys, d.Name()+"/"+ManifestFile)
		if err != nil {
			return "", fmt.Errorf("embedded model %s: %w", d.Name(), err)
		}
		all = append(all, d.Name()...)
		all = append(all, 0)
		all = append(all, mf...)
	}
	return shortHash(all), nil
}

// shortHash is the first 12 hex digits of the SHA-256 of data.
func shortHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}
