package data

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
)

func assertRecords(t *testing.T, what string, got, want []Record) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s: records differ (-want +got):\n%s", what, d)
	}
}

var (
	dapoRecords = []Record{
		{
			ID:         "9a9b6eb4-a1cb-49d1-8c1e-62eaf2f74079",
			Prompt:     "In triangle $ABC$, find $k + m$.\n\nRemember to put your answer on its own line after \"Answer:\".",
			Messages:   []Message{{Role: "user", Content: "In triangle $ABC$, find $k + m$.\n\nRemember to put your answer on its own line after \"Answer:\"."}},
			Answer:     "34",
			DataSource: "math_dapo",
			Extra: map[string]any{
				"ability":    "MATH",
				"extra_info": map[string]any{"index": "9a9b6eb4-a1cb-49d1-8c1e-62eaf2f74079"},
			},
		},
		{
			ID:         "b426d104-244d-4831-a2c4-cd756b61700a",
			Prompt:     "What is $2^{10}$?",
			Messages:   []Message{{Role: "system", Content: "You are a careful solver."}, {Role: "user", Content: "What is $2^{10}$?"}},
			Answer:     "1024",
			DataSource: "math_dapo",
			Extra: map[string]any{
				"ability":    "MATH",
				"extra_info": map[string]any{"index": "b426d104-244d-4831-a2c4-cd756b61700a"},
			},
		},
	}
)

func TestLoadHubLayouts(t *testing.T) {
	tests := []struct {
		file string
		want []Record
	}{
		{"dapo.parquet", dapoRecords},
		{"countdown_verl.parquet", []Record{{
			ID:         "0",
			Prompt:     "Using the numbers [44, 19, 35], create an equation that equals 98.",
			Messages:   []Message{{Role: "user", Content: "Using the numbers [44, 19, 35], create an equation that equals 98."}},
			Answer:     `{"numbers":[44,19,35],"target":98}`,
			DataSource: "countdown",
			Countdown:  &Countdown{Numbers: []int{44, 19, 35}, Target: 98},
			Extra: map[string]any{
				"ability":    "math",
				"extra_info": map[string]any{"split": "test", "index": int64(0)},
			},
		}}},
		{"math500.jsonl", []Record{
			{
				ID:         "test/precalculus/807.json",
				Prompt:     "Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.",
				Answer:     `\left( 3, \frac{\pi}{2} \right)`,
				DataSource: "math500",
				Extra: map[string]any{
					"solution": `We have that $r = \sqrt{0^2 + 3^2} = 3.$ So the answer is $\boxed{\left( 3, \frac{\pi}{2} \right)}.$`,
					"subject":  "Precalculus", "level": int64(2),
				},
			},
			{
				ID:         "test/prealgebra/1.json",
				Prompt:     `What is $\frac{1}{2} + \frac{1}{3}$?`,
				Answer:     `\frac{5}{6}`,
				DataSource: "math500",
				Extra:      map[string]any{"solution": `The sum is $\boxed{\frac{5}{6}}$.`, "subject": "Prealgebra", "level": int64(1)},
			},
		}},
		{"aime24.jsonl", []Record{
			{
				ID:         "60",
				Prompt:     "Every morning Aya goes for a $9$-kilometer-long walk. Find the number of minutes the walk takes her.",
				Answer:     "204",
				DataSource: "aime24",
				Extra: map[string]any{"solution": `... so the walk takes $\boxed{204}$ minutes.`,
					"url": "https://artofproblemsolving.com/wiki/index.php/2024_AIME_I_Problems/Problem_1", "year": "2024"},
			},
			{
				ID:         "61",
				Prompt:     "Find the remainder when $2024$ is divided by $1000$.",
				Answer:     "024", // text answers are kept as written
				DataSource: "aime24",
				Extra: map[string]any{"solution": `$\boxed{24}$`,
					"url": "https://artofproblemsolving.com/wiki/index.php/2024_AIME_I_Problems/Problem_2", "year": "2024"},
			},
		}},
		{"aime_capitalised.jsonl", []Record{{
			ID: "2024-I-1", Prompt: "Every morning Aya goes for a walk. How many minutes?", Answer: "204",
			DataSource: "aime_capitalised", Extra: map[string]any{"Solution": `It takes $\boxed{204}$ minutes.`},
		}}},
		{"amc23.jsonl", []Record{
			{
				ID:     "0",
				Prompt: "Cities $A$ and $B$ are $45$ miles apart. How many miles from City $A$ will they be when they meet?",
				Answer: "27", DataSource: "amc23",
				Extra: map[string]any{"url": "https://artofproblemsolving.com/wiki/index.php/2023_AMC_12A_Problems/Problem_1"},
			},
			{ID: "1", Prompt: "What is one half of one?", Answer: "0.5", DataSource: "amc23",
				Extra: map[string]any{"url": "https://example.org/amc/2"}},
		}},
		{"amc23.parquet", []Record{
			{
				ID:     "0",
				Prompt: "Cities $A$ and $B$ are $45$ miles apart. How far from $A$ do they meet?",
				Answer: "27", DataSource: "amc23",
				Extra: map[string]any{"url": "https://artofproblemsolving.com/wiki/index.php/2023_AMC_12A_Problems/Problem_1"},
			},
			{ID: "1", Prompt: "What is one half of one?", Answer: "0.5", DataSource: "amc23"}, // null url dropped
		}},
		{"plain.jsonl", []Record{
			{ID: "plain/0", Prompt: `Compute 12 * (3 + 4). Put the final answer in \boxed{}.`, Answer: "84", DataSource: "arith/tier1"},
			{ID: "plain/1", Prompt: `Compute 7 - 10 / 4. Put the final answer in \boxed{}.`, Answer: `\frac{9}{2}`, DataSource: "arith/tier2"},
		}},
		{"math_solution_only.jsonl", []Record{{
			ID: "math_solution_only/0", Prompt: "What is $1+1$?", Answer: "2", DataSource: "math_solution_only",
			Extra: map[string]any{"level": "Level 1", "type": "Prealgebra", "solution": `Since $1+1=2$, the answer is $\boxed{2}$.`},
		}}},
		{"gsm8k.jsonl", []Record{{
			ID: "gsm8k/0", Prompt: "Janet has 16 eggs and eats 3. How many are left?", Answer: "13", DataSource: "gsm8k",
		}}},
		{"array.json", []Record{
			{ID: "array/0", Prompt: "What is 2 + 2?", Answer: "4", DataSource: "tiny"},
			{ID: "array/1", Prompt: "What is 3 * 3?", Answer: "9", DataSource: "tiny"},
		}},
	}
	for _, tc := range tests {
		got, err := Load(filepath.Join("testdata", tc.file), Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		assertRecords(t, tc.file, got, tc.want)
	}
}

// The same records in JSON Lines and in Parquet load identically.
func TestJSONAndParquetAgree(t *testing.T) {
	for _, pair := range [][2]string{{"dapo.jsonl", "dapo.parquet"}, {"plain.jsonl", "plain.parquet"}} {
		j, err := Load(filepath.Join("testdata", pair[0]), Options{DataSource: "x"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Load(filepath.Join("testdata", pair[1]), Options{DataSource: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if pair[0] == "dapo.jsonl" {
			// The JSONL copy keeps DAPO's full instruction text.
			for i := range j {
				j[i].Prompt, j[i].Messages = p[i].Prompt, p[i].Messages
			}
		}
		for i := range p {
			p[i].ID, j[i].ID = "", "" // fallback IDs name the file
		}
		assertRecords(t, pair[1], p, j)
	}
}

func TestOptions(t *testing.T) {
	recs, err := Load("testdata/amc23.jsonl", Options{DataSource: "amc", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].DataSource != "amc" {
		t.Errorf("Limit 1 with DataSource: got %d records, source %q", len(recs), recs[0].DataSource)
	}
	recs, err = Load("testdata/dapo.parquet", Options{Limit: 1})
	if err != nil || len(recs) != 1 {
		t.Errorf("Parquet Limit 1: %d records, %v", len(recs), err)
	}
	// A data_source field wins over Options.DataSource.
	recs, _ = Load("testdata/plain.jsonl", Options{DataSource: "ignored"})
	if recs[0].DataSource != "arith/tier1" {
		t.Errorf("DataSource = %q, want the record's own", recs[0].DataSource)
	}
	var n int
	err = Scan("testdata/math500.jsonl", Options{}, func(Record) error { n++; return errors.New("enough") })
	if err == nil || err.Error() != "enough" || n != 1 {
		t.Errorf("Scan did not stop on the callback's error: n=%d err=%v", n, err)
	}
}

func TestMissingAnswer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "unlabelled.jsonl")
	os.WriteFile(path, []byte(`{"prompt": "What is 1+1?"}`+"\n"+`{"prompt": "What is 2+2?", "answer": ""}`+"\n"), 0o644)
	if _, err := Load(path, Options{}); err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("missing answer error = %v", err)
	}
	recs, err := Load(path, Options{AllowMissingAnswer: true})
	if err != nil || len(recs) != 2 || recs[0].Answer != "" || recs[1].Answer != "" {
		t.Errorf("AllowMissingAnswer: %+v, %v", recs, err)
	}
}

// Each broken record is reported with its file, its line or row, the field
// and what is wrong.
func TestRecordErrors(t *testing.T) {
	good := `{"prompt": "ok", "answer": "1"}`
	tests := []struct {
		name   string
		lines  string
		line   int
		field  string
		reason string
	}{
		{"no prompt", good + "\n" + `{"answer": "1"}`, 2, "", "no prompt: none of the fields prompt, problem, question"},
		{"prompt is a number", `{"prompt": 5, "answer": "1"}`, 1, "prompt", "want a string or a list of {role, content} messages, got a number"},
		{"empty prompt", `{"problem": "  ", "answer": "1"}`, 1, "problem", "empty prompt"},
		{"message without content", `{"prompt": [{"role": "system", "content": "s"}, {"role": "user"}], "answer": "1"}`, 1, "prompt[1].content", "missing"},
		{"role not a string", `{"prompt": [{"role": 1, "content": "c"}], "answer": "1"}`, 1, "prompt[0].role", "want a string, got a number"},
		{"message not an object", `{"prompt": ["hi"], "answer": "1"}`, 1, "prompt[0]", "want a {role, content} message, got a string"},
		{"no user message", `{"prompt": [{"role": "system", "content": "s"}], "answer": "1"}`, 1, "prompt", `no message with role "user"`},
		{"empty message list", `{"prompt": [], "answer": "1"}`, 1, "prompt", "empty message list"},
		{"no answer", "\n\n" + `{"prompt": "p"}`, 3, "", "no answer"},
		{"empty answer", `{"prompt": "p", "answer": " "}`, 1, "answer", "empty answer"},
		{"reward_model not a struct", `{"prompt": "p", "reward_model": "34"}`, 1, "reward_model", "want a struct with ground_truth"},
		{"solution without a box", `{"problem": "p", "solution": "it is 2"}`, 1, "solution", `no usable \boxed{} answer`},
		{"data_source not a string", `{"prompt": "p", "answer": "1", "data_source": 3}`, 1, "data_source", "want a string, got a number"},
		{"id is a list", `{"prompt": "p", "answer": "1", "id": [1]}`, 1, "id", "want a string or a number, got a list"},
		{"not JSON", good + "\n" + `{"prompt": "p", `, 2, "", "not valid JSON"},
		{"not an object", `42`, 1, "", "want a JSON object, got a number"},
		{"two values on a line", good + " " + good, 1, "", "more than one JSON value"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".jsonl")
		if err := os.WriteFile(path, []byte(tc.lines), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, Options{})
		var re *RecordError
		if !errors.As(err, &re) {
			t.Errorf("%s: error %v, want a *RecordError", tc.name, err)
			continue
		}
		if re.File != path || re.Line != tc.line || re.Row != -1 || re.Field != tc.field || !strings.Contains(re.Err.Error(), tc.reason) {
			t.Errorf("%s: got %s:%d row %d field %q: %v\nwant line %d field %q: %s",
				tc.name, re.File, re.Line, re.Row, re.Field, re.Err, tc.line, tc.field, tc.reason)
		}
		if !strings.HasPrefix(err.Error(), path+":"+strconv.Itoa(tc.line)+": ") {
			t.Errorf("%s: message %q does not start with file:line", tc.name, err)
		}
	}
}

var amcSchemaWithIntProblem = parquet.NewSchema("schema", parquet.Group{
	"problem": parquet.Optional(parquet.Int(64)),
	"answer":  parquet.Optional(parquet.Leaf(parquet.DoubleType)),
})

func TestJSONArrayErrorsNameTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "set.json")
	os.WriteFile(path, []byte("[\n  {\"prompt\": \"a\", \"answer\": \"1\"},\n\n  {\"prompt\": \"b\"}\n]\n"), 0o644)
	_, err := Load(path, Options{})
	var re *RecordError
	if !errors.As(err, &re) || re.Line != 4 || !strings.Contains(re.Err.Error(), "no answer") {
		t.Errorf("error = %v, want line 4: no answer", err)
	}
}

func TestParquetErrorsNameTheRow(t *testing.T) {
	schema := amcSchema
	rows := []any{
		map[string]any{"id": int64(0), "problem": "fine", "answer": 1.0},
		map[string]any{"id": int64(1), "problem": "fine", "answer": 2.0},
		map[string]any{"id": int64(2), "problem": nil, "answer": 3.0},
	}
	path := filepath.Join(t.TempDir(), "amc.parquet")
	os.WriteFile(path, writeFixture(t, schema, rows), 0o644)
	_, err := Load(path, Options{})
	var re *RecordError
	if !errors.As(err, &re) || re.Row != 2 || re.Line != 0 || !strings.Contains(err.Error(), path+": row 2: no prompt") {
		t.Errorf("error = %v, want row 2: no prompt", err)
	}

	// A prompt column of the wrong type.
	bad := writeFixture(t, amcSchemaWithIntProblem, []any{map[string]any{"problem": int64(7), "answer": 1.0}})
	path = filepath.Join(t.TempDir(), "typed.parquet")
	os.WriteFile(path, bad, 0o644)
	if _, err := Load(path, Options{}); err == nil || !strings.Contains(err.Error(), `row 0: field "problem": want a string`) {
		t.Errorf("error = %v, want row 0 field problem", err)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	trunc, _ := os.ReadFile("testdata/dapo.parquet")
	cases := map[string][]byte{
		"truncated.parquet": trunc[:len(trunc)/2],
		"text.parquet":      []byte("not parquet at all"),
		"notes.txt":         []byte("x"),
		"set.parquet.gz":    []byte("x"),
	}
	for name, content := range cases {
		path := filepath.Join(dir, name)
		os.WriteFile(path, content, 0o644)
		_, err := Load(path, Options{})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent.jsonl"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, []byte("\n  \n"), 0o644)
	if recs, err := Load(empty, Options{}); err != nil || len(recs) != 0 {
		t.Errorf("blank file: %d records, %v", len(recs), err)
	}
}
