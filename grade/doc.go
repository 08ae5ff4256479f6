// Package grade decides whether an answer is right: it extracts the final
// answer from a response (the last \boxed{...}, or the last <answer> tag for
// Countdown), parses LaTeX and plain math into an expression tree evaluated
// with exact rational arithmetic, and compares answers by value rather than
// by spelling, so "0.5", "1/2" and "\frac{1}{2}" are one answer.
//
// It implements ans(y) of the paper's Appendix B.2 and the answer
// equivalence that ensemble rewards (Table 2: majority voting, EMPO's
// semantic clusters) vote on: Classes groups a list of answers into classes
// of mutually equivalent answers. Every operation is bounded in time and
// memory, so adversarial input yields "not equal", never a hang or a panic.
package grade
