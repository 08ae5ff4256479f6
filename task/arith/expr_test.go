package arith

import (
	"math/big"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestParseEval(t *testing.T) {
	tests := []struct {
		in   string
		want string // value as a reduced fraction
		tree string // canonical printing
	}{
		{"7", "7", "7"},
		{"-7", "-7", "-7"},
		{"2+3*4", "14", "2+3*4"},
		{"(2+3)*4", "20", "(2+3)*4"},
		{"20-5-3", "12", "20-5-3"},
		{"20-(5-3)", "18", "20-(5-3)"},
		{"20-(5+3)", "12", "20-(5+3)"},
		{"48/4/2", "6", "48/4/2"},
		{"48/(4/2)", "24", "48/(4/2)"},
		{"37*4-(12+5)", "131", "37*4-(12+5)"},
		{"-3*4+2", "-10", "-3*4+2"},
		{"5-(-3)", "8", "5-(-3)"},
		{"(-3)*(-4)", "12", "-3*(-4)"},
		{"(17+4)/6", "7/2", "(17+4)/6"},
		{"7/2+3", "13/2", "7/2+3"},
		{"1-7/2", "-5/2", "1-7/2"},
		{"3*(7/2)", "21/2", "3*(7/2)"},
		{" 2 + 3 ", "5", "2+3"},
		{"((2))", "2", "2"},
		{"2+(3+4)", "9", "2+(3+4)"},
		{"(2+3)+4", "9", "2+3+4"},
		{"2*3+4*5-6/3", "24", "2*3+4*5-6/3"},
		{"(-5)", "-5", "-5"},
		{"007+1", "8", "7+1"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		v, err := e.Eval()
		if err != nil {
			t.Errorf("Eval(%q): %v", tt.in, err)
			continue
		}
		if v.RatString() != tt.want {
			t.Errorf("Eval(%q) = %s, want %s", tt.in, v.RatString(), tt.want)
		}
		if got := e.String(); got != tt.tree {
			t.Errorf("String(Parse(%q)) = %q, want %q", tt.in, got, tt.tree)
		}
	}
}

func TestParseFlat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"5+3*4", "32"},
		{"5+3*4-2*6", "180"}, // ((5+3)*4-2)*6
		{"20-(5+3)*2", "24"},
		{"2*(3+4*5)", "70"}, // parentheses still group; inside them (3+4)*5 = 35
	}
	for _, tt := range tests {
		e, err := ParseFlat(tt.in)
		if err != nil {
			t.Fatalf("ParseFlat(%q): %v", tt.in, err)
		}
		v, err := e.Eval()
		if err != nil {
			t.Fatalf("Eval(%q): %v", tt.in, err)
		}
		if v.RatString() != tt.want {
			t.Errorf("ParseFlat(%q) = %s, want %s", tt.in, v.RatString(), tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		"", "+", "2+", "2*-3", "2--3", "(2+3", "2+3)", "2 3", "2**3", "2//3", "a+1", "--2", "()", "2.5", "-(2+3)",
		strings.Repeat("(", 40) + "1" + strings.Repeat(")", 40),
		strings.Repeat("1+", 200) + "1",
	} {
		if e, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, e)
		}
	}
}

func TestEvalDivByZero(t *testing.T) {
	e, err := Parse("4/(2-2)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Eval(); err != ErrDivByZero {
		t.Errorf("Eval(4/(2-2)) error = %v, want ErrDivByZero", err)
	}
}

// genExpr draws a random tree with small literals.
func genExpr(depth int) *rapid.Generator[*Expr] {
	return rapid.Custom(func(t *rapid.T) *Expr {
		if depth == 0 || rapid.IntRange(0, 2).Draw(t, "leaf") == 0 {
			return Lit(int64(rapid.IntRange(-20, 120).Draw(t, "lit")))
		}
		op := rapid.SampledFrom([]byte("+-*/")).Draw(t, "op")
		return Bin(op, genExpr(depth-1).Draw(t, "l"), genExpr(depth-1).Draw(t, "r"))
	})
}

// TestPrintParseRoundTrip: printing a tree and parsing it back gives the
// same tree, hence the same value.
func TestPrintParseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genExpr(4).Draw(t, "expr")
		s := e.String()
		back, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		if !back.Equal(e) {
			t.Fatalf("Parse(String(e)) = %s, differs from e", back)
		}
		if err := CheckAlphabet(s); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStepsReplay: each step line of a correct solution parses back to an
// expression equal to its right-hand side, the last step's result is the
// expression's value, and there is one step per operation.
func TestStepsReplay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genExpr(4).Draw(t, "expr")
		want, err := e.Eval()
		if err != nil {
			t.Skip("divides by zero")
		}
		sol, err := Solve(e.String())
		if err != nil {
			t.Fatalf("Solve(%q): %v", e, err)
		}
		if len(sol.Steps) != e.Ops() {
			t.Fatalf("%d steps for %d operations", len(sol.Steps), e.Ops())
		}
		if sol.Answer != want.RatString() {
			t.Fatalf("answer %s, want %s", sol.Answer, want.RatString())
		}
		for _, st := range sol.Steps {
			line := st.String()
			lhs, rhs, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("step %q has no '='", line)
			}
			le, err := Parse(lhs)
			if err != nil {
				t.Fatalf("step %q: %v", line, err)
			}
			lv, err := le.Eval()
			if err != nil {
				t.Fatalf("step %q: %v", line, err)
			}
			if lv.RatString() != rhs {
				t.Fatalf("step %q: left side is %s", line, lv.RatString())
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"37*4-(12+5)", "-3*4", "5-(-3)", "(17+4)/6", "((1+2)*3-4)/5", "2*-3", "(", "1/0", "99999999999999999999*9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (*Expr, error){Parse, ParseFlat} {
			e, err := parse(s)
			if err != nil {
				continue
			}
			// Whatever parses prints to text that parses back to the same tree.
			back, err := Parse(e.String())
			if err != nil {
				t.Fatalf("Parse(String(%q)) = %v", s, err)
			}
			if !back.Equal(e) {
				t.Fatalf("round trip of %q changed the tree: %s", s, back)
			}
			v1, err1 := e.Eval()
			v2, err2 := back.Eval()
			if (err1 == nil) != (err2 == nil) || (err1 == nil && v1.Cmp(v2) != 0) {
				t.Fatalf("values differ after round trip of %q", s)
			}
			if err1 == nil {
				sol, err := SolveWith(e.String(), Kinds())
				if err != nil {
					t.Fatalf("SolveWith(%q): %v", e, err)
				}
				if len(sol.Misconceptions) > 0 && sol.Answer == v1.RatString() {
					t.Fatalf("misconception solution of %q has the right answer", s)
				}
			}
		}
	})
}

func TestOps(t *testing.T) {
	e, _ := Parse("(1+2)*3-4/5")
	if e.Ops() != 4 {
		t.Errorf("Ops = %d, want 4", e.Ops())
	}
	if !Lit(3).Equal(&Expr{Num: big.NewRat(3, 1)}) {
		t.Error("Lit(3) differs from a literal 3")
	}
}
