package data

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urlvr/urlvr/internal/atomicfile"
)

// Format is a file format the loaders read and the writers produce.
type Format int

const (
	// JSON is JSON Lines or a JSON array of objects (.jsonl, .ndjson,
	// .json), optionally gzip-compressed (.gz).
	JSON Format = iota + 1
	// Parquet is an Apache Parquet file (.parquet, .pq).
	Parquet
)

func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case Parquet:
		return "parquet"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf tells the format from the path's extension and whether the file
// is gzip-compressed.
func FormatOf(path string) (f Format, gzipped bool, err error) {
	p := strings.ToLower(path)
	if strings.HasSuffix(p, ".gz") {
		gzipped = true
		p = strings.TrimSuffix(p, ".gz")
	}
	switch filepath.Ext(p) {
	case ".jsonl", ".ndjson", ".json":
		return JSON, gzipped, nil
	case ".parquet", ".pq":
		if gzipped {
			return 0, false, fmt.Errorf("%s: gzip-compressed Parquet is not supported (Parquet compresses its own pages)", path)
		}
		return Parquet, false, nil
	}
	return 0, false, fmt.Errorf("%s: unknown data file extension (want .jsonl, .ndjson, .json, optionally .gz, or .parquet)", path)
}

// Load reads every record of the file at path, its format chosen by
// extension (see FormatOf).
func Load(path string, opts Options) ([]Record, error) {
	var out []Record
	err := Scan(path, opts, func(r Record) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// Scan calls fn on each record of the file at path in order, without holding
// the whole file's records in memory (a JSON array is still read whole). An
// error from fn stops the scan and is returned as is.
func Scan(path string, opts Options, fn func(Record) error) error {
	format, gzipped, err := FormatOf(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if format == Parquet {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		return scanParquet(f, st.Size(), path, opts, fn)
	}
	var r io.Reader = f
	if gzipped {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	return scanJSON(r, path, opts, fn)
}

// Save writes recs to path in the {prompt, answer, data_source} layout, as
// JSON Lines or Parquet according to the extension (a .json file gets JSON
// Lines too; .gz compresses JSON). The file is written under a temporary name
// and renamed into place, so a failed write leaves no partial file.
func Save(path string, recs []Record) error {
	format, gzipped, err := FormatOf(path)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		var zw *gzip.Writer
		if gzipped {
			zw = gzip.NewWriter(w)
			w = zw
		}
		var err error
		if format == Parquet {
			err = WriteParquet(w, recs)
		} else {
			err = WriteJSONL(w, recs)
		}
		if err == nil && zw != nil {
			err = zw.Close()
		}
		return err
	})
}
