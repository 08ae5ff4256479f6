package serve

import (
	"bufio"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Label is one Prometheus label.
type Label struct{ Name, Value string }

// PromWriter writes metrics in the Prometheus text exposition format
// (version 0.0.4): for each family a # HELP and a # TYPE line, then its
// samples. Families must be written contiguously; the writer writes the
// header of a family once, at its first sample.
type PromWriter struct {
	w    *bufio.Writer
	seen map[string]bool
	err  error
}

// PromContentType is the Content-Type of the text exposition format.
const PromContentType = "text/plain; version=0.0.4; charset=utf-8"

// NewPromWriter returns a writer to w; call Flush at the end.
func NewPromWriter(w io.Writer) *PromWriter {
	return &PromWriter{w: bufio.NewWriter(w), seen: map[string]bool{}}
}

// Family starts the family name with its type (counter, gauge, histogram)
// and help text, once.
func (p *PromWriter) Family(name, typ, help string) {
	if p.seen[name] {
		return
	}
	p.seen[name] = true
	p.printf("# HELP ", name, " ", escapeHelp(help), "\n# TYPE ", name, " ", typ, "\n")
}

// Sample writes one sample line.
func (p *PromWriter) Sample(name string, labels []Label, v float64) {
	var b strings.Builder
	b.WriteString(name)
	if len(labels) > 0 {
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l.Name)
			b.WriteString(`="`)
			b.WriteString(escapeLabel(l.Value))
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(FormatPromValue(v))
	b.WriteByte('\n')
	p.printf(b.String())
}

// Metric writes a family header and one sample: the common case of a gauge
// or counter without labels.
func (p *PromWriter) Metric(name, typ, help string, v float64) {
	p.Family(name, typ, help)
	p.Sample(name, nil, v)
}

// Flush writes what is buffered and returns the first error.
func (p *PromWriter) Flush() error {
	if p.err != nil {
		return p.err
	}
	return p.w.Flush()
}

func (p *PromWriter) printf(parts ...string) {
	if p.err != nil {
		return
	}
	for _, s := range parts {
		if _, err := p.w.WriteString(s); err != nil {
			p.err = err
			return
		}
	}
}

// FormatPromValue formats a sample value as the exposition format wants it:
// shortest round-trip decimal, +Inf, -Inf or NaN.
func FormatPromValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

// LatencyBuckets are the upper bounds, in seconds, of request-latency
// histograms: fine below 20 ms, where a reward batch should finish.
var LatencyBuckets = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30}

// Histogram counts observations into fixed buckets. It is safe for
// concurrent use.
type Histogram struct {
	mu     sync.Mutex
	bounds []float64
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

// NewHistogram returns a histogram over the given increasing upper bounds.
func NewHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

// Observe adds one value.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // first bound >= v: le is inclusive
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.n++
	h.mu.Unlock()
}

// Write writes the histogram's _bucket, _sum and _count samples with the
// given labels; the caller writes the family header.
func (h *Histogram) Write(p *PromWriter, name string, labels []Label) {
	h.mu.Lock()
	counts := append([]uint64(nil), h.counts...)
	sum, n := h.sum, h.n
	h.mu.Unlock()
	with := func(le string) []Label {
		out := make([]Label, 0, len(labels)+1)
		out = append(out, labels...)
		return append(out, Label{"le", le})
	}
	var cum uint64
	for i, b := range h.bounds {
		cum += counts[i]
		p.Sample(name+"_bucket", with(FormatPromValue(b)), float64(cum))
	}
	p.Sample(name+"_bucket", with("+Inf"), float64(n))
	p.Sample(name+"_sum", labels, sum)
	p.Sample(name+"_count", labels, float64(n))
}
