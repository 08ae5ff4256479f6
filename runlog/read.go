package runlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Stats says what a read kept and what it skipped.
type Stats struct {
	Rows    int // lines read into rows
	Skipped int // non-blank lines skipped: not a JSON object, or not of the row's shape
	// FirstSkipped is the line number (from 1) of the first skipped line,
	// 0 when none was.
	FirstSkipped int
	// Torn says the last line had no newline and was skipped: a write cut
	// short by a kill, or a log read while it is written.
	Torn bool
}

func (s *Stats) skip(line int) {
	s.Skipped++
	if s.FirstSkipped == 0 {
		s.FirstSkipped = line
	}
}

// maxLine bounds one line of a log.
const maxLine = 64 << 20

// Scan calls fn with every line of r that is a JSON object, with its line
// number; blank lines are passed over, other lines are skipped and counted.
// An error from fn is returned, wrapped with the line number; an error from
// fn wrapping ErrSkip skips the line instead.
func Scan(r io.Reader, fn func(line int, obj []byte) error) (Stats, error) {
	var st Stats
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		raw, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return st, fmt.Errorf("line %d: %w", line, err)
		}
		last := errors.Is(err, io.EOF)
		if last && len(raw) == 0 {
			return st, nil
		}
		b := bytes.TrimSpace(raw)
		switch {
		case len(b) == 0:
		case b[0] != '{' || !json.Valid(b):
			st.skip(line)
			st.Torn = last && raw[len(raw)-1] != '\n'
		default:
			switch err := fn(line, b); {
			case errors.Is(err, ErrSkip):
				st.skip(line)
			case err != nil:
				return st, fmt.Errorf("line %d: %w", line, err)
			default:
				st.Rows++
			}
		}
		if last {
			return st, nil
		}
	}
}

// ErrSkip, returned (or wrapped) by a Scan callback, skips the line.
var ErrSkip = errors.New("line skipped")

// readLine returns the next line with its newline, or the unterminated last
// line with io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return nil, fmt.Errorf("longer than %d bytes", maxLine)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return line, err
		}
	}
}

// Read decodes every JSON-object line of r into a row of type R. Lines
// that are not JSON objects, or do not decode into R (a field of the wrong
// type), are skipped and counted.
func Read[R any](r io.Reader) ([]R, Stats, error) {
	var rows []R
	st, err := Scan(r, func(_ int, obj []byte) error {
		var row R
		if err := json.Unmarshal(obj, &row); err != nil {
			return ErrSkip
		}
		rows = append(rows, row)
		return nil
	})
	return rows, st, err
}

// ReadFile reads a log file with Read. A missing file has no rows and is
// no error, since a run may not have logged yet.
func ReadFile[R any](path string) ([]R, Stats, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, Stats{}, nil
	}
	if err != nil {
		return nil, Stats{}, err
	}
	defer f.Close()
	rows, st, err := Read[R](f)
	if err != nil {
		return rows, st, fmt.Errorf("reading %s: %w", path, err)
	}
	return rows, st, nil
}

// AppendLine writes a row as one line to a log opened for appending and
// syncs it, so a killed run loses at most the line being written.
func AppendLine(f *os.File, r Row) error {
	b, err := Encode(r)
	if err != nil {
		return fmt.Errorf("encoding a line of %s: %w", f.Name(), err)
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", f.Name(), err)
	}
	return nil
}
