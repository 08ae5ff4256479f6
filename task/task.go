// Package task connects the problems of the tasks urlvr knows to their
// verifiers, the seam through which rewards and metrics check answers
// without knowing any task (rollout.Verifier, paper Sec. 2.2).
//
// A math problem with a gold answer (the arithmetic world, Hub datasets
// such as MATH-500 or DAPO-17k) needs nothing attached: a group without a
// verifier is graded against its gold answer (reward.Gold). A Countdown
// instance carries its numbers and target as problem data
// (rollout.Group.Countdown), which Attach turns into the Countdown
// verifier. A new task adds its case here, or attaches its own verifier
// where it builds its groups; nothing in rollout, reward or the services
// changes.
package task

import (
	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/task/countdown"
)

// Attach gives a group the verifier of its task when its problem data
// names one and it has none yet.
func Attach(g *rollout.Group) {
	if g.Verifier != nil {
		return
	}
	if c := g.Countdown; c != nil {
		g.Verifier = countdown.ForProblem(c.Numbers, c.Target)
	}
}
