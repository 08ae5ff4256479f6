package countdown_test

import (
	"fmt"

	"github.com/urlvr/urlvr/task/countdown"
)

func ExampleVerify() {
	nums, target := []int{44, 19, 35}, 98
	for _, response := range []string{
		"<think>44 + 19 = 63, 63 + 35 = 98</think> <answer>(44 + 19) + 35</answer>",
		"<answer>44 * 19 - 35</answer>",
		"<answer>44 ** 19</answer>",
		"I give up.",
	} {
		r := countdown.Verify(response, nums, target)
		fmt.Printf("%.1f %s: %s\n", r.Score, r.Outcome, r.Reason)
	}
	// Output:
	// 1.0 correct: equals 98 using [44, 19, 35]
	// 0.1 wrong_value: evaluates to 801, not the target 98
	// 0.1 malformed: offset 3: power operator ** is not allowed
	// 0.0 no_answer: no answer: no <answer>...</answer> in the response
}

func ExampleVerifyPrompt_Render() {
	prompt, _ := countdown.P1.Render("(44 + 19) + 35", []int{44, 19, 35}, 98)
	fmt.Println(prompt)
	v, _ := countdown.ParseVerdict(`All four checks pass. \boxed{True}`)
	fmt.Println(v, v.Reward())
	// Output:
	// Verify:
	// 1. "(44 + 19) + 35" only contains numbers from [44, 19, 35].
	// 2. Every number from [44, 19, 35] is used in "(44 + 19) + 35" and is used only once.
	// 3. "(44 + 19) + 35" is a valid arithmetic expression and not an equation.
	// 4. "(44 + 19) + 35" equals 98.
	// If all checks pass, return \boxed{True}; otherwise, return \boxed{False}.
	// true 1
}

func ExampleGenerate() {
	insts, _ := countdown.Generate(countdown.DefaultGenConfig(), 1, 2)
	for _, inst := range insts {
		fmt.Println(inst.Numbers, inst.Target, inst.Solution)
	}
	// Output:
	// [47 65 5 63] 99 47 * (65 - 63) + 5
	// [59 63 70 13] 61 70 - (13 - (63 - 59))
}
