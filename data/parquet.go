package data

import (
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// parquetBatch is how many rows ReadParquet reconstructs at a time.
const parquetBatch = 256

// ReadParquet reads records from a Parquet file of size bytes, in any layout
// the JSON reader accepts: nested columns (a prompt that is a list of
// {role, content} structs, reward_model.ground_truth, extra_info) arrive as
// lists and objects, as Hugging Face and pyarrow write them. name is the file
// name used in errors, data_source defaults and IDs. The first row that does
// not fit stops the read with a *RecordError naming its 0-based row.
func ReadParquet(r io.ReaderAt, size int64, name string, opts Options) ([]Record, error) {
	var out []Record
	err := scanParquet(r, size, name, opts, func(rec Record) error {
		out = append(out, rec)
		return nil
	})
	return out, err
}

func scanParquet(r io.ReaderAt, size int64, name string, opts Options, emit func(Record) error) (err error) {
	// The Parquet library panics on some malformed schemas (a LIST group of
	// the wrong shape); a bad file must be an error, not a crash.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: malformed Parquet file: %v", name, p)
		}
	}()
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return fmt.Errorf("%s: opening Parquet file: %w", name, err)
	}
	reader := parquet.NewGenericReader[any](f)
	defer reader.Close()
	stem := fileStem(name)
	buf := make([]any, parquetBatch)
	row := 0
	for {
		n, rerr := reader.Read(buf)
		for i := range n {
			fields, ok := buf[i].(map[string]any)
			if !ok {
				return &RecordError{File: name, Row: row, Err: fmt.Errorf("row is %T, not a record of named columns", buf[i])}
			}
			if err := emitRecord(fields, name, stem, 0, row, row, opts, emit); err != nil {
				if err == errStop {
					return nil
				}
				return err
			}
			buf[i] = nil
			row++
		}
		if errors.Is(rerr, io.EOF) {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("%s: reading row %d: %w", name, row, rerr)
		}
		if n == 0 {
			return fmt.Errorf("%s: reader stalled at row %d", name, row)
		}
	}
}

// WriteParquet writes recs as a Snappy-compressed Parquet file with the
// string columns prompt, answer and data_source, the layout the loaders read
// back and Hugging Face datasets load directly. ID, Messages and Extra are
// not written; a record with a chat prompt is an error.
func WriteParquet(w io.Writer, recs []Record) error {
	rows, err := plainRows(recs)
	if err != nil {
		return err
	}
	pw := parquet.NewGenericWriter[plainRow](w, parquet.Compression(&parquet.Snappy))
	if _, err := pw.Write(rows); err != nil {
		return fmt.Errorf("writing Parquet rows: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("finishing Parquet file: %w", err)
	}
	return nil
}
