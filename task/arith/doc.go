// Package arith is urlvr's synthetic reasoning world: arithmetic problems of
// two to five steps, grouped into families and difficulty tiers, with
// step-by-step solutions ending in \boxed{answer}, a training set in the
// place of DAPO-17k and held-out validation sets in the places of AMC23,
// AIME24 and AIME25 (paper sections 4-5, B.1), sized for small
// character-level models trained on a CPU. Solutions can carry systematic
// misconceptions at per-family rates, so models pretrained on them have
// the differing priors of paper section 6.
//
// # Texts
//
// A prompt is "Q: <expression>=?\n" and a response has one line per
// operation, then the answer: "37*4=148\n12+5=17\n148-17=131\n\boxed{131}".
// Operations are taken in post-order, left operand first. Every character is
// in Alphabet (30 characters). Prompts are at most MaxPromptLen characters
// and correct responses at most MaxResponseLen (64).
//
// # Numbers
//
// Literals are non-negative integers; a negative literal is written "(-7)"
// except where an expression starts. Division is exact: "/" gives a reduced
// fraction, so answers are integers or fractions such as "7/2" and "-5/2",
// which the grader compares by value. Dropping the remainder (21/6=3) is
// one of the misconceptions.
//
// # Families and misconceptions
//
// Six families (add-carry, mul-2digit, precedence-mix, paren-nest, neg-sub,
// frac-div), each at tiers 1-3, are generated from templates with random
// numbers (Templates). Eight misconceptions (Kinds) change either the
// result of a step (drop-carry, smaller-from-larger, mul-drop-carry,
// sign-slip, double-negative, drop-remainder) or the reading of the
// expression (ignore-precedence, drop-parens). Each family has a natural
// misconception that changes the answer of every one of its problems, so
// a writer that holds it is wrong on the whole family. A writer applies a
// held misconception at every step it fits, so wrong solutions are
// consistent, and a solution marked with misconceptions always has a wrong
// final answer.
//
// # Datasets, corpora and priors
//
// Generate, Train, Validation and Probe make the datasets; the validation
// and probe problems never appear in the training set or in a corpus.
// Large returns the large held-out sets (200 problems per tier) that
// studies decide on, since avg@k on the paper-sized 30-problem sets has a
// standard error of 0.05-0.08; GenerateLarge draws them anew, leaving out
// the training set and the built-in suite's pretraining corpora too.
// Split names every split; WriteDatasets writes them all with a manifest.
// BuildCorpus writes pretraining documents under misconception Rules.
// Priors returns the suite of base-model recipes in priors.yaml; LoadPriors
// reads a user's suite and names the key and line of any bad value.
package arith
