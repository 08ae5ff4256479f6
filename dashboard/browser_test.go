package dashboard

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive headless Chromium (Debian's chromium package)
// against a real dashboard server. They run when URLVR_BROWSER_TESTS=1, as
// .ci/run sets it; without the switch they are skipped, since a browser is
// not part of the Go toolchain.

func browser(t *testing.T) (context.Context, *consoleLog) {
	t.Helper()
	if os.Getenv("URLVR_BROWSER_TESTS") != "1" {
		t.Skip("set URLVR_BROWSER_TESTS=1 to run the browser tests (needs chromium)")
	}
	exe := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			exe = p
			break
		}
	}
	if exe == "" {
		t.Fatal("URLVR_BROWSER_TESTS=1 but no chromium on PATH (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000), chromedp.Flag("allow-file-access-from-files", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	log := &consoleLog{}
	bctx, cancelC := chromedp.NewContext(actx, chromedp.WithListener(func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				log.add(string(e.Type) + ": " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			log.add(fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		}
	}))
	if err := chromedp.Do(bctx); err != nil {
		cancelC()
		cancelA()
		t.Fatalf("starting chromium: %v", err)
	}
	// A generous bound on the test's actions, not a measured time: a hung
	// browser fails the test instead of the suite.
	ctx, cancelT := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx, log
}

type consoleLog struct {
	mu   sync.Mutex
	msgs []string
}

func (c *consoleLog) add(s string) { c.mu.Lock(); c.msgs = append(c.msgs, s); c.mu.Unlock() }

// must fails the test on err, saying first what the page logged (a page
// that threw usually explains why an element never appeared).
func (c *consoleLog) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		c.check(t)
		t.Fatal(err)
	}
}
func (c *consoleLog) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.msgs {
		t.Errorf("console: %s", m)
	}
	c.msgs = nil
}

// writeFullRun writes a run with every panel's metrics.
func writeFullRun(t *testing.T, dir string, steps int) {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "samples"), 0o755)
	var b strings.Builder
	for s := 1; s <= steps; s++ {
		x := float64(s)
		fmt.Fprintf(&b, `{"step":%d,"train/proxy_reward":%g,"train/ground_truth_reward":%g,"train/reward_accuracy":%g,"train/label_accuracy":%g,"actor/entropy":%g,"actor/response_length":%g,"actor/kl":%g,"perf/step_seconds":%g}`+"\n",
			s, 0.4+x/100, 0.3-x/400, 0.8-x/50, 0.4-x/200, 0.12-x/500, 44-x/4, x/1000, 0.5+float64(s%3)/10)
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(b.String()), 0o644)
	var v strings.Builder
	for s := 0; s <= steps; s += 10 {
		a := 0.4 + float64(s)/200
		fmt.Fprintf(&v, `{"step":%d,"val/mean/avg@8":%g,"val/mean/avg@8/ci_low":%g,"val/mean/avg@8/ci_high":%g,"val/easy/avg@8":%g}`+"\n", s, a, a-0.05, a+0.05, a+0.1)
	}
	os.WriteFile(filepath.Join(dir, "validation.jsonl"), []byte(v.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(`{"event":"collapse","collapse_step":12,"detected_at":12,"step":12}`+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "samples", "step-000010.jsonl"), []byte(
		`{"prompt_id":"p1","prompt":"Q: 1+1=?","response":"\\boxed{2}","answer":"2","label":"2","gold":"2","reward":1,"correct":true}`+"\n"+
			`{"prompt_id":"p1","prompt":"Q: 1+1=?","response":"\\boxed{3}","answer":"3","label":"2","gold":"2","reward":0,"correct":false}`+"\n"), 0o644)
}

// drawn returns, for a panel, the number of non-null points of each series
// uPlot holds and the last x.
const drawnJS = `(function(id){var b=document.getElementById(id); if(!b||!b.__uplot) return null;
var d=b.__uplot.data; return {x: d[0].length, last: d[0][d[0].length-1], counts: d.slice(1).map(function(s){return s.filter(function(v){return v!=null}).length}),
labels: b.__uplot.series.slice(1).map(function(s){return s.label}), sum: d.slice(1).map(function(s){return s.reduce(function(a,v){return a+(v==null?0:v)},0)})};})`

type drawnPanel struct {
	X      int       `json:"x"`
	Last   float64   `json:"last"`
	Counts []int     `json:"counts"`
	Labels []string  `json:"labels"`
	Sum    []float64 `json:"sum"`
}

func panelData(t *testing.T, ctx context.Context, id string) *drawnPanel {
	t.Helper()
	d, err := chromedp.Run(ctx, chromedp.Evaluate[*drawnPanel](drawnJS+`("`+id+`")`))
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return d
}

func TestBrowserRunPanelsLiveUpdate(t *testing.T) {
	ctx, console := browser(t)
	root := t.TempDir()
	run := filepath.Join(root, "r1")
	writeFullRun(t, run, 30)
	ts := httptest.NewServer(New([]string{root}))
	defer ts.Close()

	console.must(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#/run/"+url.PathEscape("0/r1")),
		chromedp.WaitVisible(chromedp.CSS(`#panel-step_time canvas`))))
	// Every panel has its series with the file's points and values.
	want := map[string][]string{
		"panel-reward":          {"train/proxy_reward", "train/ground_truth_reward"},
		"panel-accuracy":        {"train/reward_accuracy", "train/label_accuracy"},
		"panel-entropy":         {"actor/entropy"},
		"panel-response_length": {"actor/response_length"},
		"panel-kl":              {"actor/kl"},
		"panel-step_time":       {"perf/step_seconds"},
	}
	tb := newTable()
	tb.readFrom(filepath.Join(run, "metrics.jsonl"), false)
	for id, keys := range want {
		d := panelData(t, ctx, id)
		if d == nil || fmt.Sprint(d.Labels) != fmt.Sprint(keys) {
			t.Errorf("%s: drawn %+v, want series %v", id, d, keys)
			continue
		}
		for i, k := range keys {
			var sum float64
			for _, v := range tb.Series[k].Y {
				sum += v
			}
			if d.Counts[i] != len(tb.Series[k].Y) || d.Sum[i]-sum > 1e-9 || sum-d.Sum[i] > 1e-9 {
				t.Errorf("%s %s: %d points summing to %v, file has %d summing to %v", id, k, d.Counts[i], d.Sum[i], len(tb.Series[k].Y), sum)
			}
		}
	}
	// Validation: the mean with its interval and the set; 4 validations.
	v := panelData(t, ctx, "panel-validation")
	if v == nil || len(v.Labels) != 4 || v.Counts[0] != 4 || !strings.Contains(strings.Join(v.Labels, ","), "CI low") {
		t.Errorf("validation panel %+v", v)
	}
	err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#rollouts`)))
	rollouts, err2 := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#rollouts tbody tr').length`))
	if err != nil || err2 != nil || rollouts != 2 {
		t.Errorf("rollout browser shows %d rows (%v)", rollouts, err)
	}
	console.check(t)

	// A line appended to the log shows up without a reload.
	f, _ := os.OpenFile(filepath.Join(run, "metrics.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step":31,"train/proxy_reward":0.9,"train/ground_truth_reward":0.1,"actor/entropy":0.01}` + "\n")
	f.Close()
	appended := time.Now()
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`(function(){var b=document.getElementById('panel-entropy'); return !!(b && b.__uplot && b.__uplot.data[0].indexOf(31) >= 0);})()`, chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		t.Fatalf("appended step never drawn: %v", err)
	}
	// Reported, not asserted: the page polls every second.
	t.Logf("appended line drawn after %v", time.Since(appended).Round(time.Millisecond))
	if d := panelData(t, ctx, "panel-reward"); d.Last != 31 || d.Counts[0] != 31 {
		t.Errorf("reward panel after append %+v", d)
	}
	// Smoothing and log scale redraw without errors.
	console.must(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#logscale`)),
		chromedp.SetValue(chromedp.CSS(`#smoothing`), "0.6")))
	console.check(t)
}

func TestBrowserOverlayStudyAndEmpty(t *testing.T) {
	ctx, console := browser(t)
	root := t.TempDir()
	writeFullRun(t, filepath.Join(root, "a"), 20)
	writeFullRun(t, filepath.Join(root, "b"), 25)
	ts := httptest.NewServer(New([]string{root}))
	defer ts.Close()
	console.must(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#/compare/0%2Fa,0%2Fb"),
		chromedp.WaitVisible(chromedp.CSS(`#overlay canvas`))))
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#overlay .panel[data-series="2"]').length`))
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("%d overlay panels with both runs, want 6", n)
	}
	console.check(t)

	st := httptest.NewServer(New([]string{"testdata"}))
	defer st.Close()
	console.must(t, chromedp.Do(ctx, chromedp.Navigate(st.URL+"/#/study/"+url.PathEscape("0/study")),
		chromedp.WaitVisible(chromedp.CSS(`#scatter canvas`)), chromedp.WaitVisible(chromedp.CSS(`#facets canvas`))))
	pts, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('scatter').getAttribute('data-points')`))
	facets, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`String(document.querySelectorAll('#facets canvas').length)`))
	if pts != "3" || facets != "6" {
		t.Errorf("study: %s scatter points, %s facets", pts, facets)
	}
	console.check(t)

	empty := httptest.NewServer(New([]string{t.TempDir()}))
	defer empty.Close()
	err = chromedp.Do(ctx, chromedp.Navigate(empty.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#no-runs`)))
	text, err2 := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#no-runs h1`)))
	if err != nil || err2 != nil || text != "No runs found" {
		t.Errorf("empty page: %q %v", text, err)
	}
	console.check(t)
}

func TestBrowserReportOffline(t *testing.T) {
	ctx, console := browser(t)
	root := t.TempDir()
	writeFullRun(t, filepath.Join(root, "r1"), 15)
	b, err := NewBundle(filepath.Join(root, "r1"), time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "report.html")
	f, _ := os.Create(page)
	if err := WriteHTML(f, b, "test"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// No server runs: the page has only itself.
	console.must(t, chromedp.Do(ctx, chromedp.Navigate("file://"+page),
		chromedp.WaitVisible(chromedp.CSS(`#panel-kl canvas`)), chromedp.WaitVisible(chromedp.CSS(`#rollouts`))))
	if d := panelData(t, ctx, "panel-reward"); d == nil || d.Counts[0] != 15 || d.Counts[1] != 15 {
		t.Errorf("report reward panel %+v", d)
	}
	external, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('script[src],link[href]:not([href^="data:"])').length`))
	if err != nil || external != 0 {
		t.Errorf("%d external references in the report", external)
	}
	console.check(t)
}

// TestBrowserStudyViews opens the per-problem and intrinsic fixtures (real
// studies at tiny settings): the heatmap has one cell per problem and
// epoch and one dot per right top-reward rollout, the intrinsic view one
// curve with its band per reward and the failure-mode table. With
// URLVR_SCREENSHOTS=DIR it saves the per-problem page as
// DIR/dashboard-per-problem.png (the README's picture).
func TestBrowserStudyViews(t *testing.T) {
	ctx, console := browser(t)
	srv := New([]string{"testdata"})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	pp := studyNamed(t, srv, "per-problem")
	console.must(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#/study/"+url.PathEscape(pp.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#heatmap svg`)), chromedp.WaitVisible(chromedp.CSS(`#facets canvas`))))
	type heat struct {
		Cells, Right, Waves, Labels int
		Counts                      string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[heat](`(function(){var h=document.getElementById('heatmap');
		return {Cells: h.querySelectorAll('rect.cell').length, Right: h.querySelectorAll('rect.cell[data-greedy="true"]').length,
		Waves: h.querySelectorAll('circle.wave').length, Labels: h.querySelectorAll('text.row-pattern').length,
		Counts: Array.from(document.querySelectorAll('#pattern-counts .pattern')).map(function(s){return s.getAttribute('data-count');}).join(',')};})()`))
	if err != nil {
		t.Fatal(err)
	}
	// 6 problems × 13 epochs (0..12); greedy right in 12+13+13 cells and
	// 0+12+1+10+0+12 top-reward rollouts right (the fixture's results.jsonl).
	if got.Cells != 78 || got.Right != 38 || got.Waves != 35 || got.Labels != 6 || got.Counts != "2,1,0,3" {
		t.Errorf("heatmap %+v", got)
	}
	console.check(t)
	if dir := os.Getenv("URLVR_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "dashboard-per-problem.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	in := studyNamed(t, srv, "intrinsic")
	console.must(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/#/study/"+url.PathEscape(in.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#intrinsic canvas`)), chromedp.WaitVisible(chromedp.CSS(`#failure-modes`))))
	type lines struct {
		Series, Bands, Points, Rows int
	}
	curves, err := chromedp.Run(ctx, chromedp.Evaluate[lines](`(function(){var u=document.getElementById('intrinsic').__uplot;
		return {Series: u.series.length-1, Bands: (u.bands||[]).length, Points: u.data[0].length,
		Rows: document.querySelectorAll('#failure-modes tbody tr').length};})()`))
	if err != nil {
		t.Fatal(err)
	}
	// 3 rewards, each a mean and its two bounds; validation at 0, 2, ..., 8.
	if curves.Series != 9 || curves.Bands != 3 || curves.Points != 5 || curves.Rows != 3 {
		t.Errorf("intrinsic %+v", curves)
	}
	console.check(t)
}
