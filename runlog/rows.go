package runlog

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"
)

// A Row is one line of a run log: its fields by key. Values are numbers,
// strings, booleans or nil.
type Row interface {
	Fields() map[string]any
}

// StepRow is one line of metrics.jsonl: what one training step measured.
// Pointer fields are left out of the line when nil, because the metric is
// undefined for the step (reward accuracy of a continuous reward, loss
// statistics of a step whose every update was skipped) — an absent metric
// is not a zero.
type StepRow struct {
	Step  int `json:"step"`  // training steps completed, from 1
	Epoch int `json:"epoch"` // data epoch the step drew from

	// The paper's training dynamics (Appendix B.2), over the step's
	// rollouts; ground truth is used for monitoring only.
	ProxyReward          *float64 `json:"train/proxy_reward,omitempty"`
	GroundTruthReward    *float64 `json:"train/ground_truth_reward,omitempty"`
	LabelAccuracy        *float64 `json:"train/label_accuracy,omitempty"`
	RewardAccuracy       *float64 `json:"train/reward_accuracy,omitempty"`
	MajorityRatio        *float64 `json:"train/majority_ratio,omitempty"`
	PointBiserial        *float64 `json:"train/point_biserial,omitempty"`
	ZeroVarianceFraction float64  `json:"train/zero_variance_fraction"` // groups whose rewards are all equal
	NoAnswerFraction     float64  `json:"train/no_answer_fraction"`     // responses without an extractable answer

	// Self-verification (self_verification runs only).
	SelfVerifyReward        *float64 `json:"selfverify/reward,omitempty"`
	SelfVerifyOracleReward  *float64 `json:"selfverify/oracle_reward,omitempty"`
	SelfVerifyAccuracy      *float64 `json:"selfverify/reward_accuracy,omitempty"`
	SelfVerifyParseRate     *float64 `json:"selfverify/verdict_parse_rate,omitempty"`
	SelfVerifyTruePositive  *float64 `json:"selfverify/true_positive_rate,omitempty"`
	SelfVerifyFalsePositive *float64 `json:"selfverify/false_positive_rate,omitempty"`
	SelfVerifyTokens        *float64 `json:"selfverify/tokens,omitempty"`
	SelfVerifySeconds       *float64 `json:"perf/verify_seconds,omitempty"`

	// The policy's rollouts and its update.
	Entropy           float64  `json:"actor/entropy"`            // nats per response token
	ResponseLength    float64  `json:"actor/response_length"`    // tokens per response
	TruncatedFraction float64  `json:"actor/truncated_fraction"` // responses cut at the length limit
	KL                float64  `json:"actor/kl"`                 // k3 estimate of KL to the starting policy
	PGLoss            *float64 `json:"actor/pg_loss,omitempty"`
	Loss              *float64 `json:"actor/loss,omitempty"`
	ClipFraction      *float64 `json:"actor/clip_fraction,omitempty"`
	DualClipFraction  *float64 `json:"actor/dual_clip_fraction,omitempty"`
	PPOKL             *float64 `json:"actor/ppo_kl,omitempty"`
	GradNorm          *float64 `json:"actor/grad_norm,omitempty"`
	LR                *float64 `json:"actor/lr,omitempty"`
	SkippedUpdates    int      `json:"actor/skipped_updates"` // over the run so far

	// Timings.
	StepSeconds     float64 `json:"perf/step_seconds"`
	SampleSeconds   float64 `json:"perf/sample_seconds"`
	UpdateSeconds   float64 `json:"perf/update_seconds"`
	TokensPerSecond float64 `json:"perf/tokens_per_second"` // generated tokens over the step's time
}

// Fields returns the row by key.
func (r StepRow) Fields() map[string]any { return structFields(r) }

// Opt returns a pointer to x, for the optional fields of a row.
func Opt(x float64) *float64 { return &x }

// Event kinds.
const (
	EventSkippedUpdate = "skipped_update" // a non-finite loss or gradient; the update was not applied
	EventCollapse      = "collapse"       // the Model Collapse Step detector fired
	EventEarlyStop     = "early_stop"     // the run stopped before its last step
	EventResume        = "resume"         // the run continued from a checkpoint
	// EventPromptsDropped: prompts longer than rollout.max_prompt_length
	// (or the model's context) were left out of a dataset.
	EventPromptsDropped = "prompts_dropped"
	// EventDiverged: an update left non-finite weights or outputs; it was
	// undone and the run stopped.
	EventDiverged = "diverged"
	// EventCheckpointFallback: a checkpoint could not be read on resume; it
	// was set aside and the run resumed from an earlier one.
	EventCheckpointFallback = "checkpoint_fallback"
)

// EventRow is one line of events.jsonl.
type EventRow struct {
	Event           string `json:"event"` // one of the Event kinds
	Step            int    `json:"step"`  // steps completed when it happened
	Reason          string `json:"reason,omitempty"`
	FromCheckpoint  *int   `json:"from_checkpoint,omitempty"`   // resume: the checkpoint's step
	CollapseStep    *int   `json:"collapse_step,omitempty"`     // collapse: the Model Collapse Step
	DetectedAt      *int   `json:"detected_at,omitempty"`       // collapse: the step it was confirmed at
	Dataset         string `json:"dataset,omitempty"`           // prompts_dropped: the dataset
	Dropped         *int   `json:"dropped,omitempty"`           // prompts_dropped: how many
	Of              *int   `json:"of,omitempty"`                // prompts_dropped: out of how many
	Setting         string `json:"setting,omitempty"`           // prompts_dropped: the config key of the dataset
	MaxPromptTokens *int   `json:"max_prompt_tokens,omitempty"` // prompts_dropped: the binding prompt limit
	LimitedBy       string `json:"limited_by,omitempty"`        // prompts_dropped: what sets that limit

	UnreadableCheckpoint *int   `json:"unreadable_checkpoint,omitempty"` // checkpoint_fallback: the step of the damaged checkpoint
	MovedTo              string `json:"moved_to,omitempty"`              // checkpoint_fallback: where it was set aside

	OptimizerStep *int     `json:"optimizer_step,omitempty"` // diverged: the update that diverged
	LR            *float64 `json:"lr,omitempty"`             // diverged: its learning rate
	GradNorm      *float64 `json:"grad_norm,omitempty"`      // diverged: the gradient norm before clipping
	Restored      *bool    `json:"restored,omitempty"`       // diverged: the pre-update state was restored
}

// Fields returns the row by key.
func (r EventRow) Fields() map[string]any { return structFields(r) }

// Interval is a confidence interval.
type Interval struct {
	Lo, Hi float64
}

// Estimate is a per-problem accuracy averaged over a set's problems, with
// its confidence interval when one was computed.
type Estimate struct {
	Value float64
	CI    *Interval
}

// SetScores is one validation set's accuracy at one validation.
type SetScores struct {
	Name           string
	Avg, Maj       Estimate         // avg@k and maj@k for k = ValidationRow.K
	Pass           map[int]Estimate // pass@k by k
	ResponseLength float64          // mean tokens per response
}

// ValidationRow is one line of validation.jsonl: the accuracy of every
// validation set at one step, from K samples per problem. Its keys are
// val/<set>/avg@K, maj@K, pass@k (each with _ci_lo and _ci_hi when the
// interval is known), val/<set>/response_length and val/mean/avg@K.
type ValidationRow struct {
	Step int
	K    int
	Sets []SetScores
	Mean float64 // avg@K averaged over the sets: what ranks checkpoints
}

// Fields returns the row by key.
func (r ValidationRow) Fields() map[string]any {
	f := map[string]any{KeyStep: r.Step}
	put := func(set, metric string, e Estimate) {
		f[ValidationKey(set, metric)] = e.Value
		if e.CI != nil {
			f[ValidationKey(set, metric+CILow)] = e.CI.Lo
			f[ValidationKey(set, metric+CIHigh)] = e.CI.Hi
		}
	}
	for _, s := range r.Sets {
		put(s.Name, Avg(r.K), s.Avg)
		put(s.Name, Maj(r.K), s.Maj)
		for k, e := range s.Pass {
			put(s.Name, Pass(k), e)
		}
		f[ValidationKey(s.Name, LengthMetric)] = s.ResponseLength
	}
	f[MeanKey(r.K)] = r.Mean
	return f
}

// Set returns the scores of the named set.
func (r ValidationRow) Set(name string) (SetScores, bool) {
	for _, s := range r.Sets {
		if s.Name == name {
			return s, true
		}
	}
	return SetScores{}, false
}

// UnmarshalJSON reads a validation line back. K is taken from the mean's
// key (val/mean/avg@K); sets are returned in name order.
func (r *ValidationRow) UnmarshalJSON(b []byte) error {
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	*r = ParseValidation(Flatten(obj))
	return nil
}

// ParseValidation reads a validation row from a line's values.
func ParseValidation(v Values) ValidationRow {
	r := ValidationRow{Step: int(v[KeyStep])}
	sets := map[string]*SetScores{}
	ci := map[string]*Interval{}
	get := func(name string) *SetScores {
		if sets[name] == nil {
			sets[name] = &SetScores{Name: name, Pass: map[int]Estimate{}}
		}
		return sets[name]
	}
	for key, x := range v {
		set, metric, ok := ParseValidationKey(key)
		if !ok {
			continue
		}
		if base, ok := strings.CutSuffix(metric, CILow); ok {
			interval(ci, set+"/"+base).Lo = x
			continue
		}
		if base, ok := strings.CutSuffix(metric, CIHigh); ok {
			interval(ci, set+"/"+base).Hi = x
			continue
		}
		if set == MeanSet {
			if name, k, ok := ParseAtK(metric); ok && name == "avg" {
				r.K, r.Mean = k, x
			}
			continue
		}
		if metric == LengthMetric {
			get(set).ResponseLength = x
		}
	}
	for key, x := range v {
		set, metric, ok := ParseValidationKey(key)
		if !ok || set == MeanSet {
			continue
		}
		name, k, ok := ParseAtK(metric)
		if !ok {
			continue
		}
		e := Estimate{Value: x, CI: ci[set+"/"+metric]}
		switch {
		case name == "avg" && (k == r.K || r.K == 0):
			get(set).Avg = e
		case name == "maj" && (k == r.K || r.K == 0):
			get(set).Maj = e
		case name == "pass":
			get(set).Pass[k] = e
		}
	}
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.Sets = append(r.Sets, *sets[n])
	}
	return r
}

func interval(m map[string]*Interval, key string) *Interval {
	if m[key] == nil {
		m[key] = &Interval{}
	}
	return m[key]
}

// Encode writes a row as one JSON line (with its newline): keys in sorted
// order, non-finite numbers as null.
func Encode(r Row) ([]byte, error) {
	b, err := json.Marshal(finite(r.Fields()))
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// finite replaces non-finite numbers, which JSON cannot hold, by nil, at
// any depth of maps and slices, so encoding never fails on, and no file
// ever holds, a NaN.
func finite(f map[string]any) map[string]any {
	for k, v := range f {
		f[k] = finiteValue(v)
	}
	return f
}

func finiteValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
	case map[string]any:
		return finite(x)
	case []any:
		for i, e := range x {
			x[i] = finiteValue(e)
		}
	case []float64:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = finiteValue(e)
		}
		return out
	case []float32:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = finiteValue(e)
		}
		return out
	}
	return v
}

// structFields lists a struct's fields by their JSON tags, dereferencing
// pointers and leaving out nil ones tagged omitempty.
func structFields(v any) map[string]any {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	out := make(map[string]any, rt.NumField())
	for i := range rt.NumField() {
		tag := rt.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		fv := rv.Field(i)
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				if strings.Contains(opts, "omitempty") {
					continue
				}
				out[name] = nil
				continue
			}
			fv = fv.Elem()
		}
		if fv.Kind() == reflect.String && fv.Len() == 0 && strings.Contains(opts, "omitempty") {
			continue
		}
		out[name] = fv.Interface()
	}
	return out
}

// SampleRow is one line of samples/step-NNNNNN.jsonl: one rollout of a
// prompt, with its answer, reward and correctness.
type SampleRow struct {
	Step     int     `json:"step"`
	PromptID string  `json:"prompt_id"`
	Prompt   string  `json:"prompt"`
	Gold     string  `json:"gold"`
	Response string  `json:"response"`
	Answer   string  `json:"answer"` // "" when none was extracted
	Reward   float64 `json:"reward"`
	Correct  bool    `json:"correct"`
	Label    string  `json:"label,omitempty"` // the estimator's pseudo-label, if it has one
}

// Fields returns the row by key.
func (r SampleRow) Fields() map[string]any { return structFields(r) }

// EncodeText is Encode without escaping <, > and & in strings, for logs
// of model text that people read (samples).
func EncodeText(r Row) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(finite(r.Fields())); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
