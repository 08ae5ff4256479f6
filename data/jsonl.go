package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxLineBytes bounds one JSONL line; a longer line is an error naming it.
const MaxLineBytes = 64 << 20

// ReadJSON reads records from JSON Lines (one object per line, blank lines
// skipped) or from a single JSON array of objects, whichever r holds; name is
// the file name used in errors, data_source defaults and IDs. The first
// record that does not fit stops the read with a *RecordError.
func ReadJSON(r io.Reader, name string, opts Options) ([]Record, error) {
	var out []Record
	err := scanJSON(r, name, opts, func(rec Record) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

// errStop ends a scan early without an error (Options.Limit reached).
var errStop = errors.New("stop")

func scanJSON(r io.Reader, name string, opts Options, emit func(Record) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := firstNonSpace(br)
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if first == '[' {
		err = scanJSONArray(br, name, opts, emit)
	} else {
		err = scanJSONLines(br, name, opts, emit)
	}
	if err == errStop {
		return nil
	}
	return err
}

func firstNonSpace(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		if c := b[n-1]; !isJSONSpace(c) {
			return c, nil
		}
		if n == br.Size() {
			// A buffer's worth of leading whitespace: not worth telling an
			// array from lines; the line reader reports what follows.
			return ' ', nil
		}
	}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func scanJSONLines(r io.Reader, name string, opts Options, emit func(Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	stem := fileStem(name)
	line, index := 0, 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		fields, err := decodeObject(b)
		if err != nil {
			return &RecordError{File: name, Line: line, Row: -1, Err: err}
		}
		if err := emitRecord(fields, name, stem, line, -1, index, opts, emit); err != nil {
			return err
		}
		index++
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &RecordError{File: name, Line: line + 1, Row: -1, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}
		}
		return fmt.Errorf("%s: reading line %d: %w", name, line+1, err)
	}
	return nil
}

// decodeObject decodes one JSON object, numbers kept exact until normalize.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value on the line")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON object, got %s", kindOf(normalize(v)))
	}
	return m, nil
}

func emitRecord(fields map[string]any, name, stem string, line, row, index int, opts Options, emit func(Record) error) error {
	if opts.Limit > 0 && index >= opts.Limit {
		return errStop
	}
	norm, _ := normalize(fields).(map[string]any)
	rec, err := decodeFields(norm, stem, index, opts)
	if err != nil {
		re := &RecordError{File: name, Line: line, Row: row, Err: err}
		var fe *fieldError
		if errors.As(err, &fe) {
			re.Field, re.Err = fe.Field, fe.Err
		}
		return re
	}
	return emit(rec)
}

// scanJSONArray reads a file holding one JSON array of objects. Element
// positions are reported as the line the element starts on.
func scanJSONArray(r io.Reader, name string, opts Options, emit func(Record) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the '['
		return fmt.Errorf("%s: %w", name, err)
	}
	stem := fileStem(name)
	line, counted := 1, 0
	for index := 0; dec.More(); index++ {
		start := int(dec.InputOffset())
		for start < len(data) && (isJSONSpace(data[start]) || data[start] == ',') {
			start++
		}
		line += bytes.Count(data[counted:start], []byte{'\n'})
		counted = start
		var v any
		if err := dec.Decode(&v); err != nil {
			return &RecordError{File: name, Line: line, Row: -1, Err: fmt.Errorf("array element %d: not valid JSON: %w", index, err)}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return &RecordError{File: name, Line: line, Row: -1, Err: fmt.Errorf("array element %d: want a JSON object, got %s", index, kindOf(normalize(v)))}
		}
		if err := emitRecord(m, name, stem, line, -1, index, opts, emit); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return fmt.Errorf("%s: unterminated JSON array: %w", name, err)
	}
	return nil
}

// plainRow is the {prompt, answer, data_source} layout the writers produce.
type plainRow struct {
	Prompt     string `json:"prompt" parquet:"prompt"`
	Answer     string `json:"answer" parquet:"answer"`
	DataSource string `json:"data_source" parquet:"data_source"`
}

func plainRows(recs []Record) ([]plainRow, error) {
	rows := make([]plainRow, len(recs))
	for i, r := range recs {
		if r.Messages != nil {
			return nil, fmt.Errorf("record %d (%s) has a chat prompt; the {prompt, answer, data_source} layout holds plain text only", i, r.ID)
		}
		if strings.TrimSpace(r.Prompt) == "" {
			return nil, fmt.Errorf("record %d (%s) has an empty prompt", i, r.ID)
		}
		rows[i] = plainRow{Prompt: r.Prompt, Answer: r.Answer, DataSource: r.DataSource}
	}
	return rows, nil
}

// WriteJSONL writes recs as JSON Lines in the {prompt, answer, data_source}
// layout, the one the loaders read back and that Hugging Face datasets load
// as three string columns. ID, Messages and Extra are not written; a record
// with a chat prompt is an error.
func WriteJSONL(w io.Writer, recs []Record) error {
	rows, err := plainRows(recs)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i, row := range rows {
		if err := enc.Encode(row); err != nil {
			return fmt.Errorf("writing record %d: %w", i, err)
		}
	}
	return bw.Flush()
}
