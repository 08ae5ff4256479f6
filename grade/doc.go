// Package grade decides whether an answer is right: it extracts the final
// answer from a response, parses LaTeX and plain math into an expression
// tree evaluated with exact rational arithmetic, and compares answers by
// value rather than by spelling, so "0.5", "1/2" and "\frac{1}{2}" are one
// answer.
//
// It implements ans(y) of the paper's Appendix B.2 and the answer
// equivalence that ensemble rewards (Table 2: majority voting, EMPO's
// semantic clusters) vote on: Classes groups a list of answers into classes
// of mutually equivalent answers, by the same rules Grade uses.
//
// Extraction (Grader.Extract) follows one documented priority order: the
// final run of boxes (several adjacent boxes are one list), overridden by a
// final-answer statement that follows it; the last <answer> tag; a
// final-answer statement; the last math span; a short bare answer. The
// lenient policy (the default) uses all of these, the strict one only boxes
// and tags. A gold answer given as a whole solution is extracted the same
// way.
//
// Comparison reads thousands separators (1,000, 1\,000, 1 000), repeating
// decimals (0.(3), 0.333... = 1/3), percentages, units, sets, tuples and
// intervals, labelled answers ((p,q) = (3,2) is (3,2)), chains of equalities
// (y = 2+9 = 11 is 11; a chain with a false link is wrong), inequalities
// linear in one variable as their solution sets (2x > 2 is (1, ∞)), sums and
// products term by term, and expressions with variables at random points.
// grade/RULES.md lists every rule with an example.
//
// Every operation is bounded in time and memory, so adversarial input
// yields "not equal", never a hang or a panic.
package grade
