// Package recipes holds urlvr's training recipes, embedded in the binary so
// that `urlvr train --config ground_truth` works from any directory after
// `go install`. A recipe is a YAML file that sets what differs from the
// defaults of train.Default: the reward estimator of one line of the
// paper's study (Sec. 4: ground truth, majority voting and the certainty
// rewards of Fig. 3), or test-time training (Sec. 5). Its leading comment
// says what it is for.
package recipes

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// ErrUnknown is returned for a name that is not an embedded recipe.
var ErrUnknown = errors.New("no such recipe")

// Names lists the embedded recipes, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Name turns what a user may type for an embedded recipe into its name:
// "ground_truth", "ground_truth.yaml" and "recipes/ground_truth.yaml" all
// name ground_truth.
func Name(s string) string {
	return strings.TrimSuffix(path.Base(strings.ReplaceAll(s, `\`, "/")), ".yaml")
}

// Read returns the YAML of the named recipe (see Name for the spellings).
func Read(name string) ([]byte, error) {
	n := Name(name)
	b, err := files.ReadFile(n + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("%w %q (recipes: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Summary is the first sentence of a recipe's leading comment, "" when it
// has none.
func Summary(name string) string {
	b, err := Read(name)
	if err != nil {
		return ""
	}
	var comment []string
	for _, line := range strings.Split(string(b), "\n") {
		text, ok := strings.CutPrefix(line, "#")
		if !ok {
			break
		}
		comment = append(comment, strings.TrimSpace(text))
	}
	s := strings.Join(comment, " ")
	if loc := sentenceEnd.FindStringIndex(s); loc != nil {
		s = s[:loc[0]+1]
	}
	return s
}

// sentenceEnd is a full stop that ends a sentence: followed by a capital,
// unlike the abbreviations of "Fig. 3" and "Sec. 5".
var sentenceEnd = regexp.MustCompile(`\.\s+[A-Z]`)
