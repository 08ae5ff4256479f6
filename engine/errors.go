package engine

import "errors"

// Errors a caller tells apart with errors.Is. A training loop skips an
// update whose gradient is not finite and goes on; an invalid learning
// rate is a configuration error and stops the run.
var (
	// ErrNonFinite: the gradient norm is NaN or infinite, so Learner.Step
	// discarded the gradients without updating the weights.
	ErrNonFinite = errors.New("gradient norm is not finite")
	// ErrInvalidLearningRate: Learner.Step was given a negative, NaN or
	// infinite learning rate.
	ErrInvalidLearningRate = errors.New("learning rate must be non-negative and finite")
)

// errNonFinite is the name the optimiser code uses.
var errNonFinite = ErrNonFinite
