package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// grade --extract picks the extraction policy: lenient reads a final-answer
// statement after an intermediate box and prose answers, strict reads only
// boxes and <answer> tags. An unknown policy is a one-line error.
func TestGradeExtractPolicy(t *testing.T) {
	in := `{"response": "so \\boxed{255} then. The final answer is $10,455$", "gold": "10455"}
{"response": "Final Answer: The largest $n$ is 34.", "gold": 34}
{"response": "\\boxed{(2,2)} and \\boxed{(6,2)}", "gold": "(2,2),(6,2)"}
`
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	verdicts := func(policy string) []bool {
		t.Helper()
		out, err := runRoot(t, "grade", "--in", path, "--extract", policy)
		if err != nil {
			t.Fatalf("--extract %s: %v", policy, err)
		}
		var got []bool
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			got = append(got, strings.Contains(l, `"correct":true`))
		}
		return got
	}
	if got := verdicts("lenient"); len(got) != 3 || !got[0] || !got[1] || !got[2] {
		t.Errorf("lenient verdicts %v, want all correct", got)
	}
	if got := verdicts("strict"); len(got) != 3 || got[0] || got[1] || !got[2] {
		t.Errorf("strict verdicts %v, want [false false true]", got)
	}
	if _, err := runRoot(t, "grade", "--in", path, "--extract", "loose"); err == nil || !strings.Contains(err.Error(), `"loose"`) {
		t.Errorf("unknown policy: error %v", err)
	}
	runRoot(t, "grade", "--in", path, "--extract", "lenient") // leave the shared flag at its default
}
