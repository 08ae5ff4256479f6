package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
)

// Model is a decoder's configuration and parameters. The parameters live in
// one flat buffer laid out tensor after tensor in Hugging Face order; every
// per-tensor slice is a view into it.
//
// A Model may be read by several Sample and LogProbs calls at once; training
// (Learner.Step) and Tensor writes must not overlap them.
type Model struct {
	cfg    Config
	params []float32
	w      weights
	specs  []tensorSpec
	byName map[string]int

	// decoders and scorers keep the working memory of the last Sample and
	// Score calls for the next ones (a call running beside another
	// allocates its own).
	decoders slot[*decoder]
	scorers  slot[*activations]
}

// initStd is the standard deviation of the normal initialisation of every
// weight matrix (GPT-2 and Llama use 0.02).
const initStd = 0.02

// streamInit names the initialisation generator's stream, so that the same
// seed given to New and to Sample draws unrelated numbers.
const streamInit = 0x696e6974 // "init"

// newZeroModel validates cfg and allocates a model whose parameters are all zero.
func newZeroModel(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	_, specs := bindWeights(cfg, nil)
	m := &Model{cfg: cfg, params: make([]float32, numParams(specs)), byName: make(map[string]int, len(specs))}
	m.w, m.specs = bindWeights(cfg, m.params)
	for i, s := range m.specs {
		m.byName[s.name] = i
	}
	return m, nil
}

// New builds a randomly initialised model from cfg: weight matrices drawn
// from N(0, 0.02²), the attention and MLP output projections further scaled
// by 1/√(2L) so the residual stream's variance does not grow with depth,
// norm weights 1 and biases 0. The same seed always gives the same weights.
func New(cfg Config, seed uint64) (*Model, error) {
	m, err := newZeroModel(cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, streamInit))
	residualStd := initStd / math.Sqrt(2*float64(cfg.NumLayers))
	for _, s := range m.specs {
		t := m.params[s.offset : s.offset+s.size]
		switch {
		case strings.HasSuffix(s.name, ".bias"):
			// zero already
		case len(s.shape) == 1: // RMSNorm weights
			for i := range t {
				t[i] = 1
			}
		default:
			std := initStd
			if strings.HasSuffix(s.name, "o_proj.weight") || strings.HasSuffix(s.name, "down_proj.weight") {
				std = residualStd
			}
			for i := range t {
				t[i] = float32(rng.NormFloat64() * std)
			}
		}
	}
	return m, nil
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// NumParams returns the number of parameters (a tied head counted once).
func (m *Model) NumParams() int { return len(m.params) }

// TensorNames returns the Hugging Face names of the model's tensors in
// storage order.
func (m *Model) TensorNames() []string {
	names := make([]string, len(m.specs))
	for i, s := range m.specs {
		names[i] = s.name
	}
	return names
}

// Tensor returns the named tensor's data, a view into the model (writing it
// changes the model), and its shape. ok is false for an unknown name.
func (m *Model) Tensor(name string) (data []float32, shape []int, ok bool) {
	i, ok := m.byName[name]
	if !ok {
		return nil, nil, false
	}
	s := m.specs[i]
	return m.params[s.offset : s.offset+s.size], append([]int(nil), s.shape...), true
}

// Clone returns an independent copy of the model, for example a frozen
// reference policy.
func (m *Model) Clone() *Model {
	c, _ := newZeroModel(m.cfg) // m.cfg was validated when m was built
	copy(c.params, m.params)
	return c
}

// slot holds one reusable value for whoever takes it first.
type slot[T any] struct {
	mu  sync.Mutex
	v   T
	has bool
}

// take removes and returns the held value, if any.
func (s *slot[T]) take() (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.v, s.has
	var zero T
	s.v, s.has = zero, false
	return v, ok
}

// put holds v, replacing any held value.
func (s *slot[T]) put(v T) {
	s.mu.Lock()
	s.v, s.has = v, true
	s.mu.Unlock()
}
