package countdown

import (
	"strings"
	"testing"
)

func TestRenderP1(t *testing.T) {
	got, err := P1.Render("44 + 19 + 35", []int{44, 19, 35}, 98)
	if err != nil {
		t.Fatal(err)
	}
	want := `Verify:
1. "44 + 19 + 35" only contains numbers from [44, 19, 35].
2. Every number from [44, 19, 35] is used in "44 + 19 + 35" and is used only once.
3. "44 + 19 + 35" is a valid arithmetic expression and not an equation.
4. "44 + 19 + 35" equals 98.
If all checks pass, return \boxed{True}; otherwise, return \boxed{False}.`
	if got != want {
		t.Errorf("P1 =\n%s\nwant\n%s", got, want)
	}
}

func TestRenderP2(t *testing.T) {
	got, err := P2.Render("", []int{1, 2}, 3) // no candidate: the "missing" case of step 1
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`You are a strict mathematical verifier.`,
		`evaluate the provided expression "".`,
		`2. Check that "" only uses numbers from [1, 2].`,
		`3. Each number from [1, 2] must appear exactly once in "".`,
		`If the computed result equals 3 (within a tolerance of 1e-6), it passes this check.`,
		`If and only if all checks pass, output \boxed{True}. Otherwise, output \boxed{False}.`,
	} {
		if !strings.Contains(got, line) {
			t.Errorf("P2 lacks %q:\n%s", line, got)
		}
	}
	for _, ph := range []string{"{expr}", "{nums}", "{target}"} {
		if strings.Contains(got, ph) {
			t.Errorf("P2 left %s unfilled", ph)
		}
	}
	if _, err := VerifyPrompt(3).Render("1", []int{1}, 1); err == nil {
		t.Error("an unknown prompt rendered without error")
	}
}

func TestParseVerifyPrompt(t *testing.T) {
	for in, want := range map[string]VerifyPrompt{"P1": P1, "p2": P2, " 1 ": P1, "2": P2} {
		if got, err := ParseVerifyPrompt(in); err != nil || got != want {
			t.Errorf("ParseVerifyPrompt(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseVerifyPrompt("P3"); err == nil {
		t.Error("P3 accepted")
	}
	if P1.String() != "P1" || P2.String() != "P2" || VerifyPrompt(0).String() != "VerifyPrompt(0)" {
		t.Error("VerifyPrompt.String")
	}
}

func TestParseVerdict(t *testing.T) {
	tests := []struct {
		response string
		want     Verdict
		reason   string
	}{
		{`All checks pass. \boxed{True}`, VerdictTrue, "boxed True"},
		{`Check 4 fails. \boxed{False}`, VerdictFalse, "boxed False"},
		{`\boxed{ true }`, VerdictTrue, ""},
		{`\boxed{TRUE}`, VerdictTrue, ""},
		{`\boxed{fAlSe}`, VerdictFalse, ""},
		{`\boxed{T rue}`, VerdictTrue, ""},
		{`$\boxed{\text{True}}$`, VerdictTrue, ""},
		{`\boxed{\textbf{ False }}`, VerdictFalse, ""},
		{`\boxed{$\mathrm{True}$}`, VerdictTrue, ""},
		{`\fbox{True}`, VerdictTrue, ""},
		{`First \boxed{False}, but on reflection \boxed{True}`, VerdictTrue, ""},
		{`First \boxed{True}, but check 2 fails: \boxed{False}`, VerdictFalse, ""},
		{`\boxed{Yes}`, NoVerdict, `holds "Yes"`},
		{`\boxed{98}`, NoVerdict, `holds "98"`},
		{`\boxed{True and False}`, NoVerdict, "not True or False"},
		{`The expression is correct, so True.`, NoVerdict, "no verdict"},
		{`\boxed{True`, NoVerdict, "unclosed"},
		{`\boxed{}`, NoVerdict, "empty"},
		{``, NoVerdict, "no verdict"},
	}
	for _, tc := range tests {
		got, reason := ParseVerdict(tc.response)
		if got != tc.want || !strings.Contains(reason, tc.reason) {
			t.Errorf("ParseVerdict(%q) = %v %q, want %v containing %q", tc.response, got, reason, tc.want, tc.reason)
		}
	}
}

func TestVerdictReward(t *testing.T) {
	if VerdictTrue.Reward() != 1 || VerdictFalse.Reward() != 0 || NoVerdict.Reward() != 0 {
		t.Error("reward must be 1 for True and 0 otherwise")
	}
	if VerdictTrue.String() != "true" || VerdictFalse.String() != "false" || NoVerdict.String() != "none" {
		t.Error("Verdict.String")
	}
}

func TestRenderTemplate(t *testing.T) {
	got, err := RenderTemplate(`Is "{expr}" made of {nums} and equal to {target}? \boxed{True} or \boxed{False}`, "1+2", []int{1, 2}, 3)
	want := `Is "1+2" made of [1, 2] and equal to 3? \boxed{True} or \boxed{False}`
	if err != nil || got != want {
		t.Fatalf("RenderTemplate = %q, %v; want %q", got, err, want)
	}
	if _, err := RenderTemplate("Is it right?", "1+2", []int{1, 2}, 3); err == nil || !strings.Contains(err.Error(), "{expr}") {
		t.Fatalf("a template without {expr}: %v", err)
	}
}
