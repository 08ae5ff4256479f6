package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/internal/atomicfile"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rl"
	"github.com/urlvr/urlvr/runlog"
)

// microBatchSeqs bounds the sequences of one forward/backward pass; a
// mini-batch is split into micro-batches whose gradients add up exactly.
const microBatchSeqs = 64

// Trainer runs one training recipe in one run directory.
type Trainer struct {
	cfg    Config
	run    *run
	policy *basemodel.Model // trained in place
	ref    *engine.Model    // the frozen starting policy, for KL
	et     *engine.Learner
	est    reward.Estimator
	grader *grade.Grader

	train    []Problem
	trainIDs [][]int
	vals     []evalSet
	maxNew   int
	steps    int // total training steps of the run

	rngData, rngSample *rand.PCG
	st                 trainerState

	lossCfg  rl.LossConfig
	advCfg   rl.AdvantageConfig
	sched    engine.Schedule
	collapse *metrics.CollapseDetector
	valMeans []float64 // mean validation avg@n of each validation so far
	best     bestRecord

	tokenizerJSON []byte
	events        []string         // printed when the run ends
	dropped       []droppedPrompts // datasets that lost prompts to the length limit, logged once the run exists
	snapshot      *engine.LearnerSnapshot
	saveDType     engine.DType          // of checkpoints/best (SetSaveDType)
	promptByID    map[string]string     // training prompt texts, for self-verification
	rephrased     map[string]rephrasing // by problem ID, for Co-Reward
	peers         []peer                // RLCCF's other models
}

// trainerState is what a checkpoint adds to the model, optimiser and
// generators so that a resumed run continues exactly.
type trainerState struct {
	Step           int   `json:"step"`   // completed training steps
	Epoch          int   `json:"epoch"`  // data epoch of the next batch
	Cursor         int   `json:"cursor"` // position in Order of the next batch
	Order          []int `json:"order"`  // this epoch's order of training problems
	SkippedUpdates int   `json:"skipped_updates"`
}

// bestRecord names the checkpoint with the best mean validation accuracy.
type bestRecord struct {
	Step  int     `json:"step"`
	Score float64 `json:"score"` // mean over validation sets of avg@n
	Dir   string  `json:"dir"`
}

// New prepares a fresh run of cfg: the base model and the data, checked
// (prompts that fit, memory for a step) before the run directory is created
// and locked.
func New(cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg}
	if err := t.setup(); err != nil {
		return nil, err
	}
	if err := t.checkMemory(); err != nil {
		return nil, err
	}
	r, err := createRun(cfg)
	if err != nil {
		return nil, err
	}
	t.run = r
	if err := t.initState(); err != nil {
		r.Close()
		return nil, err
	}
	if err := t.logDroppedPrompts(); err != nil {
		r.Close()
		return nil, err
	}
	return t, nil
}

// Resume reopens the run in dir at its last readable checkpoint; a
// checkpoint that cannot be read (a torn or damaged file) is moved aside
// and the one before it is used, which events.jsonl records. Logged steps
// after that checkpoint are discarded, so the resumed run writes the same
// metrics as an uninterrupted one. Overrides may change the run's length
// (trainer.steps) and other settings; they are written back to the run's
// config, but only once everything else has been checked, so a resume that
// fails leaves config.yaml as it was.
func Resume(dir string, overrides []string) (*Trainer, error) {
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err != nil {
		return nil, fmt.Errorf("resuming %s: not a run directory: %w", dir, err)
	}
	lock, err := lockRun(dir)
	if err != nil {
		return nil, err
	}
	t, err := resumeLocked(dir, overrides, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	return t, nil
}

// resumeLocked is Resume once the run's lock is held. On success the run
// owns the lock.
func resumeLocked(dir string, overrides []string, lock *runLock) (*Trainer, error) {
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile), overrides)
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg}
	if err := t.setup(); err != nil {
		return nil, err
	}
	if err := t.checkMemory(); err != nil {
		return nil, err
	}
	resumeStep, unreadable, err := t.restoreLatest(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{MetricsFile, ValidationFile, ValidationProblemsFile, EventsFile} {
		if err := truncateLog(filepath.Join(dir, name), resumeStep); err != nil {
			return nil, err
		}
	}
	if err := removeSamplesAfter(dir, resumeStep); err != nil {
		return nil, err
	}
	if err := t.replayLogs(dir); err != nil {
		return nil, err
	}
	if len(overrides) > 0 {
		y, err := cfg.YAML()
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, ConfigFile), y, 0o644); err != nil {
			return nil, err
		}
	}
	moved, err := setAside(dir, unreadable)
	if err != nil {
		return nil, err
	}
	if t.run, err = openRun(dir, lock); err != nil {
		return nil, err
	}
	for i, u := range unreadable {
		from := max(resumeStep, 0)
		e := runlog.EventRow{Event: runlog.EventCheckpointFallback, UnreadableCheckpoint: &u.step,
			MovedTo: moved[i], Reason: u.err.Error(), FromCheckpoint: &from}
		if err := t.event(e); err != nil {
			return nil, err
		}
	}
	if resumeStep < 0 {
		// The run starts over, and its step-0 events were dropped.
		if err := t.logDroppedPrompts(); err != nil {
			return nil, err
		}
	}
	if resumeStep > 0 {
		if err := t.event(runlog.EventRow{Event: runlog.EventResume, FromCheckpoint: &resumeStep}); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Close releases the run directory without training, for a caller that
// made a Trainer and then decided not to Run it (Run closes it itself).
func (t *Trainer) Close() error { return t.run.Close() }

// Dir is the run directory.
func (t *Trainer) Dir() string { return t.run.dir }

// BaseModel names the model the run started from.
func (t *Trainer) BaseModel() string { return t.policy.Name }

// Config is the resolved configuration.
func (t *Trainer) Config() Config { return t.cfg }

// setup loads everything that follows from the config alone: the base
// model, the reward estimator, the data and the loss settings.
func (t *Trainer) setup() error {
	cfg := t.cfg
	var err error
	t.policy, err = basemodel.OpenNamed(cfg.Model.Base)
	if err != nil {
		return err
	}
	t.ref = t.policy.Engine.Clone()
	t.tokenizerJSON, err = os.ReadFile(filepath.Join(t.policy.Dir, "tokenizer.json"))
	if err != nil {
		return fmt.Errorf("base model %s: reading its tokenizer: %w", cfg.Model.Base, err)
	}
	t.est, err = reward.New(cfg.Reward.Estimator, cfg.Reward.Params)
	if err != nil {
		return fmt.Errorf("reward: %w", err)
	}
	t.grader = grade.New(grade.Options{Extract: cfg.Reward.Extract})

	mc := t.policy.Engine.Config()
	t.maxNew = min(cfg.Rollout.MaxResponseLength, mc.MaxPositions-1)
	trainSet, _, err := LoadProblems(cfg.Data.Train)
	if err != nil {
		return err
	}
	trainSet = subset(trainSet, cfg.Data.Subset, cfg.Data.SubsetSeed)
	if t.train, t.trainIDs, err = t.encodeSet(trainSet, "data.train", cfg.Data.Train); err != nil {
		return err
	}
	if err := t.checkSelfVerification(); err != nil {
		return err
	}
	if err := t.prepareRephrasings(); err != nil {
		return err
	}
	if err := t.loadPeers(); err != nil {
		return err
	}
	for _, spec := range cfg.Data.Validation {
		ps, name, err := LoadProblems(spec)
		if err != nil {
			return err
		}
		ps, ids, err := t.encodeSet(ps, "data.validation", spec)
		if err != nil {
			return err
		}
		pids := make([]string, len(ps))
		for i, p := range ps {
			pids[i] = p.ID
		}
		t.vals = append(t.vals, evalSet{name: name, problems: ps, ids: ids, fingerprint: runlog.ProblemsFingerprint(pids)})
	}

	t.steps = cfg.Trainer.Steps
	if t.steps == 0 {
		perEpoch := (len(t.train) + cfg.Trainer.GlobalBatch - 1) / cfg.Trainer.GlobalBatch
		t.steps = cfg.Trainer.Epochs * perEpoch
	}

	a := cfg.Algorithm
	adv, err := rl.ParseEstimator(a.Advantage)
	if err != nil {
		return fmt.Errorf("algorithm.advantage: %w", err)
	}
	t.advCfg = rl.AdvantageConfig{Estimator: adv}
	agg, err := rl.ParseAggregation(a.LossAgg)
	if err != nil {
		return fmt.Errorf("algorithm.loss_agg: %w", err)
	}
	kl, err := rl.ParseKLKind(a.KLEstimator)
	if err != nil {
		return fmt.Errorf("algorithm.kl_estimator: %w", err)
	}
	t.lossCfg = rl.LossConfig{
		Clip:        rl.ClipConfig{Low: a.ClipLow, High: a.ClipHigh, DualClip: a.DualClip},
		Aggregation: agg,
		Horizon:     t.maxNew,
		KLCoef:      a.KLCoef,
		KL:          kl,
		EntropyCoef: a.EntropyCoef,
	}
	if err := t.lossCfg.Validate(); err != nil {
		return fmt.Errorf("algorithm: %w", err)
	}
	o := cfg.Optim
	updatesPerStep := cfg.Trainer.PPOEpochs * cfg.Trainer.GlobalBatch / cfg.Trainer.MiniBatch
	t.sched = engine.Schedule{Kind: o.Schedule, PeakLR: o.LR, MinLR: o.MinLR, WarmupSteps: o.WarmupSteps, TotalSteps: t.steps * updatesPerStep}
	if err := t.sched.Validate(); err != nil {
		return fmt.Errorf("optim: %w", err)
	}
	t.collapse, err = metrics.NewCollapseDetector(metrics.CollapseConfig{
		Threshold: cfg.EarlyStop.CollapseThreshold, Window: cfg.EarlyStop.CollapseWindow, Patience: cfg.EarlyStop.CollapsePatience,
	})
	if err != nil {
		return fmt.Errorf("early_stop: %w", err)
	}
	return nil
}

// initState starts a run from step 0: fresh optimiser and generators.
func (t *Trainer) initState() error {
	seed := t.cfg.Seed
	t.rngData = rand.NewPCG(seed, 0xda7a)
	t.rngSample = rand.NewPCG(seed, 0x5a3e)
	t.st = trainerState{}
	t.newEpochOrder()
	return t.newEngineTrainer(nil)
}

// newEpochOrder draws the order of the training problems for an epoch.
func (t *Trainer) newEpochOrder() {
	t.st.Order = make([]int, len(t.train))
	for i := range t.st.Order {
		t.st.Order[i] = i
	}
	if t.cfg.Data.Shuffle {
		rand.New(t.rngData).Shuffle(len(t.st.Order), func(i, j int) {
			t.st.Order[i], t.st.Order[j] = t.st.Order[j], t.st.Order[i]
		})
	}
	t.st.Cursor = 0
}

// newEngineTrainer allocates the engine's training memory, resuming
// optimiser state when given.
func (t *Trainer) newEngineTrainer(resume *engine.AdamW) error {
	o := t.cfg.Optim
	adam := engine.DefaultAdamW()
	adam.WeightDecay = o.WeightDecay
	if o.Beta1 != 0 {
		adam.Beta1 = o.Beta1
	}
	if o.Beta2 != 0 {
		adam.Beta2 = o.Beta2
	}
	maxLen := t.policy.Engine.Config().MaxPositions
	var err error
	t.et, err = engine.NewLearner(t.policy.Engine, engine.LearnerOptions{
		MaxBatch: microBatchSeqs, MaxSeqLen: maxLen, AdamW: adam, Resume: resume, ClipNorm: o.GradClip,
	})
	return err
}

// nextBatch returns the indices of the next global batch of training
// problems, starting a new epoch (and a new order) when one runs out.
func (t *Trainer) nextBatch() []int {
	n := t.cfg.Trainer.GlobalBatch
	out := make([]int, 0, n)
	for len(out) < n {
		if t.st.Cursor >= len(t.st.Order) {
			t.st.Epoch++
			t.newEpochOrder()
		}
		take := min(n-len(out), len(t.st.Order)-t.st.Cursor)
		out = append(out, t.st.Order[t.st.Cursor:t.st.Cursor+take]...)
		t.st.Cursor += take
	}
	return out
}

// saveCheckpoint writes the state after the current step.
func (t *Trainer) saveCheckpoint() error {
	state, err := json.Marshal(t.st)
	if err != nil {
		return err
	}
	dir := filepath.Join(t.run.dir, CheckpointDir, checkpointName(t.st.Step))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	files, err := t.checkpointFiles(map[string][]byte{stateFile: state})
	if err != nil {
		return err
	}
	err = engine.SaveCheckpoint(dir, engine.Checkpoint{
		Model:     t.policy.Engine,
		Optimizer: t.et.Optimizer(),
		RNG:       map[string]*rand.PCG{"data": t.rngData, "sampling": t.rngSample},
		Files:     files,
	})
	if err != nil {
		return fmt.Errorf("checkpoint at step %d: %w", t.st.Step, err)
	}
	return pruneCheckpoints(t.run.dir, t.cfg.Trainer.KeepLast)
}

// replayLogs rebuilds the collapse detector, validation history and best
// checkpoint from the (truncated) logs of a resumed run.
func (t *Trainer) replayLogs(dir string) error {
	rows, _, err := runlog.ReadFile[runlog.StepRow](filepath.Join(dir, MetricsFile))
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.RewardAccuracy != nil {
			if _, err := t.collapse.Observe(r.Step, *r.RewardAccuracy); err != nil {
				return err
			}
		}
	}
	vrows, _, err := runlog.ReadFile[runlog.ValidationRow](filepath.Join(dir, ValidationFile))
	if err != nil {
		return err
	}
	for _, r := range vrows {
		if r.K != t.cfg.Eval.N {
			continue
		}
		t.valMeans = append(t.valMeans, r.Mean)
		if t.isNewBest(r.Mean) {
			t.best = bestRecord{Step: r.Step, Score: r.Mean, Dir: filepath.Join(CheckpointDir, bestLink)}
		}
	}
	return nil
}

// Run trains until the configured number of steps, an early stop, or ctx is
// cancelled. Cancellation is honoured between steps: the step under way
// (with its validation) finishes, a checkpoint is saved, and Run returns an
// error wrapping ctx's, so the run can be resumed exactly. progress, when
// non-nil, is called after every step.
func (t *Trainer) Run(ctx context.Context, progress func(Progress)) (*Summary, error) {
	defer t.run.Close()
	// A step is never cut in half: its sampling, update and validation run
	// to the end even after ctx is cancelled, so the state saved on
	// interruption is that of a completed step.
	stepCtx := context.WithoutCancel(ctx)
	start := time.Now()
	startStep := t.st.Step
	if t.st.Step == 0 && len(t.vals) > 0 && t.cfg.Eval.Every > 0 {
		if err := t.validate(stepCtx); err != nil {
			return nil, err
		}
	}
	stopReason := t.earlyStopReason()
	for t.st.Step < t.steps && stopReason == "" {
		if err := ctx.Err(); err != nil {
			return t.interrupted(err)
		}
		row, err := t.trainStep(stepCtx)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", t.st.Step+1, err)
		}
		t.st.Step++
		row.Step, row.Epoch = t.st.Step, t.st.Epoch
		if err := runlog.AppendLine(t.run.metrics, row); err != nil {
			return nil, err
		}
		if stopReason, err = t.afterStep(stepCtx, row); err != nil {
			return nil, err
		}
		if progress != nil {
			progress(Progress{Step: t.st.Step, Steps: t.steps, StartStep: startStep, Elapsed: time.Since(start), Row: row})
		}
	}
	if stopReason != "" {
		if err := t.event(runlog.EventRow{Event: runlog.EventEarlyStop, Reason: stopReason}); err != nil {
			return nil, err
		}
	}
	if err := t.saveCheckpoint(); err != nil {
		return nil, err
	}
	return t.finish(stopReason)
}

// afterStep validates, checks for collapse and checkpoints as configured,
// and returns a reason to stop early ("" to go on).
func (t *Trainer) afterStep(ctx context.Context, row runlog.StepRow) (string, error) {
	step := t.st.Step
	cfg := t.cfg
	var stop string
	if row.RewardAccuracy != nil {
		before := t.collapse.Result().Collapsed
		if _, err := t.collapse.Observe(step, *row.RewardAccuracy); err != nil {
			return "", err
		}
		if res := t.collapse.Result(); res.Collapsed && !before {
			if err := t.event(runlog.EventRow{Event: runlog.EventCollapse, CollapseStep: &res.Step, DetectedAt: &res.DetectedAt}); err != nil {
				return "", err
			}
			stop = t.earlyStopReason()
		}
	}
	if cfg.Eval.Every > 0 && len(t.vals) > 0 && (step%cfg.Eval.Every == 0 || step == t.steps) {
		if err := t.validate(ctx); err != nil {
			return "", err
		}
		if stop == "" {
			stop = t.earlyStopReason()
		}
	}
	if cfg.Trainer.SaveEvery > 0 && step%cfg.Trainer.SaveEvery == 0 && step != t.steps && stop == "" {
		if err := t.saveCheckpoint(); err != nil {
			return "", err
		}
	}
	return stop, nil
}

// earlyStopReason says why the run should stop early given everything
// observed so far ("" to go on). It is also asked when a run resumes, so a
// run that had reached its stop before being killed does not train past it.
func (t *Trainer) earlyStopReason() string {
	es := t.cfg.EarlyStop
	if !es.Enabled {
		return ""
	}
	if res := t.collapse.Result(); es.Collapse && res.Collapsed {
		return fmt.Sprintf("reward accuracy fell below %g (Model Collapse Step %d)", t.collapse.Config().Threshold, res.Step)
	}
	if k := es.ValidationDrops; k > 0 && fallingFor(t.valMeans, k) {
		return fmt.Sprintf("validation accuracy fell for %d evaluations in a row", k)
	}
	return ""
}

// fallingFor reports whether the last k changes of xs were all decreases.
func fallingFor(xs []float64, k int) bool {
	if len(xs) <= k {
		return false
	}
	for i := len(xs) - k; i < len(xs); i++ {
		if !(xs[i] < xs[i-1]) {
			return false
		}
	}
	return true
}

// interrupted saves a checkpoint at the last completed step and returns the
// cancellation error, so the run can be resumed.
func (t *Trainer) interrupted(cause error) (*Summary, error) {
	if t.st.Step > 0 {
		if err := t.saveCheckpoint(); err != nil {
			return nil, errors.Join(cause, err)
		}
	}
	return nil, fmt.Errorf("interrupted after step %d (resume with --resume %s): %w", t.st.Step, t.run.dir, cause)
}

// event appends a line, at the current step, to the run's event log, and
// keeps it for the summary.
func (t *Trainer) event(e runlog.EventRow) error {
	e.Step = t.st.Step
	b, err := runlog.Encode(e)
	if err != nil {
		return err
	}
	t.events = append(t.events, strings.TrimSuffix(string(b), "\n"))
	if t.run == nil {
		return nil
	}
	return runlog.AppendLine(t.run.event, e)
}

// Progress is reported after every step.
type Progress struct {
	Step, Steps, StartStep int
	Elapsed                time.Duration
	Row                    runlog.StepRow
}

// ETA estimates the time to the last step from the pace since the run (or
// the resume) started.
func (p Progress) ETA() time.Duration {
	done := p.Step - p.StartStep
	if done <= 0 {
		return 0
	}
	return time.Duration(float64(p.Elapsed) / float64(done) * float64(p.Steps-p.Step))
}

// finite reports whether every number is finite.
func finite(xs ...float64) bool {
	return !slices.ContainsFunc(xs, func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) })
}
