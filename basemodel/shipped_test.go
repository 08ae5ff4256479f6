package basemodel

import (
	"path/filepath"
	"reflect"
	"slices"
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
		if mf.Name != name || mf.Params != m.Engine.NumParams() || mf.Eval == nil || mf.Foundation == nil {
			t.Errorf("%s: manifest name %q, %d params (model %d), eval %v, foundation %v", name, mf.Name, mf.Params, m.Engine.NumParams(), mf.Eval != nil, mf.Foundation != nil)
		}
		if p, err := arith.PriorByName(name); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !reflect.DeepEqual(p, mf.Prior) {
			t.Errorf("%s: made from prior %+v, priors.yaml now says %+v: rebuild it", name, mf.Prior, p)
		} else if mf.Foundation.Foundation != FoundationOf(p) {
			t.Errorf("%s: foundation %+v, want %+v", name, mf.Foundation.Foundation, FoundationOf(p))
		}
		if mf.Foundation != nil && mf.Foundation.Key != mf.Foundation.Foundation.Key(mf.Train) {
			t.Errorf("%s: foundation key %s does not match its record", name, mf.Foundation.Key)
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
