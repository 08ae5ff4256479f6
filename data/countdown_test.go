package data

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
)

func TestCountdownPublicLayoutJSONL(t *testing.T) {
	in := `{"target": 98, "nums": [44, 19, 35]}
{"target": 24.0, "nums": [3, 8, 1, 1.0]}
`
	recs, err := ReadJSON(strings.NewReader(in), "countdown.jsonl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{ID: "countdown/0", DataSource: "countdown", Countdown: &Countdown{Numbers: []int{44, 19, 35}, Target: 98}},
		{ID: "countdown/1", DataSource: "countdown", Countdown: &Countdown{Numbers: []int{3, 8, 1, 1}, Target: 24}},
	}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Fatalf("records (-want +got):\n%s", diff)
	}
}

func TestCountdownPublicLayoutParquet(t *testing.T) {
	type row struct {
		Target int64   `parquet:"target"`
		Nums   []int64 `parquet:"nums,list"`
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf)
	if _, err := w.Write([]row{{Target: 98, Nums: []int64{44, 19, 35}}, {Target: 7, Nums: []int64{1, 2, 3, 4}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "cd.parquet", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	if diff := cmp.Diff(&Countdown{Numbers: []int{1, 2, 3, 4}, Target: 7}, recs[1].Countdown); diff != "" {
		t.Fatalf("row 1 (-want +got):\n%s", diff)
	}
}

func TestCountdownBadRows(t *testing.T) {
	tests := []struct {
		name, in, field string
		line            int
		msg             string
	}{
		{"fractional number", "{\"target\": 9, \"nums\": [1, 2]}\n{\"target\": 9, \"nums\": [1, 2.5]}\n", "nums[1]", 2, "want an integer, got 2.5"},
		{"string number", `{"target": 9, "nums": ["4", 5]}`, "nums[0]", 1, "want an integer, got a string"},
		{"missing target", "\n{\"nums\": [1, 2]}", "target", 2, "missing"},
		{"null target", `{"nums": [1, 2], "target": null}`, "target", 1, "missing"},
		{"fractional target", `{"nums": [1, 2], "target": 3.5}`, "target", 1, "want an integer"},
		{"numbers not a list", `{"numbers": 3, "target": 3}`, "numbers", 1, "want a list of integers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.in), "cd.jsonl", Options{})
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RecordError", err)
			}
			if re.Field != tc.field || re.Line != tc.line || !strings.Contains(re.Error(), tc.msg) {
				t.Fatalf("err = %q (field %q, line %d), want field %q, line %d, containing %q", err, re.Field, re.Line, tc.field, tc.line, tc.msg)
			}
		})
	}
}
