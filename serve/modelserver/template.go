package modelserver

import (
	"fmt"
	"strings"

	"github.com/urlvr/urlvr/engine/tokenizer"
)

// ChatTemplate turns chat messages into the prompt text the model reads.
// Hugging Face checkpoints ship Jinja templates, which this server does not
// run; it offers the two layouts urlvr's models and the Qwen family use.
type ChatTemplate string

const (
	// ChatML is Qwen's layout: "<|im_start|>ROLE\nCONTENT<|im_end|>\n" per
	// message, then "<|im_start|>assistant\n" for the answer.
	ChatML ChatTemplate = "chatml"
	// Plain joins the message contents with newlines and adds nothing: the
	// prompt a base model trained on raw problems expects.
	Plain ChatTemplate = "plain"
	// Auto is ChatML when the tokenizer knows <|im_start|>, else Plain.
	Auto ChatTemplate = "auto"
)

// ParseChatTemplate reads "auto", "chatml" or "plain".
func ParseChatTemplate(s string) (ChatTemplate, error) {
	switch t := ChatTemplate(s); t {
	case Auto, ChatML, Plain:
		return t, nil
	}
	return "", fmt.Errorf("chat template %q: want auto, chatml or plain", s)
}

// resolve picks the layout for a tokenizer.
func (t ChatTemplate) resolve(tok tokenizer.Tokenizer) ChatTemplate {
	if t != Auto && t != "" {
		return t
	}
	if _, ok := tok.ID("<|im_start|>"); ok {
		return ChatML
	}
	return Plain
}

// Render writes the messages as a prompt ending where the assistant's answer
// begins.
func (t ChatTemplate) Render(msgs []Message) string {
	var b strings.Builder
	switch t {
	case ChatML:
		for _, m := range msgs {
			role := m.Role
			if role == "developer" {
				role = "system"
			}
			fmt.Fprintf(&b, "<|im_start|>%s\n%s<|im_end|>\n", role, m.Content)
		}
		b.WriteString("<|im_start|>assistant\n")
	default:
		for i, m := range msgs {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(m.Content)
		}
	}
	return b.String()
}
