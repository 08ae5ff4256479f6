package dashboard

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed web/index.html web/app.js web/app.css web/vendor/uplot/uPlot.iife.min.js web/vendor/uplot/uPlot.min.css web/vendor/uplot/LICENSE web/vendor/uplot/package.json
var webFS embed.FS

// Server is the dashboard's HTTP handler over a set of directories.
type Server struct {
	roots []string
	// RescanEvery is how stale the catalog may get before a request scans
	// the directories again (new runs appear on the page).
	RescanEvery time.Duration
	// ErrorLog receives errors that the page only sees as a status code.
	ErrorLog *log.Logger

	mu       sync.Mutex
	catalog  *Catalog
	scanned  time.Time
	states   map[string]*runState
	static   http.Handler
	handlers *http.ServeMux
}

// New returns a dashboard over the given directories.
func New(roots []string) *Server {
	s := &Server{roots: roots, RescanEvery: 2 * time.Second, states: map[string]*runState{}}
	sub, _ := fs.Sub(webFS, "web")
	s.static = http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /static/", s.serveStatic)
	mux.HandleFunc("GET /api/catalog", s.apiCatalog)
	mux.HandleFunc("GET /api/run", s.apiRun)
	mux.HandleFunc("GET /api/samples", s.apiSamples)
	mux.HandleFunc("GET /api/study", s.apiStudy)
	s.handlers = mux
	return s
}

// ServeHTTP serves the page, its assets and its JSON; every other path is
// 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// A path that climbs is refused outright rather than redirected to
	// its cleaned form.
	if strings.Contains(r.URL.Path, "..") || strings.Contains(r.URL.Path, "//") || strings.Contains(r.URL.Path, "\\") {
		http.NotFound(w, r)
		return
	}
	s.handlers.ServeHTTP(w, r)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, err := webFS.ReadFile("web/index.html")
	if err != nil {
		http.Error(w, "missing page", http.StatusInternalServerError)
		return
	}
	sc, err := schemaScript()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b = bytes.Replace(b, []byte(`<script src="static/app.js">`), append(sc, `<script src="static/app.js">`...), 1)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	// The embedded tree has no directories worth listing.
	if p := r.URL.Path; p == "/static/" || p[len(p)-1] == '/' {
		http.NotFound(w, r)
		return
	}
	s.static.ServeHTTP(w, r)
}

// Catalog returns the runs and studies, scanning again when stale.
func (s *Server) Catalog() *Catalog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.catalogLocked(false)
}

func (s *Server) catalogLocked(force bool) *Catalog {
	if s.catalog == nil || force || time.Since(s.scanned) > s.RescanEvery {
		s.catalog = Scan(s.roots)
		s.scanned = time.Now()
	}
	return s.catalog
}

// state returns the cached logs of a run by id, or nil for an id the scan
// did not give. An unknown id triggers one fresh scan (a run that has just
// started).
func (s *Server) state(id string) *runState {
	s.mu.Lock()
	defer s.mu.Unlock()
	find := func() *RunInfo {
		for _, r := range s.catalog.Runs {
			if r.ID == id {
				return r
			}
		}
		return nil
	}
	s.catalogLocked(false)
	info := find()
	if info == nil {
		s.catalogLocked(true)
		info = find()
	}
	if info == nil {
		return nil
	}
	st := s.states[id]
	if st == nil || st.info.dir != info.dir || st.info.file != info.file {
		st = newRunState(info)
		s.states[id] = st
	}
	return st
}

func (s *Server) study(id string) *StudyInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, force := range []bool{false, true} {
		for _, st := range s.catalogLocked(force).Studies {
			if st.ID == id {
				return st
			}
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	if err := enc.Encode(v); err != nil {
		// The client went away; nothing to tell it.
		return
	}
}

func (s *Server) apiCatalog(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, s.Catalog())
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf("%s: %v", r.URL.Path, err)
	}
	if errors.Is(err, errOutside) || errors.Is(err, fs.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	http.Error(w, "could not read the run's logs", http.StatusInternalServerError)
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st := s.state(q.Get("id"))
	if st == nil {
		http.NotFound(w, r)
		return
	}
	gen, err := strconv.Atoi(q.Get("gen"))
	incremental := err == nil
	afterM, err1 := strconv.ParseFloat(q.Get("after_m"), 64)
	afterV, err2 := strconv.ParseFloat(q.Get("after_v"), 64)
	if err1 != nil || err2 != nil {
		incremental = false
	}
	p, err := st.payload(gen, afterM, afterV, incremental)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, p)
}

func (s *Server) apiSamples(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	st := s.state(q.Get("id"))
	step, err := strconv.Atoi(q.Get("step"))
	if st == nil || err != nil || step < 0 || st.info.file != "" {
		http.NotFound(w, r)
		return
	}
	rows, err := st.samples(step)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, rows)
}

func (s *Server) apiStudy(w http.ResponseWriter, r *http.Request) {
	info := s.study(r.URL.Query().Get("id"))
	if info == nil {
		http.NotFound(w, r)
		return
	}
	p, err := s.studyPayload(info)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, p)
}
