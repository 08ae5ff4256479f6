package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/urlvr/urlvr/runlog"
)

// panelSpec is one of the run view's panels: the metric keys it draws, or
// for the validation panel the log it reads (its keys depend on the sets).
type panelSpec struct {
	ID    string   `json:"id"`
	Title string   `json:"title"`
	Keys  []string `json:"keys,omitempty"`
	Table string   `json:"table,omitempty"`
}

// pageSchema is what the page knows of the run log. The metric keys come
// from runlog, their one owner, and reach the page as window.URLVR_SCHEMA,
// so the script spells no key of its own.
type pageSchema struct {
	Panels           []panelSpec `json:"panels"`
	CompareDefault   []string    `json:"compareDefault"` // metrics overlaid first; "*" matches any k
	ValidationPrefix string      `json:"validationPrefix"`
	MeanPrefix       string      `json:"meanPrefix"` // the mean over validation sets
	FacetDefault     string      `json:"facetDefault"`
}

// schema lists the paper's panels (Figs. 2-4, B.2).
var schema = pageSchema{
	Panels: []panelSpec{
		{ID: "reward", Title: "Proxy vs ground-truth reward", Keys: []string{runlog.KeyProxyReward, runlog.KeyGroundTruthReward}},
		{ID: "accuracy", Title: "Reward and label accuracy", Keys: []string{runlog.KeyRewardAccuracy, runlog.KeyLabelAccuracy}},
		{ID: "validation", Title: "Validation accuracy", Table: "validation"},
		{ID: "entropy", Title: "Actor entropy", Keys: []string{runlog.KeyEntropy}},
		{ID: "response_length", Title: "Response length", Keys: []string{runlog.KeyResponseLength}},
		{ID: "kl", Title: "KL to the reference policy", Keys: []string{runlog.KeyKL}},
		{ID: "step_time", Title: "Step time (s)", Keys: []string{runlog.KeyStepSeconds}},
	},
	CompareDefault: []string{runlog.KeyProxyReward, runlog.KeyGroundTruthReward, runlog.KeyRewardAccuracy,
		runlog.ValidationKey(runlog.MeanSet, "avg@*"), runlog.KeyEntropy, runlog.KeyResponseLength},
	ValidationPrefix: runlog.ValidationPrefix,
	MeanPrefix:       runlog.ValidationKey(runlog.MeanSet, ""),
	FacetDefault:     runlog.KeyRewardAccuracy,
}

// schemaScript is the script element that hands the schema to the page.
func schemaScript() ([]byte, error) {
	b, err := json.Marshal(schema) // escapes <, > and &: no "</script>" can appear
	if err != nil {
		return nil, fmt.Errorf("encoding the page schema: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString("<script>window.URLVR_SCHEMA = ")
	buf.Write(b)
	buf.WriteString(";</script>\n")
	return buf.Bytes(), nil
}
