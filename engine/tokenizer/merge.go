package tokenizer

import "math"

// mergeRule is what a listed pair of adjacent tokens becomes: the merged
// token's ID, and the pair's rank (its line in the merge list; lower ranks
// merge first).
type mergeRule struct {
	rank int32
	id   int32
}

// mergeTable holds the merge list keyed by the pair of token IDs.
type mergeTable map[uint64]mergeRule

func pairKey(left, right int32) uint64 {
	return uint64(uint32(left))<<32 | uint64(uint32(right))
}

func (t mergeTable) lookup(left, right int32) (mergeRule, bool) {
	rule, ok := t[pairKey(left, right)]
	return rule, ok
}

// shortWord is the symbol count up to which the quadratic scan beats the
// heap (measured by BenchmarkMerge).
const shortWord = 24

// apply merges ids in place until no adjacent pair is in the table, always
// merging the lowest-ranked pair and, among equal ranks, the leftmost, and
// returns the shortened slice.
func (t mergeTable) apply(ids []int32) []int32 {
	if len(ids) <= shortWord {
		return t.applyScan(ids)
	}
	return t.applyHeap(ids)
}

// applyScan is the plain form of apply: rescan every pair after each merge.
func (t mergeTable) applyScan(ids []int32) []int32 {
	for len(ids) > 1 {
		best, bestRank, bestID := -1, int32(math.MaxInt32), int32(0)
		for i := 0; i+1 < len(ids); i++ {
			if rule, ok := t.lookup(ids[i], ids[i+1]); ok && rule.rank < bestRank {
				best, bestRank, bestID = i, rule.rank, rule.id
			}
		}
		if best < 0 {
			break
		}
		ids[best] = bestID
		ids = append(ids[:best+1], ids[best+2:]...)
	}
	return ids
}

// mergeCandidate is a pair that was adjacent when it was queued: the
// symbol at pos (holding left) and its right neighbour (holding right).
type mergeCandidate struct {
	rank, pos   int32
	left, right int32
}

func (a mergeCandidate) before(b mergeCandidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// candidateHeap is a binary min-heap ordered by (rank, pos).
type candidateHeap []mergeCandidate

func (h *candidateHeap) push(c mergeCandidate) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s[i].before(s[parent]) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *candidateHeap) pop() mergeCandidate {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, r, min := 2*i+1, 2*i+2, i
		if l < len(s) && s[l].before(s[min]) {
			min = l
		}
		if r < len(s) && s[r].before(s[min]) {
			min = r
		}
		if min == i {
			break
		}
		s[i], s[min] = s[min], s[i]
		i = min
	}
	*h = s
	return top
}

// applyHeap gives the same result as applyScan in O(n log n): symbols form
// a linked list, candidate pairs wait in a heap, and a popped candidate
// whose symbols changed since it was queued is dropped. A symbol's ID only
// changes by absorbing its right neighbour, which makes its text longer,
// so equal IDs at the same position mean nothing changed.
func (t mergeTable) applyHeap(ids []int32) []int32 {
	n := len(ids)
	next := make([]int32, n)
	prev := make([]int32, n)
	for i := range ids {
		next[i] = int32(i + 1)
		prev[i] = int32(i - 1)
	}
	next[n-1] = -1
	const dead = -1
	heap := make(candidateHeap, 0, n)
	queue := func(pos int32) {
		right := next[pos]
		if right < 0 {
			return
		}
		if rule, ok := t.lookup(ids[pos], ids[right]); ok {
			heap.push(mergeCandidate{rank: rule.rank, pos: pos, left: ids[pos], right: ids[right]})
		}
	}
	for i := 0; i+1 < n; i++ {
		queue(int32(i))
	}
	for len(heap) > 0 {
		c := heap.pop()
		right := next[c.pos]
		if ids[c.pos] != c.left || right < 0 || ids[right] != c.right {
			continue
		}
		rule, _ := t.lookup(c.left, c.right)
		ids[c.pos] = rule.id
		ids[right] = dead
		after := next[right]
		next[c.pos] = after
		if after >= 0 {
			prev[after] = c.pos
		}
		if p := prev[c.pos]; p >= 0 {
			queue(p)
		}
		queue(c.pos)
	}
	out := ids[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, ids[i])
	}
	return out
}
