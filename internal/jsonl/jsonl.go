// Package jsonl streams JSON Lines: one JSON object per input line in, one
// per line out. Commands that grade, verify or score records use it so that
// a malformed line produces an error record with its line number instead of
// stopping the run, and input fields are carried through to the output.
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes bounds one input line; longer lines are reported as errors.
const MaxLineBytes = 64 << 20

// Record is one decoded input line. Fields keep the raw JSON of every input
// field so that the output carries them through unchanged.
type Record struct {
	Line   int
	Fields map[string]json.RawMessage
}

// Get decodes field name into v. It reports a missing field or a type
// mismatch with the field's name.
func (r Record) Get(name string, v any) error {
	raw, ok := r.Fields[name]
	if !ok {
		return fmt.Errorf("missing field %q", name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("field %q: %w", name, err)
	}
	return nil
}

// Has reports whether the record has field name with a non-null value.
func (r Record) Has(name string) bool {
	raw, ok := r.Fields[name]
	return ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// Set encodes v as field name of the output line.
func (r Record) Set(name string, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // answers hold <answer> tags and inequalities
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding field %q: %w", name, err)
	}
	r.Fields[name] = bytes.TrimRight(buf.Bytes(), "\n")
	return nil
}

// Stats counts the lines a Map call processed.
type Stats struct {
	Lines  int // non-blank input lines
	Failed int // lines answered with an "error" record
}

// Reader yields records from a JSONL stream, skipping blank lines.
type Reader struct {
	sc   *bufio.Scanner
	line int
}

// NewReader returns a Reader over r.
func NewReader(r io.Reader) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return &Reader{sc: sc}
}

// Next returns the next record. At the end of input it returns io.EOF. A
// line that is not a JSON object returns a *LineError and the reader stays
// usable; a read failure (including a line over MaxLineBytes) is returned
// wrapped and ends the stream.
func (r *Reader) Next() (Record, error) {
	for r.sc.Scan() {
		r.line++
		b := bytes.TrimSpace(r.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		fields := map[string]json.RawMessage{}
		if err := json.Unmarshal(b, &fields); err != nil {
			return Record{Line: r.line}, &LineError{Line: r.line, Err: fmt.Errorf("not a JSON object: %w", err)}
		}
		return Record{Line: r.line, Fields: fields}, nil
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return Record{}, fmt.Errorf("line %d: longer than %d bytes", r.line+1, MaxLineBytes)
		}
		return Record{}, fmt.Errorf("reading line %d: %w", r.line+1, err)
	}
	return Record{}, io.EOF
}

// LineError is a problem with one input line.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Map reads every record from in, calls fn on it, and writes the record
// (with whatever fields fn set) to out as one line. When fn fails, or the
// line is not a JSON object, the output line carries the input fields plus
// "error" and "line". Map stops only on I/O failure.
func Map(in io.Reader, out io.Writer, fn func(Record) error) (Stats, error) {
	var st Stats
	rd := NewReader(in)
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var lineErr *LineError
		if err != nil && !errors.As(err, &lineErr) {
			w.Flush()
			return st, err
		}
		st.Lines++
		if err == nil {
			err = fn(rec)
		}
		if err != nil {
			st.Failed++
			if rec.Fields == nil {
				rec.Fields = map[string]json.RawMessage{}
			}
			msg := err.Error()
			if lineErr != nil {
				msg = lineErr.Err.Error()
			}
			rec.Set("error", msg)
			rec.Set("line", rec.Line)
		}
		// encoding/json writes map keys sorted, so output is deterministic.
		if err := enc.Encode(rec.Fields); err != nil {
			return st, fmt.Errorf("writing output for line %d: %w", rec.Line, err)
		}
	}
	return st, w.Flush()
}
