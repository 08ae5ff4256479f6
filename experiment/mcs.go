package experiment

import (
	"errors"
	"fmt"
	"slices"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/train"
)

// The rewards of the Model Collapse Step study, as reward estimator names.
const (
	MajorityVoting = "majority_voting"
	GroundTruth    = "ground_truth"
)

// GainBasis chooses which validation accuracy of the ground-truth run
// counts as its gain over the start.
type GainBasis string

const (
	// GainFinal is the accuracy after the last step minus the start: the
	// paper's GT Gain, measured after a fixed training budget.
	GainFinal GainBasis = "final"
	// GainBest is the best validation minus the start; it is never
	// negative and, being a maximum over noisy validations, biased upward.
	GainBest GainBasis = "best"
)

// ParseGainBasis reads "final" or "best".
func ParseGainBasis(s string) (GainBasis, error) {
	switch g := GainBasis(s); g {
	case GainFinal, GainBest:
		return g, nil
	case "":
		return GainFinal, nil
	}
	return "", fmt.Errorf("gain basis %q: want final or best", s)
}

// MCSOptions configure the Model Collapse Step study (paper Sec. 6.2-6.3).
type MCSOptions struct {
	Options
	// Models are base model names of the shipped suite or model
	// directories; nil is every shipped model.
	Models []string
	// MVOverrides apply to the majority-voting runs only and GTOverrides to
	// the ground-truth runs only, after Options.Overrides: the paper
	// measures the Model Collapse Step with aggressive hyperparameters
	// (Sec. 6.3) and the GT gain with the standard ones.
	MVOverrides, GTOverrides []string
	// Gain is the GT gain the correlations use; "" is GainFinal.
	Gain GainBasis
	// Robustness adds paper Fig. 12's sub-study: per model, the
	// majority-voting run again with each of MCSVariants, and the
	// agreement of their Model Collapse Step rankings with the default.
	Robustness bool
}

// MinStudyModels is the fewest models a study correlates: with two, any
// rank correlation is +1 or -1.
const MinStudyModels = 3

// The study's defaults, before the user's overrides. The majority-voting
// runs use the paper's aggressive settings (Sec. 6.3): one prompt per
// mini-batch, so a step of global_batch prompts makes global_batch updates,
// N = 8 rollouts, the recipe's learning rate, trainer.steps as the cap, and
// 256 validation samples on large-mid (200 problems) so that the first
// validation gives pass@256 - pass@1, at the start and at the cap only (a
// validation of 256 samples costs more than tens of steps, and the Model
// Collapse Step needs none). The ground-truth
// runs train one epoch of the training set
// (trainer.steps = 0 means trainer.epochs); --gt-set trainer.steps=S sets
// another budget. They validate every 50 steps (and at the end): the gain
// needs only the start and the end, and validation draws from its own
// generator, so how often it runs changes nothing the run trains. Each
// 4,800-sample validation costs about 2 s of CPU on a d=64 model; at the
// recipe's every 10 steps a 532-step epoch validated 54 times instead of 12.
var (
	mcsMVDefaults = []string{"early_stop.enabled=true", "early_stop.collapse=true", "trainer.mini_batch=1", "rollout.n=8", "eval.n=256", "eval.every=100", "data.validation=[world:large-mid]"}
	mcsGTDefaults = []string{"early_stop.enabled=false", "trainer.steps=0", "trainer.epochs=1", "eval.every=50"}
)

// MCSVariant is one robustness setting of paper Fig. 12: the rollouts per
// prompt or the prompts per mini-batch changed from the default.
type MCSVariant struct {
	Name  string
	apply func(cfg *train.Config)
}

// MCSVariants are Fig. 12's settings besides the default N = 8, one
// prompt per mini-batch: N = 16 and 32, and mini-batches of 8 prompts and
// of the whole batch (on-policy, one update per step).
var MCSVariants = []MCSVariant{
	{"n16", func(c *train.Config) { c.Rollout.N = 16 }},
	{"n32", func(c *train.Config) { c.Rollout.N = 32 }},
	{"mb8", func(c *train.Config) { c.Trainer.MiniBatch = 8 }},
	{"mbfull", func(c *train.Config) { c.Trainer.MiniBatch = c.Trainer.GlobalBatch }},
}

// variantRun is the sub-run name of a model's majority-voting run under a
// robustness variant.
func variantRun(label, variant string) string { return label + "/" + MajorityVoting + "-" + variant }

// mcsSettings is what study.json records for an MCS study.
type mcsSettings struct {
	Kind        string   `json:"kind"`
	Recipe      string   `json:"recipe"`
	Overrides   []string `json:"overrides"`
	MVOverrides []string `json:"mv_overrides"`
	GTOverrides []string `json:"gt_overrides"`
	Models      []string `json:"models"`
	Robustness  bool     `json:"robustness,omitempty"`
}

// mcsOwned are the keys the MCS study sets per sub-run.
var mcsOwned = map[string]string{
	"model.base":       "choose models with --models",
	"reward.estimator": "the study runs majority voting and ground truth",
	"name":             "sub-runs are named <model>/<reward>",
	"trainer.out_dir":  "sub-runs live in <out>/runs",
}

// MCSResult is one base model's row of the study.
type MCSResult struct {
	Model string `json:"model"`
	// Collapsed says whether the majority-voting run's reward accuracy
	// fell below the threshold within StepCap steps; CollapseStep is then
	// the Model Collapse Step.
	Collapsed    bool    `json:"collapsed"`
	CollapseStep int     `json:"collapse_step,omitempty"`
	Threshold    float64 `json:"collapse_threshold"`
	StepCap      int     `json:"step_cap"`
	MVSteps      int     `json:"mv_steps"` // steps the majority-voting run trained
	// MinRewardAccuracy is the lowest (smoothed) reward accuracy of the
	// majority-voting run and its step: how close a survivor came.
	MinRewardAccuracy     float64 `json:"min_reward_accuracy"`
	MinRewardAccuracyStep int     `json:"min_reward_accuracy_step"`
	// MCSTokens is the cost of measuring the Model Collapse Step by paper
	// Table 3's accounting: response tokens × rollouts × steps × batch,
	// over the steps up to the one that detected the collapse (all steps
	// without one), with the response length measured at every step.
	MCSTokens         int64   `json:"mcs_tokens"`
	MCSResponseLength float64 `json:"mcs_response_length"`
	// Validation of the majority-voting run (mean avg@k over the sets).
	MVStart float64 `json:"mv_start"`
	MVBest  float64 `json:"mv_best"`
	MVFinal float64 `json:"mv_final"`

	// The ground-truth RLVR run: validation at the start, best and end,
	// the gains, and its token cost by the same accounting.
	GTSteps     int     `json:"gt_steps"`
	GTStart     float64 `json:"gt_start"`
	GTBest      float64 `json:"gt_best"`
	GTBestStep  int     `json:"gt_best_step"`
	GTFinal     float64 `json:"gt_final"`
	GTGainFinal float64 `json:"gt_gain_final"`
	GTGainBest  float64 `json:"gt_gain_best"`
	// GTGainFinalCI and GTGainBestCI are 95% paired-bootstrap intervals of
	// the gains over the validation problems (from the run's
	// validation_problems.jsonl; nil for a run that has none).
	GTGainFinalCI *metrics.Interval `json:"gt_gain_final_ci,omitempty"`
	GTGainBestCI  *metrics.Interval `json:"gt_gain_best_ci,omitempty"`
	GTTokens      int64             `json:"gt_tokens"`

	// PassKGain is the static baseline of paper Fig. 11: pass@K - pass@1
	// of the base model at step 0 (K = PassK, the largest k validated;
	// the study's default is 256), averaged over the sets.
	PassKGain float64 `json:"pass_k_gain"`
	PassK     int     `json:"pass_k"`
	Metric    string  `json:"metric"` // the validation metric, e.g. avg@8
	MVRun     string  `json:"mv_run"`
	GTRun     string  `json:"gt_run"`
}

// Gain returns the GT gain of the basis.
func (r MCSResult) Gain(basis GainBasis) float64 {
	if basis == GainBest {
		return r.GTGainBest
	}
	return r.GTGainFinal
}

// GainCI returns the interval of the GT gain of the basis, nil if unknown.
func (r MCSResult) GainCI(basis GainBasis) *metrics.Interval {
	if basis == GainBest {
		return r.GTGainBestCI
	}
	return r.GTGainFinalCI
}

// RankValue is the Model Collapse Step as a number to rank by: a model
// that did not collapse within StepCap steps survived longer than any that
// did, so it counts as StepCap+1 (all survivors tie).
func (r MCSResult) RankValue() float64 {
	if r.Collapsed {
		return float64(r.CollapseStep)
	}
	return float64(r.StepCap + 1)
}

// MCSText is the Model Collapse Step as the table shows it.
func (r MCSResult) MCSText() string {
	if r.Collapsed {
		return fmt.Sprint(r.CollapseStep)
	}
	return fmt.Sprintf("none within %d", r.StepCap)
}

// MCSReport is the outcome of a Model Collapse Step study.
type MCSReport struct {
	Dir          string        `json:"dir"`
	Gain         GainBasis     `json:"gain"`
	Results      []MCSResult   `json:"-"`
	Correlations []Correlation `json:"correlations"`
	// Token totals over all models by Table 3's accounting: measuring every
	// Model Collapse Step against running ground-truth RLVR on every model.
	MCSTokens int64 `json:"mcs_tokens"`
	GTTokens  int64 `json:"gt_tokens"`
	// Robustness is paper Fig. 12 when the study ran it: per variant, the
	// Model Collapse Steps and their ranking's agreement with the default.
	Robustness []MCSRobustness `json:"robustness,omitempty"`
	// Pending are the models whose runs have not finished (a report of a
	// study still training); they are left out of everything above.
	Pending []string `json:"pending,omitempty"`
	// Files are the results, table and plots written.
	Files []string `json:"-"`
}

// mcsRuns plans the study's sub-runs: for each model, majority voting with
// early stopping at the collapse, and ground truth for the same budget.
func mcsRuns(o MCSOptions) ([]subRun, error) {
	mvOpts, gtOpts := o.Options, o.Options
	mvOpts.Overrides = append(slices.Clone(o.Overrides), o.MVOverrides...)
	gtOpts.Overrides = append(slices.Clone(o.Overrides), o.GTOverrides...)
	mvBase, err := baseConfig(mvOpts, mcsMVDefaults, mcsOwned)
	if err != nil {
		return nil, err
	}
	gtBase, err := baseConfig(gtOpts, mcsGTDefaults, mcsOwned)
	if err != nil {
		return nil, err
	}
	// A recipe's estimator parameters belong to its estimator; they carry
	// over only where the study keeps that estimator.
	for _, rc := range []struct {
		cfg       *train.Config
		estimator string
	}{{&mvBase, MajorityVoting}, {&gtBase, GroundTruth}} {
		if rc.cfg.Reward.Estimator != rc.estimator {
			rc.cfg.Reward.Estimator, rc.cfg.Reward.Params = rc.estimator, nil
		}
	}
	if mvBase.Eval.Every == 0 || gtBase.Eval.Every == 0 || len(gtBase.Data.Validation) == 0 {
		return nil, errors.New("the study needs validation (eval.every > 0 and data.validation) to measure gains")
	}
	seen := map[string]string{}
	var runs []subRun
	for _, m := range o.Models {
		label := basemodel.Label(m)
		if prev, dup := seen[label]; dup {
			return nil, fmt.Errorf("models %q and %q would share the sub-run name %q", prev, m, label)
		}
		seen[label] = m
		mv, gt := mvBase, gtBase
		mv.Model.Base, gt.Model.Base = m, m
		mvRun, err := place(o.Out, mv, label+"/"+MajorityVoting)
		if err != nil {
			return nil, err
		}
		gtRun, err := place(o.Out, gt, label+"/"+GroundTruth)
		if err != nil {
			return nil, err
		}
		runs = append(runs, mvRun, gtRun)
		if !o.Robustness {
			continue
		}
		for _, v := range MCSVariants {
			cfg := mv
			v.apply(&cfg)
			r, err := place(o.Out, cfg, variantRun(label, v.Name))
			if err != nil {
				return nil, fmt.Errorf("robustness variant %s: %w", v.Name, err)
			}
			runs = append(runs, r)
		}
	}
	return runs, nil
}

// MCSRobustness is one robustness variant's Model Collapse Steps over the
// models whose variant run has finished, and its ranking's agreement
// (Kendall's tau-b) with the default setting's on the same models, and its
// Spearman correlation with the GT gain. A coefficient is nil where it is
// undefined; Note says why.
type MCSRobustness struct {
	Variant   string             `json:"variant"`
	Steps     map[string]float64 `json:"steps"` // model -> rank value (cap+1 for no collapse)
	Agreement *float64           `json:"agreement_kendall_tau_b"`
	GTGain    Correlation        `json:"gt_gain"`
	Note      string             `json:"note,omitempty"`
}
