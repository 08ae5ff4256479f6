package experiment_test

import (
	"fmt"

	"github.com/urlvr/urlvr/experiment"
)

// Four models: three collapsed at steps 10, 20 and 30, one survived a
// 40-step budget and so ranks as step 41. Their ground-truth gains order
// them the same way except for one swapped pair.
func ExampleCorrelate() {
	mcs := []float64{10, 20, 30, 41}
	gain := []float64{0.1, 0.3, 0.2, 0.4}
	c := experiment.Correlate("model_collapse_step", "gt_gain_final", mcs, gain)
	fmt.Printf("Spearman %.3f, Kendall tau-b %.3f over %d models\n", *c.Spearman, *c.KendallTauB, c.Models)
	// Output: Spearman 0.800, Kendall tau-b 0.667 over 4 models
}
