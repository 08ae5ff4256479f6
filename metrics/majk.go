package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Estimating maj@k for k smaller than the n samples drawn (paper Table 9:
// the base model's maj@k against the test-time-trained model's avg@k for k
// up to 1024, from at least 1024 samples per problem).
//
// maj@k of a problem is the probability that the majority answer of k
// fresh samples is correct. Its estimator here is the mean of that
// correctness over k-subsets of the n samples drawn without replacement,
// with a tie among the leading classes counted as the share of the tied
// classes that is correct (a uniformly random tie-break). Averaged over
// all C(n, k) subsets it is unbiased for maj@k with a random tie-break, as
// the unbiased pass@k averages over subsets; where C(n, k) is too large to
// enumerate, a seeded uniform sample of subsets gives an unbiased estimate
// of the same mean. maj@n is the one subset, all samples.

// MajAtKEstimate returns the subset-mean maj@k of one problem from its n
// samples (classes and correctness as in MajAtK): exactly, by enumerating
// every k-subset, when there are at most draws of them, and otherwise as
// the mean over draws uniformly random k-subsets from a generator seeded by
// seed. A subset without any answer scores 0.
func MajAtKEstimate(s Samples, k, draws int, seed uint64) (float64, error) {
	n := len(s.Classes)
	if n != len(s.Correct) {
		return 0, fmt.Errorf("maj@k estimate: %d classes for %d correctness values", n, len(s.Correct))
	}
	if k < 1 || k > n {
		return 0, fmt.Errorf("maj@k estimate: k = %d outside [1, n = %d]", k, n)
	}
	if draws < 1 {
		return 0, fmt.Errorf("maj@k estimate: %d draws, need at least 1", draws)
	}
	if err := checkCorrect(s.Correct); err != nil {
		return 0, fmt.Errorf("maj@k estimate: %w", err)
	}
	// A class's correctness is that of its members; the grader gives
	// equal answers equal grades, and a class mixing both is bad input.
	classCorrect := map[int]float64{}
	for i, c := range s.Classes {
		if c < NoAnswer {
			return 0, fmt.Errorf("maj@k estimate: sample %d has class %d; classes are >= 0 or NoAnswer", i, c)
		}
		if c == NoAnswer {
			continue
		}
		if prev, ok := classCorrect[c]; ok && prev != s.Correct[i] {
			return 0, fmt.Errorf("maj@k estimate: class %d is graded both correct and wrong", c)
		}
		classCorrect[c] = s.Correct[i]
	}
	idx := make([]int, k)
	if subsets := binomial(n, k); subsets <= float64(draws) {
		for i := range idx {
			idx[i] = i
		}
		var sum float64
		count := 0
		for {
			sum += subsetMajority(s, classCorrect, idx)
			count++
			if !nextCombination(idx, n) {
				break
			}
		}
		return sum / float64(count), nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x3a7))
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	var sum float64
	for range draws {
		// A partial Fisher-Yates shuffle: the first k of perm are a
		// uniform k-subset.
		for i := range k {
			j := i + rng.IntN(n-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		sum += subsetMajority(s, classCorrect, perm[:k])
	}
	return sum / float64(draws), nil
}

// subsetMajority is the correctness of the majority of the samples at idx,
// ties split evenly among the leading classes.
func subsetMajority(s Samples, classCorrect map[int]float64, idx []int) float64 {
	counts := map[int]int{}
	best := 0
	for _, i := range idx {
		c := s.Classes[i]
		if c == NoAnswer {
			continue
		}
		counts[c]++
		best = max(best, counts[c])
	}
	if best == 0 {
		return 0
	}
	var leaders, correct float64
	for c, v := range counts {
		if v == best {
			leaders++
			correct += classCorrect[c]
		}
	}
	return correct / leaders
}

// nextCombination advances idx, a strictly increasing k-subset of 0..n-1,
// to the next one in lexicographic order; false after the last.
func nextCombination(idx []int, n int) bool {
	k := len(idx)
	i := k - 1
	for i >= 0 && idx[i] == n-k+i {
		i--
	}
	if i < 0 {
		return false
	}
	idx[i]++
	for j := i + 1; j < k; j++ {
		idx[j] = idx[j-1] + 1
	}
	return true
}

// binomial is C(n, k) as a float (+Inf past float range).
func binomial(n, k int) float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x + 1)); return v }
	return math.Round(math.Exp(lg(n) - lg(k) - lg(n-k)))
}

// WrongMajority is a problem whose majority answer, over the base model's
// samples, is wrong (paper Fig. 9): majority-voting RL on it rewards the
// wrong answer.
type WrongMajority struct {
	Index int     // the problem's position in the evaluated set
	Share float64 // the majority class's share of the samples
	Avg   float64 // the fraction of samples that are correct
}

// SelectWrongMajority returns up to size problems whose maj@n over their
// samples is wrong although some sample gives an answer, the most
// confidently wrong first (largest majority share; ties by index), so the
// selection is deterministic. Problems with no answer at all are left out:
// majority voting gives them no reward to learn a wrong answer from.
func SelectWrongMajority(problems []Samples, size int) ([]WrongMajority, error) {
	if size < 1 {
		return nil, fmt.Errorf("selecting wrong-majority problems: size %d, need at least 1", size)
	}
	var out []WrongMajority
	for i, p := range problems {
		maj, err := MajAtK(p.Classes, p.Correct)
		if err != nil {
			return nil, fmt.Errorf("problem %d: %w", i, err)
		}
		_, votes, _ := MajorityClass(p.Classes)
		if votes == 0 || maj == 1 {
			continue
		}
		avg, _ := AvgAtK(p.Correct)
		out = append(out, WrongMajority{Index: i, Share: float64(votes) / float64(len(p.Classes)), Avg: avg})
	}
	slices.SortStableFunc(out, func(a, b WrongMajority) int {
		switch {
		case a.Share > b.Share:
			return -1
		case a.Share < b.Share:
			return 1
		}
		return a.Index - b.Index
	})
	if len(out) > size {
		out = out[:size]
	}
	return out, nil
}
