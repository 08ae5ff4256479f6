package basemodel

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urlvr/urlvr/grade"
	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/task/arith"
)

// EvalOptions configure Evaluate.
type EvalOptions struct {
	// N is the number of samples per problem for maj@N, pass@N and avg@N.
	N int `json:"n"`
	// Temperature of the N samples (greedy accuracy is measured apart).
	Temperature float64 `json:"temperature"`
	// MaxNewTokens bounds each response.
	MaxNewTokens int    `json:"max_new_tokens"`
	Seed         uint64 `json:"seed"`
	// SkipProbe leaves out the per-family measurement on the probe set.
	SkipProbe bool `json:"skip_probe,omitempty"`
	// PaperSets measures on the paper-sized validation sets (40/30/30
	// problems, the AMC23/AIME roles) instead of the large held-out sets
	// (200 problems per tier) that decisions are made on.
	PaperSets bool `json:"paper_sets,omitempty"`
}

// DefaultEvalOptions returns 16 samples at temperature 1 (the sampling
// temperature of RL rollouts, paper Table 7), MaxNewTokens, seed 1.
func DefaultEvalOptions() EvalOptions {
	return EvalOptions{N: 16, Temperature: 1, MaxNewTokens: MaxNewTokens, Seed: 1}
}

// SetReport is a model's measurement on one set of problems.
type SetReport struct {
	Name     string `json:"name"`
	Problems int    `json:"problems"`
	// Greedy is the accuracy of greedy decoding.
	Greedy float64 `json:"greedy"`
	// MajAtN is the accuracy of the majority answer of N samples; PassAtN
	// the share of problems with at least one correct sample; AvgAtN the
	// mean accuracy of the samples.
	MajAtN  float64 `json:"maj_at_n"`
	PassAtN float64 `json:"pass_at_n"`
	AvgAtN  float64 `json:"avg_at_n"`
	// MajShare is the mean share of the N votes that the majority answer
	// holds: how confident the model's majority is, right or wrong.
	MajShare float64 `json:"maj_share"`
	// MeanLength is the mean length of the sampled responses, in tokens
	// (characters), the stop token not counted.
	MeanLength float64 `json:"mean_length"`
	// NoAnswer is the share of samples without a \boxed{} answer.
	NoAnswer float64 `json:"no_answer"`
	// CI holds the 95% confidence interval of Greedy, MajAtN, PassAtN and
	// AvgAtN: a percentile bootstrap over the set's problems.
	CI map[string][2]float64 `json:"ci,omitempty"`
}

// FamilyReport is a model's majority vote on one family of the probe set.
type FamilyReport struct {
	Family   arith.Family `json:"family"`
	Problems int          `json:"problems"`
	MajAtN   float64      `json:"maj_at_n"`
	AvgAtN   float64      `json:"avg_at_n"`
	MajShare float64      `json:"maj_share"`
	// WrongMajorityShare is the mean vote share of the majority answer on
	// the problems where that answer is wrong (0 when there are none).
	WrongMajorityShare float64 `json:"wrong_majority_share"`
}

// Report is a model's evaluation.
type Report struct {
	Model    string         `json:"model"`
	Options  EvalOptions    `json:"options"`
	Sets     []SetReport    `json:"sets"`
	Families []FamilyReport `json:"families,omitempty"`
	Seconds  float64        `json:"seconds"`
}

// Set returns the report of the named set.
func (r *Report) Set(name string) (SetReport, bool) {
	for _, s := range r.Sets {
		if s.Name == name {
			return s, true
		}
	}
	return SetReport{}, false
}

// Family returns the report of family f.
func (r *Report) Family(f arith.Family) (FamilyReport, bool) {
	for _, x := range r.Families {
		if x.Family == f {
			return x, true
		}
	}
	return FamilyReport{}, false
}

// problemStats is one problem's samples, graded.
type problemStats struct {
	greedy   bool
	majority float64 // correctness of the majority answer
	share    float64 // votes of the majority answer / N
	correct  int
	noAnswer int
	length   int
	samples  metrics.Samples // the answer classes and correctness of the N samples
}

// gradeSamples grades the samples of one problem and votes on them.
func gradeSamples(responses []string, gold string, g *grade.Grader) (problemStats, error) {
	var st problemStats
	answers := make([]string, len(responses))
	correct := make([]float64, len(responses))
	for i, r := range responses {
		res := g.Grade(r, gold)
		answers[i] = res.Answer
		if res.Correct {
			correct[i] = 1
			st.correct++
		}
		if res.Answer == "" {
			st.noAnswer++
		}
		st.length += len(r)
	}
	part := g.Classes(answers)
	maj, err := metrics.MajAtK(part.Class, correct)
	if err != nil {
		return st, err
	}
	_, votes, _ := metrics.MajorityClass(part.Class)
	st.samples = metrics.Samples{Classes: part.Class, Correct: correct}
	st.majority = maj
	st.share = float64(votes) / float64(len(responses))
	return st, nil
}

// Evaluate measures the model on the three large held-out sets (or, with
// PaperSets, the paper-sized validation sets): greedy accuracy, maj@N,
// pass@N, avg@N with 95% bootstrap intervals, and mean response length;
// and, unless SkipProbe, its majority vote per family on the probe set.
// Every draw comes from o.Seed, so a report is reproducible.
func Evaluate(ctx context.Context, m *Model, o EvalOptions) (*Report, error) {
	if o.N <= 0 {
		return nil, fmt.Errorf("evaluation with %d samples per problem", o.N)
	}
	if o.MaxNewTokens <= 0 {
		o.MaxNewTokens = MaxNewTokens
	}
	start := time.Now()
	specs, val := arith.LargeSpecs, [][]arith.Problem(nil)
	var err error
	if o.PaperSets {
		specs = arith.ValidationSpecs
		val, err = arith.Validation()
	} else {
		val, err = arith.Large()
	}
	if err != nil {
		return nil, err
	}
	g := grade.Default()
	rep := &Report{Model: m.Name, Options: o}
	for si, set := range val {
		stats, err := evalProblems(ctx, m, set, o, o.Seed+uint64(si)*1000, true, g)
		if err != nil {
			return nil, fmt.Errorf("evaluating %s on %s: %w", m.Name, specs[si].Name, err)
		}
		rep.Sets = append(rep.Sets, summarise(specs[si].Name, stats, o.N, o.Seed+uint64(si)))
	}
	if !o.SkipProbe {
		probe, err := arith.Probe()
		if err != nil {
			return nil, err
		}
		stats, err := evalProblems(ctx, m, probe, o, o.Seed+10_000, false, g)
		if err != nil {
			return nil, fmt.Errorf("evaluating %s on the probe set: %w", m.Name, err)
		}
		for _, f := range arith.Families() {
			fr := FamilyReport{Family: f}
			var wrong int
			for i, p := range probe {
				if p.Family != f {
					continue
				}
				s := stats[i]
				fr.Problems++
				fr.MajAtN += s.majority
				fr.AvgAtN += float64(s.correct) / float64(o.N)
				fr.MajShare += s.share
				if s.majority == 0 && s.share > 0 {
					fr.WrongMajorityShare += s.share
					wrong++
				}
			}
			if fr.Problems > 0 {
				n := float64(fr.Problems)
				fr.MajAtN /= n
				fr.AvgAtN /= n
				fr.MajShare /= n
			}
			if wrong > 0 {
				fr.WrongMajorityShare /= float64(wrong)
			}
			rep.Families = append(rep.Families, fr)
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// evalProblems samples N responses per problem (and a greedy one when
// withGreedy) and grades them.
func evalProblems(ctx context.Context, m *Model, set []arith.Problem, o EvalOptions, seed uint64, withGreedy bool, g *grade.Grader) ([]problemStats, error) {
	prompts := make([]string, len(set))
	for i, p := range set {
		prompts[i] = p.Prompt
	}
	samples, _, err := m.Generate(ctx, prompts, o.N, o.Temperature, o.MaxNewTokens, seed)
	if err != nil {
		return nil, err
	}
	var greedy []string
	if withGreedy {
		if greedy, _, err = m.Generate(ctx, prompts, 1, 0, o.MaxNewTokens, seed); err != nil {
			return nil, err
		}
	}
	stats := make([]problemStats, len(set))
	for i, p := range set {
		s, err := gradeSamples(samples[i*o.N:(i+1)*o.N], p.Answer, g)
		if err != nil {
			return nil, fmt.Errorf("problem %d: %w", i, err)
		}
		if withGreedy {
			s.greedy = g.Grade(greedy[i], p.Answer).Correct
		}
		stats[i] = s
	}
	return stats, nil
}

func summarise(name string, stats []problemStats, n int, seed uint64) SetReport {
	r := SetReport{Name: name, Problems: len(stats)}
	if len(stats) == 0 {
		return r
	}
	per := map[string][]float64{}
	for _, s := range stats {
		per["greedy"] = append(per["greedy"], b2f(s.greedy))
		per["maj"] = append(per["maj"], s.majority)
		per["pass"] = append(per["pass"], b2f(s.correct > 0))
		per["avg"] = append(per["avg"], float64(s.correct)/float64(n))
	}
	r.CI = map[string][2]float64{}
	for i, k := range []string{"greedy", "maj", "pass", "avg"} {
		r.CI[k] = bootstrapCI(per[k], seed*4+uint64(i))
	}
	var length, noAnswer int
	for _, s := range stats {
		if s.greedy {
			r.Greedy++
		}
		r.MajAtN += s.majority
		if s.correct > 0 {
			r.PassAtN++ // pass@N from N samples is 1 exactly when one is correct
		}
		r.AvgAtN += float64(s.correct) / float64(n)
		r.MajShare += s.share
		length += s.length
		noAnswer += s.noAnswer
	}
	k := float64(len(stats))
	r.Greedy /= k
	r.MajAtN /= k
	r.PassAtN /= k
	r.AvgAtN /= k
	r.MajShare /= k
	r.MeanLength = float64(length) / (k * float64(n))
	r.NoAnswer = float64(noAnswer) / (k * float64(n))
	return r
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// manifestBootstrap is the resampling behind the intervals of the shipped
// models' manifests (and the README's model table): 2,000 resamples, 95%,
// the trimmed percentile rule and the "boots" stream. Changing any of it
// changes the published intervals.
var manifestBootstrap = metrics.BootstrapConfig{Resamples: 2000, Level: 0.95, Percentiles: metrics.Trimmed, Stream: 0xb0075}

// bootstrapCI is the 95% percentile-bootstrap interval of the mean of xs
// over the problems, resampled from seed; the zero interval (shown as
// none) when there is nothing to resample. manifestBootstrap is a valid
// configuration, so a non-empty xs always has its interval.
func bootstrapCI(xs []float64, seed uint64) [2]float64 {
	bc := manifestBootstrap
	bc.Seed = seed
	ci, err := metrics.BootstrapCI([][]float64{xs}, bc)
	if err != nil {
		return [2]float64{}
	}
	return [2]float64{ci[0].Lo, ci[0].Hi}
}

// shortSetName strips the world's prefixes from a held-out set's name.
func shortSetName(name string) string {
	return strings.TrimPrefix(strings.TrimPrefix(name, "arith-val-"), "arith-")
}

// WriteMarkdown writes the reports as two Markdown tables: per validation
// set greedy accuracy, maj@N, pass@N and mean response length; and maj@N
// per family on the probe set, with the majority's mean vote share in
// brackets where the majority is wrong on most of a family's problems.
func WriteMarkdown(w io.Writer, reports []*Report) error {
	if len(reports) == 0 {
		return nil
	}
	n := reports[0].Options.N
	var b strings.Builder
	fmt.Fprintf(&b, "Held-out sets: greedy accuracy / maj@%d / pass@%d (95%% bootstrap interval over problems) / mean response length (tokens), %d samples at T=%g.\n\n", n, n, n, reports[0].Options.Temperature)
	b.WriteString("| model |")
	for _, s := range reports[0].Sets {
		fmt.Fprintf(&b, " %s greedy | maj@%d | pass@%d | len |", shortSetName(s.Name), n, n)
	}
	b.WriteString("\n|---|")
	for range reports[0].Sets {
		b.WriteString("---:|---:|---:|---:|")
	}
	b.WriteString("\n")
	for _, r := range reports {
		fmt.Fprintf(&b, "| %s |", r.Model)
		for _, s := range r.Sets {
			fmt.Fprintf(&b, " %s | %s | %s | %.1f |", withCI(s.Greedy, s.CI["greedy"]), withCI(s.MajAtN, s.CI["maj"]), withCI(s.PassAtN, s.CI["pass"]), s.MeanLength)
		}
		b.WriteString("\n")
	}
	if len(reports[0].Families) > 0 {
		fmt.Fprintf(&b, "\nProbe set, maj@%d per family (%d problems each); in brackets, the mean vote share of the wrong majority answers where most majorities are wrong.\n\n| model |", n, reports[0].Families[0].Problems)
		for _, f := range reports[0].Families {
			fmt.Fprintf(&b, " %s |", f.Family)
		}
		b.WriteString("\n|---|")
		for range reports[0].Families {
			b.WriteString("---:|")
		}
		b.WriteString("\n")
		for _, r := range reports {
			fmt.Fprintf(&b, "| %s |", r.Model)
			for _, f := range r.Families {
				if f.MajAtN < 0.5 && f.WrongMajorityShare > 0 {
					fmt.Fprintf(&b, " %s (%s) |", pct(f.MajAtN), pct(f.WrongMajorityShare))
				} else {
					fmt.Fprintf(&b, " %s |", pct(f.MajAtN))
				}
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

// withCI writes a share and, when known, its interval: 62% [58-66].
func withCI(x float64, ci [2]float64) string {
	if ci == [2]float64{} {
		return pct(x)
	}
	return fmt.Sprintf("%.0f%% [%.0f-%.0f]", 100*x, 100*ci[0], 100*ci[1])
}
