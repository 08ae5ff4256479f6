package countdown

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The pretraining corpus of the Countdown world's base models (paper Sec. 7,
// Appendix C.1). A base model of this world has read two kinds of
// documents:
//
//   - solve documents: the base prompt of an instance (BasePrompt), then a
//     response that works the solution out in steps inside the <think>
//     block and gives the expression in <answer> tags, as a model that
//     solves Countdown writes it;
//   - verify documents: a verification request in the form the trainer
//     renders it ("User: " + a P1/P2 body + "\nAssistant:"), then a short
//     check of the candidate (its steps evaluated, the numbers compared,
//     the value compared with the target) and the verdict \boxed{True} or
//     \boxed{False}.
//
// The candidates of the verify documents are correct solutions and wrong
// ones of several kinds in proportions the prior chooses; every verdict is
// the exact verifier's (CheckExpression). No instance of the world's
// training or validation split appears in a corpus, up to the order of
// the numbers, so RL on countdown:train and measurement on countdown:val
// see problems the model never read.

// Document is one training document: the prompt, which is not trained on,
// and the response the model learns to write after it.
type Document struct {
	Prompt   string
	Response string
	// Kind says what the document is: "solve", or "verify-" and the kind
	// of its candidate (CandidateKinds).
	Kind string
}

// Text is the whole document.
func (d Document) Text() string { return d.Prompt + d.Response }

// Candidate kinds of verify documents.
const (
	KindCorrect    = "correct"     // a solution
	KindWrongValue = "wrong_value" // every number once, another value
	KindMissing    = "missing"     // one number left out
	KindReused     = "reused"      // one number used twice, another left out
	KindForeign    = "foreign"     // a number not among the given ones
	KindMalformed  = "malformed"   // not an expression (an equation, a dangling operator, unbalanced parentheses, empty)
	// The near misses, wrong the way a policy's own answers mostly are:
	// right numbers and a value a little off the target, or a solution
	// with one number a little off. A verifier that does not really
	// compute accepts them.
	KindNearValue  = "near_value"  // every number once, a value within 10 of the target
	KindNearNumber = "near_number" // a solution with one number changed by 1 to 9
)

// CandidateKinds lists the candidate kinds in the order their shares are
// drawn from.
var CandidateKinds = []string{KindCorrect, KindWrongValue, KindMissing, KindReused, KindForeign, KindMalformed, KindNearValue, KindNearNumber}

// CandidateShares are the relative weights of the candidate kinds of the
// verify documents (they need not sum to 1).
type CandidateShares struct {
	Correct    float64 `yaml:"correct" json:"correct"`
	WrongValue float64 `yaml:"wrong_value" json:"wrong_value"`
	Missing    float64 `yaml:"missing" json:"missing"`
	Reused     float64 `yaml:"reused" json:"reused"`
	Foreign    float64 `yaml:"foreign" json:"foreign"`
	Malformed  float64 `yaml:"malformed" json:"malformed"`
	NearValue  float64 `yaml:"near_value,omitempty" json:"near_value,omitempty"`
	NearNumber float64 `yaml:"near_number,omitempty" json:"near_number,omitempty"`
}

func (s CandidateShares) weights() []float64 {
	return []float64{s.Correct, s.WrongValue, s.Missing, s.Reused, s.Foreign, s.Malformed, s.NearValue, s.NearNumber}
}

// CorpusConfig describes a Countdown pretraining corpus (a stage's
// "countdown" corpus in a priors file).
type CorpusConfig struct {
	// Solve and Verify are the numbers of solve and verify documents.
	Solve  int `yaml:"solve" json:"solve"`
	Verify int `yaml:"verify" json:"verify"`
	// Drill is the number of arithmetic documents: no prompt, only
	// operations worked out the way a check writes them (DrillResponse).
	Drill int `yaml:"drill,omitempty" json:"drill,omitempty"`
	// Lookup is the number of look-up documents: an instance's numbers,
	// then numbers each said to be among them or not (LookupResponse).
	Lookup int `yaml:"lookup,omitempty" json:"lookup,omitempty"`
	// Seed seeds the instances and the candidates.
	Seed uint64 `yaml:"seed" json:"seed"`
	// Prompts are the verification prompts of the verify documents ("P1",
	// "P2"), drawn uniformly per document.
	Prompts []string `yaml:"prompts,omitempty" json:"prompts,omitempty"`
	// Candidates are the shares of the candidate kinds.
	Candidates CandidateShares `yaml:"candidates" json:"candidates"`
	// Check is how a verify document checks its candidate: CheckSteps
	// (the default) or CheckExplicit.
	Check string `yaml:"check,omitempty" json:"check,omitempty"`
}

// Summary describes the corpus in a line: its document counts, the
// verification prompts and the check ("4000 solve + 48000 verify (P1+P2,
// explicit check) + 20000 drill").
func (c CorpusConfig) Summary() string {
	check := c.Check
	if check == "" {
		check = CheckSteps
	}
	out := fmt.Sprintf("%d solve + %d verify (%s, %s check)", c.Solve, c.Verify, strings.Join(c.Prompts, "+"), check)
	if c.Drill > 0 {
		out += fmt.Sprintf(" + %d drill", c.Drill)
	}
	if c.Lookup > 0 {
		out += fmt.Sprintf(" + %d lookup", c.Lookup)
	}
	return out
}

// The ways a verify document checks its candidate.
const (
	// CheckSteps evaluates the candidate in steps, then says whether the
	// numbers are right and compares the value with the target
	// (CheckResponse).
	CheckSteps = "steps"
	// CheckExplicit first copies the target, then looks up each number of
	// the candidate among the given ones, then evaluates it in steps
	// (ExplicitCheckResponse): each judgement is one look-up or one
	// comparison of two numbers already in the reply.
	CheckExplicit = "explicit"
	// CheckLookup looks up each number of the candidate among the given
	// ones, evaluates it in steps, then writes its value beside the
	// target and says whether they are equal (LookupCheckResponse): the
	// target is copied where it is compared, never before the judgement.
	CheckLookup = "lookup"
)

// MaxCorpusDocuments bounds each count of a corpus: beyond it a typo (an
// extra zero) is likelier than intent, and the corpus would not fit in
// memory on the machines urlvr is for.
const MaxCorpusDocuments = 5_000_000

// FieldError is a problem with one field of a corpus config, named by its
// key (candidates.missing), so that a priors loader can point at the line.
type FieldError struct {
	Path string
	Err  error
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Validate reports the first impossible setting.
func (c CorpusConfig) Validate() error {
	bad := func(path, format string, args ...any) error {
		return &FieldError{Path: path, Err: fmt.Errorf(format, args...)}
	}
	if c.Solve < 0 || c.Solve > MaxCorpusDocuments {
		return bad("solve", "%d must be in 0..%d", c.Solve, MaxCorpusDocuments)
	}
	if c.Verify < 0 || c.Verify > MaxCorpusDocuments {
		return bad("verify", "%d must be in 0..%d", c.Verify, MaxCorpusDocuments)
	}
	if c.Drill < 0 || c.Drill > MaxCorpusDocuments {
		return bad("drill", "%d must be in 0..%d", c.Drill, MaxCorpusDocuments)
	}
	if c.Lookup < 0 || c.Lookup > MaxCorpusDocuments {
		return bad("lookup", "%d must be in 0..%d", c.Lookup, MaxCorpusDocuments)
	}
	switch c.Check {
	case "", CheckSteps, CheckExplicit, CheckLookup:
	default:
		return bad("check", "unknown check %q (want %s, %s or %s)", c.Check, CheckSteps, CheckExplicit, CheckLookup)
	}
	if c.Solve+c.Verify+c.Drill+c.Lookup == 0 {
		return bad("solve", "the corpus has no documents (solve, verify, drill and lookup are all 0)")
	}
	for i, p := range c.Prompts {
		if _, err := ParseVerifyPrompt(p); err != nil {
			return bad(fmt.Sprintf("prompts[%d]", i), "%q is not a verification prompt (want P1 or P2)", p)
		}
	}
	keys := []string{"correct", "wrong_value", "missing", "reused", "foreign", "malformed", "near_value", "near_number"}
	sum := 0.0
	for i, w := range c.Candidates.weights() {
		if !(w >= 0) || math.IsInf(w, 0) {
			return bad("candidates."+keys[i], "share %v must be non-negative and finite", w)
		}
		sum += w
	}
	if c.Verify > 0 {
		if len(c.Prompts) == 0 {
			return bad("prompts", "verify documents need at least one verification prompt (P1, P2)")
		}
		if sum == 0 {
			return bad("candidates", "verify documents need a positive share of some candidate kind")
		}
	}
	return nil
}

// PhraseTexts returns the texts the Countdown tokenizer matches whole: each
// constant stretch (4 characters or more) of the base prompt, the task
// text and the P1 and P2 templates between their placeholders, found by
// rendering them and splitting at what was filled in, then the tags of
// the responses and of the verification turn. A prompt of the world thus
// costs one position per fixed passage plus one per character of its
// numbers: about 30 positions for a base prompt and 130 for a P2 request.
func PhraseTexts() []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if len([]rune(s)) >= 4 && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	// Sentinels no prompt text contains, so every occurrence is a filled
	// placeholder.
	nums, target := []int{987654321}, 123456789
	holes := []string{FormatNumbers(nums), strconv.Itoa(target)}
	for _, text := range []string{BasePrompt(nums, target), TaskText(nums, target)} {
		for _, seg := range splitAll(text, holes) {
			add(seg)
		}
	}
	for _, p := range []VerifyPrompt{P1, P2} {
		for _, seg := range splitAll(p.Template(), []string{"{expr}", "{nums}", "{target}"}) {
			add(seg)
		}
	}
	for _, tag := range []string{"<think>", "</think>", "<answer>", "</answer>", `\boxed{True}`, `\boxed{False}`, verifyUser, verifyAssistant} {
		add(tag)
	}
	return out
}

// NumberTexts returns the texts of the number tokens a Countdown prior can
// add to its tokenizer (number_tokens): every two-digit number, 10 to 99.
// With them, telling whether 47 is among [44, 19, 35], or whether a value
// equals the target, is matching one token instead of two characters
// together, and an operation on two given numbers is a single fact. A
// longer value is split leftmost first, 122 as 12 and 2, as the Hugging
// Face library splits text at added tokens.
func NumberTexts() []string {
	out := make([]string, 0, 90)
	for n := 10; n <= 99; n++ {
		out = append(out, strconv.Itoa(n))
	}
	return out
}

// splitAll cuts s at every occurrence of any of seps and returns the
// pieces between them.
func splitAll(s string, seps []string) []string {
	pieces := []string{s}
	for _, sep := range seps {
		var next []string
		for _, p := range pieces {
			next = append(next, strings.Split(p, sep)...)
		}
		pieces = next
	}
	return pieces
}

// The verification turn as the trainer renders it for a base-form prompt
// (package train, verificationPrompt).
const (
	verifyUser      = "User: "
	verifyAssistant = "\nAssistant:"
)

// VerifyRequest is the verification prompt of a candidate as the trainer
// shows it to a base model: "User: " + the rendered body + "\nAssistant:".
func VerifyRequest(p VerifyPrompt, expr string, nums []int, target int) (string, error) {
	body, err := p.Render(expr, nums, target)
	if err != nil {
		return "", err
	}
	return verifyUser + body + verifyAssistant, nil
}

// Alphabet is the character set of the Countdown tokenizer: printable
// ASCII and the newline, so any candidate a verification prompt quotes
// and any recipe's own template can be written.
var Alphabet = func() string {
	var sb strings.Builder
	sb.WriteByte('\n')
	for c := byte(' '); c <= '~'; c++ {
		sb.WriteByte(c)
	}
	return sb.String()
}()

// Steps writes the evaluation of e one operation at a time, innermost
// first ("44+19=63, 63-35=28"); a bare number is itself. Values are exact
// (a fraction is written 7/2).
func Steps(e *Expr) (string, *big.Rat, error) {
	var steps []string
	var walk func(*Expr) (*big.Rat, error)
	walk = func(n *Expr) (*big.Rat, error) {
		if n.Op == 0 {
			return new(big.Rat).SetInt64(int64(n.Value)), nil
		}
		l, err := walk(n.Left)
		if err != nil {
			return nil, err
		}
		r, err := walk(n.Right)
		if err != nil {
			return nil, err
		}
		v, err := apply(n.Op, l, r)
		if errors.Is(err, ErrDivisionByZero) {
			steps = append(steps, l.RatString()+"/0")
		}
		if err != nil {
			return nil, err
		}
		steps = append(steps, l.RatString()+string(n.Op)+r.RatString()+"="+v.RatString())
		return v, nil
	}
	v, err := walk(e)
	if e.Op == 0 {
		steps = []string{strconv.Itoa(e.Value)}
	}
	return strings.Join(steps, ", "), v, err
}

// SolveResponse is the response of a solve document for a solution: its
// steps in the think block, then the expression in answer tags. The base
// prompt ends with "<think>", so the response opens inside it.
func SolveResponse(solution *Expr) (string, error) {
	steps, _, err := Steps(solution)
	if err != nil {
		return "", err
	}
	return " " + steps + " </think> <answer> " + solution.String() + " </answer>", nil
}

// CheckResponse is the response of a verify document for a candidate: the
// candidate evaluated in steps, whether it uses the given numbers, its
// value against the target, and the exact verifier's verdict. A candidate
// that does not parse is called invalid.
func CheckResponse(expr string, nums []int, target int) string {
	e, verdict := parseCandidate(expr, nums, target)
	if e == nil {
		return " invalid " + verdict
	}
	steps, v, err := Steps(e)
	var sb strings.Builder
	sb.WriteString(" " + steps)
	if numbersMismatch(e.Numbers(), nums) == "" {
		sb.WriteString("; numbers ok")
	} else {
		sb.WriteString("; numbers wrong")
	}
	writeValueCheck(&sb, v, err, target)
	sb.WriteString(" " + verdict)
	return sb.String()
}

// ExplicitCheckResponse is the response of a verify document that checks
// its candidate one judgement at a time: the target copied first, then each
// number of the candidate looked up among the given ones ("44 ok", "44
// twice" when it was used up, "47 no" when it is not given; a given number
// left over is "35 left"), then the evaluation in steps and the value
// against the target, and the exact verifier's verdict. The words are
// short so that a P2 request and its check fit 256 positions.
//
//	28: 44 ok, 19 ok, 35 ok; 44+19=63, 63-35=28; 28 = 28 \boxed{True}
func ExplicitCheckResponse(expr string, nums []int, target int) string {
	return lookUpCheck(expr, nums, target, true)
}

// LookupCheckResponse is the response of a verify document that looks up
// each number of the candidate among the given ones as
// ExplicitCheckResponse does ("44 ok", "44 twice", "47 no", "35 left"),
// evaluates it in steps, then writes its value and the target side by
// side and whether they are equal ("28 vs 28 ok", "61 vs 91 no"), and
// gives the exact verifier's verdict. Writing the target after "vs"
// whatever the verdict teaches a model to copy it from the prompt: a
// check that wrote "28 = 28" only when they were equal would teach it to
// repeat the value.
//
//	44 ok, 19 ok, 35 ok; 44+19=63, 63-35=28; 28 vs 28 ok \boxed{True}
func LookupCheckResponse(expr string, nums []int, target int) string {
	return lookUpCheck(expr, nums, target, false)
}

// lookUpCheck writes the checks that look each number up: with
// targetFirst the target copied first and the value compared as
// CheckResponse does ("28 = 28"), otherwise the value written beside the
// target ("28 vs 28 ok").
func lookUpCheck(expr string, nums []int, target int, targetFirst bool) string {
	e, verdict := parseCandidate(expr, nums, target)
	if e == nil {
		return " invalid " + verdict
	}
	var sb strings.Builder
	if targetFirst {
		sb.WriteString(" " + strconv.Itoa(target) + ":")
	}
	writeLookups(&sb, e.Numbers(), nums)
	steps, v, err := Steps(e)
	sb.WriteString("; " + steps)
	switch {
	case targetFirst || err != nil:
		writeValueCheck(&sb, v, err, target)
	case v.Cmp(new(big.Rat).SetInt64(int64(target))) == 0:
		sb.WriteString("; " + v.RatString() + " vs " + strconv.Itoa(target) + " ok")
	default:
		sb.WriteString("; " + v.RatString() + " vs " + strconv.Itoa(target) + " no")
	}
	sb.WriteString(" " + verdict)
	return sb.String()
}

// writeLookups writes the look-up of each number of a candidate among the
// given ones: "ok" while an unused copy is left, "twice" when it was used
// up, "no" when it is not given; then each given number left over.
func writeLookups(sb *strings.Builder, used, nums []int) {
	left := slices.Clone(nums)
	for i, v := range used {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(" " + strconv.Itoa(v))
		switch j := slices.Index(left, v); {
		case j >= 0:
			left = slices.Delete(left, j, j+1)
			sb.WriteString(" ok")
		case slices.Contains(nums, v):
			sb.WriteString(" twice")
		default:
			sb.WriteString(" no")
		}
	}
	for _, v := range left {
		sb.WriteString(", " + strconv.Itoa(v) + " left")
	}
}

// parseCandidate returns the exact verifier's verdict on a candidate, as
// the check's last word, and the candidate parsed; nil when it does not
// parse or is empty (the check then calls it invalid).
func parseCandidate(expr string, nums []int, target int) (*Expr, string) {
	verdict := `\boxed{False}`
	if DefaultVerifier().CheckExpression(expr, nums, target).Outcome == Correct {
		verdict = `\boxed{True}`
	}
	e, err := Parse(expr)
	if err != nil || strings.TrimSpace(expr) == "" {
		return nil, verdict
	}
	return e, verdict
}

// writeValueCheck ends a check's evaluation: the candidate's value against
// the target, or the division by zero that left it without one.
func writeValueCheck(sb *strings.Builder, v *big.Rat, err error, target int) {
	switch {
	case err != nil:
		sb.WriteString("; division by zero")
	case v.Cmp(new(big.Rat).SetInt64(int64(target))) == 0:
		sb.WriteString("; " + v.RatString() + " = " + strconv.Itoa(target))
	default:
		sb.WriteString("; " + v.RatString() + " != " + strconv.Itoa(target))
	}
}

// streamCandidates is the second PCG word of a corpus's candidate draws,
// beside its seed.
const streamCandidates = 0x63616e646964 // "candid"

// BuildCorpus draws the corpus: cfg.Solve solve documents, then cfg.Verify
// verify documents, each from an instance of the public distribution
// (DefaultGenConfig) seeded with cfg.Seed that is in neither of the
// world's splits (compared up to the order of the numbers).
func BuildCorpus(cfg CorpusConfig) ([]Document, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	exclude, err := splitKeys()
	if err != nil {
		return nil, err
	}
	gen, err := NewGenerator(DefaultGenConfig(), cfg.Seed)
	if err != nil {
		return nil, err
	}
	next := func() (Instance, *Expr, error) {
		for {
			inst, err := gen.Next()
			if err != nil {
				return Instance{}, nil, err
			}
			if exclude[key(inst)] {
				continue
			}
			sol, err := Parse(inst.Solution)
			if err != nil {
				return Instance{}, nil, fmt.Errorf("the generator's solution %q does not parse: %w", inst.Solution, err)
			}
			return inst, sol, nil
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, streamCandidates))
	docs := make([]Document, 0, cfg.Solve+cfg.Verify)
	for i := range cfg.Solve {
		inst, sol, err := next()
		if err != nil {
			return nil, fmt.Errorf("solve document %d: %w", i, err)
		}
		resp, err := SolveResponse(sol)
		if err != nil {
			return nil, fmt.Errorf("solve document %d: %w", i, err)
		}
		docs = append(docs, Document{Prompt: BasePrompt(inst.Numbers, inst.Target), Response: resp, Kind: "solve"})
	}
	prompts := make([]VerifyPrompt, len(cfg.Prompts))
	for i, p := range cfg.Prompts {
		prompts[i], _ = ParseVerifyPrompt(p)
	}
	weights := cfg.Candidates.weights()
	for i := range cfg.Verify {
		inst, sol, err := next()
		if err != nil {
			return nil, fmt.Errorf("verify document %d: %w", i, err)
		}
		kind := CandidateKinds[pick(rng, weights)]
		cand := MakeCandidate(rng, kind, inst.Numbers, inst.Target, sol)
		p := prompts[rng.IntN(len(prompts))]
		req, err := VerifyRequest(p, cand, inst.Numbers, inst.Target)
		if err != nil {
			return nil, err
		}
		var resp string
		switch cfg.Check {
		case CheckExplicit:
			resp = ExplicitCheckResponse(cand, inst.Numbers, inst.Target)
		case CheckLookup:
			resp = LookupCheckResponse(cand, inst.Numbers, inst.Target)
		default:
			resp = CheckResponse(cand, inst.Numbers, inst.Target)
		}
		docs = append(docs, Document{Prompt: req, Response: resp, Kind: "verify-" + kind})
	}
	for i := range cfg.Drill {
		resp, err := drillResponse(rng, next)
		if err != nil {
			return nil, fmt.Errorf("drill document %d: %w", i, err)
		}
		docs = append(docs, Document{Response: resp, Kind: "drill"})
	}
	for i := range cfg.Lookup {
		inst, _, err := next()
		if err != nil {
			return nil, fmt.Errorf("lookup document %d: %w", i, err)
		}
		docs = append(docs, Document{Response: lookupResponse(rng, inst.Numbers), Kind: "lookup"})
	}
	return docs, nil
}

// lookupProbes is how many numbers a look-up document asks about.
const lookupProbes = 16

// lookupResponse writes a look-up document: the instance's numbers, then
// lookupProbes numbers each followed by "ok" when it is one of them and
// "no" when not (" [11, 30, 78]: 10 no, 30 ok, 87 no, ..."), the words a
// check uses (ExplicitCheckResponse). Half the probes are given numbers;
// the others are mostly near them (a digit changed, the digits swapped,
// one to nine off), which a check must tell apart, and otherwise any
// number in 1-99.
func lookupResponse(rng *rand.Rand, nums []int) string {
	var sb strings.Builder
	sb.WriteString(" " + FormatNumbers(nums) + ":")
	for i := range lookupProbes {
		v := nums[rng.IntN(len(nums))]
		if rng.IntN(2) == 0 {
			v = nearNumber(rng, v)
		}
		if i > 0 {
			sb.WriteByte(',')
		}
		word := " no"
		if slices.Contains(nums, v) {
			word = " ok"
		}
		sb.WriteString(" " + strconv.Itoa(v) + word)
	}
	return sb.String()
}

// nearNumber returns a number in 1-99 that looks like v: v with one digit
// changed, its digits swapped, v moved by 1 to 9, or (one time in four)
// any number.
func nearNumber(rng *rand.Rand, v int) int {
	for {
		var w int
		switch rng.IntN(4) {
		case 0:
			if v >= 10 && rng.IntN(2) == 0 {
				w = (1+rng.IntN(9))*10 + v%10
			} else {
				w = v/10*10 + rng.IntN(10)
			}
		case 1:
			w = v%10*10 + v/10
		case 2:
			w = v + (1 + rng.IntN(9))
			if rng.IntN(2) == 0 {
				w = v - (1 + rng.IntN(9))
			}
		default:
			w = 1 + rng.IntN(99)
		}
		if w >= 1 && w <= 99 && w != v {
			return w
		}
	}
}

// DrillChars bounds the length of a drill document's response, which
// leaves room in the models' 256 positions.
const DrillChars = 160

// drillMaxValue bounds every value of a drill expression: beyond four
// digits the products of a policy's wrong guesses are rare, and a small
// model spends its capacity better on the values checks meet.
const drillMaxValue = 9999

// drillResponse writes one drill document: expressions over the numbers
// of fresh instances, each worked out in steps as a check writes them
// ("44+19=63, 63-35=28"), separated by "; " until DrillChars. Half are the
// instance's solution (with + and * operands swapped at random), half
// random expressions over its numbers, so that the operations are those
// both of solving and of judging wrong candidates; an expression with a
// fraction, a division by zero or a value beyond drillMaxValue is drawn
// again.
func drillResponse(rng *rand.Rand, next func() (Instance, *Expr, error)) (string, error) {
	var sb strings.Builder
	for tries := 0; tries < 256; tries++ {
		inst, sol, err := next()
		if err != nil {
			return "", err
		}
		e := shuffleCommutative(rng, sol)
		if rng.IntN(2) == 0 {
			e = randomCandidate(rng, shuffled(rng, inst.Numbers))
		}
		if !drillable(e) {
			continue
		}
		steps, _, err := Steps(e)
		if err != nil {
			continue
		}
		sep := "; "
		if sb.Len() == 0 {
			sep = " "
		}
		if sb.Len()+len(sep)+len(steps) > DrillChars {
			break
		}
		sb.WriteString(sep + steps)
	}
	if sb.Len() == 0 {
		return "", errors.New("no expression fits a drill document")
	}
	return sb.String(), nil
}

// drillable reports whether every value of e is an integer within
// drillMaxValue in magnitude.
func drillable(e *Expr) bool {
	v, err := e.Eval()
	if err != nil || !v.IsInt() || v.Num().CmpAbs(big.NewInt(drillMaxValue)) > 0 {
		return false
	}
	return e.Op == 0 || drillable(e.Left) && drillable(e.Right)
}

// splitKeys returns the keys of every instance of the world's splits,
// computed once: a corpus draw must skip them, and drawing the splits
// (with a solver run per instance) costs more than most corpora.
var splitKeys = sync.OnceValues(func() (map[string]bool, error) {
	train, val, err := Splits()
	if err != nil {
		return nil, err
	}
	keys := make(map[string]bool, len(train)+len(val))
	for _, inst := range slices.Concat(train, val) {
		keys[key(inst)] = true
	}
	return keys, nil
})

// pick draws an index with probability proportional to its weight.
func pick(rng *rand.Rand, w []float64) int {
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	u := rng.Float64() * sum
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return 0
}

// MakeCandidate writes a candidate answer of the given kind for the
// instance (sol is one of its solutions). Every kind but KindCorrect is
// wrong by the exact verifier in its own way; a draw that is not (a wrong
// value that equals the target, a reuse of a number the instance holds
// twice) is redrawn, and after many tries the kind falls back to a
// malformed candidate, which is always wrong.
func MakeCandidate(rng *rand.Rand, kind string, nums []int, target int, sol *Expr) string {
	if kind == KindCorrect {
		return shuffleCommutative(rng, sol).String()
	}
	tries := 64
	if kind == KindNearValue {
		tries = 400 // few random expressions land near the target
	}
	for range tries {
		var e *Expr
		switch kind {
		case KindWrongValue:
			e = randomCandidate(rng, shuffled(rng, nums))
		case KindMissing:
			s := shuffled(rng, nums)
			e = randomCandidate(rng, s[1:])
		case KindReused:
			s := shuffled(rng, nums)
			s[0] = s[1]
			e = randomCandidate(rng, shuffled(rng, s))
		case KindForeign:
			s := shuffled(rng, nums)
			for slices.Contains(nums, s[0]) {
				s[0] = 1 + rng.IntN(99)
			}
			e = randomCandidate(rng, shuffled(rng, s))
		case KindNearValue:
			e = randomCandidate(rng, shuffled(rng, nums))
			if v, err := e.Eval(); err != nil || !v.IsInt() || absInt(int(v.Num().Int64())-target) > 10 {
				continue
			}
		case KindNearNumber:
			e = nudgeNumber(rng, shuffleCommutative(rng, sol))
		default:
			return malformed(rng, sol, target)
		}
		// Keep a draw that is wrong in its kind's way: a wrong value uses
		// the numbers right, the other kinds use them wrong (an instance
		// with a repeated number can turn a reuse into a right use).
		out := DefaultVerifier().CheckExpression(e.String(), nums, target).Outcome
		valueKind := kind == KindWrongValue || kind == KindNearValue
		if out == WrongValue && valueKind || out == WrongNumbers && !valueKind {
			return e.String()
		}
	}
	if kind == KindNearValue {
		// No expression of these numbers lands near the target: a wrong
		// value at any distance.
		return MakeCandidate(rng, KindWrongValue, nums, target, sol)
	}
	return malformed(rng, sol, target)
}

// malformed writes one of the non-expressions a policy produces: an
// equation, a dangling operator, an unclosed parenthesis, or nothing.
func malformed(rng *rand.Rand, sol *Expr, target int) string {
	s := sol.String()
	switch rng.IntN(4) {
	case 0:
		return s + " = " + strconv.Itoa(target)
	case 1:
		return s + " " + string("+-*/"[rng.IntN(4)])
	case 2:
		return "(" + s
	}
	return ""
}

// nudgeNumber returns e with one of its numbers (drawn uniformly) moved
// up or down by 1 to 9, staying positive.
func nudgeNumber(rng *rand.Rand, e *Expr) *Expr {
	leaves := len(e.Numbers())
	k := rng.IntN(leaves)
	var walk func(*Expr) *Expr
	walk = func(n *Expr) *Expr {
		if n.Op == 0 {
			v := n.Value
			if k == 0 {
				d := 1 + rng.IntN(9)
				if rng.IntN(2) == 0 && v-d >= 1 {
					d = -d
				}
				v += d
			}
			k--
			return Num(v)
		}
		l := walk(n.Left)
		return Bin(n.Op, l, walk(n.Right))
	}
	return walk(e)
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func shuffled(rng *rand.Rand, nums []int) []int {
	s := slices.Clone(nums)
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}

// randomCandidate builds a random expression over nums in their order: a
// random split into a left and right part and a random operator at each
// node; a division is only drawn where it is exact, as people and models
// mostly write them.
func randomCandidate(rng *rand.Rand, nums []int) *Expr {
	if len(nums) == 1 {
		return Num(nums[0])
	}
	k := 1 + rng.IntN(len(nums)-1)
	l, r := randomCandidate(rng, nums[:k]), randomCandidate(rng, nums[k:])
	op := "+-*/"[rng.IntN(4)]
	if op == '/' {
		lv, err1 := l.Eval()
		rv, err2 := r.Eval()
		if err1 != nil || err2 != nil || rv.Sign() == 0 || !new(big.Rat).Quo(lv, rv).IsInt() {
			op = "+-*"[rng.IntN(3)]
		}
	}
	return Bin(op, l, r)
}

// shuffleCommutative returns a copy of e with the operands of each + and *
// swapped at random: the same solution written another way.
func shuffleCommutative(rng *rand.Rand, e *Expr) *Expr {
	if e.Op == 0 {
		return Num(e.Value)
	}
	l, r := shuffleCommutative(rng, e.Left), shuffleCommutative(rng, e.Right)
	if (e.Op == '+' || e.Op == '*') && rng.IntN(2) == 0 {
		l, r = r, l
	}
	return Bin(e.Op, l, r)
}

// operationPattern matches an operation as the corpora write them, "a op
// b=c", where a, b and c are integers or fractions ("19/35+44=1559/35")
// and may be negative ("10--9=19").
var operationPattern = regexp.MustCompile(`(-?\d+(?:/\d+)?)([-+*/])(-?\d+(?:/\d+)?)=(-?\d+(?:/\d+)?)`)

// Operations finds the operations written in a text the way solve and
// verify documents write them ("44+19=63, 63-35=28") and counts those
// whose result is exact: how well a model's arithmetic holds when it
// solves and when it checks. A division by zero is counted as not exact.
func Operations(text string) (ops, exact int) {
	for _, m := range operationPattern.FindAllStringSubmatch(text, -1) {
		a, okA := new(big.Rat).SetString(m[1])
		b, okB := new(big.Rat).SetString(m[3])
		c, okC := new(big.Rat).SetString(m[4])
		if !okA || !okB || !okC {
			continue // a zero denominator ("3/0")
		}
		ops++
		if v, err := apply(m[2][0], a, b); err == nil && v.Cmp(c) == 0 {
			exact++
		}
	}
	return ops, exact
}
