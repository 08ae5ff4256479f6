package modelserver

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/urlvr/urlvr/serve"
)

// sampling holds the generation settings of a request.
type sampling struct {
	n            int
	temperature  float64
	topP         float64
	topK         int
	maxTokens    int // 0: the endpoint's default
	stop         []string
	stopTokenIDs []int
	seed         *uint64
	// logprobs asks for the sampled tokens' log-probs, topLogprobs for that
	// many alternatives at each position.
	logprobs       bool
	topLogprobs    int
	returnTokenIDs bool
}

// Limits of a request, as in vLLM's OpenAI server.
const (
	// greedyBelow: a positive temperature below it means greedy decoding,
	// as in vLLM (its _SAMPLING_EPS).
	greedyBelow    = 1e-5
	maxN           = 256
	maxTopLogprobs = 20
	maxStops       = 16
)

// unsupported lists fields whose non-default values would change the
// answer in ways the engine does not implement; they are refused rather
// than ignored.
var unsupported = []struct {
	name string
	ok   func(raw []byte) bool
}{
	{"stream", isFalse},
	{"echo", isFalse},
	{"suffix", func(raw []byte) bool { return string(raw) == `""` }},
	{"logit_bias", func(raw []byte) bool { return string(raw) == "{}" }},
	{"presence_penalty", isZero},
	{"frequency_penalty", isZero},
	{"repetition_penalty", func(raw []byte) bool { return isNumber(raw, 1) }},
	{"min_p", isZero},
	{"min_tokens", isZero},
	{"tools", func(raw []byte) bool { return string(raw) == "[]" }},
	{"prompt_logprobs", isZero},
	{"use_beam_search", isFalse},
}

func isFalse(raw []byte) bool { return string(raw) == "false" }
func isZero(raw []byte) bool  { return isNumber(raw, 0) }
func isNumber(raw []byte, v float64) bool {
	var f float64
	return json.Unmarshal(raw, &f) == nil && f == v
}

// parseSampling reads the sampling fields shared by both endpoints.
func parseSampling(o serve.Object, chat bool, vocab int) (sampling, error) {
	s := sampling{n: 1, temperature: 1, topP: 1}
	for _, u := range unsupported {
		if raw, ok := o.Get(u.name); ok && !u.ok(raw) {
			return s, serve.BadRequest("%q = %s is not supported by this server", u.name, raw)
		}
	}
	if n, ok, err := o.Int("n"); err != nil {
		return s, err
	} else if ok {
		if n < 1 || n > maxN {
			return s, serve.BadRequest(`"n" = %d: want 1 to %d`, n, maxN)
		}
		s.n = n
	}
	if b, ok, err := o.Int("best_of"); err != nil {
		return s, err
	} else if ok && b != s.n {
		return s, serve.BadRequest(`"best_of" = %d is not supported (only best_of = n)`, b)
	}
	if t, ok, err := o.Float("temperature"); err != nil {
		return s, err
	} else if ok {
		if t < 0 || math.IsInf(t, 0) {
			return s, serve.BadRequest(`"temperature" = %v: want a finite number >= 0`, t)
		}
		if t < greedyBelow {
			// Dividing logits by a temperature this small overflows; the
			// distribution it stands for is greedy decoding anyway.
			t = 0
		}
		s.temperature = t
	}
	if p, ok, err := o.Float("top_p"); err != nil {
		return s, err
	} else if ok {
		if !(p > 0 && p <= 1) {
			return s, serve.BadRequest(`"top_p" = %v: want a number in (0, 1]`, p)
		}
		s.topP = p
	}
	if k, ok, err := o.Int("top_k"); err != nil {
		return s, err
	} else if ok {
		if k < -1 {
			return s, serve.BadRequest(`"top_k" = %d: want -1 or 0 (all tokens) or a positive number`, k)
		}
		s.topK = max(k, 0)
	}
	for _, name := range []string{"max_tokens", "max_completion_tokens"} {
		if name == "max_completion_tokens" && !chat {
			continue
		}
		if m, ok, err := o.Int(name); err != nil {
			return s, err
		} else if ok {
			if m < 1 {
				return s, serve.BadRequest(`%q = %d: want at least 1`, name, m)
			}
			s.maxTokens = m
		}
	}
	if raw, ok := o.Get("stop"); ok {
		switch serve.Kind(raw) {
		case "string":
			var v string
			json.Unmarshal(raw, &v)
			s.stop = []string{v}
		case "array":
			list, _, err := o.StringList("stop")
			if err != nil {
				return s, err
			}
			s.stop = list
		default:
			return s, serve.BadRequest(`"stop": got %s, want a string or an array of strings`, serve.Kind(raw))
		}
		if len(s.stop) > maxStops {
			return s, serve.BadRequest(`"stop" has %d strings; at most %d`, len(s.stop), maxStops)
		}
		for i, v := range s.stop {
			if v == "" {
				return s, serve.BadRequest(`"stop"[%d] is empty`, i)
			}
		}
	}
	if items, ok, err := o.Array("stop_token_ids"); err != nil {
		return s, err
	} else if ok {
		for i, raw := range items {
			id, err := serve.IntValue(raw)
			if err != nil {
				return s, serve.BadRequest("stop_token_ids[%d]: %v", i, err)
			}
			if id < 0 || id >= vocab {
				return s, serve.BadRequest("stop_token_ids[%d] = %d is outside the vocabulary of %d", i, id, vocab)
			}
			s.stopTokenIDs = append(s.stopTokenIDs, id)
		}
	}
	if raw, ok := o.Get("seed"); ok {
		v, err := serve.IntValue(raw)
		if err != nil {
			return s, serve.BadRequest(`"seed": %v`, err)
		}
		seed := uint64(int64(v))
		s.seed = &seed
	}
	if chat {
		if b, _, err := o.Bool("logprobs"); err != nil {
			return s, err
		} else {
			s.logprobs = b
		}
		if k, ok, err := o.Int("top_logprobs"); err != nil {
			return s, err
		} else if ok {
			if k < 0 || k > maxTopLogprobs {
				return s, serve.BadRequest(`"top_logprobs" = %d: want 0 to %d`, k, maxTopLogprobs)
			}
			if k > 0 && !s.logprobs {
				return s, serve.BadRequest(`"top_logprobs" needs "logprobs": true`)
			}
			s.topLogprobs = k
		}
	} else if k, ok, err := o.Int("logprobs"); err != nil {
		return s, err
	} else if ok {
		if k < 0 || k > maxTopLogprobs {
			return s, serve.BadRequest(`"logprobs" = %d: want 0 to %d (the number of alternatives per token)`, k, maxTopLogprobs)
		}
		s.logprobs, s.topLogprobs = true, k
	}
	if b, _, err := o.Bool("return_token_ids"); err != nil {
		return s, err
	} else {
		s.returnTokenIDs = b
	}
	return s, nil
}

// prompt is one prompt of a request: text, or token IDs given directly.
type prompt struct {
	text   string
	tokens []int
	byIDs  bool
}

// parsePrompts reads a completions "prompt": a string, an array of strings,
// an array of token IDs, or an array of arrays of token IDs.
func parsePrompts(o serve.Object, vocab int) ([]prompt, error) {
	raw, ok := o.Get("prompt")
	if !ok {
		return nil, serve.BadRequest(`missing field "prompt" (a string, an array of strings, or token IDs)`)
	}
	switch serve.Kind(raw) {
	case "string":
		var s string
		json.Unmarshal(raw, &s)
		return []prompt{{text: s}}, nil
	case "array":
	default:
		return nil, serve.BadRequest(`"prompt": got %s, want a string, an array of strings, or token IDs`, serve.Kind(raw))
	}
	items, _, err := o.Array("prompt")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, serve.BadRequest(`"prompt" is empty`)
	}
	switch serve.Kind(items[0]) {
	case "string":
		list, _, err := o.StringList("prompt")
		if err != nil {
			return nil, err
		}
		out := make([]prompt, len(list))
		for i, s := range list {
			out[i] = prompt{text: s}
		}
		return out, nil
	case "number":
		ids, err := tokenIDs(items, "prompt", vocab)
		if err != nil {
			return nil, err
		}
		return []prompt{{tokens: ids, byIDs: true}}, nil
	case "array":
		out := make([]prompt, len(items))
		for i, it := range items {
			var inner []json.RawMessage
			if serve.Kind(it) != "array" || json.Unmarshal(it, &inner) != nil {
				return nil, serve.BadRequest("prompt[%d]: got %s, want an array of token IDs", i, serve.Kind(it))
			}
			ids, err := tokenIDs(inner, fmt.Sprintf("prompt[%d]", i), vocab)
			if err != nil {
				return nil, err
			}
			out[i] = prompt{tokens: ids, byIDs: true}
		}
		return out, nil
	}
	return nil, serve.BadRequest("prompt[0]: got %s, want a string, a token ID or an array of token IDs", serve.Kind(items[0]))
}

func tokenIDs(items []json.RawMessage, name string, vocab int) ([]int, error) {
	if len(items) == 0 {
		return nil, serve.BadRequest("%s has no tokens", name)
	}
	ids := make([]int, len(items))
	for j, it := range items {
		id, err := serve.IntValue(it)
		if err != nil {
			return nil, serve.BadRequest("%s[%d]: %v", name, j, err)
		}
		if id < 0 || id >= vocab {
			return nil, serve.BadRequest("%s[%d] = %d is outside the vocabulary of %d", name, j, id, vocab)
		}
		ids[j] = id
	}
	return ids, nil
}

// Message is one chat turn with its text.
type Message struct {
	Role, Content string
}

var roles = []string{"system", "developer", "user", "assistant", "tool"}

// parseMessages reads a chat "messages" array. Content is a string or an
// array of {"type": "text", "text": ...} parts.
func parseMessages(o serve.Object) ([]Message, error) {
	items, ok, err := o.Array("messages")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, serve.BadRequest(`missing field "messages"`)
	}
	if len(items) == 0 {
		return nil, serve.BadRequest(`"messages" is empty`)
	}
	out := make([]Message, len(items))
	for i, it := range items {
		if serve.Kind(it) != "object" {
			return nil, serve.BadRequest("messages[%d]: got %s, want an object", i, serve.Kind(it))
		}
		var fields serve.Object
		json.Unmarshal(it, &fields)
		role, ok, err := fields.String("role")
		if err != nil {
			return nil, serve.BadRequest("messages[%d]: %v", i, err)
		}
		if !ok || !contains(roles, role) {
			return nil, serve.BadRequest("messages[%d]: role %q: want one of %s", i, role, strings.Join(roles, ", "))
		}
		out[i].Role = role
		raw, ok := fields.Get("content")
		if !ok {
			if role == "assistant" {
				continue
			}
			return nil, serve.BadRequest("messages[%d]: missing \"content\"", i)
		}
		switch serve.Kind(raw) {
		case "string":
			json.Unmarshal(raw, &out[i].Content)
		case "array":
			var parts []serve.Object
			if err := json.Unmarshal(raw, &parts); err != nil {
				return nil, serve.BadRequest("messages[%d].content: want an array of {\"type\": \"text\", \"text\": ...} parts", i)
			}
			var b strings.Builder
			for j, p := range parts {
				typ, _, _ := p.String("type")
				text, ok, err := p.String("text")
				if typ != "text" || !ok || err != nil {
					return nil, serve.BadRequest("messages[%d].content[%d]: only {\"type\": \"text\", \"text\": ...} parts are supported", i, j)
				}
				b.WriteString(text)
			}
			out[i].Content = b.String()
		default:
			return nil, serve.BadRequest("messages[%d].content: got %s, want a string or an array of text parts", i, serve.Kind(raw))
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
