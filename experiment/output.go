package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/report"
)

// writeJSONL writes one JSON line per value, atomically.
func writeJSONL(path string, values []any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
		}
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", filepath.Base(path), err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

func writeText(path, text string) error {
	return atomicfile.WriteFile(path, []byte(text), 0o644)
}

// savePlot writes a study's figure as dir/name.png and dir/name.svg.
func savePlot(plt *plot.Plot, dir, name string) ([]string, error) {
	return report.SavePlot(plt, dir, name, 7*vg.Inch, 4.5*vg.Inch)
}

// saveLinePlot draws series as one line figure and writes it with
// savePlot, appending the written paths to files.
func saveLinePlot(files []string, dir, name, title, yLabel string, series []report.Series) ([]string, error) {
	plt, err := report.LinePlot(title, yLabel, series)
	if err != nil {
		return files, err
	}
	paths, err := savePlot(plt, dir, name)
	return append(files, paths...), err
}

// asRows turns a study's result rows into the values writeJSONL writes,
// one line each.
func asRows[T any](rows []T) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out
}
