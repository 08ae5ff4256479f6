package data

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// plainOnly keeps the fields the {prompt, answer, data_source} layout holds.
func plainOnly(recs []Record) []Record {
	out := make([]Record, len(recs))
	for i, r := range recs {
		out[i] = Record{Prompt: r.Prompt, Answer: r.Answer, DataSource: r.DataSource}
	}
	return out
}

func TestSaveLoadRoundTrip(t *testing.T) {
	recs := []Record{
		{Prompt: "Compute 1 + 1.", Answer: "2", DataSource: "arith/tier1"},
		{Prompt: "Unicode: π ≈ 3.14159, “quotes”, <tags> & \\boxed{}\nsecond line", Answer: `\frac{\pi}{2}`, DataSource: "arith/tier3"},
		{Prompt: "unlabelled", Answer: "", DataSource: ""},
	}
	dir := t.TempDir()
	for _, name := range []string{"set.jsonl", "set.json", "set.jsonl.gz", "set.parquet"} {
		path := filepath.Join(dir, name)
		if err := Save(path, recs); err != nil {
			t.Fatalf("Save %s: %v", name, err)
		}
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, %v", name, st.Mode(), err)
		}
		got, err := Load(path, Options{AllowMissingAnswer: true})
		if err != nil {
			t.Fatalf("Load %s: %v", name, err)
		}
		assertRecords(t, name, plainOnly(got), recs)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestWritersRefuseWhatTheLayoutCannotHold(t *testing.T) {
	chat := []Record{{ID: "c1", Prompt: "hi", Messages: []Message{{Role: "user", Content: "hi"}}, Answer: "1"}}
	blank := []Record{{ID: "b1", Prompt: "  ", Answer: "1"}}
	for _, tc := range []struct {
		recs   []Record
		reason string
	}{{chat, "chat prompt"}, {blank, "empty prompt"}} {
		if err := WriteJSONL(&bytes.Buffer{}, tc.recs); err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("WriteJSONL: %v, want %q", err, tc.reason)
		}
		if err := WriteParquet(&bytes.Buffer{}, tc.recs); err == nil || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("WriteParquet: %v, want %q", err, tc.reason)
		}
	}
	path := filepath.Join(t.TempDir(), "chat.parquet")
	if err := Save(path, chat); err == nil {
		t.Error("Save wrote a chat record")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("a failed Save left a file behind")
	}
	if err := Save(filepath.Join(t.TempDir(), "set.csv"), nil); err == nil {
		t.Error("Save accepted an unknown extension")
	}
}

func TestWriteJSONLLayout(t *testing.T) {
	var buf bytes.Buffer
	err := WriteJSONL(&buf, []Record{{ID: "x", Prompt: "a < b & c", Answer: "1", DataSource: "s", Extra: map[string]any{"k": 1}}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"prompt":"a < b & c","answer":"1","data_source":"s"}` + "\n"
	if buf.String() != want {
		t.Errorf("WriteJSONL = %q, want %q", buf.String(), want)
	}
}

// Any plain records survive a trip through either writer and reader.
func TestRoundTripProperty(t *testing.T) {
	text := rapid.String()
	answer := rapid.String().Filter(func(s string) bool {
		return strings.TrimSpace(s) == s && !strings.Contains(s, "\n#### ")
	})
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "n")
		recs := make([]Record, n)
		for i := range recs {
			recs[i] = Record{
				Prompt:     "Q: " + text.Draw(t, "prompt"),
				Answer:     answer.Draw(t, "answer"),
				DataSource: text.Draw(t, "source"),
			}
		}
		var j, p bytes.Buffer
		if err := WriteJSONL(&j, recs); err != nil {
			t.Fatal(err)
		}
		if err := WriteParquet(&p, recs); err != nil {
			t.Fatal(err)
		}
		opts := Options{AllowMissingAnswer: true}
		fromJSON, err := ReadJSON(&j, "prop.jsonl", opts)
		if err != nil {
			t.Fatalf("ReadJSON: %v", err)
		}
		fromParquet, err := ReadParquet(bytes.NewReader(p.Bytes()), int64(p.Len()), "prop.parquet", opts)
		if err != nil {
			t.Fatalf("ReadParquet: %v", err)
		}
		for _, got := range [][]Record{plainOnly(fromJSON), plainOnly(fromParquet)} {
			if len(got) != len(recs) {
				t.Fatalf("%d records back, want %d", len(got), len(recs))
			}
			for i := range recs {
				if got[i].Prompt != recs[i].Prompt || got[i].Answer != recs[i].Answer || got[i].DataSource != recs[i].DataSource {
					t.Fatalf("record %d: got %+v, want %+v", i, got[i], recs[i])
				}
			}
		}
	})
}

// FuzzReadJSON feeds arbitrary bytes to the JSON reader: it never panics,
// every failure names the file, and records it accepts in the plain layout
// come back unchanged through WriteJSONL.
func FuzzReadJSON(f *testing.F) {
	for _, name := range []string{"plain.jsonl", "dapo.jsonl", "math500.jsonl", "amc23.jsonl", "array.json", "gsm8k.jsonl"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{"prompt": 5}`, `{"prompt": [{"role": "user"}]}`, `[{"problem": "p", "answer": 1e400}]`,
		`{"question": "q", "answer": "a\n#### 4"}`, `[`, `{"prompt": "p", "reward_model": {"ground_truth": [1, {"a": null}]}}`,
		`{"nums": [44, 19, 35], "target": 98}`, `{"numbers": [1.5], "target": 2}`, `{"nums": [3], "prompt": "p"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := ReadJSON(bytes.NewReader(b), "fuzz.jsonl", Options{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.jsonl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var plain []Record
		for _, r := range recs {
			if r.Countdown != nil {
				// A Countdown record needs no prompt or answer, but numbers.
				if len(r.Countdown.Numbers) == 0 || r.ID == "" {
					t.Fatalf("accepted Countdown record without numbers or ID: %+v", r)
				}
				continue // the plain layout does not hold its numbers
			}
			if r.Prompt == "" || r.Answer == "" || r.ID == "" {
				t.Fatalf("accepted record with empty prompt, answer or ID: %+v", r)
			}
			if !r.IsChat() && strings.TrimSpace(r.Prompt) != "" {
				plain = append(plain, r)
			}
		}
		var buf bytes.Buffer
		if err := WriteJSONL(&buf, plain); err != nil {
			t.Fatalf("WriteJSONL of accepted records: %v", err)
		}
		back, err := ReadJSON(&buf, "back.jsonl", Options{})
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if len(back) != len(plain) {
			t.Fatalf("%d records back, want %d", len(back), len(plain))
		}
		for i := range plain {
			if back[i].Prompt != plain[i].Prompt || back[i].Answer != plain[i].Answer || back[i].DataSource != plain[i].DataSource {
				t.Fatalf("record %d changed: %+v -> %+v", i, plain[i], back[i])
			}
		}
	})
}
