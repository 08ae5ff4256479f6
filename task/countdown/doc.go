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
//
// It also holds what the world's own base models are pretrained on (their
// priors are priors.yaml, built by package basemodel). Self-verification
// needs a policy that both solves and judges, so a corpus (BuildCorpus)
// mixes solve documents, the base prompt followed by the solution worked
// out in steps, and verify documents, a P1 or P2 request in the form the
// trainer sends it followed by a short check of the candidate and the exact
// verifier's verdict. The candidates are right and wrong in proportions a
// prior chooses (a wrong value, a number missing, reused or foreign, a
// malformed expression), and no corpus holds an instance of the world's
// training or validation split. The base prior reads P2 only, as the
// paper's base models only work with P2; its aligned variant is fine-tuned
// on both prompts, so the two differ in prompt sensitivity by design.
//
// The paper's prompts run to 600-1,100 characters, more than a small
// character-level model's context, so the world's tokenizer matches every
// fixed passage of them whole (PhraseTexts, cut from the prompts at their
// placeholders): a base prompt is about 20 tokens and a P2 request about
// 110-170.
package countdown
