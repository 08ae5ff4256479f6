package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetArgs(args)
	t.Cleanup(func() { rootCmd.SetOut(nil); rootCmd.SetArgs(nil) })
	err := rootCmd.Execute()
	return out.String(), err
}

func TestCountdownGen(t *testing.T) {
	out, err := runRoot(t, "countdown", "gen", "--n", "3", "--seed", "1", "--chat=false", "--solution")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	var first struct {
		Numbers  []int  `json:"numbers"`
		Target   int    `json:"target"`
		Prompt   string `json:"prompt"`
		Solution string `json:"solution"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	// The first instance of seed 1, as pinned in the countdown package.
	if first.Target != 99 || len(first.Numbers) != 4 || first.Solution != "47 * (65 - 63) + 5" ||
		!strings.HasPrefix(first.Prompt, "A conversation between User and Assistant.") {
		t.Errorf("first line = %+v", first)
	}
	again, _ := runRoot(t, "countdown", "gen", "--n", "3", "--seed", "1", "--chat=false", "--solution")
	if again != out {
		t.Error("the same seed gave different output")
	}
	chat, err := runRoot(t, "countdown", "gen", "--n", "1", "--seed", "1", "--chat", "--solution=false")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(chat, `"prompt":"<|im_start|>system\n`) || strings.Contains(chat, `"solution"`) {
		t.Errorf("chat line = %s", chat)
	}
}

func TestCountdownVerify(t *testing.T) {
	in := `{"response": "<answer>(44 + 19) + 35</answer>", "numbers": [44, 19, 35], "target": 98, "id": "a"}
{"response": "<answer>2 ** 3 + 5</answer>", "numbers": [2, 3, 5], "target": 13.0}
{"response": "no tag", "numbers": [1, 2], "target": 3}
{"response": "x", "numbers": [1.5], "target": 3}
`
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runRoot(t, "countdown", "verify", "--in", path)
	if !errors.Is(err, errLinesFailed) {
		t.Errorf("error = %v, want errLinesFailed for line 4", err)
	}
	want := []string{
		`{"id":"a","numbers":[44,19,35],"outcome":"correct","reason":"equals 98 using [44, 19, 35]","response":"<answer>(44 + 19) + 35</answer>","score":1,"target":98}`,
		`{"numbers":[2,3,5],"outcome":"malformed","reason":"offset 2: power operator ** is not allowed","response":"<answer>2 ** 3 + 5</answer>","score":0.1,"target":13.0}`,
		`{"numbers":[1,2],"outcome":"no_answer","reason":"no answer: no <answer>...</answer> in the response","response":"no tag","score":0,"target":3}`,
		`{"error":"field \"numbers\" element 0: 1.5 is not a whole number","line":4,"numbers":[1.5],"response":"x","target":3}`,
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	out, err = runRoot(t, "countdown", "verify", "--in", path, "--format-score", "0", "--correct-score", "2")
	if !strings.Contains(out, `"score":2,`) || !strings.Contains(out, `"outcome":"malformed","reason":"offset 2: power operator ** is not allowed","response":"<answer>2 ** 3 + 5</answer>","score":0,`) {
		t.Errorf("custom scores not applied:\n%s (%v)", out, err)
	}
}

// gen --solution pipes into verify: its lines carry a bare "solution" and
// no "response", and every solution it writes is correct. Numbers beyond
// float64's exact range are read exactly.
func TestCountdownGenPipesIntoVerify(t *testing.T) {
	gen, err := runRoot(t, "countdown", "gen", "--n", "5", "--seed", "3", "--chat=false", "--solution")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gen.jsonl")
	extra := `{"response": "<answer>9007199254740992</answer>", "numbers": [9007199254740993], "target": 9007199254740992}
{"numbers": [1], "target": 1}
`
	if err := os.WriteFile(path, []byte(gen+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	// The flags are set explicitly: cobra keeps values between runs of
	// the shared root command.
	out, err := runRoot(t, "countdown", "verify", "--in", path, "--correct-score", "1", "--format-score", "0.1")
	if !errors.Is(err, errLinesFailed) {
		t.Errorf("error = %v, want errLinesFailed for the line with neither field", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 7:\n%s", len(lines), out)
	}
	for _, l := range lines[:5] {
		if !strings.Contains(l, `"outcome":"correct"`) || !strings.Contains(l, `"score":1`) {
			t.Errorf("generated solution not verified correct: %s", l)
		}
	}
	if !strings.Contains(lines[5], `"outcome":"wrong_numbers"`) {
		t.Errorf("2^53+1 read inexactly: %s", lines[5])
	}
	if !strings.Contains(lines[6], `missing field \"response\" (or \"solution\"`) {
		t.Errorf("line without response or solution: %s", lines[6])
	}
}
