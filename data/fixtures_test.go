package data

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// go test ./data -run TestFixtures -update rewrites the Parquet fixtures.
var update = flag.Bool("update", false, "rewrite the Parquet fixtures in testdata/")

// Parquet schemas shaped like the files pyarrow writes for Hugging Face
// datasets: every column optional, lists as the three-level LIST group
// (list / element), structs as plain groups.
var (
	chatMessageNode = parquet.Optional(parquet.Group{
		"content": parquet.Optional(parquet.String()),
		"role":    parquet.Optional(parquet.String()),
	})

	// DAPO-Math-17k.
	dapoSchema = parquet.NewSchema("schema", parquet.Group{
		"data_source": parquet.Optional(parquet.String()),
		"prompt":      parquet.Optional(parquet.List(chatMessageNode)),
		"ability":     parquet.Optional(parquet.String()),
		"reward_model": parquet.Optional(parquet.Group{
			"ground_truth": parquet.Optional(parquet.String()),
			"style":        parquet.Optional(parquet.String()),
		}),
		"extra_info": parquet.Optional(parquet.Group{
			"index": parquet.Optional(parquet.String()),
		}),
	})

	// TinyZero's Countdown files: the ground truth is itself a struct.
	countdownSchema = parquet.NewSchema("schema", parquet.Group{
		"target":      parquet.Optional(parquet.Int(64)),
		"nums":        parquet.Optional(parquet.List(parquet.Optional(parquet.Int(64)))),
		"data_source": parquet.Optional(parquet.String()),
		"prompt":      parquet.Optional(parquet.List(chatMessageNode)),
		"ability":     parquet.Optional(parquet.String()),
		"reward_model": parquet.Optional(parquet.Group{
			"style": parquet.Optional(parquet.String()),
			"ground_truth": parquet.Optional(parquet.Group{
				"target":  parquet.Optional(parquet.Int(64)),
				"numbers": parquet.Optional(parquet.List(parquet.Optional(parquet.Int(64)))),
			}),
		}),
		"extra_info": parquet.Optional(parquet.Group{
			"split": parquet.Optional(parquet.String()),
			"index": parquet.Optional(parquet.Int(64)),
		}),
	})

	// AI-MO's AMC validation set: the answer is a double.
	amcSchema = parquet.NewSchema("schema", parquet.Group{
		"id":      parquet.Optional(parquet.Int(64)),
		"problem": parquet.Optional(parquet.String()),
		"answer":  parquet.Optional(parquet.Leaf(parquet.DoubleType)),
		"url":     parquet.Optional(parquet.String()),
	})
)

func msg(role, content string) map[string]any {
	return map[string]any{"role": role, "content": content}
}

// fixtureRows are the rows of each generated Parquet fixture.
var parquetFixtures = []struct {
	file   string
	schema *parquet.Schema
	rows   []any
}{
	{"dapo.parquet", dapoSchema, []any{
		map[string]any{
			"data_source":  "math_dapo",
			"prompt":       []any{msg("user", "In triangle $ABC$, find $k + m$.\n\nRemember to put your answer on its own line after \"Answer:\".")},
			"ability":      "MATH",
			"reward_model": map[string]any{"ground_truth": "34", "style": "rule-lighteval/MATH_v2"},
			"extra_info":   map[string]any{"index": "9a9b6eb4-a1cb-49d1-8c1e-62eaf2f74079"},
		},
		map[string]any{
			"data_source":  "math_dapo",
			"prompt":       []any{msg("system", "You are a careful solver."), msg("user", "What is $2^{10}$?")},
			"ability":      "MATH",
			"reward_model": map[string]any{"ground_truth": "1024", "style": "rule-lighteval/MATH_v2"},
			"extra_info":   map[string]any{"index": "b426d104-244d-4831-a2c4-cd756b61700a"},
		},
	}},
	{"countdown_verl.parquet", countdownSchema, []any{
		map[string]any{
			"target": int64(98), "nums": []any{int64(44), int64(19), int64(35)},
			"data_source": "countdown",
			"prompt":      []any{msg("user", "Using the numbers [44, 19, 35], create an equation that equals 98.")},
			"ability":     "math",
			"reward_model": map[string]any{"style": "rule",
				"ground_truth": map[string]any{"target": int64(98), "numbers": []any{int64(44), int64(19), int64(35)}}},
			"extra_info": map[string]any{"split": "test", "index": int64(0)},
		},
	}},
	{"amc23.parquet", amcSchema, []any{
		map[string]any{"id": int64(0), "problem": "Cities $A$ and $B$ are $45$ miles apart. How far from $A$ do they meet?",
			"answer": 27.0, "url": "https://artofproblemsolving.com/wiki/index.php/2023_AMC_12A_Problems/Problem_1"},
		map[string]any{"id": int64(1), "problem": "What is one half of one?", "answer": 0.5, "url": nil},
	}},
}

// present wraps every scalar in a pointer: the Parquet writer stores a zero
// value in an optional column as null unless it comes through a pointer,
// and pyarrow files hold real zeros and empty strings.
func present(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = present(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = present(e)
		}
		return out
	case int64:
		return &x
	case float64:
		return &x
	case string:
		return &x
	}
	return v
}

func writeFixture(t testing.TB, schema *parquet.Schema, rows []any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, schema, parquet.Compression(&parquet.Snappy))
	if _, err := w.Write(present(rows).([]any)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFixtures checks that the committed Parquet fixtures hold what the
// code above describes, and rewrites them with -update.
func TestFixtures(t *testing.T) {
	for _, fx := range parquetFixtures {
		path := filepath.Join("testdata", fx.file)
		fresh := writeFixture(t, fx.schema, fx.rows)
		if *update {
			if err := os.WriteFile(path, fresh, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := ReadParquet(bytes.NewReader(fresh), int64(len(fresh)), path, Options{})
		if err != nil {
			t.Fatalf("reading fresh %s: %v", fx.file, err)
		}
		got, err := Load(path, Options{})
		if err != nil {
			t.Fatalf("%v (run with -update to create the fixture)", err)
		}
		assertRecords(t, path, got, want)
	}
	if *update {
		recs, err := Load("testdata/plain.jsonl", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := Save("testdata/plain.parquet", recs); err != nil {
			t.Fatal(err)
		}
	}
}
