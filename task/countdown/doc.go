// Package countdown is the Countdown arithmetic task of the paper's external
// reward study (Sec. 7, Appendix C.1): given 3-4 numbers and a target, write
// an expression that uses each number exactly once and equals the target.
// Generating a right expression is hard while checking one is easy, the
// asymmetry self-verification exploits.
//
// The package draws instances like the public Countdown-Tasks-3to4 set,
// writes base-model and chat prompts that ask for reasoning in <think> tags
// and the expression in <answer> tags, verifies answers exactly (its own
// parser, rational arithmetic, tricks rejected with a reason) with the
// reference scores 1.0 / 0.1 / 0, and renders the paper's self-verification
// prompts P1 and P2 and parses their \boxed{True}/\boxed{False} verdicts.
package countdown
