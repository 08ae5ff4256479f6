package basemodel

import (
	"fmt"
	"strings"

	"github.com/urlvr/urlvr/task/arith"
)

// Axes says where a model sits on the suite's axes of prior (paper §6):
// its scale, its training stage (a base model, or an aligned one that went
// through a clean fine-tuning stage), its pretraining budget, and the
// misconceptions its corpora carry.
type Axes struct {
	// World is the world the model was pretrained on: arithmetic or
	// countdown.
	World          string `json:"world"`
	Scale          string `json:"scale"`
	Stage          string `json:"stage"`
	Budget         string `json:"budget"`
	Misconceptions string `json:"misconceptions"`
}

// Axes describes the model from its manifest.
func (mf *Manifest) Axes() Axes {
	p := mf.Prior
	a := Axes{World: "arithmetic", Scale: fmt.Sprintf("d%dx%d, %s", p.Model.HiddenSize, p.Model.NumLayers, humanCount(mf.Params)), Stage: "base"}
	if p.From != "" || len(p.Stages) > 1 {
		a.Stage = "aligned (clean SFT)"
	}
	if p.IsCountdown() {
		return countdownAxes(mf, a)
	}
	steps := 0
	if mf.Foundation != nil && p.From == "" {
		steps = mf.Foundation.Stage.Steps
	}
	for _, s := range mf.Stages {
		steps += s.Steps
	}
	a.Budget = fmt.Sprintf("%d steps", steps)
	if p.Budget > 0 && p.Budget < 1 {
		a.Budget += fmt.Sprintf(" (%g of its run)", p.Budget)
	}
	if p.From != "" {
		a.Budget += " after " + p.From
	}
	if p.From == "" && len(mf.Stages) == 0 {
		// A budget that ends inside the foundation: no stage, and so no
		// misconception, has been read yet.
		a.Misconceptions = "none yet (a checkpoint inside the clean foundation)"
		return a
	}
	a.Misconceptions = describeRules(p)
	return a
}

// countdownAxes fills the axes of a Countdown model: its stage says which
// verification prompts it was trained to answer (the designed prompt
// sensitivity of the base model), and it carries no misconceptions.
func countdownAxes(mf *Manifest, a Axes) Axes {
	p := mf.Prior
	a.World = arith.WorldCountdown
	seen := map[string]bool{}
	var prompts []string
	for _, st := range p.Stages {
		if st.Countdown == nil {
			continue
		}
		for _, q := range st.Countdown.Prompts {
			if !seen[q] {
				seen[q] = true
				prompts = append(prompts, q)
			}
		}
	}
	// A model that read one verification prompt is a base model (the
	// paper's base models answer P2 only); one fine-tuned on both is
	// aligned.
	if len(prompts) > 1 {
		a.Stage = "aligned (verifies with " + strings.Join(prompts, "+") + ")"
	} else {
		a.Stage = "base (verifies with " + strings.Join(prompts, "+") + " only)"
	}
	steps := 0
	for _, s := range mf.Stages {
		steps += s.Steps
	}
	a.Budget = fmt.Sprintf("%d steps", steps)
	if p.From != "" {
		a.Budget += " after " + p.From
	}
	a.Misconceptions = "none (Countdown)"
	return a
}

// describeRules summarises the misconception rules of a prior's stages.
func describeRules(p arith.Prior) string {
	var parts []string
	if p.From != "" {
		parts = append(parts, "those of "+p.From)
	}
	for _, st := range p.Stages {
		rules := st.Corpus.Misconceptions
		if len(rules) == 0 {
			continue
		}
		rate, same := rules[0].Rate, len(rules) == len(arith.Families())
		for _, r := range rules {
			same = same && r.Rate == rate && r.Family != ""
		}
		if same {
			parts = append(parts, fmt.Sprintf("every family's at %g", rate))
			continue
		}
		for _, r := range rules {
			fam := string(r.Family)
			if fam == "" {
				fam = "all"
			}
			parts = append(parts, fmt.Sprintf("%s %s at %g", fam, r.Kind, r.Rate))
		}
	}
	if len(parts) == 0 {
		return "none (clean)"
	}
	return strings.Join(parts, ", ")
}

// humanCount writes 133568 as 134k.
func humanCount(n int) string {
	switch {
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 1000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
