package data

import (
	"fmt"
	"math"
)

// Countdown is the problem data of a Countdown instance (paper Sec. 7):
// reach Target with each of Numbers once. The public layout
// (Countdown-Tasks-3to4, TinyZero) stores it as the columns nums and
// target, without a prompt or an answer: the prompt is rendered from the
// numbers, and the exact verifier checks an expression against them.
type Countdown struct {
	Numbers []int
	Target  int
}

// countdownNumberFields are the names a Countdown record gives its numbers.
var countdownNumberFields = []string{"nums", "numbers"}

// decodeCountdown moves a record's nums (or numbers) and target into
// rec.Countdown. A record with numbers must have an integer target and
// integer numbers; the error names the field (nums[1], target). A record
// without numbers is not a Countdown record and is left alone.
func decodeCountdown(rest map[string]any, rec *Record) error {
	key, v, ok := lookupAny(rest, countdownNumberFields)
	if !ok {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		return fieldErr(key, "want a list of integers (the Countdown numbers), got %s", kindOf(v))
	}
	if len(list) == 0 {
		return fieldErr(key, "empty list: a Countdown instance needs numbers")
	}
	c := &Countdown{Numbers: make([]int, len(list))}
	for i, x := range list {
		n, err := integer(x)
		if err != nil {
			return fieldErr(fmt.Sprintf("%s[%d]", key, i), "%v", err)
		}
		c.Numbers[i] = n
	}
	tkey, tv, ok := lookup(rest, "target")
	if !ok || tv == nil {
		return fieldErr("target", "missing: a Countdown record with %s needs an integer target", key)
	}
	t, err := integer(tv)
	if err != nil {
		return fieldErr(tkey, "%v", err)
	}
	c.Target = t
	delete(rest, key)
	delete(rest, tkey)
	rec.Countdown = c
	return nil
}

// integer reads a normalised value as an int: an int64, or a float64 with no
// fraction (pandas writes integer columns with nulls as doubles).
func integer(v any) (int, error) {
	switch x := v.(type) {
	case int64:
		if x > math.MaxInt32 || x < math.MinInt32 {
			return 0, fmt.Errorf("integer %d out of range", x)
		}
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) || math.Abs(x) > math.MaxInt32 {
			return 0, fmt.Errorf("want an integer, got %v", x)
		}
		return int(x), nil
	}
	return 0, fmt.Errorf("want an integer, got %s", kindOf(v))
}
