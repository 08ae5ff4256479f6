package report

import (
	"io"
	"time"

	"github.com/urlvr/urlvr/dashboard"
	"github.com/urlvr/urlvr/internal/atomicfile"
)

// WriteHTML writes the dashboard's view of a run or study directory (or a
// veRL/TRL log's directory) as one self-contained HTML file: styles, chart
// library, script and data inline, so it opens from disk without a server
// or a network.
func WriteHTML(dir, path string) error {
	b, err := dashboard.NewBundle(dir, time.Now())
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return dashboard.WriteHTML(w, b, dashboard.Title(dir))
	})
}
