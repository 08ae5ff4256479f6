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
// response may be a whole solution (the last \boxed{} answer counts, then
// the last <answer> tag, then "the answer is ...") or a bare answer.
func (g *Grader) Grade(response, gold string) Result {
	answer, err := g.extract(response)
	if err != nil {
		return Result{Reason: err.Error()}
	}
	eq, why := g.compare(answer, gold)
	return Result{Correct: eq, Answer: answer, Reason: why}
}

// Extract returns the answer Grade would take from response: the last
// boxed answer, else (unless StrictBoxed) the last <answer> tag, the prose
// fallback, or a short one-line response itself (unless NoBareAnswer).
func (g *Grader) Extract(response string) (string, error) { return g.extract(response) }

// extract applies the grader's extraction policy to a response.
func (g *Grader) extract(response string) (string, error) {
	if g.opts.StrictBoxed {
		return ExtractBoxed(response)
	}
	a, err := ExtractAnswer(response)
	if err == nil || !isAbsent(err) {
		return a, err
	}
	bare := strings.TrimSpace(response)
	if !g.opts.NoBareAnswer && bare != "" && len(bare) <= maxBareAnswer && !strings.Contains(bare, "\n") {
		return bare, nil
	}
	return "", err
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
