package grade

// Partition groups answers into classes of mutually equivalent answers.
type Partition struct {
	Class []int    // class index per input answer; -1 for an empty or absent answer
	Rep   []string // representative per class: its first member
	Size  []int    // members per class
}

// Classes groups answers into equivalence classes, numbered in order of
// first appearance, for voting. Each answer is analysed once. Answers with
// equal canonical keys join without a comparison, and two different
// canonical keys (exact numbers, prose, letters and collections of them) are
// never equivalent, so an answer is compared pairwise only with the
// representatives of classes whose key is not canonical (irrationals,
// expressions with variables, percentages), or with all of them when its own
// key is not canonical. It joins the first class, in order, that it matches.
// Empty answers get class -1 and never vote. The result is deterministic.
//
// The whole call is bounded: it may spend one comparison's work budget per
// answer (plus one), however the answers were crafted; comparisons left
// without budget count as "not equivalent".
func (g *Grader) Classes(answers []string) Partition {
	p := Partition{Class: make([]int, len(answers))}
	total := &work{left: workBudget * (len(answers) + 1)}
	byRaw := make(map[string]int, len(answers))
	byKey := make(map[string]int, len(answers))
	var reps []form
	var leftovers []int // classes whose representative's key is not canonical
	for i, a := range answers {
		if c, ok := byRaw[a]; ok {
			p.Class[i] = c
			if c >= 0 {
				p.Size[c]++
			}
			continue
		}
		w := total.share()
		f := analyze(a, w)
		total.settle(w)
		if f.empty {
			byRaw[a] = -1
			p.Class[i] = -1
			continue
		}
		c, ok := byKey[f.key]
		if !ok {
			c = -1
			if f.canonical {
				for _, j := range leftovers {
					w := total.share()
					eq, _ := g.equalForms(&f, &reps[j], w)
					total.settle(w)
					if eq {
						c = j
						break
					}
				}
			} else {
				for j := range reps {
					w := total.share()
					eq, _ := g.equalForms(&f, &reps[j], w)
					total.settle(w)
					if eq {
						c = j
						break
					}
				}
			}
			if c < 0 {
				c = len(reps)
				reps = append(reps, f)
				p.Rep = append(p.Rep, a)
				p.Size = append(p.Size, 0)
				if !f.canonical {
					leftovers = append(leftovers, c)
				}
			}
			byKey[f.key] = c
		}
		byRaw[a] = c
		p.Class[i] = c
		p.Size[c]++
	}
	return p
}
