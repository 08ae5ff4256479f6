package train

import (
	"reflect"
	"strings"
	"testing"
)

func TestRecipesLoadByName(t *testing.T) {
	fromFile, err := LoadConfig("../recipes/ground_truth.yaml", []string{"trainer.steps=2"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ground_truth", "recipes/ground_truth.yaml"} {
		byName, err := LoadConfig(name, []string{"trainer.steps=2"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(byName, fromFile) || byName.Reward.Estimator != "ground_truth" {
			t.Errorf("%s: %+v, want the file's %+v", name, byName, fromFile)
		}
	}
	if _, err := LoadConfig("no_such_recipe", nil); err == nil || !strings.Contains(err.Error(), "ground_truth") {
		t.Errorf("unknown recipe: %v, want an error listing the recipes", err)
	}
}
