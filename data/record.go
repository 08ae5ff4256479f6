package data

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Message is one turn of a chat prompt, as chat datasets store it.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Record is one problem, whatever layout it was read from.
type Record struct {
	// ID identifies the record: the file's id, unique_id, idx, problem_idx
	// or extra_info.index field, else "<file stem>/<index>" with the
	// record's 0-based position in its file.
	ID string
	// Prompt is the problem text. For a chat prompt it is the content of
	// the last user message, so code that wants plain text can ignore
	// Messages.
	Prompt string
	// Messages is the chat prompt as stored ([{"role", "content"}, ...]);
	// nil when the prompt is plain text.
	Messages []Message
	// Answer is the reference answer as text: reward_model.ground_truth,
	// answer or ground_truth, else the last \boxed{} of solution. Numbers
	// are written in their shortest form (27.0 becomes "27"); structured
	// values (Countdown's {"numbers", "target"}) as compact JSON.
	Answer string
	// DataSource is the data_source field, else Options.DataSource, else
	// the file stem.
	DataSource string
	// Countdown is the instance of a Countdown record (nums and target
	// fields); nil for other records. Such a record needs neither a prompt
	// nor an answer: the exact verifier checks responses against it.
	Countdown *Countdown
	// Extra holds every other field of the record (solution, level,
	// subject, url, extra_info, ...) as decoded values: nil, bool, int64,
	// float64, string, []any or map[string]any.
	Extra map[string]any
}

// IsChat reports whether the prompt is a chat message list.
func (r Record) IsChat() bool { return r.Messages != nil }

// Options control how records are read.
type Options struct {
	// DataSource is used for records that have no data_source field; ""
	// means the file name without directory and extension.
	DataSource string
	// AllowMissingAnswer accepts records without an answer (unlabelled
	// training data); by default a missing answer is an error.
	AllowMissingAnswer bool
	// Limit stops reading after this many records; 0 reads them all.
	Limit int
}

// RecordError says which record of which file does not fit, and which field.
type RecordError struct {
	File  string // the path or name the reader was given
	Line  int    // 1-based line in a JSON file; 0 for Parquet
	Row   int    // 0-based row in a Parquet file; -1 for JSON
	Field string // dotted path of the offending field, "" for the whole record
	Err   error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	} else if e.Row >= 0 {
		fmt.Fprintf(&b, ": row %d", e.Row)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// fieldError is a problem with one field of a record, before the file and
// position are known.
type fieldError struct {
	Field string
	Err   error
}

func (e *fieldError) Error() string {
	if e.Field == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("field %q: %v", e.Field, e.Err)
}

func (e *fieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) error {
	return &fieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// fileStem returns the base name of path without its extensions
// ("data/train.jsonl.gz" -> "train").
func fileStem(path string) string {
	base := filepath.Base(path)
	for {
		ext := filepath.Ext(base)
		if ext == "" || ext == base {
			return base
		}
		switch strings.ToLower(ext) {
		case ".gz", ".jsonl", ".json", ".ndjson", ".parquet", ".pq":
			base = strings.TrimSuffix(base, ext)
		default:
			return base
		}
	}
}
