package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Samples is one problem's k sampled responses, graded: Classes[i] is
// response i's answer-equivalence class (NoAnswer for none) and Correct[i]
// its 0/1 correctness.
type Samples struct {
	Classes []int
	Correct []float64
}

// ProblemScore is one problem's accuracy from its k samples.
type ProblemScore struct {
	Avg  float64         // avg@k: the mean correctness of the samples
	Maj  float64         // maj@k: the correctness of the majority answer
	Pass map[int]float64 // unbiased pass@j for each j asked
}

// ScoreProblem computes avg@k, maj@k and pass@j (j in passK, each in
// [1, k]) of one problem.
func ScoreProblem(s Samples, passK []int) (ProblemScore, error) {
	avg, err := AvgAtK(s.Correct)
	if err != nil {
		return ProblemScore{}, err
	}
	maj, err := MajAtK(s.Classes, s.Correct)
	if err != nil {
		return ProblemScore{}, err
	}
	c := 0
	for _, x := range s.Correct {
		if x == 1 {
			c++
		}
	}
	p := ProblemScore{Avg: avg, Maj: maj, Pass: make(map[int]float64, len(passK))}
	for _, j := range passK {
		if p.Pass[j], err = PassAtK(len(s.Correct), c, j); err != nil {
			return ProblemScore{}, err
		}
	}
	return p, nil
}

// Interval is a confidence interval.
type Interval struct {
	Lo, Hi float64
}

// Estimate is a per-problem accuracy averaged over a set's problems, with
// its confidence interval over problems.
type Estimate struct {
	Mean float64
	CI   Interval
}

// SetScore is the accuracy of a set of problems: avg@k, maj@k and pass@j
// averaged over the problems.
type SetScore struct {
	Problems int
	Avg, Maj Estimate
	Pass     map[int]Estimate
}

// BootstrapConfig sets how confidence intervals are computed.
type BootstrapConfig struct {
	// Resamples is the number B of bootstrap resamples; 0 means
	// DefaultResamples.
	Resamples int
	// Level is the coverage of the interval; 0 means 0.95.
	Level float64
	// Seed seeds the resampling, so an interval is reproducible.
	Seed uint64
	// Strata, when set, splits the problems into consecutive strata of
	// these sizes (the validation sets of one evaluation, in order; they
	// must add up to the number of problems). A resample then draws each
	// stratum's problems from that stratum alone, keeping every set's size,
	// and its statistic is the mean of the strata's means: the score the
	// trainer reports over several sets, each set weighing the same
	// whatever its size. Empty: one stratum, the plain mean.
	Strata []int
	// Percentiles is the rule that turns the B sorted resample means into
	// the interval's ends; the zero value interpolates.
	Percentiles PercentileRule
	// Stream is the second seed word of the generator (a PCG's stream);
	// 0 means the bootstrap's own. Intervals published with another stream
	// stay reproducible by naming it.
	Stream uint64
}

// PercentileRule picks the order statistics a percentile interval ends at.
type PercentileRule int

const (
	// Interpolated ends the interval at the (1-level)/2 and (1+level)/2
	// quantiles of the sorted resample means, interpolating linearly
	// between order statistics (type 7 of Hyndman and Fan).
	Interpolated PercentileRule = iota
	// Trimmed drops the floor(B(1-level)/2) lowest and as many highest
	// resample means and ends the interval at the extremes of the rest:
	// with B = 2000 at 95%, the 51st smallest and the 51st largest. No
	// interpolation, so both ends are means of actual resamples.
	Trimmed
)

// defaultStream is the generator stream of BootstrapCI (and so of
// EvaluateSet) when BootstrapConfig.Stream is 0.
const defaultStream = 0xb007

// DefaultResamples is the number of bootstrap resamples when none is set.
const DefaultResamples = 1000

// EvaluateSet scores every problem (ScoreProblem) and averages over them,
// each mean with a percentile-bootstrap confidence interval over problems:
// B resamples draw len(problems) problems with replacement (one seeded
// generator, the same resamples for every metric), each resample's mean is
// taken, and the interval runs from the (1-level)/2 to the (1+level)/2
// quantile of those B means (linear interpolation between order
// statistics). Problems are the unit of resampling because the samples of
// one problem are not independent; the interval says how much the set's
// score would move with other problems of the same kind, not with other
// samples of these. With one problem the interval is that problem's score.
func EvaluateSet(problems []Samples, passK []int, bc BootstrapConfig) (SetScore, error) {
	if len(problems) == 0 {
		return SetScore{}, fmt.Errorf("evaluating a set of no problems")
	}
	scores := make([]ProblemScore, len(problems))
	for i, p := range problems {
		s, err := ScoreProblem(p, passK)
		if err != nil {
			return SetScore{}, fmt.Errorf("problem %d: %w", i, err)
		}
		scores[i] = s
	}
	return averageScores(scores, bc)
}

// ScoreProblemAtK scores one problem at each k of ks as a run drawing k
// samples would measure it: avg@k and maj@k of its first k samples, and
// the unbiased pass@k estimated from all of them. out[i] is ks[i]'s score,
// its Pass holding ks[i] alone. Taking the first k (rather than averaging
// over k-subsets) keeps avg@k and maj@k what the k samples of a smaller
// run would have given.
func ScoreProblemAtK(s Samples, ks []int) ([]ProblemScore, error) {
	if len(s.Classes) != len(s.Correct) {
		return nil, fmt.Errorf("%d classes for %d correctness values", len(s.Classes), len(s.Correct))
	}
	all, err := ScoreProblem(s, ks)
	if err != nil {
		return nil, err
	}
	out := make([]ProblemScore, len(ks))
	for i, k := range ks {
		first, err := ScoreProblem(Samples{Classes: s.Classes[:k], Correct: s.Correct[:k]}, nil)
		if err != nil {
			return nil, fmt.Errorf("the first %d samples: %w", k, err)
		}
		out[i] = ProblemScore{Avg: first.Avg, Maj: first.Maj, Pass: map[int]float64{k: all.Pass[k]}}
	}
	return out, nil
}

// EvaluateAtK is EvaluateSet for a ladder of k (ScoreProblemAtK): out[i]
// is the set's score at ks[i], avg@k, maj@k and pass@k averaged over the
// problems with their intervals. Every interval comes from the same
// resamples of problems.
func EvaluateAtK(problems []Samples, ks []int, bc BootstrapConfig) ([]SetScore, error) {
	if len(problems) == 0 {
		return nil, fmt.Errorf("evaluating a set of no problems")
	}
	byK := make([][]ProblemScore, len(ks))
	for i := range byK {
		byK[i] = make([]ProblemScore, len(problems))
	}
	for j, p := range problems {
		scores, err := ScoreProblemAtK(p, ks)
		if err != nil {
			return nil, fmt.Errorf("problem %d: %w", j, err)
		}
		for i, s := range scores {
			byK[i][j] = s
		}
	}
	out := make([]SetScore, len(ks))
	for i, scores := range byK {
		// Each call draws the same resamples (same seed, and the draws do
		// not depend on the series), so this is one joint bootstrap.
		s, err := averageScores(scores, bc)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// averageScores averages per-problem scores over the problems, with their
// bootstrap intervals; every score must carry the same pass@ keys.
func averageScores(scores []ProblemScore, bc BootstrapConfig) (SetScore, error) {
	n := len(scores)
	avg := make([]float64, n)
	maj := make([]float64, n)
	pass := make(map[int][]float64, len(scores[0].Pass))
	for i, s := range scores {
		avg[i], maj[i] = s.Avg, s.Maj
		for j, v := range s.Pass {
			if pass[j] == nil {
				pass[j] = make([]float64, n)
			}
			pass[j][i] = v
		}
	}
	series := [][]float64{avg, maj}
	ks := make([]int, 0, len(pass))
	for j := range pass {
		ks = append(ks, j)
	}
	slices.Sort(ks)
	for _, j := range ks {
		series = append(series, pass[j])
	}
	cis, err := BootstrapCI(series, bc)
	if err != nil {
		return SetScore{}, err
	}
	out := SetScore{
		Problems: n,
		Avg:      Estimate{Mean: sumMean(avg), CI: cis[0]},
		Maj:      Estimate{Mean: sumMean(maj), CI: cis[1]},
		Pass:     make(map[int]Estimate, len(ks)),
	}
	for i, j := range ks {
		out.Pass[j] = Estimate{Mean: sumMean(pass[j]), CI: cis[2+i]}
	}
	return out, nil
}

// sumMean is the mean as a running sum divided at the end, the order of
// operations of the validation logs written before the intervals existed,
// so their means stay bit for bit the same.
func sumMean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// BootstrapCI returns, for each series of per-problem values (all of the
// same length: one value per problem), the percentile-bootstrap interval of
// its mean over problems, as EvaluateSet computes them: the same B
// resamples of problems for every series (so an interval does not depend
// on which other series are bootstrapped with it), drawn within
// bc.Strata when set.
func BootstrapCI(series [][]float64, bc BootstrapConfig) ([]Interval, error) {
	if len(series) == 0 {
		return nil, nil
	}
	bc, err := bc.withDefaults()
	if err != nil {
		return nil, err
	}
	for i, s := range series {
		if len(s) == 0 || len(s) != len(series[0]) {
			return nil, fmt.Errorf("bootstrap: series %d has %d values, series 0 has %d; want the same positive number", i, len(s), len(series[0]))
		}
	}
	strata := bc.Strata
	if len(strata) == 0 {
		strata = []int{len(series[0])}
	}
	total := 0
	for i, n := range strata {
		if n < 1 {
			return nil, fmt.Errorf("bootstrap: stratum %d has %d problems; want at least 1", i, n)
		}
		total += n
	}
	if total != len(series[0]) {
		return nil, fmt.Errorf("bootstrap: strata %v hold %d problems, the series %d", strata, total, len(series[0]))
	}
	return bootstrap(series, strata, bc), nil
}

// withDefaults fills in the zero fields of bc and checks the rest.
func (bc BootstrapConfig) withDefaults() (BootstrapConfig, error) {
	if bc.Resamples == 0 {
		bc.Resamples = DefaultResamples
	}
	if bc.Level == 0 {
		bc.Level = 0.95
	}
	if bc.Resamples < 1 || !(bc.Level > 0 && bc.Level < 1) {
		return bc, fmt.Errorf("bootstrap: %d resamples at level %v; want at least 1, and a level in (0, 1)", bc.Resamples, bc.Level)
	}
	if bc.Percentiles != Interpolated && bc.Percentiles != Trimmed {
		return bc, fmt.Errorf("bootstrap: unknown percentile rule %d", bc.Percentiles)
	}
	return bc, nil
}

// rng is the seeded generator of the resampling; stream is the caller's
// default when bc names none.
func (bc BootstrapConfig) rng(stream uint64) *rand.Rand {
	if bc.Stream != 0 {
		stream = bc.Stream
	}
	return rand.New(rand.NewPCG(bc.Seed, stream))
}

// interval returns the interval's ends from the sorted resample
// statistics, by bc's percentile rule.
func (bc BootstrapConfig) interval(sorted []float64) Interval {
	alpha := (1 - bc.Level) / 2
	if bc.Percentiles == Trimmed {
		// The guard keeps a product like 0.025·2000 = 50.00000000000004
		// (alpha is not exact in binary) from losing or gaining a rank.
		k := int(math.Floor(alpha*float64(len(sorted)) + 1e-9))
		k = min(k, (len(sorted)-1)/2)
		return Interval{Lo: sorted[k], Hi: sorted[len(sorted)-1-k]}
	}
	return Interval{Lo: quantile(sorted, alpha), Hi: quantile(sorted, 1-alpha)}
}

// bootstrap returns the percentile-bootstrap interval of the mean of each
// series (the mean of its strata's means), all resampled with the same
// draws: per resample, stratum by stratum, as many problems as the
// stratum holds, with replacement.
func bootstrap(series [][]float64, strata []int, bc BootstrapConfig) []Interval {
	n := len(series[0])
	rng := bc.rng(defaultStream)
	means := make([][]float64, len(series))
	for s := range means {
		means[s] = make([]float64, bc.Resamples)
	}
	idx := make([]int, n)
	for b := range bc.Resamples {
		off := 0
		for _, size := range strata {
			for i := off; i < off+size; i++ {
				idx[i] = off + rng.IntN(size)
			}
			off += size
		}
		for s, xs := range series {
			// With one stratum this is sum/n exactly (0 + m, then m/1).
			var total float64
			off := 0
			for _, size := range strata {
				var sum float64
				for _, i := range idx[off : off+size] {
					sum += xs[i]
				}
				total += sum / float64(size)
				off += size
			}
			means[s][b] = total / float64(len(strata))
		}
	}
	out := make([]Interval, len(series))
	for s, m := range means {
		sort.Float64s(m)
		out[s] = bc.interval(m)
	}
	return out
}

// quantile is the q-quantile of sorted xs, interpolating linearly between
// order statistics (type 7 of Hyndman and Fan).
func quantile(sorted []float64, q float64) float64 {
	h := q * float64(len(sorted)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}
