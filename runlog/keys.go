package runlog

import (
	"fmt"
	"strconv"
	"strings"
)

// The files of a run directory. Everything is plain JSONL, YAML, PNG/SVG
// and safetensors, readable without urlvr.
const (
	ConfigFile     = "config.yaml"      // the resolved recipe
	MetricsFile    = "metrics.jsonl"    // one StepRow per training step
	ValidationFile = "validation.jsonl" // one ValidationRow per validation
	// ValidationProblemsFile holds one ProblemScoresRow per set per
	// validation: the per-problem record behind validation.jsonl.
	ValidationProblemsFile = "validation_problems.jsonl"
	EventsFile             = "events.jsonl" // one EventRow per event
	SummaryFile            = "summary.json" // written when a run ends
	BestFile               = "best.json"    // the step and score of the best checkpoint
	CheckpointDir          = "checkpoints"  // step-NNNNNN/, best (a link to best-step-NNNNNN/)
	BestCheckpoint         = "best"         // in CheckpointDir: the link to the best checkpoint
	LockFile               = "run.lock"     // the writer's lock; holds its process ID
	SamplesDir             = "samples"      // step-NNNNNN.jsonl: sample rollouts
	PlotsDir               = "plots"        // the standard panels as PNG and SVG
)

// Metric keys. The row types carry the same strings as JSON tags; a test
// checks that the two agree.
const (
	KeyStep  = "step"
	KeyEpoch = "epoch"

	// The paper's training dynamics (Appendix B.2).
	KeyProxyReward       = "train/proxy_reward"
	KeyGroundTruthReward = "train/ground_truth_reward"
	KeyLabelAccuracy     = "train/label_accuracy"
	KeyRewardAccuracy    = "train/reward_accuracy"
	KeyMajorityRatio     = "train/majority_ratio"
	KeyPointBiserial     = "train/point_biserial"
	KeyZeroVariance      = "train/zero_variance_fraction"
	KeyNoAnswer          = "train/no_answer_fraction"

	// Self-verification (paper Sec. 7): the policy's verdicts on its own
	// rollouts against the exact verifier. Logged by self_verification
	// runs only.
	KeySelfVerifyReward        = "selfverify/reward"              // mean reward of the verdicts
	KeySelfVerifyOracleReward  = "selfverify/oracle_reward"       // fraction of rollouts the exact verifier accepts
	KeySelfVerifyAccuracy      = "selfverify/reward_accuracy"     // verdicts that agree with the exact verifier
	KeySelfVerifyParseRate     = "selfverify/verdict_parse_rate"  // replies with a True/False verdict
	KeySelfVerifyTruePositive  = "selfverify/true_positive_rate"  // accepted among correct rollouts
	KeySelfVerifyFalsePositive = "selfverify/false_positive_rate" // accepted among incorrect rollouts
	KeySelfVerifyTokens        = "selfverify/tokens"              // verification tokens generated in the step
	KeySelfVerifySeconds       = "perf/verify_seconds"            // wall time of the verification generations

	// The policy and its update.
	KeyEntropy          = "actor/entropy"
	KeyResponseLength   = "actor/response_length"
	KeyTruncated        = "actor/truncated_fraction"
	KeyKL               = "actor/kl"
	KeyPGLoss           = "actor/pg_loss"
	KeyLoss             = "actor/loss"
	KeyClipFraction     = "actor/clip_fraction"
	KeyDualClipFraction = "actor/dual_clip_fraction"
	KeyPPOKL            = "actor/ppo_kl"
	KeyGradNorm         = "actor/grad_norm"
	KeyLR               = "actor/lr"
	KeySkippedUpdates   = "actor/skipped_updates"

	// Wall-clock timings: the only values that differ between two runs of
	// the same seed and config.
	KeyStepSeconds     = "perf/step_seconds"
	KeySampleSeconds   = "perf/sample_seconds"
	KeyUpdateSeconds   = "perf/update_seconds"
	KeyTokensPerSecond = "perf/tokens_per_second"
	PerfPrefix         = "perf/"
	// TrainPrefix starts the keys of the training dynamics (train/...).
	TrainPrefix = "train/"
	// ActorPrefix starts the keys of the policy and its update (actor/...).
	ActorPrefix = "actor/"

	// Validation keys are ValidationPrefix + set + "/" + metric.
	ValidationPrefix = "val/"
	// MeanSet is the pseudo-set holding the mean over the validation sets.
	MeanSet = "mean"
	// LengthMetric is a set's mean response length in tokens.
	LengthMetric = "response_length"
	// CILow and CIHigh end the keys of a metric's confidence interval:
	// avg@32_ci_lo, avg@32_ci_hi.
	CILow  = "_ci_lo"
	CIHigh = "_ci_hi"
)

// Avg, Maj and Pass name the per-problem accuracies of k samples: the
// mean accuracy avg@k, the accuracy of the majority answer maj@k, and the
// unbiased pass@k.
func Avg(k int) string  { return AvgPrefix + strconv.Itoa(k) }
func Maj(k int) string  { return MajPrefix + strconv.Itoa(k) }
func Pass(k int) string { return PassPrefix + strconv.Itoa(k) }

// AvgPrefix, MajPrefix and PassPrefix start the names of Avg, Maj and
// Pass whatever k, for readers that match a metric at any k.
const (
	AvgPrefix  = "avg@"
	MajPrefix  = "maj@"
	PassPrefix = "pass@"
)

// ValidationKey is the key of a metric of a validation set,
// "val/val-easy/avg@32".
func ValidationKey(set, metric string) string { return ValidationPrefix + set + "/" + metric }

// MeanKey is the key checkpoints are ranked by: avg@k averaged over the
// validation sets, "val/mean/avg@32".
func MeanKey(k int) string { return ValidationKey(MeanSet, Avg(k)) }

// ParseValidationKey splits "val/<set>/<metric>" into its set and metric.
// A set name may hold slashes; the metric is the last element.
func ParseValidationKey(key string) (set, metric string, ok bool) {
	rest, ok := strings.CutPrefix(key, ValidationPrefix)
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// ParseAtK splits a metric name such as "pass@8" into "pass" and 8; a
// confidence-interval key ("pass@8_ci_lo") is not one.
func ParseAtK(metric string) (name string, k int, ok bool) {
	name, ks, ok := strings.Cut(metric, "@")
	if !ok {
		return "", 0, false
	}
	k, err := strconv.Atoi(ks)
	if err != nil || k <= 0 {
		return "", 0, false
	}
	return name, k, true
}

// CheckpointName is the directory, under CheckpointDir, of the checkpoint
// after step; the samples of a step are SamplesDir/CheckpointName(step).jsonl.
func CheckpointName(step int) string { return fmt.Sprintf("step-%06d", step) }
