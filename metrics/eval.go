package metrics

import "fmt"

// NoAnswer is the class index of a sample without an extracted answer; it
// never wins a vote.
const NoAnswer = -1

func checkCorrect(correct []float64) error {
	for i, c := range correct {
		if c != 0 && c != 1 {
			return fmt.Errorf("sample %d: correctness %v is not 0 or 1", i, c)
		}
	}
	return nil
}

// AvgAtK returns avg@k, the mean correctness of the k samples drawn for a
// problem (correct[i] is 1 or 0).
func AvgAtK(correct []float64) (float64, error) {
	if len(correct) == 0 {
		return 0, fmt.Errorf("avg@k: no samples")
	}
	if err := checkCorrect(correct); err != nil {
		return 0, fmt.Errorf("avg@k: %w", err)
	}
	return mean(correct), nil
}

// MajorityClass returns the most frequent class among classes (NoAnswer
// excluded), its vote count, and the first sample index that carries it.
// Ties go to the class seen first, as in the reference voting code. It
// returns (NoAnswer, 0, -1) when no sample has an answer.
func MajorityClass(classes []int) (class, votes, first int) {
	class, first = NoAnswer, -1
	counts := make(map[int]int, len(classes))
	firstSeen := make(map[int]int, len(classes))
	for i, c := range classes {
		if c == NoAnswer {
			continue
		}
		if _, ok := firstSeen[c]; !ok {
			firstSeen[c] = i
		}
		counts[c]++
		cnt := counts[c]
		// A later class must strictly exceed the leader to take over, and an
		// earlier-seen class reaching the leader's count wins the tie.
		if cnt > votes || (cnt == votes && firstSeen[c] < first) {
			class, votes, first = c, cnt, firstSeen[c]
		}
	}
	return class, votes, first
}

// MajAtK returns maj@k for one problem: the correctness of the majority
// answer among its k samples. classes[i] is sample i's answer-equivalence
// class (any non-negative integers, equal for answers the grader deems
// equal; NoAnswer for none), and correct[i] its 0/1 correctness. The
// majority class's correctness is that of its first member. A problem
// without any answer scores 0.
func MajAtK(classes []int, correct []float64) (float64, error) {
	if len(classes) != len(correct) {
		return 0, fmt.Errorf("maj@k: %d classes for %d correctness values", len(classes), len(correct))
	}
	if len(classes) == 0 {
		return 0, fmt.Errorf("maj@k: no samples")
	}
	if err := checkCorrect(correct); err != nil {
		return 0, fmt.Errorf("maj@k: %w", err)
	}
	for i, c := range classes {
		if c < NoAnswer {
			return 0, fmt.Errorf("maj@k: sample %d has class %d; classes are >= 0 or NoAnswer", i, c)
		}
	}
	_, votes, first := MajorityClass(classes)
	if votes == 0 {
		return 0, nil
	}
	return correct[first], nil
}

// PassAtK returns the unbiased pass@k estimate from n samples of which c
// are correct: 1 - C(n-c, k)/C(n, k), evaluated as the product
// 1 - prod_{i=n-c+1..n} (1 - k/i), which never forms large binomials. It is 1
// when n - c < k (every k-subset holds a correct sample).
func PassAtK(n, c, k int) (float64, error) {
	switch {
	case n < 1:
		return 0, fmt.Errorf("pass@k: n = %d samples, need at least 1", n)
	case c < 0 || c > n:
		return 0, fmt.Errorf("pass@k: c = %d correct outside [0, n = %d]", c, n)
	case k < 1 || k > n:
		return 0, fmt.Errorf("pass@k: k = %d outside [1, n = %d]", k, n)
	}
	if n-c < k {
		return 1, nil
	}
	prod := 1.0
	for i := n - c + 1; i <= n; i++ {
		prod *= 1 - float64(k)/float64(i)
	}
	return 1 - prod, nil
}

// PassAtKSeries returns pass@k for k = 1..n from n samples with c correct.
func PassAtKSeries(n, c int) ([]float64, error) {
	out := make([]float64, n)
	for k := 1; k <= n; k++ {
		v, err := PassAtK(n, c, k)
		if err != nil {
			return nil, err
		}
		out[k-1] = v
	}
	return out, nil
}
