package basemodel

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/task/countdown"
)

// The measurement of a Countdown world's model (paper Sec. 7): how well it
// solves the world's validation problems, and how well it judges a
// candidate solution when asked with the verification prompts P1 and P2
// (Appendix C.1) in the form the trainer asks them. The gap between the
// two is the generation-verification asymmetry that self-verification
// rewards rely on: a model that can tell right from wrong better than it
// can find the right answer has something to learn from its own verdicts.

// CountdownEvalOptions configure EvaluateCountdown.
type CountdownEvalOptions struct {
	// Problems3 and Problems4 are how many 3-number and 4-number problems
	// of countdown:val are solved (the first ones of the split).
	Problems3 int `json:"problems_3"`
	Problems4 int `json:"problems_4"`
	// N samples per problem at Temperature give pass@N and avg@N.
	N           int     `json:"n"`
	Temperature float64 `json:"temperature"`
	// Candidates is the size of the balanced verification set: half
	// correct, half wrong.
	Candidates int `json:"candidates"`
	// MaxNewTokens bounds each solution and each verification reply.
	MaxNewTokens int    `json:"max_new_tokens"`
	Seed         uint64 `json:"seed"`
}

// DefaultCountdownEvalOptions returns 256 problems of each size, 16
// samples at temperature 1, 256 candidates, 96 new tokens, seed 1.
func DefaultCountdownEvalOptions() CountdownEvalOptions {
	return CountdownEvalOptions{Problems3: 256, Problems4: 256, N: 16, Temperature: 1, Candidates: 256, MaxNewTokens: 96, Seed: 1}
}

// CountdownSolveReport is the solving of the problems of one size.
type CountdownSolveReport struct {
	Numbers  int `json:"numbers"`
	Problems int `json:"problems"`
	// Greedy is the accuracy of greedy decoding; PassAtN the share of
	// problems with a correct sample among N; AvgAtN the samples' mean
	// accuracy.
	Greedy  float64 `json:"greedy"`
	PassAtN float64 `json:"pass_at_n"`
	AvgAtN  float64 `json:"avg_at_n"`
	// Answered is the share of samples with an <answer> tag.
	Answered float64 `json:"answered"`
	// Operations counts the operations ("44+19=63") the greedy solutions
	// write, and OperationsExact is the share of them whose result is
	// exact (countdown.Operations): how well the model's own arithmetic
	// holds when it solves.
	Operations      int     `json:"operations,omitempty"`
	OperationsExact float64 `json:"operations_exact,omitempty"`
	// CI holds the 95% percentile-bootstrap intervals over problems of
	// greedy, pass, avg and operations_exact.
	CI map[string][2]float64 `json:"ci"`
}

// CountdownVerifyReport is the judging of the balanced candidate set with
// one prompt, greedy replies.
type CountdownVerifyReport struct {
	Prompt     string `json:"prompt"`
	Candidates int    `json:"candidates"`
	// Accuracy counts a reply right when its verdict is the exact
	// verifier's; a reply without a verdict is wrong.
	Accuracy float64 `json:"accuracy"`
	// ParseRate is the share of replies with \boxed{True} or
	// \boxed{False}.
	ParseRate float64 `json:"parse_rate"`
	// TPR is the share of correct candidates accepted, FPR the share of
	// wrong ones accepted.
	TPR float64 `json:"tpr"`
	FPR float64 `json:"fpr"`
	// Operations counts the operations the replies write as they check
	// the candidates, and OperationsExact is the share whose result is
	// exact: a check that computes wrong accepts wrong candidates.
	Operations      int     `json:"operations,omitempty"`
	OperationsExact float64 `json:"operations_exact,omitempty"`
	// CI holds the 95% intervals of accuracy, parse_rate, tpr, fpr and
	// operations_exact: a bootstrap over the problems the candidates
	// belong to.
	CI map[string][2]float64 `json:"ci"`
}

// CountdownReport is a Countdown model's measurement.
type CountdownReport struct {
	Model   string                 `json:"model"`
	Options CountdownEvalOptions   `json:"options"`
	Solve   []CountdownSolveReport `json:"solve"`
	// OwnCorrect and OwnWrong count the candidates of the verification set
	// that are the model's own samples; Constructed counts the correct
	// ones added from the generator's solutions where the model found too
	// few (its wrong samples are always plenty).
	OwnCorrect  int                     `json:"own_correct"`
	OwnWrong    int                     `json:"own_wrong"`
	Constructed int                     `json:"constructed"`
	Verify      []CountdownVerifyReport `json:"verify"`
	Seconds     float64                 `json:"seconds"`
}

// SolveSize returns the solving report of problems with n numbers.
func (r *CountdownReport) SolveSize(n int) (CountdownSolveReport, bool) {
	for _, s := range r.Solve {
		if s.Numbers == n {
			return s, true
		}
	}
	return CountdownSolveReport{}, false
}

// VerifyPrompt returns the verification report of prompt p ("P1", "P2").
func (r *CountdownReport) VerifyPrompt(p string) (CountdownVerifyReport, bool) {
	for _, v := range r.Verify {
		if v.Prompt == p {
			return v, true
		}
	}
	return CountdownVerifyReport{}, false
}

// candidate is one item of the verification set.
type candidate struct {
	problem int // index into the solved problems
	expr    string
	correct bool
}

// EvaluateCountdown measures a Countdown model: greedy accuracy, pass@N and
// avg@N on the first Problems3 3-number and Problems4 4-number problems of
// countdown:val; then a balanced set of Candidates candidates (the model's
// own sampled answers, graded by the exact verifier, one correct and one
// wrong per problem at most, subsampled to half and half; correct ones
// from the generator's solutions where the model found too few) judged
// with P1 and P2. Every draw comes from o.Seed.
func EvaluateCountdown(ctx context.Context, m *Model, o CountdownEvalOptions) (*CountdownReport, error) {
	if o == (CountdownEvalOptions{}) {
		o = DefaultCountdownEvalOptions()
	}
	switch {
	case o.N <= 0:
		return nil, fmt.Errorf("countdown evaluation with %d samples per problem", o.N)
	case o.Problems3 < 0 || o.Problems4 < 0 || o.Problems3+o.Problems4 == 0:
		return nil, fmt.Errorf("countdown evaluation of %d and %d problems: want a positive total", o.Problems3, o.Problems4)
	case o.Candidates < 2:
		return nil, fmt.Errorf("countdown evaluation with %d candidates: want at least 2", o.Candidates)
	case o.MaxNewTokens <= 0:
		return nil, fmt.Errorf("countdown evaluation with %d new tokens", o.MaxNewTokens)
	}
	start := time.Now()
	_, val, err := countdown.Splits()
	if err != nil {
		return nil, err
	}
	var probs []countdown.Instance
	for _, size := range []struct{ n, want int }{{3, o.Problems3}, {4, o.Problems4}} {
		got := 0
		for _, inst := range val {
			if len(inst.Numbers) == size.n && got < size.want {
				probs = append(probs, inst)
				got++
			}
		}
		if got < size.want {
			return nil, fmt.Errorf("countdown:val has %d problems of %d numbers, fewer than the %d asked for", got, size.n, size.want)
		}
	}
	prompts := make([]string, len(probs))
	for i, p := range probs {
		prompts[i] = countdown.BasePrompt(p.Numbers, p.Target)
	}
	greedy, _, err := m.Generate(ctx, prompts, 1, 0, o.MaxNewTokens, o.Seed)
	if err != nil {
		return nil, err
	}
	samples, _, err := m.Generate(ctx, prompts, o.N, o.Temperature, o.MaxNewTokens, o.Seed+1)
	if err != nil {
		return nil, err
	}
	v := countdown.DefaultVerifier()
	rep := &CountdownReport{Model: m.Name, Options: o}
	type perProblem struct {
		greedy  bool
		ops     [2]int // operations of the greedy solution, and the exact ones
		correct int
		answers int
		right   []string // distinct correct answers, in sample order
		wrong   []string // distinct wrong answers
	}
	per := make([]perProblem, len(probs))
	for i, p := range probs {
		pp := &per[i]
		pp.greedy = v.Verify(greedy[i], p.Numbers, p.Target).Outcome == countdown.Correct
		pp.ops[0], pp.ops[1] = countdown.Operations(greedy[i])
		for _, s := range samples[i*o.N : (i+1)*o.N] {
			ans, _ := grade.ExtractAnswerTag(s)
			if strings.Contains(s, "<answer>") {
				pp.answers++
			}
			if v.Verify(s, p.Numbers, p.Target).Outcome == countdown.Correct {
				pp.correct++
				if !slices.Contains(pp.right, ans) {
					pp.right = append(pp.right, ans)
				}
			} else if !slices.Contains(pp.wrong, ans) {
				pp.wrong = append(pp.wrong, ans)
			}
		}
	}
	for si, size := range []int{3, 4} {
		var g, pass, avg []float64
		var ops [][2]int
		answered := 0
		for i, p := range probs {
			if len(p.Numbers) != size {
				continue
			}
			ops = append(ops, per[i].ops)
			g = append(g, b2f(per[i].greedy))
			pass = append(pass, b2f(per[i].correct > 0))
			avg = append(avg, float64(per[i].correct)/float64(o.N))
			answered += per[i].answers
		}
		if len(g) == 0 {
			continue
		}
		r := CountdownSolveReport{Numbers: size, Problems: len(g), Greedy: meanOf(g), PassAtN: meanOf(pass), AvgAtN: meanOf(avg),
			Answered: float64(answered) / float64(len(g)*o.N), CI: map[string][2]float64{}}
		for k, xs := range map[string][]float64{"greedy": g, "pass": pass, "avg": avg} {
			r.CI[k] = bootstrapCI(xs, o.Seed*97+uint64(si)*7+uint64(len(k)))
		}
		r.Operations, r.OperationsExact, r.CI["operations_exact"] = operationsExact(ops, o.Seed*97+uint64(si)*7+99)
		rep.Solve = append(rep.Solve, r)
	}

	// The balanced verification set.
	rng := rand.New(rand.NewPCG(o.Seed, 0x7665726966)) // "verif"
	var right, wrong []candidate
	for i := range probs {
		if len(per[i].right) > 0 {
			right = append(right, candidate{problem: i, expr: per[i].right[rng.IntN(len(per[i].right))], correct: true})
		}
		if len(per[i].wrong) > 0 {
			wrong = append(wrong, candidate{problem: i, expr: per[i].wrong[rng.IntN(len(per[i].wrong))]})
		}
	}
	half := o.Candidates / 2
	rng.Shuffle(len(right), func(i, j int) { right[i], right[j] = right[j], right[i] })
	rng.Shuffle(len(wrong), func(i, j int) { wrong[i], wrong[j] = wrong[j], wrong[i] })
	right = right[:min(half, len(right))]
	wrong = wrong[:min(half, len(wrong))]
	rep.OwnCorrect, rep.OwnWrong = len(right), len(wrong)
	if len(right) < half {
		// Too few of the model's own answers are right: add the
		// generator's solutions, written another way, on problems that
		// have no correct candidate yet.
		have := map[int]bool{}
		for _, c := range right {
			have[c.problem] = true
		}
		for _, i := range rng.Perm(len(probs)) {
			if len(right) == half {
				break
			}
			if have[i] {
				continue
			}
			sol, err := countdown.Parse(probs[i].Solution)
			if err != nil {
				return nil, fmt.Errorf("countdown:val solution %q: %w", probs[i].Solution, err)
			}
			expr := countdown.MakeCandidate(rng, countdown.KindCorrect, probs[i].Numbers, probs[i].Target, sol)
			right = append(right, candidate{problem: i, expr: expr, correct: true})
			rep.Constructed++
		}
	}
	if len(wrong) < len(right) {
		right = right[:len(wrong)]
	}
	cands := append(right, wrong...)
	for pi, p := range []countdown.VerifyPrompt{countdown.P1, countdown.P2} {
		reqs := make([]string, len(cands))
		for i, c := range cands {
			inst := probs[c.problem]
			if reqs[i], err = countdown.VerifyRequest(p, c.expr, inst.Numbers, inst.Target); err != nil {
				return nil, err
			}
		}
		replies, _, err := m.Generate(ctx, reqs, 1, 0, o.MaxNewTokens, o.Seed)
		if err != nil {
			return nil, err
		}
		verdicts := make([]reward.Verdict, len(cands))
		ops := map[int][2]int{} // per problem
		for i, r := range replies {
			verdicts[i], _ = reward.ParseVerdict(r)
			n, exact := countdown.Operations(r)
			po := ops[cands[i].problem]
			ops[cands[i].problem] = [2]int{po[0] + n, po[1] + exact}
		}
		vr := verifyReport(p.String(), cands, verdicts, o.Seed*31+uint64(pi))
		perProblemOps := make([][2]int, 0, len(ops))
		for _, c := range cands {
			if po, ok := ops[c.problem]; ok {
				perProblemOps = append(perProblemOps, po)
				delete(ops, c.problem)
			}
		}
		var ci [2]float64
		vr.Operations, vr.OperationsExact, ci = operationsExact(perProblemOps, o.Seed*31+uint64(pi)+7)
		if vr.CI != nil {
			vr.CI["operations_exact"] = ci
		}
		rep.Verify = append(rep.Verify, vr)
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// operationsExact is the share of exact operations over problems (each
// holding its count of operations and of exact ones), with its 95%
// percentile-bootstrap interval over the problems.
func operationsExact(perProblem [][2]int, seed uint64) (ops int, share float64, ci [2]float64) {
	ratio := func(draw []int) []float64 {
		n, exact := 0, 0
		for _, p := range draw {
			n += perProblem[p][0]
			exact += perProblem[p][1]
		}
		if n == 0 {
			return []float64{0}
		}
		return []float64{float64(exact) / float64(n)}
	}
	all := make([]int, len(perProblem))
	for i := range all {
		all[i] = i
		ops += perProblem[i][0]
	}
	share = ratio(all)[0]
	if ops == 0 {
		return 0, 0, ci
	}
	bc := verifyBootstrap
	bc.Seed = seed
	ivs, err := metrics.BootstrapStatistics(len(perProblem), ratio, bc)
	if err != nil { // unreachable: there are problems and the settings are fixed
		return ops, share, ci
	}
	return ops, share, [2]float64{ivs[0].Lo, ivs[0].Hi}
}

// verifyStats are the verdict rates of a set of candidates.
func verifyRates(cands []candidate, verdicts []reward.Verdict, idx []int) (acc, parse, tpr, fpr float64) {
	var n, right, parsed, pos, neg, tp, fp float64
	for _, i := range idx {
		c, v := cands[i], verdicts[i]
		n++
		if v != reward.NoVerdict {
			parsed++
		}
		accepted := v == reward.VerdictTrue
		if accepted == c.correct && v != reward.NoVerdict {
			right++
		}
		if c.correct {
			pos++
			if accepted {
				tp++
			}
		} else {
			neg++
			if accepted {
				fp++
			}
		}
	}
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	return ratio(right, n), ratio(parsed, n), ratio(tp, pos), ratio(fp, neg)
}

// verifyBootstrap is how the verification intervals resample: 2,000
// resamples, trimmed percentiles, the generator stream the manifests'
// intervals were drawn with.
var verifyBootstrap = metrics.BootstrapConfig{Resamples: 2000, Percentiles: metrics.Trimmed, Stream: 0xb0075}

// verifyReport computes the rates and their 95% intervals by a
// percentile bootstrap over problems: each resample draws problems with
// replacement and takes all their candidates, so the two candidates of
// one problem move together.
func verifyReport(prompt string, cands []candidate, verdicts []reward.Verdict, seed uint64) CountdownVerifyReport {
	all := make([]int, len(cands))
	byProblem := map[int][]int{}
	var problems []int
	for i, c := range cands {
		all[i] = i
		if _, ok := byProblem[c.problem]; !ok {
			problems = append(problems, c.problem)
		}
		byProblem[c.problem] = append(byProblem[c.problem], i)
	}
	r := CountdownVerifyReport{Prompt: prompt, Candidates: len(cands)}
	r.Accuracy, r.ParseRate, r.TPR, r.FPR = verifyRates(cands, verdicts, all)
	if len(problems) == 0 {
		return r
	}
	idx := make([]int, 0, len(cands))
	rates := func(draw []int) []float64 {
		idx = idx[:0]
		for _, p := range draw {
			idx = append(idx, byProblem[problems[p]]...)
		}
		a, p, t, f := verifyRates(cands, verdicts, idx)
		return []float64{a, p, t, f}
	}
	bc := verifyBootstrap
	bc.Seed = seed
	ivs, err := metrics.BootstrapStatistics(len(problems), rates, bc)
	if err != nil { // unreachable: problems is not empty and the settings are fixed
		return r
	}
	r.CI = map[string][2]float64{}
	for k, name := range []string{"accuracy", "parse_rate", "tpr", "fpr"} {
		r.CI[name] = [2]float64{ivs[k].Lo, ivs[k].Hi}
	}
	return r
}

// WriteCountdownMarkdown writes the Countdown models' reports as one
// Markdown table: solving (greedy and pass@N per size) and judging (P1 and
// P2 accuracy and parse rate), with 95% bootstrap intervals.
func WriteCountdownMarkdown(w io.Writer, reports []*CountdownReport) error {
	if len(reports) == 0 {
		return nil
	}
	o := reports[0].Options
	var b strings.Builder
	fmt.Fprintf(&b, "Countdown (countdown:val, %d 3-number and %d 4-number problems; %d samples at T=%g) and verification (%d balanced candidates, greedy verdicts), 95%% bootstrap intervals over problems.\n\n",
		o.Problems3, o.Problems4, o.N, o.Temperature, o.Candidates)
	fmt.Fprintf(&b, "| model | 3 greedy | 3 pass@%d | 4 greedy | 4 pass@%d | P1 acc | P1 parse | P2 acc | P2 parse | P2 TPR / FPR |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", o.N, o.N)
	for _, r := range reports {
		fmt.Fprintf(&b, "| %s |", r.Model)
		for _, n := range []int{3, 4} {
			s, _ := r.SolveSize(n)
			fmt.Fprintf(&b, " %s | %s |", withCI(s.Greedy, s.CI["greedy"]), withCI(s.PassAtN, s.CI["pass"]))
		}
		for _, p := range []string{"P1", "P2"} {
			v, _ := r.VerifyPrompt(p)
			fmt.Fprintf(&b, " %s | %s |", withCI(v.Accuracy, v.CI["accuracy"]), withCI(v.ParseRate, v.CI["parse_rate"]))
		}
		v, _ := r.VerifyPrompt("P2")
		fmt.Fprintf(&b, " %s / %s |\n", pct(v.TPR), pct(v.FPR))
	}
	measured := false
	for _, r := range reports {
		for _, v := range r.Verify {
			measured = measured || v.Operations > 0
		}
	}
	if measured {
		b.WriteString("\nThe model's arithmetic: the share of the operations it writes (`44+19=63`) whose result is exact, in its greedy solutions and in its checks of the candidates, with the number of operations.\n\n")
		b.WriteString("| model | solving, 3 numbers | solving, 4 numbers | checking with P1 | checking with P2 |\n|---|---:|---:|---:|---:|\n")
		for _, r := range reports {
			fmt.Fprintf(&b, "| %s |", r.Model)
			for _, n := range []int{3, 4} {
				s, _ := r.SolveSize(n)
				fmt.Fprintf(&b, " %s of %d |", withCI(s.OperationsExact, s.CI["operations_exact"]), s.Operations)
			}
			for _, p := range []string{"P1", "P2"} {
				v, _ := r.VerifyPrompt(p)
				fmt.Fprintf(&b, " %s of %d |", withCI(v.OperationsExact, v.CI["operations_exact"]), v.Operations)
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
