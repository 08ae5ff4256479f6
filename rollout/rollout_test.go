package rollout

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Rollout
		want string // substring of the error; "" for valid
	}{
		{"empty rollout", Rollout{}, ""},
		{"empty response with present stats", Rollout{LogProbs: []float32{}, Entropies: []float32{}}, ""},
		{"consistent", Rollout{Tokens: []int32{5, 6}, LogProbs: []float32{-0.1, -2}, Entropies: []float32{0.3, 1},
			SelfCertainty: []float32{2, 3}, Top2Gap: []float32{0.9, 0}, AnswerMask: []bool{false, true}}, ""},
		{"fp32 noise above zero is tolerated", Rollout{LogProbs: []float32{1e-7}}, ""},
		{"length mismatch with tokens", Rollout{Tokens: []int32{1, 2, 3}, LogProbs: []float32{-1, -1}},
			"token_logprobs has 2 entries but token_ids has 3"},
		{"length mismatch between stats", Rollout{Entropies: []float32{1}, Top2Gap: []float32{0.1, 0.2}},
			"token_top2_gap has 2 entries but token_entropies has 1"},
		{"mask length", Rollout{LogProbs: []float32{-1}, AnswerMask: []bool{true, false}},
			"answer_token_mask has 2 entries but token_logprobs has 1"},
		{"positive log-prob", Rollout{LogProbs: []float32{-1, 0.5}}, "token_logprobs[1] = 0.5 is outside"},
		{"negative entropy", Rollout{Entropies: []float32{-0.5}}, "token_entropies[0] = -0.5 is outside"},
		{"negative self-certainty", Rollout{SelfCertainty: []float32{-1}}, "token_self_certainty[0] = -1 is outside"},
		{"gap above one", Rollout{Top2Gap: []float32{1.5}}, "token_top2_gap[0] = 1.5 is outside"},
		{"infinite", Rollout{Entropies: []float32{float32(posInf())}}, "is not finite"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func posInf() float64 { var z float64; return 1 / z }

func TestGroupValidate(t *testing.T) {
	g := &Group{PromptID: "p"}
	if err := g.Validate(); !errors.Is(err, ErrEmptyGroup) {
		t.Fatalf("empty group: %v", err)
	}
	g.Rollouts = []Rollout{{}, {LogProbs: []float32{-1}, Entropies: []float32{}}}
	err := g.Validate()
	var re *Error
	if !errors.As(err, &re) || re.Index != 1 || !strings.Contains(err.Error(), `prompt "p" rollout 1`) {
		t.Fatalf("bad rollout 1: %v", err)
	}
}

func TestLen(t *testing.T) {
	for _, tc := range []struct {
		r    Rollout
		want int
	}{
		{Rollout{}, 0},
		{Rollout{Tokens: []int32{1, 2}}, 2},
		{Rollout{Top2Gap: []float32{0, 0, 0}}, 3},
		{Rollout{AnswerMask: []bool{true}}, 1},
	} {
		if got := tc.r.Len(); got != tc.want {
			t.Errorf("Len(%+v) = %d, want %d", tc.r, got, tc.want)
		}
	}
}

func TestParseRecord(t *testing.T) {
	line := `{"prompt_id": 17, "response": "so \\boxed{4}", "gold": 4, "answer": "4", "source": "m1",
	  "verdict": "\\boxed{True}", "numbers": [1, 3], "target": 4, "token_ids": [7, 8],
	  "token_logprobs": [-0.5, -0.25], "token_entropies": [1, 0.5], "token_self_certainty": [3, 4],
	  "token_top2_gap": [0.5, 0.75], "answer_token_mask": [0, 1], "extra": {"kept": true}}`
	got, err := ParseRecord([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := Record{
		PromptID: "17", Gold: "4", HasGold: true, Countdown: &Countdown{Numbers: []int{1, 3}, Target: 4},
		Rollout: Rollout{
			Tokens: []int32{7, 8}, Text: `so \boxed{4}`, Answer: "4", Source: "m1", Verdict: `\boxed{True}`,
			LogProbs: []float32{-0.5, -0.25}, Entropies: []float32{1, 0.5}, SelfCertainty: []float32{3, 4},
			Top2Gap: []float32{0.5, 0.75}, AnswerMask: []bool{false, true},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("ParseRecord mismatch (-want +got):\n%s", d)
	}
}

func TestParseRecordErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{`[1,2]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`{"response": "x"}`, `missing field "prompt_id"`},
		{`{"prompt_id": "a"}`, `missing field "response"`},
		{`{"prompt_id": true, "response": "x"}`, `field "prompt_id": want a string or a number`},
		{`{"prompt_id": "a", "response": 3}`, `field "response": got JSON number, want string`},
		{`{"prompt_id": "a", "response": "x", "gold": [1]}`, `field "gold"`},
		{`{"prompt_id": "a", "response": "x", "token_logprobs": "bad"}`, `field "token_logprobs": got JSON string`},
		{`{"prompt_id": "a", "response": "x", "token_logprobs": [-1, "bad"]}`, `field "token_logprobs"`},
		{`{"prompt_id": "a", "response": "x", "token_logprobs": [-1e300]}`, `field "token_logprobs"`},
		{`{"prompt_id": "a", "response": "x", "token_logprobs": [-1, -2], "token_entropies": [1]}`,
			"token_entropies has 1 entries but token_logprobs has 2"},
		{`{"prompt_id": "a", "response": "x", "answer_token_mask": [2]}`, "entry 0 is 2, want a boolean or 0/1"},
		{`{"prompt_id": "a", "response": "x", "numbers": [1, 2]}`, `needs both "numbers" and "target"`},
		{`{"prompt_id": "a", "response": "x", "numbers": [], "target": 3}`, `field "numbers": empty`},
		{`{"prompt_id": "a", "response": "x", "numbers": [1], "target": 2.5}`, `field "target"`},
	}
	for _, tc := range tests {
		_, err := ParseRecord([]byte(tc.line))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRecord(%s) = %v, want error containing %q", tc.line, err, tc.want)
		}
	}
}

func TestNullFieldsAreAbsent(t *testing.T) {
	rec, err := ParseRecord([]byte(`{"prompt_id": "a", "response": "", "gold": null, "token_logprobs": null, "token_entropies": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if rec.HasGold || rec.Rollout.LogProbs != nil || rec.Rollout.Entropies == nil {
		t.Fatalf("null must mean absent and [] present-but-empty: %+v", rec)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	recs := []Record{
		{PromptID: "p", Rollout: Rollout{Text: "t"}},
		{PromptID: "q", Gold: "", HasGold: true, Rollout: Rollout{Text: "", LogProbs: []float32{}, AnswerMask: []bool{}}},
		{PromptID: "r", Gold: `\frac{1}{2}`, HasGold: true, Countdown: &Countdown{Numbers: []int{3, 5}, Target: 8},
			Rollout: Rollout{Text: "x", Answer: "8", Tokens: []int32{1}, LogProbs: []float32{-0.1}, Entropies: []float32{0.2},
				SelfCertainty: []float32{3.3}, Top2Gap: []float32{0.123456789}, AnswerMask: []bool{true}, Source: "s", Verdict: "v"}},
	}
	for _, rec := range recs {
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseRecord(b)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
		if d := cmp.Diff(rec, back); d != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", b, d)
		}
	}
}

func TestGroupRecords(t *testing.T) {
	mk := func(id, gold, text string) Record {
		return Record{PromptID: id, Gold: gold, HasGold: gold != "", Rollout: Rollout{Text: text}}
	}
	recs := []Record{
		mk("a", "1", "a0"), mk("b", "", "b0"), mk("a", "", "a1"), mk("b", "2", "b1"),
		mk("a", "9", "a2-conflict"), mk("c", "3", "c0"), mk("a", "1", "a3"),
	}
	groups, index, rejected := GroupRecords(recs)
	if len(groups) != 3 || groups[0].PromptID != "a" || groups[1].PromptID != "b" || groups[2].PromptID != "c" {
		t.Fatalf("groups in order of first appearance: %+v", groups)
	}
	if d := cmp.Diff([][]int{{0, 2, 6}, {1, 3}, {5}}, index); d != "" {
		t.Fatalf("index (-want +got):\n%s", d)
	}
	if !groups[1].HasGold || groups[1].Gold != "2" {
		t.Errorf("gold adopted from a later line: %+v", groups[1])
	}
	if len(rejected) != 1 || rejected[4] == nil || !strings.Contains(rejected[4].Error(), `gold "9" differs from "1"`) {
		t.Errorf("rejected = %v", rejected)
	}
	for k, g := range groups {
		for i, r := range g.Rollouts {
			if recs[index[k][i]].Rollout.Text != r.Text {
				t.Errorf("index[%d][%d] points at the wrong record", k, i)
			}
		}
	}
	flat := Records(groups)
	if len(flat) != 6 || flat[2].Rollout.Text != "a3" || flat[3].Gold != "2" {
		t.Errorf("Records = %+v", flat)
	}
}

func TestGroupRecordsCountdownConflict(t *testing.T) {
	recs := []Record{
		{PromptID: "a", Countdown: &Countdown{Numbers: []int{1, 2}, Target: 3}},
		{PromptID: "a", Countdown: &Countdown{Numbers: []int{1, 2}, Target: 3}},
		{PromptID: "a", Countdown: &Countdown{Numbers: []int{1, 2}, Target: 4}},
	}
	groups, _, rejected := GroupRecords(recs)
	if len(groups[0].Rollouts) != 2 || rejected[2] == nil {
		t.Fatalf("groups %+v rejected %v", groups[0], rejected)
	}
}

func TestExtractAnswersAndSources(t *testing.T) {
	g := &Group{Rollouts: []Rollout{
		{Text: "x=[3]", Source: "m1"}, {Text: "none", Source: "m2"}, {Text: "[4]", Answer: "given", Source: "m1"},
	}}
	g.ExtractAnswers(func(s string) (string, error) {
		i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']')
		if i < 0 || j < i {
			return "", errors.New("no answer")
		}
		return s[i+1 : j], nil
	})
	if d := cmp.Diff([]string{"3", "", "given"}, g.Answers()); d != "" {
		t.Errorf("answers (-want +got):\n%s", d)
	}
	names, of := g.Sources()
	if d := cmp.Diff([]string{"m1", "m2"}, names); d != "" {
		t.Errorf("source names: %s", d)
	}
	if d := cmp.Diff([]int{0, 1, 0}, of); d != "" {
		t.Errorf("source of: %s", d)
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		`{"prompt_id": "a", "response": "x \\boxed{1}"}`,
		`{"prompt_id": 3, "response": "", "gold": 2.5, "token_logprobs": [-1, -0.5], "token_entropies": [0.1, 0]}`,
		`{"prompt_id": "a", "response": "r", "token_top2_gap": [1, 0.5], "answer_token_mask": [true, 0]}`,
		`{"prompt_id": "a", "response": "r", "numbers": [1, 2, 3], "target": 6, "verdict": "\\boxed{True}"}`,
		`{"prompt_id": "a", "response": "r", "token_ids": [], "token_self_certainty": []}`,
		`{"prompt_id": "a", "response": "r", "token_logprobs": [-1], "token_entropies": [1, 2]}`,
		`{"prompt_id": null}`, `[]`, `{`, `"str"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseRecord(line)
		if err != nil {
			return
		}
		if err := rec.Rollout.Validate(); err != nil {
			t.Fatalf("ParseRecord accepted an invalid rollout: %v", err)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatalf("encoding an accepted record: %v", err)
		}
		back, err := ParseRecord(b)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
		if d := cmp.Diff(rec, back); d != "" {
			t.Fatalf("round trip (-first +second):\n%s", d)
		}
	})
}
