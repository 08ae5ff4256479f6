package dashboard_test

import (
	"testing"

	"github.com/urlvr/urlvr/dashboard"
	"github.com/urlvr/urlvr/experiment"
)

// The heatmap groups problems by the study's own pattern names.
func TestPatternsAreTheStudys(t *testing.T) {
	want := []experiment.Pattern{experiment.AmplifyingSuccess, experiment.WrongToCorrect, experiment.CorrectToWrong, experiment.AmplifyingFailure}
	got := dashboard.PerProblemPatterns()
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != string(want[i]) {
			t.Errorf("pattern %d: %q, the study's %q", i, got[i], want[i])
		}
	}
}
