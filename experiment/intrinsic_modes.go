package experiment

import (
	"fmt"
	"strings"
)

// FailureMode names how an intrinsic-reward run went wrong, if it did.
type FailureMode string

const (
	LengthCollapse        FailureMode = "length collapse"
	Repetition            FailureMode = "repetition"
	ConstantAnswer        FailureMode = "constant answer"
	FormatHack            FailureMode = "format hack"
	ConfidentWrong        FailureMode = "confident-wrong sharpening"
	UnexplainedDecline    FailureMode = "decline without a named pattern"
	NoFailureWithinBudget FailureMode = "none within budget"
)

// The thresholds of the failure-mode rule (see ClassifyFailure).
const (
	lengthCollapseRatio   = 0.6  // end length below this share of the start length
	repetitionShare       = 0.2  // repeated lines among the end samples' lines
	repetitionRise        = 0.1  // ... and this much above the start
	truncationShare       = 0.25 // responses cut at the length limit at the end
	truncationRise        = 0.15 // ... and this much above the start
	noAnswerShare         = 0.5  // responses without an extractable answer at the end
	constantAnswerShare   = 0.5  // one answer among the end samples of different prompts
	constantAnswerPrompts = 3    // ... given to at least this many prompts
	sharpenedEntropyRatio = 0.6  // end entropy below this share of the start entropy
)

// RunEvidence is what the failure-mode rule reads from a run: training
// metrics averaged over its first and last windowSteps steps, its sample
// dumps at the first and last dump, and its validation accuracy at the
// start and end with a bootstrap interval of their difference.
type RunEvidence struct {
	LengthStart    float64 `json:"length_start"`
	LengthEnd      float64 `json:"length_end"`
	EntropyStart   float64 `json:"entropy_start"`
	EntropyEnd     float64 `json:"entropy_end"`
	TruncatedStart float64 `json:"truncated_start"`
	TruncatedEnd   float64 `json:"truncated_end"`
	NoAnswerEnd    float64 `json:"no_answer_end"`
	// RepeatStart, RepeatEnd: the share of response lines that repeat an
	// earlier line of the same response, over a sample dump's rollouts.
	RepeatStart float64 `json:"repeat_start"`
	RepeatEnd   float64 `json:"repeat_end"`
	// TopAnswerShare is the share of the last dump's rollouts giving its
	// most common answer, and TopAnswerPrompts how many different prompts
	// received that answer.
	TopAnswer        string  `json:"top_answer"`
	TopAnswerShare   float64 `json:"top_answer_share"`
	TopAnswerPrompts int     `json:"top_answer_prompts"`
	// ValStart, ValEnd: mean validation avg@n; ValDiffLo/Hi: the 95%
	// bootstrap interval of ValEnd − ValStart over problems.
	ValStart  float64 `json:"val_start"`
	ValEnd    float64 `json:"val_end"`
	ValDiffLo float64 `json:"val_diff_lo"`
	ValDiffHi float64 `json:"val_diff_hi"`
}

// ClassifyFailure names a run's failure mode by the first rule that
// holds, in this order:
//
//  1. length collapse: the response length at the end is below 60% of the
//     start;
//  2. repetition: at least 20% of the end samples' lines repeat an earlier
//     line of their response (and 10 points more than at the start), or at
//     least 25% of the responses run to the length limit (15 points more
//     than at the start);
//  3. format hack: at least half the responses at the end have no
//     extractable answer;
//  4. constant answer: one answer makes up at least half the last sample
//     dump and was given to at least 3 different prompts;
//  5. confident-wrong sharpening: the actor entropy fell below 60% of its
//     start and validation accuracy fell (the 95% interval of end − start
//     lies below 0);
//  6. decline without a named pattern: validation fell, as in 5, without
//     the entropy falling that far;
//  7. none within budget: otherwise.
//
// It returns the mode and the numbers that decided it.
func ClassifyFailure(e RunEvidence) (FailureMode, string) {
	valFell := e.ValDiffHi < 0
	valText := fmt.Sprintf("validation %.3f → %.3f (end − start 95%% CI [%+.3f, %+.3f])", e.ValStart, e.ValEnd, e.ValDiffLo, e.ValDiffHi)
	switch {
	case e.LengthStart > 0 && e.LengthEnd < lengthCollapseRatio*e.LengthStart:
		return LengthCollapse, fmt.Sprintf("response length %.1f → %.1f tokens; %s", e.LengthStart, e.LengthEnd, valText)
	case e.RepeatEnd >= repetitionShare && e.RepeatEnd >= e.RepeatStart+repetitionRise:
		return Repetition, fmt.Sprintf("repeated lines %.0f%% → %.0f%%; %s", 100*e.RepeatStart, 100*e.RepeatEnd, valText)
	case e.TruncatedEnd >= truncationShare && e.TruncatedEnd >= e.TruncatedStart+truncationRise:
		return Repetition, fmt.Sprintf("responses at the length limit %.0f%% → %.0f%%; %s", 100*e.TruncatedStart, 100*e.TruncatedEnd, valText)
	case e.NoAnswerEnd >= noAnswerShare:
		return FormatHack, fmt.Sprintf("%.0f%% of responses without an answer at the end; %s", 100*e.NoAnswerEnd, valText)
	case e.TopAnswerShare >= constantAnswerShare && e.TopAnswerPrompts >= constantAnswerPrompts:
		return ConstantAnswer, fmt.Sprintf("answer %q in %.0f%% of the last samples, for %d prompts; %s", e.TopAnswer, 100*e.TopAnswerShare, e.TopAnswerPrompts, valText)
	case valFell && e.EntropyStart > 0 && e.EntropyEnd < sharpenedEntropyRatio*e.EntropyStart:
		return ConfidentWrong, fmt.Sprintf("entropy %.3f → %.3f; %s", e.EntropyStart, e.EntropyEnd, valText)
	case valFell:
		return UnexplainedDecline, fmt.Sprintf("entropy %.3f → %.3f; %s", e.EntropyStart, e.EntropyEnd, valText)
	}
	return NoFailureWithinBudget, valText
}

// repeatedLineShare is the share of the responses' non-empty lines that
// repeat an earlier line of the same response.
func repeatedLineShare(responses []string) float64 {
	var lines, repeats int
	for _, r := range responses {
		seen := map[string]bool{}
		for _, l := range strings.Split(r, "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			lines++
			if seen[l] {
				repeats++
			}
			seen[l] = true
		}
	}
	if lines == 0 {
		return 0
	}
	return float64(repeats) / float64(lines)
}

// topAnswer finds the most common non-empty answer among rollouts, its
// share of all rollouts, and the number of distinct prompts it answers.
func topAnswer(rs []sampleRecord) (answer string, share float64, prompts int) {
	count := map[string]int{}
	promptsOf := map[string]map[string]bool{}
	for _, r := range rs {
		if r.Answer == "" {
			continue
		}
		count[r.Answer]++
		if promptsOf[r.Answer] == nil {
			promptsOf[r.Answer] = map[string]bool{}
		}
		promptsOf[r.Answer][r.PromptID] = true
	}
	best := 0
	for a, c := range count {
		if c > best || (c == best && a < answer) {
			answer, best = a, c
		}
	}
	if len(rs) == 0 || best == 0 {
		return "", 0, 0
	}
	return answer, float64(best) / float64(len(rs)), len(promptsOf[answer])
}
