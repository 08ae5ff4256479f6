package serve

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestFastStrings(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`[]`, []string{}, true},
		{`["a", "b"]`, []string{"a", "b"}, true},
		{`["x\"y","\\boxed{1}\n\t\/"]`, []string{"x\"y", "\\boxed{1}\n\t/"}, true},
		{`["caf\u00e9", "é", "\u20ac"]`, []string{"café", "é", "€"}, true},
		{`["\ud83d\ude00"]`, nil, false}, // escaped surrogates: left to encoding/json
		{"[\"\xff\"]", nil, false},       // invalid UTF-8: encoding/json substitutes U+FFFD
		{`["a", null]`, nil, false},
		{`["a", 1]`, nil, false},
		{`["a",]`, nil, false},
		{`["a"`, nil, false},
		{"[\"a\nb\"]", nil, false}, // raw control character
		{`["\x"]`, nil, false},
	}
	for _, c := range cases {
		got, ok := FastStrings([]byte(c.in))
		if ok != c.ok || (ok && !slices.Equal(got, c.want)) {
			t.Errorf("FastStrings(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestScanObject(t *testing.T) {
	o, ok := ScanObject([]byte(` {"a": [1, {"b": null}], "s": "x", "a": true, "n": -1.5e+3 } `))
	if !ok {
		t.Fatal("declined a valid object")
	}
	want := map[string]string{"a": "true", "s": `"x"`, "n": "-1.5e+3"}
	if len(o) != len(want) {
		t.Fatalf("got %d fields", len(o))
	}
	for k, v := range want {
		if string(o[k]) != v {
			t.Errorf("field %q = %s, want %s", k, o[k], v)
		}
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{} x`,
		`{"a":` + strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1) + `}`} {
		if _, ok := ScanObject([]byte(bad)); ok {
			t.Errorf("ScanObject(%.40q) accepted invalid or too-deep JSON", bad)
		}
	}
}

// FuzzScanner holds the one-pass reader to encoding/json: whatever it
// accepts, encoding/json accepts and decodes to the same values.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"query": ["a\\boxed{1}", "b"], "labels": ["1", 2, null, {"numbers": [1], "target": 3}], "step": 3}`,
		`{"responses": ["caf\u00e9 \n"], "group_ids": [1, "x", -0.5e3]}`,
		`["a", "b"]`, `[1, [2, {"x": "y"}], true, false, null]`, `{"a": {"a": {"a": []}}}`, `{"": ""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if o, ok := ScanObject(b); ok {
			var ref map[string]json.RawMessage
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatalf("ScanObject accepted %q, encoding/json says %v", b, err)
			}
			if len(ref) != len(o) {
				t.Fatalf("%d fields, encoding/json %d", len(o), len(ref))
			}
			for k, v := range ref {
				if !bytes.Equal(o[k], v) {
					t.Fatalf("field %q = %q, encoding/json %q", k, o[k], v)
				}
			}
		}
		if list, ok := FastStrings(b); ok {
			var ref []string
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatalf("FastStrings accepted %q, encoding/json says %v", b, err)
			}
			if !slices.Equal(list, ref) {
				t.Fatalf("FastStrings(%q) = %q, encoding/json %q", b, list, ref)
			}
		}
		if items, ok := FastElements(b); ok {
			var ref []json.RawMessage
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatalf("FastElements accepted %q, encoding/json says %v", b, err)
			}
			if len(items) != len(ref) {
				t.Fatalf("%d elements, encoding/json %d", len(items), len(ref))
			}
			for i := range ref {
				if !bytes.Equal(items[i], ref[i]) {
					t.Fatalf("element %d = %q, encoding/json %q", i, items[i], ref[i])
				}
			}
		}
		// Scalars decode as encoding/json decodes strings and numbers.
		if s, err := ScalarValue(b); err == nil && s.Present {
			switch Kind(b) {
			case "string":
				var ref string
				if err := json.Unmarshal(b, &ref); err != nil || ref != s.Text {
					t.Fatalf("ScalarValue(%q) = %q, encoding/json %q (%v)", b, s.Text, ref, err)
				}
			case "number":
				var ref json.Number
				if err := json.Unmarshal(b, &ref); err != nil || ref.String() != s.Text {
					t.Fatalf("ScalarValue(%q) = %q, encoding/json %q (%v)", b, s.Text, ref, err)
				}
			}
		}
	})
}
