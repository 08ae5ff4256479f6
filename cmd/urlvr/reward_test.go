package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/urlvr/urlvr/reward"
)

var updateRewardGolden = flag.Bool("update-reward", false, "rewrite the urlvr reward golden files in testdata/reward/")

// The golden files were checked by hand; for majority_voting on
// rollouts.jsonl: p1 votes {0.5, \frac{1}{2}} (2 of 4, correct), p2 votes 8
// (2 of 3, gold 7), so label_accuracy 1/2; rewards match the ground truth
// on 4 of 7 rollouts; ground-truth reward 3/7, proxy reward 4/7, majority
// ratio (2/4 + 2/3)/2; point-biserial r = (2/49)/(12/49) = 1/6. p3 has a bad
// line, so neither of its lines is scored; p4 has no gold and stays out of
// the metrics.
func TestRewardGolden(t *testing.T) {
	tests := []struct {
		golden, input, estimator string
		params                   map[string]any
		failed                   bool
	}{
		{"majority_voting", "rollouts", "majority_voting", nil, true},
		{"majority_voting_string", "rollouts", "majority_voting", map[string]any{"equivalence": "string"}, true},
		{"self_certainty", "rollouts", "self_certainty", nil, true},
		{"probability_disparity", "rollouts", "probability_disparity", nil, true},
		{"self_verification", "countdown", "self_verification", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			e, err := reward.New(tc.estimator, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			in, err := os.Open(filepath.Join("testdata", "reward", tc.input+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			var out, stderr bytes.Buffer
			cmd := &cobra.Command{}
			cmd.SetContext(context.Background())
			cmd.SetErr(&stderr)
			err = scoreRewardLines(cmd, e, in, &out)
			if tc.failed != errors.Is(err, errLinesFailed) {
				t.Errorf("error %v, want failed lines: %v", err, tc.failed)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %s", stderr.String())
			}
			path := filepath.Join("testdata", "reward", tc.golden+".golden.jsonl")
			if *updateRewardGolden {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("output differs from %s:\n got: %s\nwant: %s", path, out.String(), want)
			}
		})
	}
}

func TestRewardList(t *testing.T) {
	var out bytes.Buffer
	if err := listEstimators(&out); err != nil {
		t.Fatal(err)
	}
	for _, name := range reward.Names() {
		if !strings.Contains(out.String(), name+" ") {
			t.Errorf("--list misses %s", name)
		}
	}
}
