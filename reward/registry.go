package reward

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Spec describes one estimator of the registry.
type Spec struct {
	// Name is the snake_case name configs and the CLI use.
	Name string
	// Family is "certainty", "ensemble", "external" or "framework".
	Family string
	// Summary is a one-line description.
	Summary string
	// Params are the parameters New accepts for it.
	Params []Param
	build  func(a args) (Estimator, error)
}

// Param is one estimator parameter.
type Param struct {
	Name, Default, Doc string
}

var equivalenceParam = Param{"equivalence", "grader", "grader (equivalent answers are one vote) or string (normalised strings, as reference TTRL)"}

var specs = []Spec{
	{Name: "self_certainty", Family: "certainty",
		Summary: "RLIF: mean over tokens of KL(U || pi_t), log|V| dropped unless vocab_size is set",
		Params:  []Param{{"vocab_size", "0", "when > 0, subtract log(vocab_size) so the reward is the KL itself"}},
		build: func(a args) (Estimator, error) {
			v, err := a.integer("vocab_size", 0)
			if err == nil && v < 0 {
				err = fmt.Errorf("vocab_size %d is negative", v)
			}
			return SelfCertainty{VocabSize: v}, err
		}},
	{Name: "token_entropy", Family: "certainty",
		Summary: "EM-RL, RENT: negative mean token entropy, -(1/|y|) sum_t H(pi_t)",
		build:   func(args) (Estimator, error) { return TokenEntropy{}, nil }},
	{Name: "trajectory_entropy", Family: "certainty",
		Summary: "EM-RL: mean log-prob of the sampled tokens, (1/|y|) sum_t log pi_t(y_t)",
		build:   func(args) (Estimator, error) { return TrajectoryEntropy{}, nil }},
	{Name: "probability", Family: "certainty",
		Summary: "RLSC: probability of the response, exp(sum_t log pi_t(y_t)); 0 on float64 underflow",
		Params:  []Param{{"log_space", "false", "return the log-probability instead (never underflows)"}},
		build: func(a args) (Estimator, error) {
			b, err := a.boolean("log_space", false)
			return Probability{LogSpace: b}, err
		}},
	{Name: "probability_disparity", Family: "certainty",
		Summary: "RLSF: mean top-1 minus top-2 probability over the answer tokens (answer_token_mask)",
		Params:  []Param{{"all_tokens", "false", "average over every response token instead of the answer tokens"}},
		build: func(a args) (Estimator, error) {
			b, err := a.boolean("all_tokens", false)
			return ProbabilityDisparity{AllTokens: b}, err
		}},
	{Name: "majority_voting", Family: "ensemble",
		Summary: "TTRL: 1 if the answer is the group's most frequent answer (first seen on ties)",
		Params:  []Param{equivalenceParam},
		build: func(a args) (Estimator, error) {
			v, err := a.voting()
			return MajorityVoting{v}, err
		}},
	{Name: "soft_voting", Family: "ensemble",
		Summary: "SRT soft vote: the frequency of the rollout's answer in its group",
		Params:  []Param{equivalenceParam},
		build: func(a args) (Estimator, error) {
			v, err := a.voting()
			return SoftVoting{v}, err
		}},
	{Name: "thresholded_voting", Family: "ensemble",
		Summary: "SRT: majority voting only when the majority's frequency reaches a threshold, else all 0",
		Params:  []Param{equivalenceParam, {"threshold", "0.5", "minimum majority frequency TopCount/N in [0, 1]"}},
		build: func(a args) (Estimator, error) {
			v, err := a.voting()
			if err != nil {
				return nil, err
			}
			t, err := a.float("threshold", 0.5)
			if err == nil && (t < 0 || t > 1) {
				err = fmt.Errorf("threshold %v outside [0, 1]", t)
			}
			return ThresholdedVoting{Voting: v, Threshold: t}, err
		}},
	{Name: "co_reward", Family: "ensemble",
		Summary: "Co-Reward: question and rephrasing (two sources) each rewarded by the other's majority",
		Params:  []Param{equivalenceParam, {"self_vote", "false", "also add the own majority indicator (Table 2's sum, rewards 0..2)"}},
		build: func(a args) (Estimator, error) {
			v, err := a.voting()
			if err != nil {
				return nil, err
			}
			s, err := a.boolean("self_vote", false)
			return CoReward{Voting: v, SelfVote: s}, err
		}},
	{Name: "rlccf", Family: "ensemble",
		Summary: "RLCCF: votes of several models (sources) weighted by each model's self-consistency",
		Params:  []Param{equivalenceParam, {"peers", "[]", "model directories (or shipped names) that answer each prompt alongside the policy; only the policy is trained"}},
		build: func(a args) (Estimator, error) {
			v, err := a.voting()
			if err != nil {
				return nil, err
			}
			peers, err := a.strings("peers")
			return RLCCF{Voting: v, Peers: peers}, err
		}},
	{Name: "empo", Family: "ensemble",
		Summary: "EMPO: size of the answer's semantic cluster over G; 0 without answer or when all differ",
		Params:  []Param{equivalenceParam},
		build: func(a args) (Estimator, error) {
			v, err := a.voting()
			return EMPO{v}, err
		}},
	{Name: "covo", Family: "ensemble",
		Summary: "CoVo: consistency and volatility of intermediate states toward the own answer, aggregated as a vector over the answer's rollouts",
		Params:  []Param{equivalenceParam, {"states", "8", "intermediate states (evenly spaced response prefixes) per rollout"}},
		build: func(a args) (Estimator, error) {
			v, err := a.voting()
			if err != nil {
				return nil, err
			}
			n, err := a.integer("states", 8)
			if err == nil && n < 1 {
				err = fmt.Errorf("states %d must be at least 1", n)
			}
			return CoVo{Voting: v, States: n}, err
		}},
	{Name: "ground_truth", Family: "external",
		Summary: "oracle: the task's verifier (Countdown: 1 / format score / 0), else the math grader against the gold answer",
		Params: []Param{
			{"oracle", "auto", "auto (the task's verifier when there is one, e.g. Countdown's for numbers/target, else math), math, or task (also: countdown)"},
			{"format_score", "0.1", "task score of a present but wrong answer (Countdown's partial credit)"},
		},
		build: buildGroundTruth},
	{Name: "self_verification", Family: "external",
		Summary: `1 when the policy's own verdict on the rollout ("verdict") ends in \boxed{True}`,
		Params: []Param{
			{"prompt", "P2", "the verification prompt the trainer asks the policy with: P1 or P2 (Appendix C.1)"},
			{"template", "", "a user verification template with {expr} (and optionally {nums}, {target}); replaces prompt"},
			{"no_verdict_reward", "0", "reward of a verification reply without a parseable \\boxed{True}/\\boxed{False}"},
		},
		build: buildSelfVerification},
	{Name: "unified", Family: "framework",
		Summary: "Appendix A.3: psi(sigma/|I| sum_i H(q_i, pi_i)) from granularity, anchor, sign, transform",
		Params: []Param{
			{"granularity", "token", "token or answer"},
			{"anchor", "uniform", "uniform, policy, token (sampled-token one-hot) or answer (answer one-hot)"},
			{"sign", "+1", "+1 or -1"},
			{"transform", "identity", "identity, exp or exp_scaled (exp(|I| z))"},
			{"tau", "none", "answer level: temper pi^A with this tau (0 = the tau -> 0 limit); none = untempered"},
			equivalenceParam,
		},
		build: buildUnified},
}

// Specs returns every registered estimator, in registry order (certainty,
// ensemble, external, framework).
func Specs() []Spec { return slices.Clone(specs) }

// Names returns the registered estimator names in registry order.
func Names() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Name
	}
	return out
}

// Lookup returns the spec named name.
func Lookup(name string) (Spec, bool) {
	for _, s := range specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// New builds the estimator name from a configuration map. Values may be
// strings (as from a command line) or YAML/JSON scalars (bool, numbers).
// Unknown names and parameters are errors that list the valid ones.
func New(name string, params map[string]any) (Estimator, error) {
	spec, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown estimator %q; known: %s", name, strings.Join(Names(), ", "))
	}
	for k := range params {
		if !slices.ContainsFunc(spec.Params, func(p Param) bool { return p.Name == k }) {
			var known []string
			for _, p := range spec.Params {
				known = append(known, p.Name)
			}
			if len(known) == 0 {
				return nil, fmt.Errorf("estimator %s takes no parameters, got %q", name, k)
			}
			return nil, fmt.Errorf("estimator %s has no parameter %q; it takes: %s", name, k, strings.Join(known, ", "))
		}
	}
	e, err := spec.build(args{params})
	if err != nil {
		return nil, fmt.Errorf("estimator %s: %w", name, err)
	}
	return e, nil
}

// ParseParams turns "key=value" strings into a parameter map.
func ParseParams(kvs []string) (map[string]any, error) {
	out := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("parameter %q is not key=value", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("parameter %q given twice", k)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// args reads typed parameters from a configuration map.
type args struct{ m map[string]any }

// strings reads a list of strings: a YAML/JSON list, or one
// comma-separated string (as from a command line).
func (a args) strings(key string) ([]string, error) {
	v, ok := a.m[key]
	if !ok || v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case string:
		var out []string
		for _, s := range strings.Split(strings.Trim(x, "[]"), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case []string:
		return x, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("parameter %s: entry %d is %T, not a string", key, i, e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("parameter %s: want a list of strings, got %T", key, v)
}

func (a args) str(key, def string) (string, error) {
	v, ok := a.m[key]
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case fmt.Stringer:
		return x.String(), nil
	case bool, int, int64, float64:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("parameter %s: want a string, got %T", key, v)
}

func (a args) boolean(key string, def bool) (bool, error) {
	v, ok := a.m[key]
	if !ok {
		return def, nil
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("parameter %s: %q is not a boolean", key, x)
		}
		return b, nil
	}
	return false, fmt.Errorf("parameter %s: want a boolean, got %T", key, v)
}

func (a args) float(key string, def float64) (float64, error) {
	v, ok := a.m[key]
	if !ok {
		return def, nil
	}
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint64:
		f = float64(x)
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, fmt.Errorf("parameter %s: %q is not a number", key, x)
		}
	default:
		return 0, fmt.Errorf("parameter %s: want a number, got %T", key, v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("parameter %s: %v is not finite", key, f)
	}
	return f, nil
}

func (a args) integer(key string, def int) (int, error) {
	f, err := a.float(key, float64(def))
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("parameter %s: %v is not an integer", key, f)
	}
	return int(f), nil
}

func (a args) choice(key, def string, names []string) (int, error) {
	s, err := a.str(key, def)
	if err != nil {
		return 0, err
	}
	if i := slices.Index(names, s); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("parameter %s: %q is not one of %s", key, s, strings.Join(names, ", "))
}

func (a args) voting() (Voting, error) {
	i, err := a.choice("equivalence", "grader", []string{"grader", "string"})
	return Voting{Strings: i == 1}, err
}

func buildUnified(a args) (Estimator, error) {
	var u Unified
	g, err := a.choice("granularity", "token", granularityNames)
	if err != nil {
		return nil, err
	}
	an, err := a.choice("anchor", "uniform", anchorNames)
	if err != nil {
		return nil, err
	}
	t, err := a.choice("transform", "identity", transformNames)
	if err != nil {
		return nil, err
	}
	sign, err := a.integer("sign", 1)
	if err != nil {
		return nil, err
	}
	u = Unified{Granularity: Granularity(g), Anchor: Anchor(an), Transform: Transform(t), Sign: sign}
	if tau, err := a.str("tau", "none"); err != nil {
		return nil, err
	} else if tau != "none" {
		if u.Tau, err = a.float("tau", 0); err != nil {
			return nil, err
		}
		u.Tempered = true
	}
	if u.Voting, err = a.voting(); err != nil {
		return nil, err
	}
	return u, u.Validate()
}
