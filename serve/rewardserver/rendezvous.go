package rewardserver

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/serve"
)

// heldGroup is a group whose rollouts arrive over several requests.
type heldGroup struct {
	mapKey   string
	run      string
	step     *int
	group    *rollout.Group
	contribs []contribution
	timer    *time.Timer
	since    time.Time
}

// rendezvous holds split groups (SplitWait) until they are whole. A group is
// identified by owner (the principal and client that sent it), run and group
// key, so rollouts of different clients or runs never meet; it completes when it reaches the group
// size, or when its wait runs out (then it is scored as a partial group),
// or when the server shuts down.
type rendezvous struct {
	size       int
	wait       time.Duration
	maxHeld    int // rollouts held at most, over all groups
	complete   func(h *heldGroup, partial bool, why string)
	mu         sync.Mutex
	held       map[string]*heldGroup
	heldCount  int
	closed     bool
	completed  uint64
	timedOut   uint64
	overflowed uint64
	withdrawn  uint64
}

func newRendezvous(size int, wait time.Duration, maxHeld int, complete func(*heldGroup, bool, string)) *rendezvous {
	return &rendezvous{size: size, wait: wait, maxHeld: maxHeld, complete: complete, held: map[string]*heldGroup{}}
}

// add files a request's split groups under t. It returns the groups that
// are now whole, which the caller scores; every contribution adds one
// pending delivery to t. After close, nothing is held: the parts come back
// as partial groups to score at once.
func (rv *rendezvous) add(owner, run string, step *int, parts []chunk, t *ticket) (ready []*heldGroup, now []chunk, err error) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.closed {
		for i := range parts {
			parts[i].partial = true
		}
		return nil, parts, nil
	}
	total := 0
	for _, p := range parts {
		total += len(p.pos)
	}
	if rv.heldCount+total > rv.maxHeld {
		rv.overflowed++
		return nil, nil, serve.Errorf(503, "server saturated: %d rollouts are already held waiting for the rest of their groups (limit %d)", rv.heldCount, rv.maxHeld)
	}
	// Check every part against its held group before changing anything, so
	// that a rejected request leaves nothing behind.
	for _, p := range parts {
		if h := rv.held[mapKey(owner, run, p.group.PromptID)]; h != nil {
			if err := agreeHeld(h.group, p.group); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, p := range parts {
		key := mapKey(owner, run, p.group.PromptID)
		rs, pos := p.group.Rollouts, p.pos
		for len(pos) > 0 {
			h := rv.held[key]
			if h == nil {
				h = &heldGroup{mapKey: key, run: run, step: step, since: time.Now(),
					group: &rollout.Group{PromptID: p.group.PromptID, Gold: p.group.Gold, HasGold: p.group.HasGold, Countdown: p.group.Countdown}}
				rv.held[key] = h
				h.timer = time.AfterFunc(rv.wait, func() { rv.expire(h) })
			} else {
				if !h.group.HasGold && p.group.HasGold {
					h.group.Gold, h.group.HasGold = p.group.Gold, true
				}
				if h.group.Countdown == nil {
					h.group.Countdown = p.group.Countdown
				}
			}
			take := min(rv.size-len(h.group.Rollouts), len(pos))
			t.pending.Add(1)
			t.held = append(t.held, h)
			h.contribs = append(h.contribs, contribution{t: t, pos: pos[:take], offset: len(h.group.Rollouts)})
			h.group.Rollouts = append(h.group.Rollouts, rs[:take]...)
			rv.heldCount += take
			rs, pos = rs[take:], pos[take:]
			if len(h.group.Rollouts) == rv.size {
				h.timer.Stop()
				delete(rv.held, key)
				rv.heldCount -= rv.size
				rv.completed++
				ready = append(ready, h)
			}
		}
	}
	return ready, nil, nil
}

// withdraw takes the rollouts of t, a request whose client left, out of the
// groups still held: they must not vote for other requests' rewards. A group
// left empty is dropped. Groups already completed are not touched (their
// other contributors are answered with them).
func (rv *rendezvous) withdraw(t *ticket) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	for _, h := range t.held {
		if rv.held[h.mapKey] != h {
			continue
		}
		var rs []rollout.Rollout
		var cs []contribution
		for _, c := range h.contribs {
			if c.t == t {
				rv.heldCount -= len(c.pos)
				rv.withdrawn += uint64(len(c.pos))
				t.pending.Done()
				continue
			}
			seg := h.group.Rollouts[c.offset : c.offset+len(c.pos)]
			c.offset = len(rs)
			rs = append(rs, seg...)
			cs = append(cs, c)
		}
		h.group.Rollouts, h.contribs = rs, cs
		if len(cs) == 0 {
			h.timer.Stop()
			delete(rv.held, h.mapKey)
		}
	}
	t.held = nil
}

// expire completes a group whose wait ran out, as a partial group.
func (rv *rendezvous) expire(h *heldGroup) {
	rv.mu.Lock()
	if rv.held[h.mapKey] != h {
		rv.mu.Unlock()
		return
	}
	delete(rv.held, h.mapKey)
	rv.heldCount -= len(h.group.Rollouts)
	rv.timedOut++
	rv.mu.Unlock()
	rv.complete(h, true, fmt.Sprintf("group %q: %d of %d rollouts arrived within %v; scored as a partial group",
		h.group.PromptID, len(h.group.Rollouts), rv.size, rv.wait))
}

// close stops holding: every held group is scored now, as a partial group,
// and later split groups are scored at once.
func (rv *rendezvous) close() {
	rv.mu.Lock()
	rv.closed = true
	groups := make([]*heldGroup, 0, len(rv.held))
	for _, h := range rv.held {
		h.timer.Stop()
		groups = append(groups, h)
	}
	rv.held = map[string]*heldGroup{}
	rv.heldCount = 0
	rv.mu.Unlock()
	for _, h := range groups {
		rv.complete(h, true, fmt.Sprintf("group %q: the server is shutting down with %d of %d rollouts; scored as a partial group",
			h.group.PromptID, len(h.group.Rollouts), rv.size))
	}
}

// rendezvousStats is a snapshot for /metrics.
type rendezvousStats struct {
	groups, rollouts                           int
	completed, timedOut, overflowed, withdrawn uint64
}

func (rv *rendezvous) stats() rendezvousStats {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rendezvousStats{len(rv.held), rv.heldCount, rv.completed, rv.timedOut, rv.overflowed, rv.withdrawn}
}

// mapKey joins owner, run and group key; neither owner nor run can hold a
// NUL, so distinct triples never give the same key.
func mapKey(owner, run, key string) string { return owner + "\x00" + run + "\x00" + key }

// agreeHeld checks that a request's part of a group states the same gold
// answer and Countdown problem as the rollouts already held.
func agreeHeld(held, part *rollout.Group) error {
	if held.HasGold && part.HasGold && held.Gold != part.Gold {
		return serve.BadRequest("group %q: gold %q differs from gold %q sent earlier for the same group", part.PromptID, part.Gold, held.Gold)
	}
	if a, b := held.Countdown, part.Countdown; a != nil && b != nil && (a.Target != b.Target || !slices.Equal(a.Numbers, b.Numbers)) {
		return serve.BadRequest("group %q: Countdown problem %v -> %d differs from %v -> %d sent earlier for the same group",
			part.PromptID, b.Numbers, b.Target, a.Numbers, a.Target)
	}
	return nil
}
