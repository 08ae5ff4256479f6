package train

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/urlvr/urlvr/recipes"
)

// readRecipe reads a recipe file, or when no such file exists, the
// embedded recipe of that name ("ground_truth", "recipes/ground_truth.yaml"),
// so recipes work from any directory.
func readRecipe(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return raw, err
	}
	if emb, embErr := recipes.Read(path); embErr == nil {
		return emb, nil
	}
	return nil, fmt.Errorf("%w, and it names none of the built-in recipes (%v; `urlvr recipes` lists them)", err, recipes.Names())
}
