// Package report turns a run directory into the paper's figures: proxy
// reward against ground-truth reward, reward and label accuracy, validation
// accuracy per set, actor entropy, response length and KL to the reference
// (paper Sec. 4-5 and Figures 2-4). It reads the run's metrics.jsonl and
// validation.jsonl, so any run that writes those files, from urlvr or
// another trainer, can be plotted.
package report
