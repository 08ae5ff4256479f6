// Package data reads problem sets in the layouts real datasets use on the
// Hugging Face Hub and writes the plain {prompt, answer, data_source} layout,
// as JSON Lines or Parquet. It is the dataset side of the training step
// (paper Appendix B.1): DAPO-Math-17k (a chat-message prompt and
// reward_model.ground_truth), MATH-500 (problem, solution, answer), AIME and
// AMC copies (problem or question, answer as text or a number) and plain
// {prompt, answer} files all load into one Record type.
//
// The layout is recognised per record from its field names, so one loader
// serves every file, and a record that does not fit is reported with its
// file, line (or Parquet row) and field.
package data
