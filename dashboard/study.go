package dashboard

import (
	"encoding/json"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/runlog"
)

// StudyPayload is what the page gets for a study.
type StudyPayload struct {
	Study       *StudyInfo       `json:"study"`
	Settings    json.RawMessage  `json:"settings,omitempty"`
	Results     []map[string]any `json:"results"`
	Correlation json.RawMessage  `json:"correlation,omitempty"`
	Scatter     *Scatter         `json:"scatter,omitempty"`
	// Facets holds, for each sub-run, the series the small multiples
	// draw, under the sub-run's name inside the study.
	Facets []Facet `json:"facets"`
	// Heatmap is the per-problem study's view, Intrinsic the
	// intrinsic-reward study's; nil for other kinds.
	Heatmap   *Heatmap       `json:"heatmap,omitempty"`
	Intrinsic *IntrinsicView `json:"intrinsic,omitempty"`
}

// Facet is one sub-run's panel series.
type Facet struct {
	ID     string             `json:"id"`
	Name   string             `json:"name"`
	Series map[string]*Series `json:"series"`
}

// Scatter is the Model Collapse Step against the ground-truth gain, one
// point per base model (paper Sec. 6, Fig. 6).
type Scatter struct {
	X, Y     []float64 `json:"-"`
	Points   []Point   `json:"points"`
	XLabel   string    `json:"x_label"`
	YLabel   string    `json:"y_label"`
	Spearman *float64  `json:"spearman"`
	Pearson  *float64  `json:"pearson"`
}

// Point is one labelled scatter point; Censored marks a model that did not
// collapse within the step cap (its collapse step is only known to exceed
// the cap).
type Point struct {
	X        float64 `json:"x"`
	Y        float64 `json:"y"`
	Label    string  `json:"label"`
	Censored bool    `json:"censored"`
}

// facetKeys are the series each sub-run contributes to the study's facets.
func facetKey(k string) bool {
	switch k {
	case runlog.KeyRewardAccuracy, runlog.KeyProxyReward, runlog.KeyGroundTruthReward, runlog.KeyEntropy, runlog.KeyResponseLength,
		// The self-verification study's verifier (paper Sec. 7).
		runlog.KeySelfVerifyReward, runlog.KeySelfVerifyAccuracy, runlog.KeySelfVerifyParseRate:
		return true
	}
	return strings.HasPrefix(k, runlog.ValidationKey(runlog.MeanSet, runlog.AvgPrefix))
}

func (s *Server) studyPayload(info *StudyInfo) (*StudyPayload, error) {
	p := &StudyPayload{Study: info, Results: []map[string]any{}, Facets: []Facet{}}
	if b, err := readInside(info.root, filepath.Join(info.dir, studyFile), 4<<20); err == nil && json.Valid(b) {
		p.Settings = b
	}
	if b, err := readInside(info.root, filepath.Join(info.dir, correlFile), 4<<20); err == nil && json.Valid(b) {
		p.Correlation = b
	}
	if b, err := readInside(info.root, filepath.Join(info.dir, resultsFile), 16<<20); err == nil {
		for _, line := range splitLines(b) {
			var o map[string]any
			if json.Unmarshal(line, &o) == nil && o != nil {
				p.Results = append(p.Results, o)
			}
		}
	}
	switch info.Kind {
	case kindPerProblem:
		if p.Heatmap = perProblemHeatmap(p.Results); p.Heatmap == nil {
			p.Heatmap = perProblemLive(info)
		}
	case kindIntrinsic:
		p.Intrinsic = intrinsicView(info)
	default:
		p.Scatter = mcsScatter(p.Results, p.Correlation)
	}
	for _, id := range info.Runs {
		st := s.state(id)
		if st == nil {
			continue
		}
		rp, err := st.payload(-1, 0, 0, false)
		if err != nil {
			continue
		}
		f := Facet{ID: id, Name: strings.TrimPrefix(st.info.Name, info.Name+"/"), Series: map[string]*Series{}}
		for _, t := range []*TablePayload{rp.Metrics, rp.Validation} {
			for k, ser := range t.Series {
				if facetKey(k) {
					f.Series[k] = Downsample(ser, 400)
				}
			}
		}
		p.Facets = append(p.Facets, f)
	}
	sort.Slice(p.Facets, func(i, j int) bool { return p.Facets[i].Name < p.Facets[j].Name })
	return p, nil
}

// mcsScatter builds the collapse-step/gain scatter from an MCS study's
// results (one row per model with collapse_step, step_cap and the gains);
// nil for other studies.
func mcsScatter(results []map[string]any, correlation json.RawMessage) *Scatter {
	basis := "final"
	var corr struct {
		Gain string `json:"gain"`
	}
	if json.Unmarshal(correlation, &corr) == nil && corr.Gain != "" {
		basis = corr.Gain
	}
	sc := &Scatter{XLabel: "Model Collapse Step (majority voting)", YLabel: "ground-truth gain (" + basis + " − start)"}
	for _, r := range results {
		gain, ok1 := r["gt_gain_"+basis].(float64)
		model, _ := r["model"].(string)
		collapsed, _ := r["collapsed"].(bool)
		if !ok1 {
			continue
		}
		var x float64
		if collapsed {
			x, _ = r["collapse_step"].(float64)
		} else {
			// The study ranks a survivor as step cap + 1.
			cap, ok := r["step_cap"].(float64)
			if !ok {
				continue
			}
			x = cap + 1
		}
		sc.Points = append(sc.Points, Point{X: x, Y: gain, Label: model, Censored: !collapsed})
		sc.X, sc.Y = append(sc.X, x), append(sc.Y, gain)
	}
	if len(sc.Points) == 0 {
		return nil
	}
	if v, err := metrics.Spearman(sc.X, sc.Y); err == nil {
		sc.Spearman = &v
	}
	if v, err := metrics.Pearson(sc.X, sc.Y); err == nil {
		sc.Pearson = &v
	}
	return sc
}
