package foreignlog

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/runlog"
)

// A rename is one trainer metric that means the same as a urlvr metric.
// Rank orders several sources of one urlvr key: the lowest present wins.
type renameRule struct {
	to   string
	rank int
}

// veRL's names (verl/trainer/ppo/metric_utils.py and the actor workers):
// critic/score is the sequence-level score the reward function returned,
// which under an unsupervised reward is the proxy reward; critic/rewards is
// the same after the in-reward KL penalty, used only when score is absent.
var verlNames = map[string]renameRule{
	"critic/score/mean":          {runlog.KeyProxyReward, 0},
	"critic/rewards/mean":        {runlog.KeyProxyReward, 1},
	"actor/entropy":              {runlog.KeyEntropy, 0},
	"actor/entropy_loss":         {runlog.KeyEntropy, 1},
	"response_length/mean":       {runlog.KeyResponseLength, 0},
	"response_length/clip_ratio": {runlog.KeyTruncated, 0},
	"actor/kl_loss":              {runlog.KeyKL, 0},
	"actor/reward_kl_penalty":    {runlog.KeyKL, 1},
	"actor/pg_loss":              {runlog.KeyPGLoss, 0},
	"actor/pg_clipfrac":          {runlog.KeyClipFraction, 0},
	"actor/ppo_kl":               {runlog.KeyPPOKL, 0},
	"actor/grad_norm":            {runlog.KeyGradNorm, 0},
	"actor/lr":                   {runlog.KeyLR, 0},
	"timing_s/step":              {runlog.KeyStepSeconds, 0},
	"timing_s/gen":               {runlog.KeySampleSeconds, 0},
	"timing_s/update_actor":      {runlog.KeyUpdateSeconds, 0},
	"training/epoch":             {runlog.KeyEpoch, 0},
}

// TRL's GRPOTrainer names (trl/trainer/grpo_trainer.py). reward is the
// weighted sum of the reward functions, the proxy; TRL's accuracy_reward
// compares with the dataset's solution, the ground truth.
var trlNames = map[string]renameRule{
	"reward":                       {runlog.KeyProxyReward, 0},
	"rewards/accuracy_reward/mean": {runlog.KeyGroundTruthReward, 0},
	"rewards/accuracy_reward":      {runlog.KeyGroundTruthReward, 1},
	"kl":                           {runlog.KeyKL, 0},
	"entropy":                      {runlog.KeyEntropy, 0},
	"completions/mean_length":      {runlog.KeyResponseLength, 0},
	"completion_length":            {runlog.KeyResponseLength, 1},
	"completions/clipped_ratio":    {runlog.KeyTruncated, 0},
	"grad_norm":                    {runlog.KeyGradNorm, 0},
	"learning_rate":                {runlog.KeyLR, 0},
	"loss":                         {runlog.KeyLoss, 0},
	"frac_reward_zero_std":         {runlog.KeyZeroVariance, 0},
	"clip_ratio/region_mean":       {runlog.KeyClipFraction, 0},
	"step_time":                    {runlog.KeyStepSeconds, 0},
	"epoch":                        {runlog.KeyEpoch, 0},
}

// dynamicsNames are the paper's B.2 training-dynamics metrics. Trainers that
// compute them (TTRL on veRL, urlvr's reward service through a custom
// metric hook) log them under some prefix; the last path segment is the
// name.
var dynamicsNames = map[string]bool{
	"reward_accuracy": true, "label_accuracy": true, "majority_ratio": true,
	"ground_truth_reward": true, "proxy_reward": true, "point_biserial": true,
	"zero_variance_fraction": true, "no_answer_fraction": true,
}

// veRL validation: val-core/<data source>/<variable>/mean@N is the mean
// score over N samples per problem (avg@N); maj@N/mean and best@N/mean are
// majority and best-of-N (pass@N for a 0/1 score). The data source may
// itself hold slashes (openai/gsm8k). Older releases log val/test_score/<ds>.
var (
	verlValMean = regexp.MustCompile(`^val-(?:core|aux)/(.+)/(acc|reward|score)/mean@(\d+)$`)
	verlValMaj  = regexp.MustCompile(`^val-(?:core|aux)/(.+)/(acc|reward|score)/maj@(\d+)/mean$`)
	verlValBest = regexp.MustCompile(`^val-(?:core|aux)/(.+)/(acc|reward|score)/best@(\d+)/mean$`)
	verlValOld  = regexp.MustCompile(`^val/test_score/(.+)$`)
)

// MapName returns urlvr's name for a trainer's metric, if it has one.
func MapName(fm Format, name string) (string, bool) {
	r, ok := rule(fm, name)
	return r.to, ok
}

// priority orders a row's keys so that preferred sources come first.
func priority(fm Format, name string) int {
	if r, ok := rule(fm, name); ok {
		return r.rank
	}
	return 9
}

func rule(fm Format, name string) (renameRule, bool) {
	table := trlNames
	if fm == VeRLConsole || fm == VeRLFile {
		table = verlNames
	}
	if r, ok := table[name]; ok {
		return r, true
	}
	if fm != TRLState {
		// acc is the ground-truth check that veRL's default scorers add;
		// rank it before the reward, which may be a proxy.
		rank := func(v string) int {
			if v == "acc" {
				return 0
			}
			return 1
		}
		for _, v := range []struct {
			re     *regexp.Regexp
			metric func(k int) string
		}{{verlValMean, runlog.Avg}, {verlValMaj, runlog.Maj}, {verlValBest, runlog.Pass}} {
			if m := v.re.FindStringSubmatch(name); m != nil {
				k, err := strconv.Atoi(m[3])
				if err != nil {
					return renameRule{}, false // more digits than an int holds
				}
				return renameRule{runlog.ValidationKey(m[1], v.metric(k)), rank(m[2])}, true
			}
		}
		if m := verlValOld.FindStringSubmatch(name); m != nil {
			return renameRule{runlog.ValidationKey(m[1], runlog.Avg(1)), 2}, true
		}
	}
	if strings.HasPrefix(name, "val") || strings.HasPrefix(name, "eval") {
		return renameRule{}, false
	}
	last := name[strings.LastIndex(name, "/")+1:]
	if dynamicsNames[last] {
		return renameRule{runlog.TrainPrefix + last, 3}, true
	}
	return renameRule{}, false
}
