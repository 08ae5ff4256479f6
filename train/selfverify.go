package train

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/urlvr/urlvr/basemodel"
	"github.com/urlvr/urlvr/engine"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/runlog"
	"github.com/urlvr/urlvr/task/countdown"
)

// Self-verification in the trainer (paper Sec. 7, Appendix C.1): after the
// rollouts of a step are sampled, the current policy is shown each
// rollout's candidate expression in a verification prompt (P1, P2 or a
// recipe's template) and asked for \boxed{True} or \boxed{False}; its
// reply becomes Rollout.Verdict, which the self_verification reward turns
// into the reward.
//
// The verification tokens are not trained on. The policy is updated on
// its solutions only, with the verdict as their reward, as in the paper's
// case study; reinforcing the verification replies with the solution's
// advantage would teach the verifier to say True whenever the solver is
// rewarded, the self-bias the reward accuracy metric watches for.

// noVerificationRoom is the reply recorded for a rollout whose
// verification prompt leaves no room in the model's context; it holds no
// verdict, so it is scored and counted as an unparseable reply.
const noVerificationRoom = "(no verification: the prompt is longer than the model's context)"

// selfVerification returns the estimator's settings when the run's reward
// is self-verification.
func (t *Trainer) selfVerification() (reward.SelfVerification, bool) {
	sv, ok := t.est.(reward.SelfVerification)
	return sv, ok
}

// checkSelfVerification fails before training when self-verification
// cannot run on the training data: a problem that is not a Countdown
// instance, or a verification prompt that leaves no room for a reply.
func (t *Trainer) checkSelfVerification() error {
	sv, ok := t.selfVerification()
	if !ok {
		return nil
	}
	return verificationFits(sv, t.policy, t.train, t.cfg.Data.Train)
}

// CheckSelfVerification reports, without making a run, what New would
// refuse about a self-verification recipe on model m: a training problem
// that is not a Countdown instance, or a verification prompt that leaves
// no room for a reply in m's context. A study checks every run this way
// before the first of them trains. A recipe with another reward passes.
func CheckSelfVerification(cfg Config, m *basemodel.Model) error {
	est, err := reward.New(cfg.Reward.Estimator, cfg.Reward.Params)
	if err != nil {
		return fmt.Errorf("reward: %w", err)
	}
	sv, ok := est.(reward.SelfVerification)
	if !ok {
		return nil
	}
	ps, _, err := LoadProblems(cfg.Data.Train)
	if err != nil {
		return err
	}
	ps = subset(ps, cfg.Data.Subset, cfg.Data.SubsetSeed)
	if len(ps) == 0 {
		return fmt.Errorf("data.train %s: the dataset has no problems", cfg.Data.Train)
	}
	return verificationFits(sv, m, ps, cfg.Data.Train)
}

// verificationFits checks that every problem is a Countdown instance and
// that the verification prompt of the first, with an empty candidate,
// leaves m room to reply.
func verificationFits(sv reward.SelfVerification, m *basemodel.Model, ps []Problem, spec string) error {
	for _, p := range ps {
		if p.Countdown == nil {
			return fmt.Errorf("reward self_verification: training problem %q of %s is not a Countdown instance (nums, target); the verification prompts check Countdown expressions", p.ID, spec)
		}
	}
	p := ps[0]
	text, err := verificationPrompt(sv, p.Prompt, "", p.Countdown)
	if err != nil {
		return fmt.Errorf("reward self_verification: %w", err)
	}
	if n, ctx := len(m.EncodePrompt(text)), m.Engine.Config().MaxPositions; n >= ctx-1 {
		return fmt.Errorf("reward self_verification: the %s verification prompt is %d tokens, and the context of model %s is %d; use a model with a longer context or a shorter template", promptName(sv), n, m.Name, ctx)
	}
	return nil
}

func promptName(sv reward.SelfVerification) string {
	if sv.Template != "" {
		return "template"
	}
	return sv.Prompt
}

// verificationPrompt renders the verification request for a candidate
// expression, in the same form as the problem's prompt: a ChatML turn for
// a chat prompt, else the base model's User/Assistant transcript.
func verificationPrompt(sv reward.SelfVerification, problemPrompt, expr string, c *rollout.Countdown) (string, error) {
	var body string
	var err error
	if sv.Template != "" {
		body, err = countdown.RenderTemplate(sv.Template, expr, c.Numbers, c.Target)
	} else {
		var p countdown.VerifyPrompt
		if p, err = countdown.ParseVerifyPrompt(sv.Prompt); err == nil {
			body, err = p.Render(expr, c.Numbers, c.Target)
		}
	}
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(problemPrompt, "<|im_start|>") {
		return "<|im_start|>user\n" + body + "<|im_end|>\n<|im_start|>assistant\n", nil
	}
	return "User: " + body + "\nAssistant:", nil
}

// selfVerify generates the current policy's verdict on every rollout of
// the step (Rollout.Verdict) and logs the verifier's quality against the
// exact Countdown verifier and its cost.
func (t *Trainer) selfVerify(ctx context.Context, rb *rolloutBatch, sv reward.SelfVerification, row *runlog.StepRow) error {
	start := time.Now()
	ctxLimit := t.policy.Engine.Config().MaxPositions
	var prompts [][]int
	var targets []*rollout.Rollout
	for _, g := range rb.groups {
		if g.Countdown == nil {
			return fmt.Errorf("self-verification: prompt %q is not a Countdown instance", g.PromptID)
		}
		for k := range g.Rollouts {
			r := &g.Rollouts[k]
			text, err := verificationPrompt(sv, t.promptOf(g.PromptID), r.Answer, g.Countdown)
			if err != nil {
				return fmt.Errorf("self-verification of prompt %q: %w", g.PromptID, err)
			}
			ids := t.policy.EncodePrompt(text)
			if len(ids) == 0 || len(ids) >= ctxLimit-1 {
				r.Verdict = noVerificationRoom
				continue
			}
			prompts = append(prompts, ids)
			targets = append(targets, r)
		}
	}
	seed := t.rngSample.Uint64() // drawn even when nothing fits, so later draws do not shift
	var gens []engine.Generation
	if len(prompts) > 0 {
		var err error
		if gens, err = t.sample(ctx, prompts, t.rolloutOptions(), seed); err != nil {
			return fmt.Errorf("self-verification: %w", err)
		}
	}
	var tokens int
	for i, gen := range gens {
		targets[i].Verdict = t.policy.Response(gen.Tokens)
		tokens += len(gen.Tokens)
	}
	st := verifyStats(rb.groups, sv.NoVerdictReward)
	st.write(row)
	row.SelfVerifyTokens = runlog.Opt(float64(tokens))
	row.SelfVerifySeconds = runlog.Opt(time.Since(start).Seconds())
	return nil
}

// promptOf returns the prompt text of a training problem by ID ("" when
// unknown, which renders the base form).
func (t *Trainer) promptOf(id string) string {
	if t.promptByID == nil {
		t.promptByID = make(map[string]string, len(t.train))
		for _, p := range t.train {
			t.promptByID[p.ID] = p.Prompt
		}
	}
	return t.promptByID[id]
}

// selfVerifyStats counts the verdicts of a step against the exact
// verifier.
type selfVerifyStats struct {
	rollouts, parsed, correct, agree int
	acceptedCorrect, acceptedWrong   int
	rewardSum                        float64
}

// verifyStats scores every rollout's verdict (a reply without one gets
// noVerdict) and compares acceptance (reward >= 1/2) with the exact
// verifier's correctness.
func verifyStats(groups []*rollout.Group, noVerdict float64) selfVerifyStats {
	var s selfVerifyStats
	for _, g := range groups {
		for k := range g.Rollouts {
			r := &g.Rollouts[k]
			v, _ := reward.ParseVerdict(r.Verdict)
			rw := v.Reward()
			if v == reward.NoVerdict {
				rw = noVerdict
			} else {
				s.parsed++
			}
			correct := g.Verifier != nil && g.Verifier.Verify(r).Correct
			accepted := rw >= 0.5
			s.rollouts++
			s.rewardSum += rw
			if correct {
				s.correct++
				if accepted {
					s.acceptedCorrect++
				}
			} else if accepted {
				s.acceptedWrong++
			}
			if accepted == correct {
				s.agree++
			}
		}
	}
	return s
}

// write logs the rates; a rate with no cases (the true-positive rate of a
// step without a correct rollout) is left out rather than logged as 0.
func (s selfVerifyStats) write(row *runlog.StepRow) {
	if s.rollouts == 0 {
		return
	}
	n := float64(s.rollouts)
	row.SelfVerifyReward = runlog.Opt(s.rewardSum / n)
	row.SelfVerifyOracleReward = runlog.Opt(float64(s.correct) / n)
	row.SelfVerifyAccuracy = runlog.Opt(float64(s.agree) / n)
	row.SelfVerifyParseRate = runlog.Opt(float64(s.parsed) / n)
	if s.correct > 0 {
		row.SelfVerifyTruePositive = runlog.Opt(float64(s.acceptedCorrect) / float64(s.correct))
	}
	if wrong := s.rollouts - s.correct; wrong > 0 {
		row.SelfVerifyFalsePositive = runlog.Opt(float64(s.acceptedWrong) / float64(wrong))
	}
}
