package countdown

import (
	"strings"
	"testing"
)

// A typical response: a few hundred bytes of reasoning, then the answer.
var benchResponse = "<think>" + strings.Repeat("44 + 19 = 63, and 63 + 35 = 98. ", 10) +
	"</think>\n<answer>(44 + 19) + 35</answer>"

func BenchmarkVerify(b *testing.B) {
	nums := []int{44, 19, 35}
	for b.Loop() {
		if Verify(benchResponse, nums, 98).Outcome != Correct {
			b.Fatal("not correct")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("6 / (1 - 3 / 4) + (89 - 12) * 51"); err != nil {
			b.Fatal(err)
		}
	}
}

// The worst answer a default Verifier evaluates: DefaultMaxAnswerBytes of
// nested products whose numbers are all given, so the multiset check passes
// and the exact arithmetic runs on a 400-digit product.
func BenchmarkVerifyWorstCase(b *testing.B) {
	expr := strings.Repeat("(", MaxDepth-1) + "99" + strings.Repeat(" * 99)", MaxDepth-1)
	expr += strings.Repeat(" * 99", (DefaultMaxAnswerBytes-len(expr))/5)
	e, err := Parse(expr)
	if err != nil {
		b.Fatal(err)
	}
	nums := e.Numbers()
	resp := "<answer>" + expr + "</answer>"
	if r := Verify(resp, nums, 98); r.Outcome != WrongValue {
		b.Fatalf("worst case is %v (%s), want an evaluated wrong value", r.Outcome, r.Reason)
	}
	for b.Loop() {
		Verify(resp, nums, 98)
	}
}

func BenchmarkGenerate(b *testing.B) {
	g, err := NewGenerator(DefaultGenConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
