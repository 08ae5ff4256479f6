package arith

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Step is one line of a solution: A Op B = Result.
type Step struct {
	A, B   *big.Rat
	Op     byte
	Result *big.Rat
}

// String writes the step as a line without its newline, e.g. "148-17=131".
// A negative right operand is parenthesised ("5-(-3)=8"), and so is a
// fraction on the right of * or / ("3*(7/2)=21/2"), so that the left-hand
// side parses back, with the usual precedence, to the operation it shows.
func (s Step) String() string {
	right := s.B.RatString()
	if s.B.Sign() < 0 || (!s.B.IsInt() && (s.Op == '*' || s.Op == '/')) {
		right = "(" + right + ")"
	}
	return s.A.RatString() + string(s.Op) + right + "=" + s.Result.RatString()
}

// Solution is a worked response: one step per line, then the answer boxed.
type Solution struct {
	Steps  []Step
	Answer string // the boxed answer: an integer or a reduced fraction, e.g. "-7/2"
	// Misconceptions lists the kinds that changed a step or the reading of
	// the expression; empty for a correct solution.
	Misconceptions []Kind
}

// Text renders the solution as the model's response, e.g.
// "37*4=148\n12+5=17\n148-17=131\n\boxed{131}".
func (s Solution) Text() string {
	var b strings.Builder
	for _, st := range s.Steps {
		b.WriteString(st.String())
		b.WriteByte('\n')
	}
	b.WriteString(`\boxed{` + s.Answer + `}`)
	return b.String()
}

// Solve writes the correct solution of expression text expr. Operations are
// taken in post-order, left operand first: the left side of an operation is
// finished before its right side is started, so 37*4-(12+5) takes 37*4,
// then 12+5, then the subtraction.
func Solve(expr string) (Solution, error) {
	return SolveWith(expr, nil)
}

// SolveWith writes the solution of expr as a writer holding the
// misconceptions in kinds would: reading kinds change how the text is
// parsed, step kinds change results at every step they apply to. When the
// final answer comes out right anyway, the correct solution is returned, so
// a solution with misconceptions always has a wrong answer.
func SolveWith(expr string, kinds []Kind) (Solution, error) {
	tree, err := Parse(expr)
	if err != nil {
		return Solution{}, err
	}
	gold, err := tree.Eval()
	if err != nil {
		return Solution{}, fmt.Errorf("solving %q: %w", expr, err)
	}
	clean := func() (Solution, error) {
		var sol Solution
		if _, err := walk(tree, nil, &sol); err != nil {
			return Solution{}, fmt.Errorf("solving %q: %w", expr, err)
		}
		sol.Answer = gold.RatString()
		return sol, nil
	}
	if len(kinds) == 0 {
		return clean()
	}
	active := kindSet{}
	for _, k := range kinds {
		active[k] = true
	}
	var sol Solution
	read := tree
	if active[DropParens] || active[IgnorePrecedence] {
		text := tree.String()
		if active[DropParens] {
			if t := stripParens(text); t != text {
				text = t
				sol.Misconceptions = append(sol.Misconceptions, DropParens)
			}
		}
		parseText := Parse
		if active[IgnorePrecedence] {
			parseText = ParseFlat
		}
		if read, err = parseText(text); err != nil {
			// Dropping parentheses can leave text that is no expression
			// ("0*(-1*0)" reads "0*-1*0"); nobody misreads a problem into
			// nonsense, so the writer falls back to the correct solution.
			return clean()
		}
		if active[IgnorePrecedence] {
			if strict, err := Parse(text); err == nil && !strict.Equal(read) {
				sol.Misconceptions = append(sol.Misconceptions, IgnorePrecedence)
			}
		}
	}
	answer, err := walk(read, active, &sol)
	if err != nil {
		// A misreading can divide by zero where the problem does not; the
		// writer then falls back to the correct solution.
		return clean()
	}
	if answer.Cmp(gold) == 0 {
		return clean()
	}
	sol.Answer = answer.RatString()
	order := Kinds()
	slices.SortFunc(sol.Misconceptions, func(a, b Kind) int { return slices.Index(order, a) - slices.Index(order, b) })
	sol.Misconceptions = slices.Compact(sol.Misconceptions)
	return sol, nil
}

// walk evaluates e in post-order, appending a step per operation, with the
// step kinds in active applied.
func walk(e *Expr, active kindSet, sol *Solution) (*big.Rat, error) {
	if e.IsLit() {
		return new(big.Rat).Set(e.Num), nil
	}
	a, err := walk(e.L, active, sol)
	if err != nil {
		return nil, err
	}
	b, err := walk(e.R, active, sol)
	if err != nil {
		return nil, err
	}
	r, fired, err := faultyStep(e.Op, a, b, active)
	if err != nil {
		return nil, err
	}
	sol.Misconceptions = append(sol.Misconceptions, fired...)
	sol.Steps = append(sol.Steps, Step{A: a, B: b, Op: e.Op, Result: r})
	return r, nil
}
