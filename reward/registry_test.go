package reward

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/urlvr/urlvr/grade"
)

func TestRegistryNames(t *testing.T) {
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, s := range Specs() {
		if !snake.MatchString(s.Name) || seen[s.Name] {
			t.Errorf("name %q: not snake case or duplicated", s.Name)
		}
		seen[s.Name] = true
		if s.Summary == "" || strings.Contains(s.Summary, "\n") {
			t.Errorf("%s: summary must be one line: %q", s.Name, s.Summary)
		}
		e, err := New(s.Name, nil)
		if err != nil {
			t.Errorf("New(%q) with defaults: %v", s.Name, err)
			continue
		}
		if e.Name() != s.Name {
			t.Errorf("New(%q).Name() = %q", s.Name, e.Name())
		}
	}
	for _, name := range []string{"self_certainty", "token_entropy", "trajectory_entropy", "probability",
		"probability_disparity", "majority_voting", "soft_voting", "thresholded_voting", "co_reward", "rlccf",
		"empo", "ground_truth", "self_verification", "unified"} {
		if !seen[name] {
			t.Errorf("estimator %s is not registered", name)
		}
	}
}

func TestRegistryBuilds(t *testing.T) {
	zero := 0.0
	tests := []struct {
		name   string
		params map[string]any
		want   Estimator
	}{
		{"self_certainty", map[string]any{"vocab_size": "151936"}, SelfCertainty{VocabSize: 151936}},
		{"self_certainty", map[string]any{"vocab_size": 64}, SelfCertainty{VocabSize: 64}},
		{"probability", map[string]any{"log_space": true}, Probability{LogSpace: true}},
		{"probability_disparity", map[string]any{"all_tokens": "true"}, ProbabilityDisparity{AllTokens: true}},
		{"majority_voting", nil, MajorityVoting{}},
		{"majority_voting", map[string]any{"equivalence": "string"}, MajorityVoting{Voting{Strings: true}}},
		{"thresholded_voting", map[string]any{"threshold": 0.75}, ThresholdedVoting{Threshold: 0.75}},
		{"thresholded_voting", nil, ThresholdedVoting{Threshold: 0.5}},
		{"co_reward", map[string]any{"self_vote": "1"}, CoReward{SelfVote: true}},
		{"ground_truth", map[string]any{"oracle": "math"}, GroundTruth{Oracle: OracleMath}},
		{"ground_truth", map[string]any{"format_score": 0}, GroundTruth{FormatScore: &zero}},
		{"unified", map[string]any{"anchor": "token", "sign": "-1", "transform": "exp_scaled"}, Table6()["probability"]},
		{"unified", map[string]any{"granularity": "answer", "anchor": "answer", "sign": -1, "transform": "exp", "tau": "0"}, Table6()["majority_voting"]},
		{"unified", map[string]any{"granularity": "answer", "anchor": "answer", "sign": -1, "transform": "exp"}, Table6()["semantic_entropy"]},
	}
	for _, tc := range tests {
		got, err := New(tc.name, tc.params)
		if err != nil {
			t.Errorf("New(%s, %v): %v", tc.name, tc.params, err)
			continue
		}
		if d := cmp.Diff(tc.want, got, cmpopts.IgnoreUnexported(grade.Grader{})); d != "" {
			t.Errorf("New(%s, %v) (-want +got):\n%s", tc.name, tc.params, d)
		}
	}
}

func TestRegistryErrors(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"majority", nil, `unknown estimator "majority"; known: self_certainty,`},
		{"token_entropy", map[string]any{"x": 1}, "takes no parameters"},
		{"majority_voting", map[string]any{"equivalance": "string"}, `no parameter "equivalance"; it takes: equivalence`},
		{"majority_voting", map[string]any{"equivalence": "exact"}, `"exact" is not one of grader, string`},
		{"probability", map[string]any{"log_space": "maybe"}, "not a boolean"},
		{"probability", map[string]any{"log_space": 3.5}, "want a boolean"},
		{"self_certainty", map[string]any{"vocab_size": "1.5"}, "not an integer"},
		{"self_certainty", map[string]any{"vocab_size": -3}, "negative"},
		{"thresholded_voting", map[string]any{"threshold": "2"}, "outside [0, 1]"},
		{"thresholded_voting", map[string]any{"threshold": "NaN"}, "not finite"},
		{"ground_truth", map[string]any{"oracle": "human"}, "not one of auto, math, countdown, task"},
		{"unified", map[string]any{"sign": "0"}, "sign 0"},
		{"unified", map[string]any{"granularity": "answer"}, "anchor uniform at answer level"},
		{"unified", map[string]any{"tau": "0.1"}, "tempering applies to the answer-level"},
		{"unified", map[string]any{"granularity": "answer", "anchor": "answer", "sign": -1, "tau": "-1"}, "tau -1"},
	}
	for _, tc := range tests {
		_, err := New(tc.name, tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s, %v) = %v, want error containing %q", tc.name, tc.params, err, tc.want)
		}
	}
}

func TestParseParams(t *testing.T) {
	got, err := ParseParams([]string{"threshold=0.7", " equivalence = string ", "empty="})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]any{"threshold": "0.7", "equivalence": "string", "empty": ""}, got); d != "" {
		t.Error(d)
	}
	for _, bad := range [][]string{{"novalue"}, {"=3"}, {"a=1", "a=2"}} {
		if _, err := ParseParams(bad); err == nil {
			t.Errorf("ParseParams(%q): no error", bad)
		}
	}
}
