package arith

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Family names a kind of problem. Every family has a natural misconception
// that changes the answer of each of its problems, so a writer holding that
// misconception is wrong on the whole family.
type Family string

// The problem families.
const (
	AddCarry      Family = "add-carry"      // chains of additions with carries: 47+38+16
	Mul2Digit     Family = "mul-2digit"     // multi-digit products: 37*4+15, 37*24-15*6
	PrecedenceMix Family = "precedence-mix" // * and / after + or -, no parentheses: 20+3*4-5
	ParenNest     Family = "paren-nest"     // nested parentheses: (50-(12+7))*3
	NegSub        Family = "neg-sub"        // subtractions through negative numbers: 7-15+4, 9-(-4)
	FracDiv       Family = "frac-div"       // division with a fractional answer: (17+4)/6 = 7/2
)

// Families lists every family in a fixed order.
func Families() []Family {
	return []Family{AddCarry, Mul2Digit, PrecedenceMix, ParenNest, NegSub, FracDiv}
}

// ParseFamily returns the family named s.
func ParseFamily(s string) (Family, error) {
	for _, f := range Families() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown family %q (known: %s)", s, joinNames(Families()))
}

// UnmarshalText accepts only known families.
func (f *Family) UnmarshalText(b []byte) error {
	v, err := ParseFamily(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Tiers are the difficulty levels, 1 (two steps, small numbers) to 3 (four
// or five steps, larger numbers or deeper nesting).
const (
	MinTier = 1
	MaxTier = 3
)

// Length limits every generated problem obeys: the prompt, the correct
// response, and the response of the family's natural misconception.
const (
	MaxPromptLen   = 32
	MaxResponseLen = 64
)

// maxMagnitude bounds every integer, numerator and denominator a correct
// solution writes, so numbers stay at four digits or fewer.
const maxMagnitude = 9999

// familySpec says how a family's problems are made: expression templates per
// tier and the conditions a problem must meet.
//
// Template letters stand for random numbers: d is 2..9, n is 10..99, h is
// 100..999. Every other character is copied.
type familySpec struct {
	natural   Kind
	templates [MaxTier][]string
	// negatives allows negative intermediate results and answers.
	negatives bool
	// fractions allows non-integer results; a family without it keeps every
	// step an integer.
	fractions bool
	// check is an extra condition on the correct solution.
	check func(Solution) bool
}

var specs = map[Family]familySpec{
	AddCarry: {
		natural: DropCarry,
		templates: [MaxTier][]string{
			{"n+n+n", "n+d+n", "h+n+n"},
			{"n+n+n+n", "h+n+n+d", "n+n-n+n"},
			{"h+n+n+n+n", "n+h+n-n+n", "n+n+n+n+n+n"},
		},
	},
	Mul2Digit: {
		natural: MulDropCarry,
		templates: [MaxTier][]string{
			{"n*d+n", "n*d-n", "n+n*d"},
			{"n*d+n*d", "n*d-n*d", "n*d+n-n"},
			{"n*n+n*d-n", "n*n-n-n*d", "n*d*d+n*d"},
		},
	},
	PrecedenceMix: {
		natural: IgnorePrecedence,
		templates: [MaxTier][]string{
			{"n+d*d", "n-d*d", "d+n*d", "n+n/d"},
			{"n+d*d-d", "n-d*d+d", "d*d+d*d", "n+n/d-d"},
			{"n+d*d-d*d", "n-d*d+d*d", "d*d+d*d-n", "n+n/d+d*d", "n+d*d-d*d+d"},
		},
	},
	ParenNest: {
		natural: DropParens,
		templates: [MaxTier][]string{
			{"(n+n)*d", "n-(n+n)", "n-(n-n)", "d*(n-n)", "(n-n)*d"},
			{"(n-(n+d))*d", "(n+n)*(d+d)", "n-(n+n)*d", "d*(n-(n-n))", "n-(n-(n-n))"},
			{"((n+n)*d-n)*d", "(n-(n-d))*(d+d)", "d*(n-(d+d))+n", "(d*(n+d)-n)*d", "((d+d)*d-(d+d))*d"},
		},
	},
	NegSub: {
		natural:   SignSlip,
		negatives: true,
		templates: [MaxTier][]string{
			{"n-n-n", "d-n+d", "n-n-d", "d-(-d)-n"},
			{"n-n-n+n", "(d-n)*d+n", "n-(n+n)-(-d)", "d-n-n+d"},
			{"(n-h)*d-(n-n)", "(d-n)*(d-n)-n", "n-h-(-n)*d", "d-n-n-(-d)*d", "d-n-(d-n)*d"},
		},
		check: func(s Solution) bool {
			for _, st := range s.Steps {
				if st.Result.Sign() < 0 {
					return true
				}
			}
			return false
		},
	},
	FracDiv: {
		natural:   DropRemainder,
		fractions: true,
		templates: [MaxTier][]string{
			{"(n+n)/d", "(n-n)/d", "n/(d+d)", "n/d+n"},
			{"(n*d-n)/d", "(n+n)/(d+d)", "(n+n)/d-d", "(n+n)/d+d"},
			{"(n*d-n)/(d+d)", "(n+n*d)/d+n", "(h-n)/(d*d)+d", "(n+n)/(d*d)+d"},
		},
		check: func(s Solution) bool {
			a, ok := new(big.Rat).SetString(s.Answer)
			return ok && !a.IsInt()
		},
	},
}

// Natural returns the misconception that changes the answer of every
// problem of family f.
func Natural(f Family) (Kind, error) {
	sp, ok := specs[f]
	if !ok {
		return "", fmt.Errorf("unknown family %q", f)
	}
	return sp.natural, nil
}

// Templates returns the expression templates of family f at tier t.
func Templates(f Family, t int) ([]string, error) {
	sp, ok := specs[f]
	if !ok {
		return nil, fmt.Errorf("unknown family %q", f)
	}
	if t < MinTier || t > MaxTier {
		return nil, fmt.Errorf("tier %d outside %d..%d", t, MinTier, MaxTier)
	}
	return append([]string(nil), sp.templates[t-1]...), nil
}

// maxAttempts bounds rejection sampling; every template meets its family's
// conditions often enough that this is never reached in practice.
const maxAttempts = 10000

// NewExpression draws one expression of family f at tier t from rng,
// together with its correct solution. It tries templates and numbers until
// the problem meets the family's conditions: the lengths fit the limits,
// the numbers stay within four digits, and the family's natural
// misconception changes the answer.
func NewExpression(rng *rand.Rand, f Family, t int) (string, Solution, error) {
	tmpls, err := Templates(f, t)
	if err != nil {
		return "", Solution{}, err
	}
	sp := specs[f]
	for range maxAttempts {
		text := fill(tmpls[rng.IntN(len(tmpls))], rng)
		if len(Prompt(text)) > MaxPromptLen {
			continue
		}
		sol, err := Solve(text)
		if err != nil || !sp.accepts(sol) {
			continue
		}
		wrong, err := SolveWith(text, []Kind{sp.natural})
		if err != nil || len(wrong.Misconceptions) == 0 || len(wrong.Text()) > MaxResponseLen {
			continue
		}
		return text, sol, nil
	}
	return "", Solution{}, fmt.Errorf("no %s problem at tier %d after %d attempts", f, t, maxAttempts)
}

func (sp familySpec) accepts(sol Solution) bool {
	if len(sol.Text()) > MaxResponseLen {
		return false
	}
	for _, st := range sol.Steps {
		r := st.Result
		if !sp.negatives && r.Sign() < 0 {
			return false
		}
		if !sp.fractions && !r.IsInt() {
			return false
		}
		if new(big.Int).Abs(r.Num()).Cmp(big.NewInt(maxMagnitude)) > 0 || r.Denom().Cmp(big.NewInt(maxMagnitude)) > 0 {
			return false
		}
		// In the fraction family every division must leave a remainder, so
		// that dropping it is visible.
		if st.Op == '/' && r.IsInt() && sp.fractions {
			return false
		}
	}
	return sp.check == nil || sp.check(sol)
}

// fill replaces template letters with random numbers.
func fill(tmpl string, rng *rand.Rand) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		switch tmpl[i] {
		case 'd':
			b.WriteString(strconv.Itoa(2 + rng.IntN(8)))
		case 'n':
			b.WriteString(strconv.Itoa(10 + rng.IntN(90)))
		case 'h':
			b.WriteString(strconv.Itoa(100 + rng.IntN(900)))
		default:
			b.WriteByte(tmpl[i])
		}
	}
	return b.String()
}

// Prompt returns the prompt that asks for expression expr, e.g.
// "Q: 37*4-(12+5)=?\n". The response starts right after the newline.
func Prompt(expr string) string { return "Q: " + expr + "=?\n" }

// ExpressionOf returns the expression a prompt asks for.
func ExpressionOf(prompt string) (string, error) {
	s, ok := strings.CutPrefix(prompt, "Q: ")
	if ok {
		s, ok = strings.CutSuffix(s, "=?\n")
	}
	if !ok {
		return "", fmt.Errorf("prompt %q is not of the form \"Q: <expression>=?\\n\"", prompt)
	}
	return s, nil
}
