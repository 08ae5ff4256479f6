package grade

import (
	"strings"
)

// Options configures a Grader. The zero value gives the defaults.
type Options struct {
	// RelTol is the relative tolerance for comparing numbers that are not
	// both exact rationals (irrationals, floats, expressions at random
	// points). Zero means 1e-6.
	RelTol float64
	// AbsTol is the absolute tolerance used alongside RelTol for inexact
	// values near zero. Zero means 1e-9.
	AbsTol float64
	// Points is how many random points expressions with variables are
	// compared at. Zero means 6.
	Points int
	// Seed seeds the random points (with a hash of the two answers, so a
	// comparison is deterministic and independent of call order).
	Seed uint64
	// StrictBoxed makes Grade accept only a \boxed{} / \fbox{} answer: no
	// <answer> tag, no "the answer is" fallback, no bare answer.
	StrictBoxed bool
	// Extract is the extraction policy, ExtractLenient ("" means it) or
	// ExtractStrict; see Grader.Extract.
	Extract string
	// NoBareAnswer stops Grade from treating a short one-line response
	// without answer markup as the answer itself.
	NoBareAnswer bool
}

// Grader compares answers. It holds only its options, so one Grader is safe
// for concurrent use.
type Grader struct {
	opts Options
}

// New returns a Grader with opts, zero fields replaced by defaults.
func New(opts Options) *Grader {
	if opts.RelTol <= 0 {
		opts.RelTol = 1e-6
	}
	if opts.AbsTol <= 0 {
		opts.AbsTol = 1e-9
	}
	if opts.Points <= 0 {
		opts.Points = 6
	}
	return &Grader{opts: opts}
}

var defaultGrader = New(Options{})

// Default returns the shared Grader with default options; it is safe for
// concurrent use.
func Default() *Grader { return defaultGrader }

// Options returns the grader's options with defaults filled in.
func (g *Grader) Options() Options { return g.opts }

// Result is the outcome of grading one response.
type Result struct {
	Correct bool
	Answer  string // the answer extracted from the response ("" if none)
	Reason  string // why it was judged so, or why no answer was found
}

// maxBareAnswer bounds the length of a response without answer markup that
// Grade still takes as a bare answer.
const maxBareAnswer = 256

// Grade extracts the answer from response and compares it with gold. The
// response may be a whole solution or a bare answer (see Extract for the
// policy). A gold that carries answer markup (a box, an <answer> tag, "the
// answer is") is a whole solution too, and its answer is extracted the same
// way. When the gold is a collection of several members and the response
// boxed them one by one with only short connecting phrases between the
// boxes (not a retraction such as "is wrong, the answer is"), the boxes
// together are compared as well.
func (g *Grader) Grade(response, gold string) Result {
	answer, err := g.extract(response)
	if err != nil {
		return Result{Reason: err.Error()}
	}
	gold = goldAnswer(gold)
	eq, why := g.compare(answer, gold)
	if !eq && !g.opts.StrictBoxed && strings.Count(response, "box") >= 2 {
		if all := looseBoxRun(response); len(all) >= 2 && isCollection(gold) {
			joined := strings.Join(all, ", ")
			if joined != answer {
				if eq2, why2 := g.compare(joined, gold); eq2 {
					return Result{Correct: true, Answer: joined, Reason: why2 + " (the boxes together)"}
				}
			}
		}
	}
	return Result{Correct: eq, Answer: answer, Reason: why}
}

// goldAnswer returns the answer of a gold given as a whole solution (it
// carries a box, an <answer> tag or an answer statement), else gold itself.
func goldAnswer(gold string) string {
	if !strings.Contains(gold, `\boxed`) && !strings.Contains(gold, `\fbox`) && !strings.Contains(gold, answerClose) &&
		!containsFold(gold, "answer") {
		return gold
	}
	if a, err := extractWith(gold, ExtractLenient, true); err == nil {
		return a
	}
	return gold
}

// containsFold reports whether s contains the lowercase ASCII word w in any
// case, without allocating.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		j := 0
		for j < len(w) && s[i+j]|0x20 == w[j] {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}

// isCollection reports whether answer reads as a set or list of several
// members.
func isCollection(answer string) bool {
	f := analyze(answer, newWork())
	return f.tree != nil && (f.tree.kind == kSet || f.tree.kind == kUnion) && len(f.tree.kids) >= 2
}

// Extract returns the answer Grade would take from response. The policy,
// in order of priority:
//
//  1. the final run of boxes: the last \boxed{} or \fbox{}, together with
//     the boxes just before it when only spacing, punctuation, "and" or
//     "or" separate them (\boxed{1}, \boxed{2} answers 1, 2);
//  2. (lenient) but an explicit final-answer statement ("the final answer
//     is", "the answer is", "Answer:") after that run, when it states a math
//     answer, overrides it: the boxes held an intermediate result;
//  3. the last <answer>...</answer> tag;
//  4. (lenient) a final-answer statement, reduced to its answer ("The
//     largest $n$ is 34" answers 34);
//  5. (lenient) the last math span: $...$, $$...$$, \(...\), \[...\];
//  6. (lenient, unless NoBareAnswer) a short one-line response, reduced
//     like a statement.
//
// ExtractStrict stops after step 3; StrictBoxed accepts only step 1. An
// unclosed or empty last box is an error, never a reason to fall back.
func (g *Grader) Extract(response string) (string, error) { return g.extract(response) }

// extract applies the grader's extraction policy to a response.
func (g *Grader) extract(response string) (string, error) {
	if g.opts.StrictBoxed {
		run, err := finalBoxRun(response)
		return run.Content, err
	}
	return extractWith(response, g.opts.Extract, g.opts.NoBareAnswer)
}

// Equivalent reports whether two bare answers are equivalent. Both are
// normalised ($, \left/\right, \dfrac, \text{...} and trailing units,
// degree signs, thousands separators, a final period, spacing commands) and
// read as math where they can be:
//
//   - numbers compare exactly when both are rational (0.5 = 1/2 = \frac{1}{2},
//     0.333 != 1/3), else within Options.RelTol (2\sqrt{2} = \sqrt{8});
//   - x% matches both x and x/100;
//   - tuples and intervals compare in order with their brackets ([1,2) !=
//     [1,2]); sets and bare lists ignore order and repeats; a one-element set
//     is its element; unions compare as sets of parts;
//   - "x = 3" is 3, "x \in S" is S, "x > 3" is (3, \infty); equations match
//     equations that are nonzero multiples of them;
//   - a \pm b is the set {a+b, a-b};
//   - expressions with variables are compared at Options.Points random
//     points, skipping points where either side is undefined;
//   - lone letters compare as multiple-choice labels (case-insensitive) and a
//     label matches "(B) text";
//   - prose compares case- and space-insensitively.
//
// Every step is bounded; an answer too large to evaluate equals only its
// own spelling.
func (g *Grader) Equivalent(a, b string) bool {
	eq, _ := g.compare(a, b)
	return eq
}
