package arith

import (
	"slices"
	"strings"
	"testing"
)

func TestBuiltinPriors(t *testing.T) {
	ps, err := Priors()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 7 {
		t.Fatalf("%d priors, want at least 7", len(ps))
	}
	var wrongOn, sft, undertrained, small int
	base := ps[0]
	for _, p := range ps {
		if len(p.WrongOn) > 0 {
			wrongOn++
		}
		if len(p.Stages) > 1 {
			sft++
		}
		if p.Stages[0].Corpus.Examples < base.Stages[0].Corpus.Examples/4 {
			undertrained++
		}
		if p.Model.HiddenSize < base.Model.HiddenSize {
			small++
		}
		// Every wrong_on family has a rule at a high rate in the first stage.
		for _, f := range p.WrongOn {
			high := slices.ContainsFunc(p.Stages[0].Corpus.Misconceptions, func(r Rule) bool { return r.Family == f && r.Rate >= 0.8 })
			if !high {
				t.Errorf("prior %s is meant to be wrong on %s but has no strong rule for it", p.Name, f)
			}
		}
	}
	if wrongOn < 2 || sft < 1 || undertrained < 1 || small < 1 {
		t.Errorf("suite lacks variety: %d wrong-on, %d multi-stage, %d undertrained, %d small", wrongOn, sft, undertrained, small)
	}
	if _, err := PriorByName("carry-wrong"); err != nil {
		t.Error(err)
	}
	if _, err := PriorByName("nope"); err == nil {
		t.Error("PriorByName found an unknown prior")
	}
}

func TestLoadPriorsErrors(t *testing.T) {
	good := `priors:
  - name: a
    seed: 1
    model: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 96}
    stages:
      - {name: pretrain, epochs: 1, corpus: {examples: 10, seed: 1, misconceptions: [{family: add-carry, kind: drop-carry, rate: 0.5}]}}
`
	if ps, err := LoadPriors(strings.NewReader(good)); err != nil || len(ps) != 1 || ps[0].Stages[0].Corpus.Misconceptions[0].Kind != DropCarry {
		t.Fatalf("LoadPriors(good) = %+v, %v", ps, err)
	}
	for name, edit := range map[string][2]string{
		"unknown field":  {"seed: 1", "sed: 1"},
		"unknown kind":   {"kind: drop-carry", "kind: drop-cary"},
		"unknown family": {"family: add-carry", "family: add"},
		"bad rate":       {"rate: 0.5", "rate: 2"},
		"zero epochs":    {"epochs: 1", "epochs: 0"},
		"short context":  {"max_position_embeddings: 96", "max_position_embeddings: 64"},
		"heads":          {"num_attention_heads: 2", "num_attention_heads: 3"},
	} {
		bad := strings.Replace(good, edit[0], edit[1], 1)
		if _, err := LoadPriors(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: LoadPriors succeeded", name)
		}
	}
	noStages := good[:strings.Index(good, "    stages:")] + "    stages: []\n"
	if _, err := LoadPriors(strings.NewReader(noStages)); err == nil || !strings.Contains(err.Error(), "no stages") {
		t.Errorf("a prior without stages: %v", err)
	}
	dup := good + strings.TrimPrefix(good, "priors:\n")
	if _, err := LoadPriors(strings.NewReader(dup)); err == nil {
		t.Error("two priors with one name loaded")
	}
}

// A bad value is reported with its key's path and line.
func TestLoadPriorsNamesKeyAndLine(t *testing.T) {
	good := `priors:
  - name: a
    seed: 1
    model: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 96}
    stages:
      - name: pretrain
        epochs: 1
        corpus:
          examples: 10
          seed: 1
          misconceptions:
            - {family: add-carry, kind: drop-carry, rate: 0.5}
`
	for _, c := range []struct{ from, to, want string }{
		{"rate: 0.5", "rate: 1.5", "line 12: priors[0].stages[0].corpus.misconceptions[0].rate (prior a): "},
		{"kind: drop-carry", "kind: carry", `line 12: kind: unknown misconception "carry"`},
		{"family: add-carry", "family: add", `line 12: family: unknown family "add"`},
		{"examples: 10", "examples: -3", "line 9: priors[0].stages[0].corpus.examples (prior a): "},
		{"epochs: 1", "epochs: 0", "line 7: priors[0].stages[0].epochs (prior a): "},
		{"hidden_size: 32", "hidden_size: 99999", "line 4: priors[0].model.hidden_size (prior a): 99999 must be in 1..4096"},
		{"seed: 1\n    model", "seed: 1\n    budget: 2\n    model", "line 4: priors[0].budget (prior a): 2 outside [0, 1]"},
		{"    seed: 1\n", "    seed: 1\n    colour: red\n", "line 4: field colour not found"},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		_, err := LoadPriors(strings.NewReader(bad))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: %v, want %q", c.from, c.to, err, c.want)
		}
	}
}
