package basemodel

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/engine/tokenizer"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/task/arith"
	"github.com/urlvr/urlvr/task/countdown"
)

// tinyCountdownPrior is a Countdown prior small enough to train in a few
// seconds.
func tinyCountdownPrior() arith.Prior {
	return arith.Prior{
		Name: "tiny-cd", Description: "a test Countdown prior", Seed: 9, World: arith.WorldCountdown,
		Model: arith.ModelShape{HiddenSize: 16, NumLayers: 1, NumHeads: 2, IntermediateSize: 32, MaxPositions: 256},
		Stages: []arith.Stage{{Name: "pretrain", Epochs: 1, Countdown: &countdown.CorpusConfig{
			Solve: 64, Verify: 64, Seed: 3, Prompts: []string{"P2"},
			Candidates: countdown.CandidateShares{Correct: 1, WrongValue: 1, Malformed: 1}}}},
	}
}

func tinyCountdownEval() CountdownEvalOptions {
	return CountdownEvalOptions{Problems3: 3, Problems4: 2, N: 2, Temperature: 1, Candidates: 4, MaxNewTokens: 8, Seed: 1}
}

func TestCountdownTokenizerPhrases(t *testing.T) {
	tok, err := TokenizerFor(tinyCountdownPrior())
	if err != nil {
		t.Fatal(err)
	}
	prompt := countdown.BasePrompt([]int{44, 19, 35}, 28)
	// 3 phrases, "[44, 19, 35]" as 12 characters, "28" as 2.
	if n := len(tok.Encode(prompt)); n != 17 {
		t.Errorf("the base prompt is %d tokens, want 17", n)
	}
	req, err := countdown.VerifyRequest(countdown.P2, "(44 + 19) - 35", []int{44, 19, 35}, 28)
	if err != nil {
		t.Fatal(err)
	}
	ids := tok.Encode(req)
	if len(ids) > 140 || tok.Decode(ids) != req {
		t.Errorf("the P2 request is %d tokens and decodes as %q", len(ids), tok.Decode(ids))
	}
	for _, id := range ids {
		if tok.IsSpecial(id) {
			t.Fatalf("token %d of the request is special", id)
		}
	}
	eos, _ := tok.Special(tokenizer.RoleEOS)
	if !tok.IsSpecial(eos) {
		t.Error("<eos> is not special")
	}
	// The saved file holds the phrases as non-special added tokens and
	// loads back to the same IDs.
	data, err := tok.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		AddedTokens []struct {
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	phrases := 0
	for _, a := range file.AddedTokens {
		if !a.Special {
			phrases++
		}
	}
	if phrases != len(countdown.PhraseTexts()) {
		t.Errorf("%d non-special added tokens, want %d", phrases, len(countdown.PhraseTexts()))
	}
	loaded, err := tokenizer.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := loaded.Encode(req); !reflect.DeepEqual(got, ids) {
		t.Errorf("the reloaded tokenizer encodes the request as %v, want %v", got, ids)
	}
}

func TestBuildCountdownPrior(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tiny-cd")
	o := tinyOptions()
	o.MaxSteps = 4
	mf, err := Build(context.Background(), tinyCountdownPrior(), BuildOptions{Dir: dir, Command: "test", Train: o, CountdownEval: tinyCountdownEval()})
	if err != nil {
		t.Fatal(err)
	}
	if mf.Foundation != nil || mf.Eval != nil || mf.Countdown == nil || mf.Alphabet != countdown.Alphabet {
		t.Fatalf("manifest: foundation %v, eval %v, countdown %v, alphabet %q", mf.Foundation, mf.Eval, mf.Countdown, mf.Alphabet)
	}
	rep := mf.Countdown
	if len(rep.Solve) != 2 || rep.Solve[0].Problems != 3 || rep.Solve[1].Problems != 2 || len(rep.Verify) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, v := range rep.Verify {
		if v.Candidates != 4 || v.Accuracy < 0 || v.Accuracy > 1 || v.CI == nil {
			t.Errorf("verify report %+v", v)
		}
	}
	// A model this small solves nothing, so the correct half of the
	// verification set comes from the generator's solutions.
	if rep.OwnCorrect+rep.Constructed != 2 || rep.OwnWrong != 2 {
		t.Errorf("candidates: own correct %d, constructed %d, own wrong %d", rep.OwnCorrect, rep.Constructed, rep.OwnWrong)
	}
	m, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a := m.Manifest.Axes(); a.World != "countdown" || !strings.HasPrefix(a.Stage, "base (verifies with P2 only)") {
		t.Errorf("axes %+v", a)
	}
	// The same prior and options give the same files.
	again := filepath.Join(t.TempDir(), "again")
	mf2, err := Build(context.Background(), tinyCountdownPrior(), BuildOptions{Dir: again, Train: o, SkipEval: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mf.Files, mf2.Files) {
		t.Errorf("two builds of one prior: %v and %v", mf.Files, mf2.Files)
	}
	var buf bytes.Buffer
	if err := WriteCountdownMarkdown(&buf, []*CountdownReport{rep}); err != nil || !strings.Contains(buf.String(), "| tiny-cd |") {
		t.Errorf("markdown %q, %v", buf.String(), err)
	}
}

func TestVerifyRatesHandComputed(t *testing.T) {
	cands := []candidate{{problem: 0, correct: true}, {problem: 0}, {problem: 1, correct: true}, {problem: 1}, {problem: 2}}
	verdicts := []reward.Verdict{reward.VerdictTrue, reward.VerdictTrue, reward.NoVerdict, reward.VerdictFalse, reward.VerdictFalse}
	// Right: candidates 0, 3, 4; parsed: all but 2; accepted correct: 1 of
	// 2; accepted wrong: 1 of 3.
	acc, parse, tpr, fpr := verifyRates(cands, verdicts, []int{0, 1, 2, 3, 4})
	if acc != 0.6 || parse != 0.8 || tpr != 0.5 || fpr != 1.0/3 {
		t.Errorf("rates %v %v %v %v, want 0.6 0.8 0.5 0.333", acc, parse, tpr, fpr)
	}
	r := verifyReport("P1", cands, verdicts, 1)
	if r.Accuracy != 0.6 || r.CI["accuracy"][0] > 0.6 || r.CI["accuracy"][1] < 0.6 {
		t.Errorf("report %+v", r)
	}
}

// checkShippedCountdown checks a shipped Countdown model: its manifest's
// measurement and prior, no foundation, and a tokenizer that writes the
// world's prompts with its phrase tokens.
func checkShippedCountdown(t *testing.T, root string, m *Model) {
	t.Helper()
	mf := m.Manifest
	if mf.Countdown == nil || mf.Foundation != nil || mf.Params != m.Engine.NumParams() {
		t.Errorf("%s: countdown eval %v, foundation %v, %d params (model %d)", m.Name, mf.Countdown != nil, mf.Foundation != nil, mf.Params, m.Engine.NumParams())
	}
	p, err := arith.PriorByName(mf.Name)
	if err != nil {
		t.Errorf("%s: %v", m.Name, err)
		return
	}
	if !reflect.DeepEqual(p, mf.Prior) {
		t.Errorf("%s: made from prior %+v, the priors file now says %+v: rebuild it", m.Name, mf.Prior, p)
	}
	if p.From != "" {
		parent, err := ReadManifest(filepath.Join(root, p.From))
		if err != nil || mf.From == nil || !reflect.DeepEqual(mf.From.Files, parent.Files) {
			t.Errorf("%s: continues %s, but its manifest records %+v (%v)", m.Name, p.From, mf.From, err)
		}
	}
	// The corpora the manifest describes are the ones the priors file
	// draws now: same documents, same characters.
	for i, st := range p.Stages {
		docs, err := stageCorpus(p, st)
		if err != nil {
			t.Fatalf("%s stage %s: %v", m.Name, st.Name, err)
		}
		chars := 0
		for _, d := range docs {
			chars += len(d.Text())
		}
		if i >= len(mf.Stages) || mf.Stages[i].Documents != len(docs) || mf.Stages[i].Characters != chars {
			t.Errorf("%s stage %s: the corpus has %d documents, %d characters; the manifest records %+v", m.Name, st.Name, len(docs), chars, mf.Stages)
		}
	}
	prompt := countdown.BasePrompt([]int{44, 19, 35}, 28)
	ids := m.EncodePrompt(prompt)
	if len(ids) > 24 || m.Response(append(ids, m.StopTokens()...)) != prompt {
		t.Errorf("%s: the base prompt is %d tokens and round-trips as %q", m.Name, len(ids), m.Response(ids))
	}
	if _, err := os.Stat(filepath.Join(root, m.Name, "tokenizer.json")); err != nil {
		t.Error(err)
	}
}

// A chain of three Countdown priors (each continuing the one before) built
// together, jobs side by side: each waits for its parent.
func TestBuildSuiteBuildsAChainInOrder(t *testing.T) {
	a := tinyCountdownPrior()
	b := tinyCountdownPrior()
	b.Name, b.From, b.Seed = "tiny-cd-b", a.Name, 10
	c := tinyCountdownPrior()
	c.Name, c.From, c.Seed = "tiny-cd-c", b.Name, 11
	o := tinyOptions()
	o.MaxSteps = 2
	out := t.TempDir()
	mfs, err := BuildSuite(context.Background(), []arith.Prior{c, b, a}, SuiteOptions{
		Out: out, Jobs: 3, Build: BuildOptions{Train: o, SkipEval: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 3 || mfs[0].From == nil || mfs[1].From == nil || !reflect.DeepEqual(mfs[0].From.Files, mfs[1].Files) ||
		!reflect.DeepEqual(mfs[1].From.Files, mfs[2].Files) {
		t.Fatalf("manifests %+v", mfs)
	}
}

func TestOperationsExactHandComputed(t *testing.T) {
	// Three problems: 1 of 2 operations exact, 2 of 2, none written.
	ops, share, ci := operationsExact([][2]int{{2, 1}, {2, 2}, {0, 0}}, 1)
	if ops != 4 || share != 0.75 {
		t.Fatalf("operationsExact = %d, %v; want 4, 0.75", ops, share)
	}
	// Every resample's share is 0.5, 0.75 or 1 (or 0 when it draws only
	// the problem without operations).
	if ci[0] > 0.75 || ci[1] < 0.75 || ci[0] < 0 || ci[1] > 1 {
		t.Errorf("interval %v does not hold 0.75 inside [0, 1]", ci)
	}
	if ops, share, _ := operationsExact([][2]int{{0, 0}}, 1); ops != 0 || share != 0 {
		t.Errorf("no operations: %d, %v", ops, share)
	}
	rep := &CountdownReport{Model: "m", Options: DefaultCountdownEvalOptions(),
		Solve:  []CountdownSolveReport{{Numbers: 3, Operations: 10, OperationsExact: 0.4}, {Numbers: 4}},
		Verify: []CountdownVerifyReport{{Prompt: "P1", Operations: 8, OperationsExact: 0.25}, {Prompt: "P2"}}}
	var buf bytes.Buffer
	if err := WriteCountdownMarkdown(&buf, []*CountdownReport{rep}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "| m | 40% of 10 | 0% of 0 | 25% of 8 | 0% of 0 |") {
		t.Errorf("arithmetic table missing from %q", buf.String())
	}
}

func TestCountdownNumberTokens(t *testing.T) {
	p := tinyCountdownPrior()
	plain, err := TokenizerFor(p)
	if err != nil {
		t.Fatal(err)
	}
	p.NumberTokens = true
	tok, err := TokenizerFor(p)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != plain.VocabSize()+90 {
		t.Errorf("vocabulary %d with number tokens, %d without: want 90 more", tok.VocabSize(), plain.VocabSize())
	}
	// 3 phrases, "[44, 19, 35]" as 9 tokens (the brackets, the three
	// numbers, two commas and two spaces), "28" as 1; 17 without them.
	prompt := countdown.BasePrompt([]int{44, 19, 35}, 28)
	if n, m := len(tok.Encode(prompt)), len(plain.Encode(prompt)); n != 13 || m != 17 {
		t.Errorf("the base prompt is %d tokens with number tokens and %d without, want 13 and 17", n, m)
	}
	// A two-digit number is one token; a longer value is split leftmost
	// first; a single digit is its character.
	for text, want := range map[string][]string{"47": {"47"}, "122": {"12", "2"}, "1220": {"12", "20"}, "7": {"7"}, "-93": {"-", "93"}} {
		var got []string
		for _, id := range tok.Encode(text) {
			got = append(got, tok.Decode([]int{id}))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q is tokens %q, want %q", text, got, want)
		}
	}
	req, _ := countdown.VerifyRequest(countdown.P2, "(44 + 19) - 35", []int{44, 19, 35}, 28)
	if ids := tok.Encode(req); tok.Decode(ids) != req {
		t.Errorf("the P2 request does not round-trip: %q", tok.Decode(ids))
	}
	// A model continuing another must share its tokenizer: the shapes
	// differ, so the build is refused.
	base, err := engine.New(mustConfig(t, p.Model, plain), 1)
	if err != nil {
		t.Fatal(err)
	}
	o := tinyOptions()
	o.MaxSteps = 1
	if _, err := PretrainFrom(context.Background(), base, p, o, nil); err == nil || !strings.Contains(err.Error(), "another shape") {
		t.Errorf("continuing a model without number tokens: %v", err)
	}
}

func mustConfig(t *testing.T, shape arith.ModelShape, tok tokenizer.Tokenizer) engine.Config {
	t.Helper()
	cfg, err := ModelConfig(shape, tok)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
