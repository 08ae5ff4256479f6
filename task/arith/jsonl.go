package arith

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/urlvr/urlvr/internal/atomicfile"
)

// WriteJSONL writes problems as JSON Lines with the fields prompt, answer,
// data_source, family and tier, in that order. The data package's loaders
// read such a file as plain {prompt, answer, data_source} records, with
// family and tier in each record's extra fields (see FamilyTier).
func WriteJSONL(w io.Writer, problems []Problem) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i, p := range problems {
		if err := enc.Encode(p); err != nil {
			return fmt.Errorf("writing problem %d: %w", i, err)
		}
	}
	return bw.Flush()
}

// SaveJSONL writes problems to the file at path with WriteJSONL, under a
// temporary name renamed into place, so a failed write leaves no partial
// file.
func SaveJSONL(path string, problems []Problem) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return WriteJSONL(w, problems) })
}

// LoadJSONL reads the problems in the file at path with ReadJSONL.
func LoadJSONL(path string) ([]Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadJSONL(f, path)
}

// ReadJSONL reads problems written by WriteJSONL, checking each one: the
// prompt has the world's form, the family and tier are known, and the
// answer is the expression's value. name labels errors (a file name).
func ReadJSONL(r io.Reader, name string) ([]Problem, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var out []Problem
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var p Problem
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if err := p.Check(); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// Check verifies that p is a well-formed problem of this world: its prompt
// asks for an expression, its family and tier are known, and its answer is
// the expression's value.
func (p Problem) Check() error {
	expr, err := p.Expression()
	if err != nil {
		return err
	}
	if _, ok := specs[p.Family]; !ok {
		return fmt.Errorf("field \"family\": unknown family %q", p.Family)
	}
	if p.Tier < MinTier || p.Tier > MaxTier {
		return fmt.Errorf("field \"tier\": %d outside %d..%d", p.Tier, MinTier, MaxTier)
	}
	e, err := Parse(expr)
	if err != nil {
		return fmt.Errorf("field \"prompt\": %w", err)
	}
	v, err := e.Eval()
	if err != nil {
		return fmt.Errorf("field \"prompt\": %q: %w", expr, err)
	}
	if v.RatString() != p.Answer {
		return fmt.Errorf("field \"answer\": %q, but %s = %s", p.Answer, expr, v.RatString())
	}
	return nil
}

// FamilyTier reads the family and tier of a problem from the extra fields a
// generic loader keeps (the data package's Record.Extra): "family" a string,
// "tier" a whole number as an int, int64 or float64.
func FamilyTier(extra map[string]any) (Family, int, error) {
	fs, ok := extra["family"].(string)
	if !ok {
		return "", 0, fmt.Errorf("no string field \"family\"")
	}
	f, err := ParseFamily(fs)
	if err != nil {
		return "", 0, err
	}
	var tier int
	switch v := extra["tier"].(type) {
	case int:
		tier = v
	case int64:
		tier = int(v)
	case float64:
		if v != math.Trunc(v) || v < MinTier || v > MaxTier {
			return "", 0, fmt.Errorf("field \"tier\": %g is not a tier (%d..%d)", v, MinTier, MaxTier)
		}
		tier = int(v)
	default:
		return "", 0, fmt.Errorf("no numeric field \"tier\"")
	}
	if tier < MinTier || tier > MaxTier {
		return "", 0, fmt.Errorf("field \"tier\": %d outside %d..%d", tier, MinTier, MaxTier)
	}
	return f, tier, nil
}
