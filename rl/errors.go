package rl

import (
	"errors"
	"fmt"
)

// ErrNonFinite is matched (errors.Is) by Loss's error when the loss or one
// of its inputs on a response token is NaN or infinite: the mini-batch
// should be skipped. Loss's other errors (shapes, masks, settings) are
// mistakes of the caller.
var ErrNonFinite = errors.New("loss is not finite")

// nonFiniteError says which value was not finite and matches ErrNonFinite.
type nonFiniteError struct{ msg string }

func (e nonFiniteError) Error() string        { return e.msg }
func (e nonFiniteError) Is(target error) bool { return target == ErrNonFinite }

func nonFinite(format string, args ...any) error {
	return nonFiniteError{msg: fmt.Sprintf(format, args...)}
}
