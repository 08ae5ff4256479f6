package reward

import (
	"context"
	"fmt"
	"math"

	"github.com/urlvr/urlvr/rollout"
)

// CoVo rewards a rollout by how steadily its reasoning heads for its own
// answer (Zhang et al. 2025, "Consistent Paths Lead to Truth",
// arXiv:2506.08745: the definitions of Con and Vol and the vector
// aggregation of its method, Alg. 1;
// paper Table 2). Each rollout carries its distance matrix
// D[i][k] = d(s_i, y_k) (Rollout.StateDistances): the mean negative
// log-likelihood of the k-th distinct answer of the group continuing the
// i-th intermediate state s_i of the response. With j the column of the
// rollout's own answer and T the number of states:
//
//	Con(y) = (1/T) · #{i : D[i][j] = min_k D[i][k]}     (consistency)
//	Vol(y) = (1/T) · (1 + max{i : D[i][j] > min_k D[i][k]}), 0 if none (volatility)
//
// Vol counts states from 1, so a trajectory that strays at its last state
// has volatility 1; it equals one minus the share of trailing states that
// stay closest to the own answer, as the CoVo reference code computes it.
// The reward of a rollout is the vector-space aggregate over the G rollouts
// with the same answer,
//
//	r(y) = (1/G) · | sum_i Con(y_i) · [cos Vol(y_i), sin Vol(y_i)] |,
//
// so an answer whose trajectories are consistent and steady scores near 1.
// A rollout without an answer gets 0. The curiosity bonus r_cur of the
// original paper is left out: it rewards exploration, not correctness, and
// is not part of what Table 2 compares.
//
// Columns are the group's distinct answers in order of first appearance
// (Voting.Partition's classes). Stats["consistency"] and
// ["volatility"] are the means over answered rollouts.
type CoVo struct {
	Voting
	// States is how many intermediate states the trainer takes from each
	// response (evenly spaced prefixes); the estimator reads whatever
	// StateDistances holds.
	States int
}

func (CoVo) Name() string { return "covo" }

// ErrNoDistances reports a group whose rollouts carry no CoVo distance
// matrices (the producer did not compute them).
var ErrNoDistances = fmt.Errorf("%w: covo needs each answered rollout's state distances", ErrMissingInput)

// Trajectory returns Con and Vol of one distance matrix for the answer in
// column j. A matrix without states has Con = Vol = 0.
func Trajectory(d [][]float64, j int) (con, vol float64, err error) {
	if len(d) == 0 {
		return 0, 0, nil
	}
	last := -1
	for i, row := range d {
		if j < 0 || j >= len(row) {
			return 0, 0, fmt.Errorf("state %d has %d distances; the own answer is column %d", i, len(row), j)
		}
		lowest := math.Inf(1)
		for _, x := range row {
			if math.IsNaN(x) {
				return 0, 0, fmt.Errorf("state %d: distance is NaN", i)
			}
			lowest = min(lowest, x)
		}
		if row[j] <= lowest {
			con++
		} else {
			last = i
		}
	}
	T := float64(len(d))
	return con / T, float64(last+1) / T, nil
}

func (e CoVo) Score(ctx context.Context, g *rollout.Group) (Scores, error) {
	if err := checkGroup(ctx, g); err != nil {
		return Scores{}, err
	}
	p := e.Partition(g.Answers())
	type vec struct{ x, y, n float64 }
	sums := map[int]*vec{}
	cons := make([]float64, len(g.Rollouts))
	vols := make([]float64, len(g.Rollouts))
	var conSum, volSum, answered float64
	for i := range g.Rollouts {
		c := p.Class[i]
		if c < 0 {
			continue
		}
		d := g.Rollouts[i].StateDistances
		if d == nil {
			return Scores{}, fmt.Errorf("prompt %q rollout %d: %w", g.PromptID, i, ErrNoDistances)
		}
		con, vol, err := Trajectory(d, c)
		if err != nil {
			return Scores{}, fmt.Errorf("covo: prompt %q rollout %d: %w", g.PromptID, i, err)
		}
		cons[i], vols[i] = con, vol
		s := sums[c]
		if s == nil {
			s = &vec{}
			sums[c] = s
		}
		s.x += con * math.Cos(vol)
		s.y += con * math.Sin(vol)
		s.n++
		conSum += con
		volSum += vol
		answered++
	}
	rewards := make([]float64, len(g.Rollouts))
	for i := range rewards {
		if c := p.Class[i]; c >= 0 {
			s := sums[c]
			rewards[i] = math.Hypot(s.x, s.y) / s.n
		}
	}
	stats := map[string]float64{}
	if answered > 0 {
		stats["consistency"] = conSum / answered
		stats["volatility"] = volSum / answered
	}
	return Scores{Rewards: rewards, Partition: p, Stats: stats}, nil
}
