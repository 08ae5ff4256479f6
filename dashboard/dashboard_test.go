package dashboard

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDownsampleKeepsExtremesAndEnds(t *testing.T) {
	n := 100000
	s := &Series{X: make([]float64, n), Y: make([]float64, n)}
	for i := range n {
		s.X[i] = float64(i + 1)
		s.Y[i] = math.Sin(float64(i) / 500)
	}
	s.Y[4321] = 7   // a spike
	s.Y[77777] = -9 // a dip
	d := Downsample(s, 1000)
	if len(d.X) > 1002 || len(d.X) < 500 {
		t.Fatalf("%d points from %d", len(d.X), n)
	}
	if d.X[0] != 1 || d.X[len(d.X)-1] != float64(n) {
		t.Errorf("ends %v..%v", d.X[0], d.X[len(d.X)-1])
	}
	var hasSpike, hasDip bool
	for i := range d.X {
		if i > 0 && d.X[i] <= d.X[i-1] {
			t.Fatalf("steps not increasing at %d: %v, %v", i, d.X[i-1], d.X[i])
		}
		hasSpike = hasSpike || (d.X[i] == 4322 && d.Y[i] == 7)
		hasDip = hasDip || (d.X[i] == 77778 && d.Y[i] == -9)
	}
	if !hasSpike || !hasDip {
		t.Errorf("spike kept %v, dip kept %v", hasSpike, hasDip)
	}
	// Short series pass through unchanged.
	short := &Series{X: []float64{1, 2, 3}, Y: []float64{3, 1, 2}}
	if Downsample(short, 1000) != short {
		t.Error("short series copied")
	}
}

// Hand-made: 8 points into 4 buckets of 2 (maxPoints 8 keeps all), then
// into 2 buckets of 4 steps each (maxPoints 4).
func TestDownsampleBuckets(t *testing.T) {
	s := &Series{X: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}, Y: []float64{0, 5, 1, 2, 3, 9, 4, 8, 6}}
	d := Downsample(s, 4)
	// Buckets over steps (1, 5] and (5, 9): first point 1; bucket one
	// (steps 2-5) keeps min 1 at step 3 and max 5 at step 2; bucket two
	// (steps 6-8) keeps min 4 at step 7 and max 9 at step 6; last point 9.
	wantX := []float64{1, 2, 3, 6, 7, 9}
	wantY := []float64{0, 5, 1, 9, 4, 6}
	if fmt.Sprint(d.X) != fmt.Sprint(wantX) || fmt.Sprint(d.Y) != fmt.Sprint(wantY) {
		t.Errorf("got %v %v, want %v %v", d.X, d.Y, wantX, wantY)
	}
}

func TestTableTailsTornAndBadLines(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "metrics.jsonl")
	os.WriteFile(p, []byte("{\"step\":1,\"a\":0.5}\nnot json\n[1,2]\n{\"step\":2,\"a\":0.25,\"b\":{\"c\":true}}\n{\"step\":3,\"a\""), 0o644)
	tb := newTable()
	if _, err := tb.readFrom(p, false); err != nil {
		t.Fatal(err)
	}
	if tb.Lines != 4 || tb.Skipped != 2 || tb.Torn != 1 {
		t.Errorf("lines %d skipped %d torn %d; want 4, 2, 1", tb.Lines, tb.Skipped, tb.Torn)
	}
	if fmt.Sprint(tb.Series["a"].Y) != "[0.5 0.25]" || fmt.Sprint(tb.Series["b/c"].Y) != "[1]" {
		t.Errorf("series %v %v", tb.Series["a"], tb.Series["b/c"])
	}
	// The writer finishes the torn line and appends another.
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(":0.125}\n{\"step\":4,\"a\":1}\n")
	f.Close()
	if reset, err := tb.readFrom(p, false); err != nil || reset {
		t.Fatal(reset, err)
	}
	if fmt.Sprint(tb.Series["a"].X) != "[1 2 3 4]" || tb.Torn != 0 {
		t.Errorf("after append: %v torn %d", tb.Series["a"], tb.Torn)
	}
	if got := tb.since(2)["a"]; fmt.Sprint(got.X) != "[3 4]" {
		t.Errorf("since(2) = %v", got)
	}
	// A resume truncates the log: read again from the start.
	os.WriteFile(p, []byte("{\"step\":1,\"a\":9}\n"), 0o644)
	if reset, err := tb.readFrom(p, false); err != nil || !reset {
		t.Fatalf("reset %v err %v", reset, err)
	}
	if fmt.Sprint(tb.Series["a"].Y) != "[9]" {
		t.Errorf("after truncation %v", tb.Series["a"])
	}
}

// get sends a request with a raw, uncleaned path.
func get(t *testing.T, srv http.Handler, raw string) (int, string) {
	t.Helper()
	ts := httptest.NewServer(srv)
	defer ts.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", raw)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.WriteString(string(buf[:n]))
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

func writeRun(t *testing.T, dir string, steps int) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "samples"), 0o755)
	var b strings.Builder
	for s := 1; s <= steps; s++ {
		fmt.Fprintf(&b, "{\"step\":%d,\"train/proxy_reward\":%g,\"train/ground_truth_reward\":%g,\"actor/entropy\":%g}\n", s, 0.4+float64(s%7)/100, 0.3, 1/float64(s))
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(b.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "validation.jsonl"), []byte("{\"step\":0,\"val/mean/avg@4\":0.4,\"val/mean/avg@4/ci_low\":0.3,\"val/mean/avg@4/ci_high\":0.5}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte("{\"event\":\"early_stop\",\"reason\":\"x\",\"step\":2}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "samples", "step-000002.jsonl"), []byte("{\"prompt_id\":\"p\",\"response\":\"r\",\"answer\":\"1\",\"reward\":1,\"correct\":true}\n"), 0o644)
}

func TestNothingOutsideTheRootsIsServed(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "runs")
	writeRun(t, filepath.Join(root, "r1"), 3)
	secret := filepath.Join(base, "secret")
	os.MkdirAll(secret, 0o755)
	os.WriteFile(filepath.Join(secret, "metrics.jsonl"), []byte("{\"step\":1,\"SECRET\":1}\n"), 0o644)
	os.WriteFile(filepath.Join(secret, "step-000001.jsonl"), []byte("{\"SECRET\":1}\n"), 0o644)
	// A run whose log is a link to a file outside, and a samples link.
	os.MkdirAll(filepath.Join(root, "linked", "samples"), 0o755)
	os.Symlink(filepath.Join(secret, "metrics.jsonl"), filepath.Join(root, "linked", "metrics.jsonl"))
	os.Symlink(filepath.Join(secret, "step-000001.jsonl"), filepath.Join(root, "r1", "samples", "step-000001.jsonl"))
	srv := New([]string{root})

	for _, raw := range []string{
		"/static/../../secret/metrics.jsonl", "/static/..%2f..%2fsecret%2fmetrics.jsonl", "/../secret/metrics.jsonl",
		"/api/run?id=../secret", "/api/run?id=0/../../secret", "/api/run?id=" + filepath.Join(base, "secret"),
		"/api/samples?id=0/r1&step=-1", "/api/samples?id=0/r1&step=..%2f..%2fsecret", "/api/samples?id=0/r1&step=1",
		"/api/run?id=0/linked", "/api/study?id=../secret", "/secret/metrics.jsonl", "/static/", "/static/vendor/",
		"/api/samples?id=0/r1&step=99",
	} {
		code, body := get(t, srv, raw)
		if code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", raw, code)
		}
		if strings.Contains(body, "SECRET") {
			t.Errorf("%s served a file outside the root", raw)
		}
	}
	if code, body := get(t, srv, "/api/samples?id=0/r1&step=2"); code != 200 || !strings.Contains(body, `"correct":true`) {
		t.Errorf("samples: %d %s", code, body)
	}
	if code, body := get(t, srv, "/static/vendor/uplot/LICENSE"); code != 200 || !strings.Contains(body, "MIT") {
		t.Errorf("license: %d", code)
	}
}

func TestRunPayloadAndPolling(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "r1"), 5)
	srv := New([]string{root})
	var p Payload
	code, body := get(t, srv, "/api/run?id=0/r1")
	if code != 200 || json.Unmarshal([]byte(body), &p) != nil {
		t.Fatalf("%d %s", code, body)
	}
	if !p.Full || len(p.Metrics.Series["actor/entropy"].X) != 5 || p.Metrics.LastStep != 5 || len(p.Events) != 1 || fmt.Sprint(p.Samples) != "[2]" {
		t.Fatalf("payload %+v", p)
	}
	if p.Validation.Series["val/mean/avg@4/ci_high"] == nil {
		t.Error("confidence-interval series missing")
	}
	f, _ := os.OpenFile(filepath.Join(root, "r1", "metrics.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{\"step\":6,\"actor/entropy\":0.1}\n")
	f.Close()
	var q Payload
	_, body = get(t, srv, fmt.Sprintf("/api/run?id=0/r1&gen=%d&after_m=5&after_v=0", p.Gen))
	json.Unmarshal([]byte(body), &q)
	if q.Full || len(q.Metrics.Series) != 1 || fmt.Sprint(q.Metrics.Series["actor/entropy"].X) != "[6]" {
		t.Errorf("incremental payload: full %v series %v", q.Full, q.Metrics.Series)
	}
}

func TestHugeRunIsDownsampled(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "big"), 100000)
	srv := New([]string{root})
	_, body := get(t, srv, "/api/run?id=0/big")
	var p Payload
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	s := p.Metrics.Series["train/proxy_reward"]
	if !p.Metrics.Downsampled || len(s.X) > MaxPoints+2 || p.Metrics.Lines != 100000 || s.X[len(s.X)-1] != 100000 {
		t.Errorf("downsampled %v, %d points, %d lines", p.Metrics.Downsampled, len(s.X), p.Metrics.Lines)
	}
	if len(body) > 1<<20 {
		t.Errorf("payload of %d bytes", len(body))
	}
}

func TestEmptyDirectoryAndForeignLogs(t *testing.T) {
	empty := t.TempDir()
	cat := New([]string{empty}).Catalog()
	if len(cat.Runs) != 0 || len(cat.Studies) != 0 {
		t.Errorf("catalog of an empty dir: %+v", cat)
	}
	root := t.TempDir()
	for _, f := range []string{"verl_console.log", "verl_metrics.jsonl", "trainer_state.json"} {
		b, err := os.ReadFile(filepath.Join("..", "foreignlog", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, strings.TrimSuffix(f, filepath.Ext(f)))
		if f == "trainer_state.json" {
			dir = filepath.Join(root, "trl", "checkpoint-50")
		}
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	srv := New([]string{root})
	kinds := map[Kind]string{}
	for _, r := range srv.Catalog().Runs {
		kinds[r.Kind] = r.ID
	}
	if len(kinds) != 3 {
		t.Fatalf("runs found: %v", kinds)
	}
	_, body := get(t, srv, "/api/run?id="+kinds["verl-file"])
	var p Payload
	json.Unmarshal([]byte(body), &p)
	if p.Mapping == nil || p.Mapping.Found["train/proxy_reward"] != "critic/score/mean" || p.Flags == nil || p.Flags.Collapse == nil || p.Flags.Collapse.Step != 32 {
		t.Fatalf("veRL payload mapping %+v flags %+v", p.Mapping, p.Flags)
	}
	if p.Metrics.Skipped != 1 || len(p.Events) != 2 {
		t.Errorf("skipped %d events %v", p.Metrics.Skipped, p.Events)
	}
	if len(p.Validation.Series["val/math500/avg@4"].X) != 2 {
		t.Errorf("validation series %v", p.Validation.Series)
	}
	_, body = get(t, srv, "/api/run?id="+kinds["trl"])
	p = Payload{}
	json.Unmarshal([]byte(body), &p)
	if p.Mapping == nil || !strings.Contains(strings.Join(p.Mapping.Missing, ","), "train/reward_accuracy") {
		t.Errorf("TRL mapping %+v", p.Mapping)
	}
}

func TestStudyScatterAndFacets(t *testing.T) {
	srv := New([]string{"testdata"})
	mcs := studyNamed(t, srv, "study")
	if mcs.Kind != "mcs" || len(mcs.Runs) != 6 {
		t.Fatalf("study %+v", mcs)
	}
	_, body := get(t, srv, "/api/study?id="+mcs.ID)
	var p StudyPayload
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	sc := p.Scatter
	// Points (10, 0.05), (20, 0.10) and the survivor at cap+1 = 31, 0.20:
	// ranks agree (Spearman 1); Pearson by hand is 1.58333/sqrt(220.667 *
	// 0.0116667) = 0.98680.
	if sc == nil || len(sc.Points) != 3 || !sc.Points[2].Censored || sc.Points[2].X != 31 {
		t.Fatalf("scatter %+v", sc)
	}
	if *sc.Spearman != 1 || math.Abs(*sc.Pearson-0.98680) > 1e-4 {
		t.Errorf("spearman %v pearson %v", *sc.Spearman, *sc.Pearson)
	}
	if len(p.Facets) != 6 || p.Facets[0].Name != "runs/a/ground_truth" || p.Facets[0].Series["val/mean/avg@4"] == nil {
		t.Errorf("facets %d, first %+v", len(p.Facets), p.Facets[0].Name)
	}
	if len(p.Results) != 3 {
		t.Errorf("results %d", len(p.Results))
	}
}

func FuzzTable(f *testing.F) {
	f.Add([]byte("{\"step\":1,\"a\":1}\nxx\n{\"step\":2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "m.jsonl")
		os.WriteFile(p, data, 0o644)
		tb := newTable()
		if _, err := tb.readFrom(p, true); err != nil {
			t.Fatal(err)
		}
		for k, s := range tb.Series {
			if len(s.X) != len(s.Y) {
				t.Fatalf("%s: %d x, %d y", k, len(s.X), len(s.Y))
			}
			d := Downsample(s, 8)
			if len(d.X) != len(d.Y) {
				t.Fatal("downsample lengths")
			}
		}
	})
}

// FuzzServePath sends arbitrary paths and queries: nothing outside the root
// may come back, whatever the URL.
func FuzzServePath(f *testing.F) {
	base := f.TempDir()
	root := filepath.Join(base, "runs")
	os.MkdirAll(filepath.Join(root, "r1", "samples"), 0o755)
	os.WriteFile(filepath.Join(root, "r1", "metrics.jsonl"), []byte("{\"step\":1,\"a\":1}\n"), 0o644)
	os.WriteFile(filepath.Join(base, "secret.jsonl"), []byte("{\"step\":1,\"SECRET\":1}\n"), 0o644)
	os.Symlink(filepath.Join(base, "secret.jsonl"), filepath.Join(root, "r1", "samples", "step-000001.jsonl"))
	srv := New([]string{root})
	for _, s := range []string{"/api/run?id=0/r1", "/static/../secret.jsonl", "/api/samples?id=0/r1&step=1", "/%2e%2e/secret.jsonl"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.NewRequest("GET", "http://x"+target, nil)
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if strings.Contains(rec.Body.String(), "SECRET") {
			t.Fatalf("%q served a file outside the root", target)
		}
	})
}

func TestBundleOfAStudy(t *testing.T) {
	b, err := NewBundle("testdata/study", time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if b.Start != "#/study/0%2F" || len(b.Studies) != 1 || len(b.Runs) != 6 {
		t.Fatalf("start %q, %d studies, %d runs", b.Start, len(b.Studies), len(b.Runs))
	}
	for _, st := range b.Studies {
		if st.Scatter == nil || len(st.Scatter.Points) != 3 || len(st.Facets) != 6 {
			t.Errorf("study payload %+v", st)
		}
	}
	var out strings.Builder
	if err := WriteHTML(&out, b, "a <study>"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "<title>a &lt;study&gt;</title>") || strings.Count(out.String(), "</script>") != 4 { // uPlot, data, schema, app
		t.Error("title not escaped or a script closed early")
	}
	if _, err := NewBundle(t.TempDir(), time.Now()); err == nil || !strings.Contains(err.Error(), "holds no run") {
		t.Errorf("empty dir: %v", err)
	}
}
