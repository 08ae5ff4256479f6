package arith

import (
	"math/big"
	"slices"
	"testing"
)

func TestColumnArithmetic(t *testing.T) {
	bi := func(v int64) *big.Int { return big.NewInt(v) }
	tests := []struct {
		name string
		got  *big.Int
		want int64
	}{
		{"47+38 no carry", addNoCarry(bi(47), bi(38)), 75},
		{"95+17 no carry", addNoCarry(bi(95), bi(17)), 102}, // 5+7 -> 2, 9+1 -> 10
		{"5+5 no carry", addNoCarry(bi(5), bi(5)), 10},      // one column, written in full
		{"654+80 no carry", addNoCarry(bi(654), bi(80)), 634},
		{"999+1 no carry", addNoCarry(bi(999), bi(1)), 990},
		{"52-27 smaller from larger", subSmallerFromLarger(bi(52), bi(27)), 35},
		{"100-1 smaller from larger", subSmallerFromLarger(bi(100), bi(1)), 101},
		{"83-41 no borrow needed", subSmallerFromLarger(bi(83), bi(41)), 42},
		{"37*4 no carry", mulNoCarry(bi(37), bi(4)), 128},    // 7*4=28 -> 8, 3*4=12
		{"4*37 no carry", mulNoCarry(bi(4), bi(37)), 128},    // the longer factor is the multiplicand
		{"37*24 no carry", mulNoCarry(bi(37), bi(24)), 768},  // 128 + 64*10
		{"-37*4 no carry", mulNoCarry(bi(-37), bi(4)), -128}, // sign kept
		{"7*8 no carry", mulNoCarry(bi(7), bi(8)), 56},       // single digits are known by heart
		{"12*3 no carry", mulNoCarry(bi(12), bi(3)), 36},
	}
	for _, tt := range tests {
		if tt.got.Int64() != tt.want {
			t.Errorf("%s = %s, want %d", tt.name, tt.got, tt.want)
		}
	}
}

func TestStripParens(t *testing.T) {
	tests := []struct{ in, want string }{
		{"20-(5+3)", "20-5+3"},
		{"(8-(3+2))*4", "8-3+2*4"},
		{"9-(-4)", "9-(-4)"},
		{"((-4))*2", "(-4)*2"},
		{"(-4+2)*3", "-4+2*3"},
		{"7", "7"},
	}
	for _, tt := range tests {
		if got := stripParens(tt.in); got != tt.want {
			t.Errorf("stripParens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSolveWith pins one hand-worked solution per misconception.
func TestSolveWith(t *testing.T) {
	tests := []struct {
		expr  string
		kinds []Kind
		text  string
		fired []Kind
	}{
		{"47+38+16", []Kind{DropCarry}, "47+38=75\n75+16=81\n\\boxed{81}", []Kind{DropCarry}},
		{"52-27+10", []Kind{SmallerFromLarger}, "52-27=35\n35+10=45\n\\boxed{45}", []Kind{SmallerFromLarger}},
		{"37*4+15", []Kind{MulDropCarry}, "37*4=128\n128+15=143\n\\boxed{143}", []Kind{MulDropCarry}},
		{"5+3*4", []Kind{IgnorePrecedence}, "5+3=8\n8*4=32\n\\boxed{32}", []Kind{IgnorePrecedence}},
		{"20-(5+3)", []Kind{DropParens}, "20-5=15\n15+3=18\n\\boxed{18}", []Kind{DropParens}},
		{"7-15+4", []Kind{SignSlip}, "7-15=8\n8+4=12\n\\boxed{12}", []Kind{SignSlip}},
		{"9-(-4)+1", []Kind{DoubleNegative}, "9-(-4)=5\n5+1=6\n\\boxed{6}", []Kind{DoubleNegative}},
		{"(17+4)/6", []Kind{DropRemainder}, "17+4=21\n21/6=3\n\\boxed{3}", []Kind{DropRemainder}},
		// Two readings at once: parentheses dropped, then read left to right.
		{"2*(3+4)", []Kind{DropParens, IgnorePrecedence}, "2*3=6\n6+4=10\n\\boxed{10}", []Kind{DropParens}},
		{"(2+3)*4", []Kind{DropParens, IgnorePrecedence}, "2+3=5\n5*4=20\n\\boxed{20}", nil},
		// A kind with no trigger leaves the solution correct.
		{"12+13", []Kind{DropCarry, SignSlip}, "12+13=25\n\\boxed{25}", nil},
		// A step kind that fires but whose error cancels out leaves it correct.
		{"(5-9)*(5-9)", []Kind{SignSlip}, "5-9=-4\n5-9=-4\n-4*(-4)=16\n\\boxed{16}", nil},
		// The carry is dropped in every addition, including the one after a product.
		{"19*3+25", []Kind{DropCarry}, "19*3=57\n57+25=72\n\\boxed{72}", []Kind{DropCarry}},
	}
	for _, tt := range tests {
		sol, err := SolveWith(tt.expr, tt.kinds)
		if err != nil {
			t.Fatalf("SolveWith(%q): %v", tt.expr, err)
		}
		if got := sol.Text(); got != tt.text {
			t.Errorf("SolveWith(%q, %v) =\n%s\nwant\n%s", tt.expr, tt.kinds, got, tt.text)
		}
		if !slices.Equal(sol.Misconceptions, tt.fired) {
			t.Errorf("SolveWith(%q, %v) fired %v, want %v", tt.expr, tt.kinds, sol.Misconceptions, tt.fired)
		}
	}
}

func TestParseKindAndFamily(t *testing.T) {
	for _, k := range Kinds() {
		if got, err := ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	for _, f := range Families() {
		if got, err := ParseFamily(string(f)); err != nil || got != f {
			t.Errorf("ParseFamily(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseKind("drop-cary"); err == nil {
		t.Error("ParseKind accepted a misspelt kind")
	}
	if _, err := ParseFamily("add"); err == nil {
		t.Error("ParseFamily accepted an unknown family")
	}
}
