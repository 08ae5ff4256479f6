package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Bundle is everything the page needs to draw a run or a study without a
// server; a self-contained report embeds it as window.URLVR_DATA.
type Bundle struct {
	Created string                                 `json:"created"`
	Start   string                                 `json:"start"` // the view to open
	Catalog *Catalog                               `json:"catalog"`
	Runs    map[string]*Payload                    `json:"runs"`
	Studies map[string]*StudyPayload               `json:"studies"`
	Samples map[string]map[string][]map[string]any `json:"samples"`
}

// reportSampleSteps and reportSampleRows bound the rollouts a report
// carries: the last few dumps, enough to read, small enough to mail.
const (
	reportSampleSteps = 3
	reportSampleRows  = 64
)

// NewBundle reads the run or study in dir (and, for a study, its sub-runs).
func NewBundle(dir string, now time.Time) (*Bundle, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	s := New([]string{dir})
	cat := s.Catalog()
	if len(cat.Problems) > 0 && len(cat.Runs) == 0 {
		return nil, fmt.Errorf("%s: %s", dir, cat.Problems[0])
	}
	if len(cat.Runs) == 0 && len(cat.Studies) == 0 {
		return nil, fmt.Errorf("%s holds no run (metrics.jsonl, validation.jsonl, a veRL log or a TRL trainer_state.json) and no study (study.json)", dir)
	}
	b := &Bundle{Created: now.UTC().Format(time.RFC3339), Catalog: cat, Runs: map[string]*Payload{},
		Studies: map[string]*StudyPayload{}, Samples: map[string]map[string][]map[string]any{}}
	for _, r := range cat.Runs {
		st := s.state(r.ID)
		p, err := st.payload(-1, 0, 0, false)
		if err != nil {
			return nil, err
		}
		b.Runs[r.ID] = p
		steps := p.Samples
		if len(steps) > reportSampleSteps {
			steps = steps[len(steps)-reportSampleSteps:]
		}
		p.Samples = steps
		for _, step := range steps {
			rows, err := st.samples(step)
			if err != nil {
				continue
			}
			if len(rows) > reportSampleRows {
				rows = rows[:reportSampleRows]
			}
			if b.Samples[r.ID] == nil {
				b.Samples[r.ID] = map[string][]map[string]any{}
			}
			b.Samples[r.ID][fmt.Sprint(step)] = rows
		}
	}
	for _, st := range cat.Studies {
		p, err := s.studyPayload(st)
		if err != nil {
			return nil, err
		}
		b.Studies[st.ID] = p
	}
	// Open the study when dir is one, else the run dir itself, else the
	// list.
	switch {
	case len(cat.Studies) > 0:
		b.Start = "#/study/" + url.PathEscape(cat.Studies[0].ID)
	case len(cat.Runs) == 1:
		b.Start = "#/run/" + url.PathEscape(cat.Runs[0].ID)
	default:
		b.Start = "#/"
	}
	return b, nil
}

// WriteHTML writes the bundle as one HTML file with the styles, uPlot, the
// page's script and the data inline: it opens from disk, offline.
func WriteHTML(w io.Writer, b *Bundle, title string) error {
	data, err := json.Marshal(b) // escapes <, > and &, so no "</script>" can appear
	if err != nil {
		return fmt.Errorf("encoding report data: %w", err)
	}
	read := func(name string) []byte {
		c, _ := webFS.ReadFile("web/" + name)
		return c
	}
	var buf bytes.Buffer
	buf.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
	buf.WriteString(htmlEscape(title))
	buf.WriteString("</title>\n<link rel=\"icon\" href=\"data:,\">\n<style>\n")
	buf.Write(read("vendor/uplot/uPlot.min.css"))
	buf.WriteString("\n")
	buf.Write(read("app.css"))
	buf.WriteString("\n</style>\n</head>\n<body>\n<header id=\"top\"><a href=\"#/\" class=\"brand\">urlvr</a><nav id=\"crumbs\"></nav><span id=\"status\"></span></header>\n<main id=\"app\"><p class=\"muted\">Loading…</p></main>\n")
	buf.WriteString("<!-- uPlot ")
	buf.WriteString(uplotVersion)
	buf.WriteString(", included unmodified under its license:\n")
	buf.Write(bytes.ReplaceAll(read("vendor/uplot/LICENSE"), []byte("--"), []byte("- -")))
	buf.WriteString("-->\n<script>\n")
	buf.Write(read("vendor/uplot/uPlot.iife.min.js"))
	buf.WriteString("\n</script>\n<script>window.URLVR_DATA = ")
	buf.Write(data)
	buf.WriteString(";</script>\n")
	sc, err := schemaScript()
	if err != nil {
		return err
	}
	buf.Write(sc)
	buf.WriteString("<script>\n")
	buf.Write(read("app.js"))
	buf.WriteString("\n</script>\n</body>\n</html>\n")
	_, err = w.Write(buf.Bytes())
	return err
}

// uplotVersion is the vendored uPlot release (web/vendor/uplot/package.json).
const uplotVersion = "1.6.32"

func htmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Title is a report's title for a directory.
func Title(dir string) string { return "urlvr report: " + filepath.Base(filepath.Clean(dir)) }
