package arith

import (
	"slices"
	"strings"
	"testing"
)

func TestCountdownPriors(t *testing.T) {
	ps, err := Priors()
	if err != nil {
		t.Fatal(err)
	}
	var early, base, aligned *Prior
	for i, p := range ps {
		switch p.Name {
		case "countdown-early":
			early = &ps[i]
		case "countdown-base":
			base = &ps[i]
		case "countdown-aligned":
			aligned = &ps[i]
		}
	}
	if early == nil || base == nil || aligned == nil {
		t.Fatal("the built-in priors lack countdown-early, countdown-base or countdown-aligned")
	}
	if !base.IsCountdown() || early.From != "" || base.From != early.Name || aligned.From != base.Name ||
		aligned.Model != base.Model || base.Model != early.Model {
		t.Errorf("countdown priors: %+v, %+v, %+v", early, base, aligned)
	}
	// The designed prompt sensitivity: the base model only ever reads P2,
	// the aligned one reads both.
	for _, st := range slices.Concat(early.Stages, base.Stages) {
		if strings.Join(st.Countdown.Prompts, ",") != "P2" {
			t.Errorf("countdown-base stage %s reads prompts %v, want P2 only", st.Name, st.Countdown.Prompts)
		}
	}
	if got := strings.Join(aligned.Stages[len(aligned.Stages)-1].Countdown.Prompts, ","); got != "P1,P2" {
		t.Errorf("countdown-aligned reads %s, want P1,P2", got)
	}
}

// A bad value of a Countdown prior is reported with its key's path and
// line, and nothing is loaded.
func TestLoadCountdownPriorsNamesKeyAndLine(t *testing.T) {
	good := `priors:
  - name: c
    seed: 1
    world: countdown
    model: {hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 256}
    stages:
      - name: pretrain
        epochs: 1
        countdown:
          solve: 10
          verify: 10
          seed: 1
          prompts: [P2]
          candidates: {correct: 0.5, wrong_value: 0.5}
`
	ps, err := LoadPriors(strings.NewReader(good))
	if err != nil || len(ps) != 1 || ps[0].Stages[0].Countdown.Verify != 10 {
		t.Fatalf("LoadPriors(good) = %+v, %v", ps, err)
	}
	withNumbers := strings.Replace(good, "world: countdown\n", "world: countdown\n    number_tokens: true\n", 1)
	if ps, err := LoadPriors(strings.NewReader(withNumbers)); err != nil || len(ps) != 1 || !ps[0].NumberTokens {
		t.Errorf("a Countdown prior with number tokens: %+v, %v", ps, err)
	}
	for _, c := range []struct{ from, to, want string }{
		{"world: countdown", "world: chess", `line 4: priors[0].world (prior c): unknown world "chess"`},
		{"solve: 10", "solve: -1", "line 10: priors[0].stages[0].countdown.solve (prior c): stage pretrain: -1 must be in"},
		{"prompts: [P2]", "prompts: [P3]", "line 13: priors[0].stages[0].countdown.prompts[0] (prior c): "},
		{"wrong_value: 0.5", "wrong_value: -0.5", "line 14: priors[0].stages[0].countdown.candidates.wrong_value (prior c): "},
		{"correct: 0.5, wrong_value: 0.5", "correct: 0", "line 14: priors[0].stages[0].countdown.candidates (prior c): "},
		{"          seed: 1\n", "          seed: 1\n          share: 3\n", "field share not found"},
		{"        countdown:", "        corpus: {examples: 5}\n        countdown:", "line 9: priors[0].stages[0].corpus (prior c): stage pretrain: a Countdown stage reads a countdown corpus"},
		{"    world: countdown\n", "", "line 8: priors[0].stages[0].countdown (prior c): stage pretrain: a Countdown corpus needs world: countdown"},
		{"seed: 1\n    world", "seed: 1\n    budget: 0.5\n    world", "line 4: priors[0].budget (prior c): "},
		{"    world: countdown\n", "    number_tokens: true\n", "line 4: priors[0].number_tokens (prior c): number tokens are a Countdown world setting"},
		{"          prompts: [P2]\n", "          prompts: [P2]\n          drill: -2\n", "line 14: priors[0].stages[0].countdown.drill (prior c): "},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		if bad == good {
			t.Fatalf("edit %q not applied", c.from)
		}
		ps, err := LoadPriors(strings.NewReader(bad))
		if err == nil || !strings.Contains(err.Error(), c.want) || ps != nil {
			t.Errorf("%q -> %q: %v, want %q", c.from, c.to, err, c.want)
		}
	}
}
