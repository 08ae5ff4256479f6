package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
)

// ErrConstant is returned by a correlation whose input has a constant
// variable, where the coefficient is undefined; the value returned with it
// is 0.
var ErrConstant = errors.New("correlation undefined: a variable is constant")

// checkPairs validates two equally long samples of finite values with at
// least two observations.
func checkPairs(x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("samples differ in length: %d and %d", len(x), len(y))
	}
	if len(x) < 2 {
		return fmt.Errorf("need at least 2 observations, got %d", len(x))
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) || math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("observation %d is not finite: (%v, %v)", i, x[i], y[i])
		}
	}
	return nil
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// Pearson returns the Pearson linear correlation of x and y, computed from
// deviations about the means (two passes) for accuracy. A constant sample
// gives 0 and ErrConstant.
func Pearson(x, y []float64) (float64, error) {
	if err := checkPairs(x, y); err != nil {
		return 0, err
	}
	return pearson(x, y)
}

func pearson(x, y []float64) (float64, error) {
	mx, my := mean(x), mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0, ErrConstant
	}
	r := sxy / math.Sqrt(sxx*syy)
	// Rounding can push |r| a hair past 1.
	return math.Max(-1, math.Min(1, r)), nil
}

// Ranks returns the 1-based ranks of x, giving tied values the average of
// the ranks they span (so ranks of [10, 20, 20, 30] are [1, 2.5, 2.5, 4]).
func Ranks(x []float64) []float64 {
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return x[order[a]] < x[order[b]] })
	ranks := make([]float64, len(x))
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && x[order[end]] == x[order[start]] {
			end++
		}
		// Positions start..end-1 hold equal values: ranks start+1..end.
		avg := float64(start+1+end) / 2
		for k := start; k < end; k++ {
			ranks[order[k]] = avg
		}
		start = end
	}
	return ranks
}

// Spearman returns Spearman's rank correlation: the Pearson correlation of
// the average ranks, which handles ties exactly. A constant sample gives 0
// and ErrConstant.
func Spearman(x, y []float64) (float64, error) {
	if err := checkPairs(x, y); err != nil {
		return 0, err
	}
	return pearson(Ranks(x), Ranks(y))
}

// KendallTauB returns Kendall's tau-b, (C - D) / sqrt((P - Tx)(P - Ty)),
// where C and D count concordant and discordant pairs, P = n(n-1)/2, and Tx,
// Ty count pairs tied in x and in y. It compares all pairs, O(n^2), which is
// fast for the per-batch and per-model sample sizes urlvr correlates. A
// constant sample gives 0 and ErrConstant.
func KendallTauB(x, y []float64) (float64, error) {
	if err := checkPairs(x, y); err != nil {
		return 0, err
	}
	n := len(x)
	var concordant, discordant, tiedX, tiedY float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			dx, dy := x[i]-x[j], y[i]-y[j]
			switch {
			case dx == 0 && dy == 0:
				tiedX++
				tiedY++
			case dx == 0:
				tiedX++
			case dy == 0:
				tiedY++
			case (dx > 0) == (dy > 0):
				concordant++
			default:
				discordant++
			}
		}
	}
	pairs := float64(n) * float64(n-1) / 2
	den := (pairs - tiedX) * (pairs - tiedY)
	if den == 0 {
		return 0, ErrConstant
	}
	return (concordant - discordant) / math.Sqrt(den), nil
}

// PointBiserial returns the point-biserial correlation between a continuous
// score and a binary outcome (every value 0 or 1):
// r = (M1 - M0)/s * sqrt(n1 n0)/n with s the population standard deviation
// of score. It equals Pearson(score, outcome). Following the paper's
// monitoring, it is 0 (with a nil error) when the outcome or the score is
// constant, as in a batch where every rollout is wrong.
func PointBiserial(score, outcome []float64) (float64, error) {
	if err := checkPairs(score, outcome); err != nil {
		return 0, err
	}
	var n1 float64
	for i, o := range outcome {
		if o != 0 && o != 1 {
			return 0, fmt.Errorf("outcome %d is %v, not 0 or 1", i, o)
		}
		n1 += o
	}
	n := float64(len(score))
	n0 := n - n1
	if n1 == 0 || n0 == 0 {
		return 0, nil
	}
	m := mean(score)
	var ss float64
	var d classDifference
	for i, s := range score {
		dev := s - m
		ss += dev * dev
		d.add(s, outcome[i] == 1)
	}
	return pointBiserialFromDeviations(d.devCorrect(n1, n0), ss, n1, n0), nil
}

// classDifference accumulates, exactly, the sums of the scores of each
// class. The summed deviation of the positive class from the overall mean,
// sum_{y=1}(x - mean) = (n0*S1 - n1*S0)/n, is then exactly zero when the two
// class means are equal, where summing float deviations leaves a residue
// such as 7.85e-17 that would be reported as a (meaningless) correlation.
// A float64 converts to a rational exactly, so only the final division
// rounds.
type classDifference struct {
	s1, s0  big.Rat
	inexact bool // a non-finite score: fall back to float sums
	f1, f0  float64
}

func (d *classDifference) add(x float64, positive bool) {
	sum, f := &d.s0, &d.f0
	if positive {
		sum, f = &d.s1, &d.f1
	}
	*f += x
	if d.inexact {
		return
	}
	var r big.Rat
	if r.SetFloat64(x) == nil {
		d.inexact = true
		return
	}
	sum.Add(sum, &r)
}

// devCorrect returns sum_{y=1}(x - mean) for class sizes n1 and n0.
func (d *classDifference) devCorrect(n1, n0 float64) float64 {
	n := n1 + n0
	if d.inexact {
		return (n0*d.f1 - n1*d.f0) / n
	}
	var a, b big.Rat
	a.Mul(&d.s1, new(big.Rat).SetFloat64(n0))
	b.Mul(&d.s0, new(big.Rat).SetFloat64(n1))
	a.Sub(&a, &b)
	if a.Sign() == 0 {
		return 0
	}
	f, _ := a.Float64()
	return f / n
}

// pointBiserialFromDeviations evaluates the point-biserial correlation from
// the summed deviations of the positive class, sum_{y=1}(x - mean), and the
// total sum of squared deviations: r = devCorrect / sqrt(ss * n1 * n0 / n),
// which is the Pearson formula with the binary variable's moments written
// out. It returns 0 when ss is 0.
func pointBiserialFromDeviations(devCorrect, ss, n1, n0 float64) float64 {
	if ss == 0 {
		return 0
	}
	r := devCorrect / math.Sqrt(ss*n1*n0/(n1+n0))
	return math.Max(-1, math.Min(1, r))
}
