// Package datasets holds the datasets urlvr ships, in the {prompt,
// answer, data_source} layout of real datasets: the synthetic arithmetic
// world's splits in arith/ (written by `urlvr world gen`, package
// task/arith). The large held-out sets, which studies decide on, are
// embedded here so that a urlvr binary validates on them wherever it runs;
// the other splits are regenerated from their seeds in milliseconds.
package datasets

import "embed"

// FS holds the embedded datasets.
//
//go:embed arith/arith-large-*.jsonl
var FS embed.FS
