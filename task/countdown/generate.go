package countdown

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Instance is one Countdown problem: reach Target with each of Numbers used
// exactly once. Solution, when set, is one expression that does it.
type Instance struct {
	Numbers  []int  `json:"numbers"`
	Target   int    `json:"target"`
	Solution string `json:"solution,omitempty"`
}

// GenConfig says what instances a Generator draws. The defaults reproduce
// the public Countdown-Tasks-3to4 set the paper samples from: 3 or 4 numbers
// drawn uniformly from 1..99 and a target drawn uniformly from 10..100,
// numbers redrawn until the target is reachable.
type GenConfig struct {
	MinCount, MaxCount   int // how many numbers an instance has, drawn uniformly
	MinNumber, MaxNumber int // range of each number
	MinTarget, MaxTarget int // range of the target
	// MaxTries bounds how many number draws one target may take before the
	// generator gives up (only a config whose targets are out of reach
	// gets there).
	MaxTries int
}

// DefaultGenConfig returns the Countdown-Tasks-3to4 settings.
func DefaultGenConfig() GenConfig {
	return GenConfig{
		MinCount: 3, MaxCount: 4,
		MinNumber: 1, MaxNumber: 99,
		MinTarget: 10, MaxTarget: 100,
		MaxTries: 100000,
	}
}

// MaxSolveCount is the most numbers Solve (and so an instance) may have; the
// reachability search grows factorially with it.
const MaxSolveCount = 6

// Validate reports a config that cannot generate instances.
func (c GenConfig) Validate() error {
	switch {
	case c.MinCount < 2 || c.MaxCount < c.MinCount || c.MaxCount > MaxSolveCount:
		return fmt.Errorf("countdown: number count range [%d, %d] must lie within [2, %d]", c.MinCount, c.MaxCount, MaxSolveCount)
	case c.MinNumber < 1 || c.MaxNumber < c.MinNumber:
		return fmt.Errorf("countdown: number range [%d, %d] must be positive and non-empty", c.MinNumber, c.MaxNumber)
	case c.MaxNumber > 1_000_000:
		return fmt.Errorf("countdown: numbers up to %d are too large (limit 1000000)", c.MaxNumber)
	case c.MinTarget < 0 || c.MaxTarget < c.MinTarget:
		return fmt.Errorf("countdown: target range [%d, %d] must be non-negative and non-empty", c.MinTarget, c.MaxTarget)
	case c.MaxTries < 1:
		return fmt.Errorf("countdown: MaxTries %d must be at least 1", c.MaxTries)
	}
	return nil
}

// Generator draws instances from a seeded stream: the same config and seed
// give the same instances on every platform.
type Generator struct {
	cfg GenConfig
	rng *rand.Rand
}

// NewGenerator returns a Generator for cfg seeded with seed.
func NewGenerator(cfg GenConfig, seed uint64) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The second PCG word is a fixed tag so that seed s here differs from
	// seed s in other packages' streams.
	return &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(seed, 0x636f756e74646f77))}, nil
}

// ErrNoInstance is returned when MaxTries draws of numbers never reached
// a target.
var ErrNoInstance = errors.New("countdown: no reachable instance found")

// Next draws one instance: first the count and the target, then numbers
// until the target is reachable, as the public set's generator does.
func (g *Generator) Next() (Instance, error) {
	c := g.cfg
	count := c.MinCount + g.rng.IntN(c.MaxCount-c.MinCount+1)
	target := c.MinTarget + g.rng.IntN(c.MaxTarget-c.MinTarget+1)
	nums := make([]int, count)
	for range c.MaxTries {
		for i := range nums {
			nums[i] = c.MinNumber + g.rng.IntN(c.MaxNumber-c.MinNumber+1)
		}
		if sol, ok := Solve(nums, target); ok {
			return Instance{Numbers: nums, Target: target, Solution: sol.String()}, nil
		}
	}
	return Instance{}, fmt.Errorf("%w: target %d with %d numbers in [%d, %d] after %d draws",
		ErrNoInstance, target, count, c.MinNumber, c.MaxNumber, c.MaxTries)
}

// Generate draws n instances from a fresh Generator.
func Generate(cfg GenConfig, seed uint64, n int) ([]Instance, error) {
	g, err := NewGenerator(cfg, seed)
	if err != nil {
		return nil, err
	}
	out := make([]Instance, 0, n)
	for i := range n {
		inst, err := g.Next()
		if err != nil {
			return out, fmt.Errorf("instance %d: %w", i, err)
		}
		out = append(out, inst)
	}
	return out, nil
}

// Solve searches for an expression that uses every number of nums once and
// equals target, keeping every intermediate result a non-negative integer:
// a subtraction takes the smaller from the larger and a division must be
// exact. These are the rules the public set was generated under, so every
// instance it holds is solvable this way (and the verifier, which accepts any
// rational route, accepts every solution found here). It returns false when
// no such expression exists or len(nums) is outside [1, MaxSolveCount].
func Solve(nums []int, target int) (*Expr, bool) {
	n := len(nums)
	if n == 0 || n > MaxSolveCount {
		return nil, false
	}
	var st solver
	st.n = n
	for i, v := range nums {
		if v < 0 || v > solveLimit {
			return nil, false
		}
		st.vals[i], st.ids[i] = v, i
	}
	if !st.search(n, target) {
		return nil, false
	}
	return st.build(st.ids[0], nums), true
}

// solver runs the search without allocating: vals and ids hold the live
// values and the node each came from (ids below n are the inputs, id n+d the
// operation made at depth d), and ops records that operation. A node made at
// depth d stays valid while the search is below it, so on success the path
// to the answer can be rebuilt from ops.
type solver struct {
	n    int
	vals [MaxSolveCount]int
	ids  [MaxSolveCount]int
	ops  [MaxSolveCount]struct {
		op   byte
		l, r int
	}
}

// solveLimit caps intermediate values so that products of large inputs
// cannot overflow an int; such values are never needed to reach a target
// below it.
const solveLimit = 1 << 40

// search tries every pair of the first k live values and every operation on
// them; the result replaces the pair, and the search goes on with k-1.
func (s *solver) search(k, target int) bool {
	if k == 1 {
		return s.vals[0] == target
	}
	depth := s.n - k
	for i := 0; i < k; i++ {
		for j := i + 1; j < k; j++ {
			vi, vj, idi, idj := s.vals[i], s.vals[j], s.ids[i], s.ids[j]
			a, b, ia, ib := vi, vj, idi, idj
			if a < b {
				a, b, ia, ib = b, a, ib, ia // a is the larger: a - b and a / b
			}
			// The result takes i's slot and the last live value moves into
			// j's, so the live values stay in the first k-1 slots.
			lastV, lastID := s.vals[k-1], s.ids[k-1]
			s.vals[j], s.ids[j] = lastV, lastID
			for _, op := range [...]byte{'+', '*', '-', '/'} {
				var v int
				switch op {
				case '+':
					v = a + b
				case '*':
					if b != 0 && a > solveLimit/b {
						continue
					}
					v = a * b
				case '-':
					v = a - b
				case '/':
					if b == 0 || a%b != 0 {
						continue
					}
					v = a / b
				}
				if v > solveLimit {
					continue
				}
				s.ops[depth].op, s.ops[depth].l, s.ops[depth].r = op, ia, ib
				s.vals[i], s.ids[i] = v, s.n+depth
				if s.search(k-1, target) {
					return true
				}
			}
			s.vals[k-1], s.ids[k-1] = lastV, lastID
			s.vals[i], s.ids[i] = vi, idi
			s.vals[j], s.ids[j] = vj, idj
		}
	}
	return false
}

// build turns node id into an expression over nums.
func (s *solver) build(id int, nums []int) *Expr {
	if id < s.n {
		return Num(nums[id])
	}
	o := s.ops[id-s.n]
	return Bin(o.op, s.build(o.l, nums), s.build(o.r, nums))
}
