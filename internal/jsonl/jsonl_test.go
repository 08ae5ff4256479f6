package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMapKeepsFieldsAndReportsBadLines(t *testing.T) {
	in := strings.NewReader(`{"a":1,"b":"x"}

not json
{"a":2}
`)
	var out bytes.Buffer
	st, err := Map(in, &out, func(r Record) error {
		var a int
		if err := r.Get("a", &a); err != nil {
			return err
		}
		if a == 2 {
			return errors.New("two is not allowed")
		}
		return r.Set("double", 2*a)
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 3 || st.Failed != 2 {
		t.Fatalf("stats = %+v, want 3 lines, 2 failed", st)
	}
	want := `{"a":1,"b":"x","double":2}
{"error":"not a JSON object: invalid character 'o' in literal null (expecting 'u')","line":3}
{"a":2,"error":"two is not allowed","line":4}
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestGetNamesMissingAndMistypedFields(t *testing.T) {
	r := Record{Fields: map[string]json.RawMessage{"n": json.RawMessage(`"seven"`)}}
	var n int
	if err := r.Get("n", &n); err == nil || !strings.Contains(err.Error(), `field "n"`) {
		t.Fatalf("Get(n) error = %v, want one naming the field", err)
	}
	if err := r.Get("m", &n); err == nil || !strings.Contains(err.Error(), `missing field "m"`) {
		t.Fatalf("Get(m) error = %v, want missing field", err)
	}
	if r.Has("m") || !r.Has("n") {
		t.Fatal("Has is wrong")
	}
}

func TestSetDoesNotEscapeHTML(t *testing.T) {
	r := Record{Fields: map[string]json.RawMessage{}}
	if err := r.Set("reason", "no <answer> tag & x<y"); err != nil {
		t.Fatal(err)
	}
	if got := string(r.Fields["reason"]); got != `"no <answer> tag & x<y"` {
		t.Fatalf("encoded %s", got)
	}
}
