package modelserver

import (
	"net/http"
	"time"

	"github.com/urlvr/urlvr/serve"
)

// CompletionResponse is the answer of POST /v1/completions.
type CompletionResponse struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []CompletionChoice `json:"choices"`
	Usage   usage              `json:"usage"`
}

// CompletionChoice is one completion. StopReason is the stop string or
// stop token ID that ended it, null for EOS or length.
type CompletionChoice struct {
	Index          int                 `json:"index"`
	Text           string              `json:"text"`
	Logprobs       *CompletionLogprobs `json:"logprobs"`
	FinishReason   string              `json:"finish_reason"`
	StopReason     any                 `json:"stop_reason"`
	TokenIDs       []int               `json:"token_ids,omitempty"`
	PromptTokenIDs []int               `json:"prompt_token_ids,omitempty"`
}

// CompletionLogprobs is the legacy completions log-prob layout.
type CompletionLogprobs struct {
	TextOffset    []int                `json:"text_offset"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	Tokens        []string             `json:"tokens"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
}

func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request) {
	ctx, done, err := s.admit(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer done()
	o, err := s.readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sp, err := parseSampling(o, false, s.vocab)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := parsePrompts(o, s.vocab)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	prompts := make([][]int, len(ps))
	for i, p := range ps {
		prompts[i] = s.encode(p)
	}
	choices, err := s.generate(ctx, prompts, sp, 16)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := CompletionResponse{ID: s.newID("cmpl"), Object: "text_completion", Created: time.Now().Unix(), Model: s.cfg.Name,
		Choices: make([]CompletionChoice, len(choices)), Usage: countUsage(prompts, choices)}
	for i, c := range choices {
		cc := CompletionChoice{Index: i, Text: c.text, FinishReason: c.finish, StopReason: c.stopReason}
		if sp.returnTokenIDs {
			cc.TokenIDs, cc.PromptTokenIDs = nonNil(c.tokens), prompts[c.prompt]
		}
		if sp.logprobs {
			lp := &CompletionLogprobs{TextOffset: []int{}, TokenLogprobs: []float64{}, Tokens: []string{}, TopLogprobs: []map[string]float64{}}
			offset := 0
			for t, id := range c.tokens {
				text := s.tokenText(id)
				lp.Tokens = append(lp.Tokens, text)
				lp.TokenLogprobs = append(lp.TokenLogprobs, finite(c.logprobs[t]))
				lp.TextOffset = append(lp.TextOffset, offset)
				offset += len(text)
				if c.top != nil {
					m := map[string]float64{}
					for _, a := range c.top[t] {
						key := s.tokenText(a.id)
						if _, dup := m[key]; !dup {
							m[key] = finite(a.logprob)
						}
					}
					lp.TopLogprobs = append(lp.TopLogprobs, m)
				}
			}
			if c.top == nil {
				lp.TopLogprobs = nil
			}
			cc.Logprobs = lp
		}
		resp.Choices[i] = cc
	}
	s.reply(w, r, resp)
}

// ChatResponse is the answer of POST /v1/chat/completions.
type ChatResponse struct {
	ID             string       `json:"id"`
	Object         string       `json:"object"`
	Created        int64        `json:"created"`
	Model          string       `json:"model"`
	Choices        []ChatChoice `json:"choices"`
	Usage          usage        `json:"usage"`
	PromptTokenIDs []int        `json:"prompt_token_ids,omitempty"`
}

// ChatChoice is one chat answer.
type ChatChoice struct {
	Index        int           `json:"index"`
	Message      ChatMessage   `json:"message"`
	Logprobs     *ChatLogprobs `json:"logprobs"`
	FinishReason string        `json:"finish_reason"`
	StopReason   any           `json:"stop_reason"`
	TokenIDs     []int         `json:"token_ids,omitempty"`
}

// ChatMessage is the assistant's message.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatLogprobs lists one entry per generated token.
type ChatLogprobs struct {
	Content []ChatTokenLogprob `json:"content"`
}

// ChatTokenLogprob is a token with its log-prob, its UTF-8 bytes and the
// most likely alternatives at its position.
type ChatTokenLogprob struct {
	Token       string           `json:"token"`
	Logprob     float64          `json:"logprob"`
	Bytes       []int            `json:"bytes"`
	TopLogprobs []ChatTopLogprob `json:"top_logprobs"`
}

// ChatTopLogprob is one alternative.
type ChatTopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	ctx, done, err := s.admit(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer done()
	o, err := s.readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sp, err := parseSampling(o, true, s.vocab)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msgs, err := parseMessages(o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	prompts := [][]int{s.encode(prompt{text: s.template.Render(msgs)})}
	choices, err := s.generate(ctx, prompts, sp, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := ChatResponse{ID: s.newID("chatcmpl"), Object: "chat.completion", Created: time.Now().Unix(), Model: s.cfg.Name,
		Choices: make([]ChatChoice, len(choices)), Usage: countUsage(prompts, choices)}
	if sp.returnTokenIDs {
		resp.PromptTokenIDs = prompts[0]
	}
	for i, c := range choices {
		cc := ChatChoice{Index: i, Message: ChatMessage{Role: "assistant", Content: c.text}, FinishReason: c.finish, StopReason: c.stopReason}
		if sp.returnTokenIDs {
			cc.TokenIDs = nonNil(c.tokens)
		}
		if sp.logprobs {
			lp := &ChatLogprobs{Content: []ChatTokenLogprob{}}
			for t, id := range c.tokens {
				e := ChatTokenLogprob{Token: s.tokenText(id), Logprob: finite(c.logprobs[t]), Bytes: s.tokenBytes(id), TopLogprobs: []ChatTopLogprob{}}
				if c.top != nil {
					for _, a := range c.top[t] {
						e.TopLogprobs = append(e.TopLogprobs, ChatTopLogprob{Token: s.tokenText(a.id), Logprob: finite(a.logprob), Bytes: s.tokenBytes(a.id)})
					}
				}
				lp.Content = append(lp.Content, e)
			}
			cc.Logprobs = lp
		}
		resp.Choices[i] = cc
	}
	s.reply(w, r, resp)
}

// tokenBytes lists the UTF-8 bytes a token stands for.
func (s *Server) tokenBytes(id int) []int {
	b, ok := s.tok.TokenBytes(id)
	if !ok {
		b = []byte(s.tokenText(id))
	}
	out := make([]int, len(b))
	for i, x := range b {
		out[i] = int(x)
	}
	return out
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, body any) {
	s.requests.Add(1)
	if r.Context().Err() != nil {
		s.stats.Disconnected()
		return
	}
	serve.WriteJSON(w, http.StatusOK, body)
}

func nonNil(x []int) []int {
	if x == nil {
		return []int{}
	}
	return x
}
