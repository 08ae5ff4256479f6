package train

import "github.com/urlvr/urlvr/basemodel"

// Policy is the model being trained, updated in place by every step. A
// study may sample from it between steps (from a Run progress callback) to
// measure what the logs do not record, such as per-problem accuracy or
// greedy correctness; it must not change it.
func (t *Trainer) Policy() *basemodel.Model { return t.policy }
