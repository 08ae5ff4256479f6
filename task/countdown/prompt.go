package countdown

import (
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/data"
)

// AssistantPrefix opens the assistant's turn in both prompt forms, so the
// model starts inside <think> and the response ends with <answer>...</answer>.
const AssistantPrefix = "Let me solve this step by step.\n<think>"

// SystemPrompt is the system message of the chat form.
const SystemPrompt = "You are a helpful assistant. You first think through the reasoning process and then give the user the answer."

// FormatNumbers writes nums as a bracketed, comma-separated list, the way
// the prompts and the self-verification templates show them: [44, 19, 35].
func FormatNumbers(nums []int) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, v := range nums {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(v))
	}
	sb.WriteByte(']')
	return sb.String()
}

// TaskText is the user's request: the numbers, the target, the rules and the
// <think>/<answer> output format.
func TaskText(nums []int, target int) string {
	return "Using the numbers " + FormatNumbers(nums) + ", create an equation that equals " +
		strconv.Itoa(target) + ". You can use basic arithmetic operations (+, -, *, /) and each number " +
		"must be used exactly once. Show your work in <think> </think> tags. And return the final " +
		"expression in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>."
}

// BasePrompt is the plain form for base models: a User/Assistant transcript
// whose Assistant turn is left open at AssistantPrefix.
func BasePrompt(nums []int, target int) string {
	return "A conversation between User and Assistant. The user asks a question, and the Assistant " +
		"solves it. The assistant first thinks about the reasoning process in the mind and then " +
		"provides the user with the answer.\nUser: " + TaskText(nums, target) +
		"\nAssistant: " + AssistantPrefix
}

// ChatMessages is the chat form as messages (system, user), for engines that
// apply their own chat template; continue the assistant turn with
// AssistantPrefix.
func ChatMessages(nums []int, target int) []data.Message {
	return []data.Message{
		{Role: "system", Content: SystemPrompt},
		{Role: "user", Content: TaskText(nums, target)},
	}
}

// ChatPrompt is the chat form rendered with the ChatML template used by Qwen
// instruct models, with the assistant turn open at AssistantPrefix.
func ChatPrompt(nums []int, target int) string {
	var sb strings.Builder
	for _, m := range ChatMessages(nums, target) {
		sb.WriteString("<|im_start|>" + m.Role + "\n" + m.Content + "<|im_end|>\n")
	}
	sb.WriteString("<|im_start|>assistant\n" + AssistantPrefix)
	return sb.String()
}

// Prompt returns the chat form when chat is true, else the base form.
func (inst Instance) Prompt(chat bool) string {
	if chat {
		return ChatPrompt(inst.Numbers, inst.Target)
	}
	return BasePrompt(inst.Numbers, inst.Target)
}
