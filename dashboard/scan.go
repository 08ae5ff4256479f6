package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/urlvr/urlvr/foreignlog"
	"github.com/urlvr/urlvr/runlog"
)

// The files of a urlvr run and study directory the dashboard reads: a
// run's from its schema (runlog), a study's as experiment writes them (the
// dashboard depends on the names, not on that package).
const (
	metricsFile    = runlog.MetricsFile
	validationFile = runlog.ValidationFile
	eventsFile     = runlog.EventsFile
	summaryFile    = runlog.SummaryFile
	configFile     = runlog.ConfigFile
	samplesDir     = runlog.SamplesDir
	studyFile      = "study.json"
	resultsFile    = "results.jsonl"
	correlFile     = "correlation.json"
	trlStateFile   = "trainer_state.json"
)

// Kind says who wrote a run's logs.
type Kind string

const (
	KindURLVR Kind = "urlvr"
)

// RunInfo is one run found by a scan.
type RunInfo struct {
	ID    string `json:"id"`
	Name  string `json:"name"` // path under its root, for people
	Root  string `json:"root"`
	Kind  Kind   `json:"kind"`  // urlvr, or a foreignlog format
	Study string `json:"study"` // the study's id when the run belongs to one
	dir   string // run directory (urlvr) or directory of the log
	file  string // the foreign log file; "" for urlvr runs
	root  string // resolved root
}

// StudyInfo is one study directory found by a scan.
type StudyInfo struct {
	ID   string   `json:"id"`
	Name string   `json:"name"`
	Root string   `json:"root"`
	Kind string   `json:"kind"` // study.json's "kind" (mcs, ttt, ...)
	Runs []string `json:"runs"` // ids of its sub-runs
	dir  string
	root string
}

// Catalog is what a scan of the dashboard's directories found.
type Catalog struct {
	Roots   []string     `json:"roots"`
	Runs    []*RunInfo   `json:"runs"`
	Studies []*StudyInfo `json:"studies"`
	// Problems lists directories that could not be read.
	Problems []string `json:"problems,omitempty"`
}

// skipDirs are never run directories themselves and can be large.
var skipDirs = map[string]bool{"checkpoints": true, "samples": true, "plots": true, ".git": true, "node_modules": true}

// maxScanEntries bounds the work of one scan of a huge tree.
const maxScanEntries = 200000

// Scan finds the runs and studies under roots.
func Scan(roots []string) *Catalog {
	c := &Catalog{Runs: []*RunInfo{}, Studies: []*StudyInfo{}}
	for i, root := range roots {
		c.Roots = append(c.Roots, root)
		real, err := filepath.EvalSymlinks(root)
		if err == nil {
			real, err = filepath.Abs(real)
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue // not created yet: no runs
		}
		if err != nil {
			c.Problems = append(c.Problems, fmt.Sprintf("%s: %v", root, err))
			continue
		}
		scanRoot(c, i, root, real)
	}
	// Sub-runs of a study point to it.
	for _, s := range c.Studies {
		prefix := s.dir + string(filepath.Separator)
		for _, r := range c.Runs {
			if strings.HasPrefix(r.dir, prefix) {
				r.Study = s.ID
				s.Runs = append(s.Runs, r.ID)
			}
		}
	}
	return c
}

var trlCheckpoint = regexp.MustCompile(`^checkpoint-(\d+)$`)

func scanRoot(c *Catalog, index int, display, real string) {
	id := func(path string) string {
		rel, err := filepath.Rel(real, path)
		if err != nil || rel == "." {
			rel = ""
		}
		return fmt.Sprintf("%d/%s", index, filepath.ToSlash(rel))
	}
	name := func(path string) string {
		rel, _ := filepath.Rel(real, path)
		if rel == "." {
			return filepath.Base(display)
		}
		return filepath.ToSlash(rel)
	}
	entries := 0
	trlBest := map[string]string{} // parent dir -> newest trainer_state.json
	trlStep := map[string]int{}
	filepath.WalkDir(real, func(path string, d fs.DirEntry, err error) error {
		entries++
		if entries > maxScanEntries {
			return filepath.SkipAll
		}
		if err != nil {
			c.Problems = append(c.Problems, err.Error())
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if path != real && (skipDirs[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if fileExists(filepath.Join(path, studyFile)) {
				kind := ""
				var st struct {
					Kind string `json:"kind"`
				}
				if b, err := readInside(real, filepath.Join(path, studyFile), 1<<20); err == nil && json.Unmarshal(b, &st) == nil {
					kind = st.Kind
				}
				c.Studies = append(c.Studies, &StudyInfo{ID: id(path), Name: name(path), Root: display, Kind: kind, Runs: []string{}, dir: path, root: real})
			}
			if fileExists(filepath.Join(path, metricsFile)) || fileExists(filepath.Join(path, validationFile)) {
				kind := KindURLVR
				file := ""
				if fm, err := foreignlog.Detect(filepath.Join(path, metricsFile)); err == nil && fm == foreignlog.VeRLFile {
					kind, file = Kind(fm), filepath.Join(path, metricsFile)
				}
				c.Runs = append(c.Runs, &RunInfo{ID: id(path), Name: name(path), Root: display, Kind: kind, dir: path, file: file, root: real})
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		base := d.Name()
		switch {
		case base == trlStateFile:
			// Every checkpoint-N holds the history so far: keep the newest.
			dir := filepath.Dir(path)
			parent, step := dir, -1
			if m := trlCheckpoint.FindStringSubmatch(filepath.Base(dir)); m != nil {
				parent = filepath.Dir(dir)
				fmt.Sscan(m[1], &step)
			}
			if old, ok := trlStep[parent]; !ok || step > old {
				trlStep[parent], trlBest[parent] = step, path
			}
		case base == metricsFile:
		case strings.HasSuffix(base, ".log") || strings.HasSuffix(base, ".jsonl") || strings.HasSuffix(base, ".txt"):
			fm, err := foreignlog.Detect(path)
			if err != nil || fm == foreignlog.TRLState {
				return nil
			}
			c.Runs = append(c.Runs, &RunInfo{ID: id(path), Name: name(path), Root: display, Kind: Kind(fm), dir: filepath.Dir(path), file: path, root: real})
		}
		return nil
	})
	parents := make([]string, 0, len(trlBest))
	for p := range trlBest {
		parents = append(parents, p)
	}
	sort.Strings(parents)
	for _, p := range parents {
		c.Runs = append(c.Runs, &RunInfo{ID: id(p) + "#trl", Name: name(p), Root: display, Kind: Kind(foreignlog.TRLState), dir: p, file: trlBest[p], root: real})
	}
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// errOutside is returned for a file that resolves outside its root.
var errOutside = errors.New("outside the dashboard's directories")

// resolveInside resolves path (following symbolic links) and checks that
// it lies under root, itself resolved.
func resolveInside(root, path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%s: %w", path, errOutside)
	}
	return real, nil
}

// readInside reads at most limit bytes of a file that lies under root.
func readInside(root, path string, limit int64) ([]byte, error) {
	real, err := resolveInside(root, path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, 4096)
	buf := make([]byte, 32<<10)
	for int64(len(b)) < limit {
		n, err := f.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			break
		}
	}
	if int64(len(b)) > limit {
		b = b[:limit]
	}
	return b, nil
}
