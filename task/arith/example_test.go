package arith_test

import (
	"fmt"

	"github.com/urlvr/urlvr/task/arith"
)

func ExampleSolve() {
	sol, _ := arith.Solve("37*4-(12+5)")
	fmt.Print(arith.Prompt("37*4-(12+5)"))
	fmt.Println(sol.Text())
	// Output:
	// Q: 37*4-(12+5)=?
	// 37*4=148
	// 12+5=17
	// 148-17=131
	// \boxed{131}
}

func ExampleSolveWith() {
	// A writer who ignores precedence reads 5+3*4-2 as ((5+3)*4)-2.
	sol, _ := arith.SolveWith("5+3*4-2", []arith.Kind{arith.IgnorePrecedence})
	fmt.Println(sol.Text())
	fmt.Println(sol.Misconceptions)
	// Output:
	// 5+3=8
	// 8*4=32
	// 32-2=30
	// \boxed{30}
	// [ignore-precedence]
}

func ExampleBuildCorpus() {
	docs, _ := arith.BuildCorpus(arith.CorpusConfig{
		Examples: 2,
		Seed:     1,
		Families: []arith.Family{arith.NegSub},
		Tiers:    []int{1},
		Misconceptions: []arith.Rule{
			{Family: arith.NegSub, Kind: arith.SignSlip, Rate: 1},
		},
	})
	for _, d := range docs {
		fmt.Printf("%s\n(correct: %s, %v)\n", d.Text(), d.Answer, d.Misconceptions)
	}
	// Output:
	// Q: 8-(-5)-88=?
	// 8-(-5)=13
	// 13-88=75
	// \boxed{75}
	// (correct: -75, [sign-slip])
	// Q: 45-89-8=?
	// 45-89=44
	// 44-8=36
	// \boxed{36}
	// (correct: -52, [sign-slip])
}
