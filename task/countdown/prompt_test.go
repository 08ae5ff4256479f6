package countdown

import (
	"strings"
	"testing"
)

func TestBasePrompt(t *testing.T) {
	got := BasePrompt([]int{44, 19, 35}, 98)
	want := "A conversation between User and Assistant. The user asks a question, and the Assistant " +
		"solves it. The assistant first thinks about the reasoning process in the mind and then " +
		"provides the user with the answer.\n" +
		"User: Using the numbers [44, 19, 35], create an equation that equals 98. You can use basic " +
		"arithmetic operations (+, -, *, /) and each number must be used exactly once. Show your work " +
		"in <think> </think> tags. And return the final expression in <answer> </answer> tags, for " +
		"example <answer> (1 + 2) / 3 </answer>.\n" +
		"Assistant: Let me solve this step by step.\n<think>"
	if got != want {
		t.Errorf("BasePrompt =\n%s\nwant\n%s", got, want)
	}
}

func TestChatPrompt(t *testing.T) {
	msgs := ChatMessages([]int{3, 4}, 7)
	if len(msgs) != 2 || msgs[0].Role != "system" || msgs[1].Role != "user" || msgs[1].Content != TaskText([]int{3, 4}, 7) {
		t.Fatalf("ChatMessages = %+v", msgs)
	}
	got := ChatPrompt([]int{3, 4}, 7)
	want := "<|im_start|>system\n" + SystemPrompt + "<|im_end|>\n" +
		"<|im_start|>user\n" + TaskText([]int{3, 4}, 7) + "<|im_end|>\n" +
		"<|im_start|>assistant\nLet me solve this step by step.\n<think>"
	if got != want {
		t.Errorf("ChatPrompt =\n%s\nwant\n%s", got, want)
	}
	inst := Instance{Numbers: []int{3, 4}, Target: 7}
	if inst.Prompt(true) != got || inst.Prompt(false) != BasePrompt([]int{3, 4}, 7) {
		t.Error("Instance.Prompt does not pick the right form")
	}
	if !strings.Contains(TaskText([]int{3, 4}, 7), "[3, 4]") || !strings.Contains(TaskText([]int{3, 4}, 7), "equals 7.") {
		t.Error("TaskText lacks the numbers or the target")
	}
}

func TestFormatNumbers(t *testing.T) {
	for _, tc := range []struct {
		nums []int
		want string
	}{{nil, "[]"}, {[]int{5}, "[5]"}, {[]int{44, 19, 35}, "[44, 19, 35]"}} {
		if got := FormatNumbers(tc.nums); got != tc.want {
			t.Errorf("FormatNumbers(%v) = %q, want %q", tc.nums, got, tc.want)
		}
	}
}
