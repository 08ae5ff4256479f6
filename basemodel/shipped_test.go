package basemodel

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/task/arith"
)

// TestShippedModels: every model in the checkout's models directory loads,
// its files are those its manifest records, and it was made from the
// built-in prior of its name; the suite holds every prior and the default.
func TestShippedModels(t *testing.T) {
	root := filepath.Join("..", "models")
	names, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	priors, err := arith.Priors()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range priors {
		if !slices.Contains(names, p.Name) {
			t.Errorf("no shipped model for prior %s (have %v)", p.Name, names)
		}
	}
	if !slices.Contains(names, Default) {
		t.Errorf("the default model %s is not shipped", Default)
	}
	for _, name := range names {
		m, err := OpenIn(root, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		mf := m.Manifest
		if mf == nil {
			t.Errorf("%s: no manifest", name)
			continue
		}
		if mf.Prior.IsCountdown() {
			checkShippedCountdown(t, root, m)
			continue
		}
		if mf.Name != name || mf.Params != m.Engine.NumParams() || mf.Eval == nil || mf.Foundation == nil {
			t.Errorf("%s: manifest name %q, %d params (model %d), eval %v, foundation %v", name, mf.Name, mf.Params, m.Engine.NumParams(), mf.Eval != nil, mf.Foundation != nil)
		}
		if p, err := arith.PriorByName(name); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !reflect.DeepEqual(p, mf.Prior) {
			t.Errorf("%s: made from prior %+v, priors.yaml now says %+v: rebuild it", name, mf.Prior, p)
		} else if p.From != "" {
			// A continued model's foundation is its parent's, and its
			// manifest records the parent's files as shipped.
			parent, err := ReadManifest(filepath.Join(root, p.From))
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if mf.From == nil || mf.From.Name != p.From || !reflect.DeepEqual(mf.From.Files, parent.Files) ||
				!reflect.DeepEqual(mf.Foundation, parent.Foundation) {
				t.Errorf("%s: continues %s, but its manifest records %+v", name, p.From, mf.From)
			}
		} else if mf.Foundation.Foundation != FoundationOf(p) {
			t.Errorf("%s: foundation %+v, want %+v", name, mf.Foundation.Foundation, FoundationOf(p))
		} else if ft, _, err := budgetSteps(p, mf.Train); err != nil || mf.Foundation.Key != mf.Foundation.Foundation.Key(ft) {
			t.Errorf("%s: foundation key %s does not match its record (%v)", name, mf.Foundation.Key, err)
		}
		if got := m.Response(append(m.EncodePrompt("1+1"), m.StopTokens()...)); got != "1+1" {
			t.Errorf("%s: tokenizer round trip gives %q", name, got)
		}
	}
}

// TestEmbeddedModels: the copies embedded in the binary are the shipped
// files, written out once into the cache directory.
func TestEmbeddedModels(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	root, err := embeddedRoot()
	if err != nil {
		t.Fatal(err)
	}
	names, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	shipped, _ := List(filepath.Join("..", "models"))
	if !slices.Equal(names, shipped) {
		t.Fatalf("embedded %v, shipped %v", names, shipped)
	}
	m, err := OpenIn(root, DefaultAlias)
	if err != nil {
		t.Fatal(err)
	}
	want, err := HashFiles(filepath.Join("..", "models", Default))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Manifest.Files, want) {
		t.Errorf("embedded %s has files %v, shipped %v", Default, m.Manifest.Files, want)
	}
	if again, err := embeddedRoot(); err != nil || again != root {
		t.Errorf("second call: %s, %v", again, err)
	}
}

func TestShippedModelsListsTheSuite(t *testing.T) {
	names, err := Shipped()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("%s listed twice in %v", n, names)
		}
		seen[n] = true
	}
	if !seen["mild"] || len(names) < 2 {
		t.Fatalf("shipped models %v lack the default model", names)
	}
	if Label("base") != "mild" || Label("/x/y/tiny-a/") != "tiny-a" || Label("clean") != "clean" {
		t.Error("model labels")
	}
}

// A model directory missing a file, or holding one whose hash differs from
// its manifest's, is refused with the file named.
func TestOpenDirRefusesMissingOrAlteredFiles(t *testing.T) {
	root, err := ModelsDir()
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		file   string
		change func(path string) error
		want   string
	}{
		{"tokenizer.json", os.Remove, "tokenizer.json is missing"},
		{"model.safetensors", os.Remove, "model.safetensors is missing"},
		{"config.json", func(path string) error {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(path, append(data, ' '), 0o644)
		}, "config.json has SHA-256"},
	} {
		dir := filepath.Join(t.TempDir(), Default)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range append([]string{ManifestFile}, HashedFiles...) {
			data, err := os.ReadFile(filepath.Join(root, Default, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := OpenDir(dir); err != nil {
			t.Fatalf("an intact copy: %v", err)
		}
		if err := c.change(filepath.Join(dir, c.file)); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenDir(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s changed: %v, want %q", c.file, err, c.want)
		}
	}
}
