// Package dashboard serves a local web page for watching urlvr runs while
// they train and for comparing them afterwards: the paper's panels (proxy
// against ground-truth reward, reward and label accuracy, validation with
// confidence intervals, actor entropy, response length, KL, step time;
// paper Sec. 4-5, Figs. 2-4, Appendix B.2), the run's events on the step
// axis, its sample rollouts, several runs overlaid, and the views of a study
// (the Model Collapse Step against the ground-truth gain, Sec. 6; sub-runs
// side by side). It also reads the logs of runs trained by veRL and TRL
// (package foreignlog) and flags their collapse and proxy/ground-truth
// divergence.
//
// The page and its chart library (uPlot, vendored unmodified with its
// license under web/vendor/uplot) are embedded in the binary, so the
// dashboard works offline. The server only reads: it finds runs under the
// directories it is given, keeps a parsed copy of each log and reads what
// was appended since (by byte offset) when the page polls, so a new metrics
// line shows within the page's poll interval (1 s). Logs are read
// generically, every numeric field as a series by its name, so new metric
// names need no change here. A line that is not JSON is skipped and
// counted; a torn last line waits for the rest of it. Long series are
// reduced to the minimum and maximum of each of a fixed number of step
// buckets before they are sent, so a run of 100k steps draws as fast as a
// short one and no spike is lost.
//
// Nothing outside the given directories is ever served: a URL names a run
// by the identifier the scan gave it, never by a path, and every file is
// resolved (symbolic links included) and checked to lie under its root
// before it is opened.
package dashboard
