package grade

import (
	"errors"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"", "5", `\boxed{5}`, `\boxed{\frac{1}{2}}`, `\boxed 5$`, `\fbox{x}`, `\boxed{`, `\boxed{}}`,
	`\boxed{\{1,2\}}`, `<answer>1+2</answer>`, `<answer>`, `</answer><answer>`, "the answer is 3.",
	`\frac12`, `1,000`, `(1,000)`, `[1,2)`, `\{1,2\}`, `2\sqrt{2}`, `10\%`, `x=3`, `1\pm\sqrt{2}`,
	`10^{10^{10}}`, `\text{Devon}`, `(B) 12`, `\begin{pmatrix}1\\2\end{pmatrix}`, `0.\overline{3}`,
	`\sqrt[3]{-8}`, `x^2+2x+1`, `(x+1)^2`, `y=2x+3`, `x>3`, `(-\infty,3]`, `\emptyset`, `5!`,
	`\binom{5}{2}`, `\log_2 8`, `|x|`, `\lfloor 2.5\rfloor`, `e^{i\pi}`, `1e-400`, `2^-1`,
	`\left(\frac{1}{2}\right)^2`, `30^\circ`, `5\text{ cm}^2`, "π", "√2", "∞", `\sin^{-1} x`,
	`{,}`, `\,`, `\!`, `\text{`, `\begin{pmatrix}`, `1/0`, `0^0`, `(-8)^{1/3}`, `a_{n+1}`,
	`12 345`, `1 000`, `2 5`, `0,111`, `11,\! 111`, `0.(3)`, `0.333...`, `0.999...`, `3\ldots`, `1, 2, 3, ...`,
	`28 pct`, `(p,q)=(3,2)`, `|AB|=1`, `V_{1}:V_{2}=11:21`, `y = 2+9 = 11`, `y = 2+9 = 12`, `-x > -1`,
	`0<f(x)<1`, `1 < 2x + 1 \le 5`, `\sum_{k=1}^{n} k \cdot 2`, `\prod_{k=1}^{5} k`, `\sum_{k=1}^{10^9} k`,
	`\sum_{k=1}^{n}`, `\sum_k`, `\text{Area} = 24`, `g(-1) = -2`, `\boxed{1}, \boxed{2}`,
	`\boxed{255} The final answer is $10,455$`, `Final Answer: The largest $n$ is 34.`, `Answer $ 9 $`,
	`There are 8 ways in total.`, `$x$ and $`, `\(a\) \[b\]`,
}

// FuzzExtract checks that extraction never panics, returns text that is in
// the response, and explains every failure with ErrNoAnswer.
func FuzzExtract(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
		f.Add("so " + s + " done")
	}
	f.Fuzz(func(t *testing.T, response string) {
		check := func(name, got string, err error) {
			if err != nil {
				if !errors.Is(err, ErrNoAnswer) {
					t.Fatalf("%s(%q): error %v does not wrap ErrNoAnswer", name, response, err)
				}
				if got != "" {
					t.Fatalf("%s(%q) = %q with error %v", name, response, got, err)
				}
				return
			}
			// The prose fallback drops $ signs, and a run of boxes is
			// joined with ", "; nothing else is rewritten.
			plain := strings.ReplaceAll(response, "$", "")
			if got == "" || !strings.Contains(plain, strings.ReplaceAll(got, "$", "")) && !allParts(plain, got) {
				t.Fatalf("%s(%q) = %q, not a non-empty part of the response", name, response, got)
			}
		}
		a, err := ExtractBoxed(response)
		check("ExtractBoxed", a, err)
		if err == nil && !strings.Contains(response, `\boxed`) && !strings.Contains(response, `\fbox`) {
			t.Fatalf("ExtractBoxed(%q) = %q without a box", response, a)
		}
		a, err = ExtractAnswerTag(response)
		check("ExtractAnswerTag", a, err)
		if err == nil && (strings.Contains(a, answerOpen) || strings.Contains(a, answerClose)) {
			t.Fatalf("ExtractAnswerTag(%q) = %q contains a tag", response, a)
		}
		a, err = ExtractAnswerPhrase(response)
		check("ExtractAnswerPhrase", a, err)
		a, err = ExtractAnswer(response)
		check("ExtractAnswer", a, err)
		for _, policy := range []string{ExtractLenient, ExtractStrict} {
			a, err = New(Options{Extract: policy}).Extract(response)
			check("Extract "+policy, a, err)
		}
		for _, b := range ExtractAllBoxed(response) {
			if b == "" || !strings.Contains(response, b) {
				t.Fatalf("ExtractAllBoxed(%q) returned %q", response, b)
			}
		}
	})
}

// allParts reports whether every ", "-separated part of got is in s.
func allParts(s, got string) bool {
	for _, p := range strings.Split(got, ", ") {
		if !strings.Contains(s, strings.ReplaceAll(p, "$", "")) {
			return false
		}
	}
	return true
}

// FuzzEquivalent checks that the grader never panics and is consistent:
// reflexive up to spacing, symmetric, and sound in its keys and classes.
func FuzzEquivalent(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, fuzzSeeds[(i*7+3)%len(fuzzSeeds)])
		f.Add(s, s+" ")
	}
	for _, pairs := range equivalencePairs {
		for _, p := range pairs[:min(3, len(pairs))] {
			f.Add(p.a, p.b)
		}
	}
	g := Default()
	f.Fuzz(func(t *testing.T, a, b string) {
		eq := g.Equivalent(a, b)
		if eq != g.Equivalent(b, a) {
			t.Fatalf("Equivalent(%q, %q) = %v but not the other way round", a, b, eq)
		}
		ka, kb := Key(a), Key(b)
		if ka == kb && ka != "" && !eq {
			t.Fatalf("%q and %q share key %q but are not equivalent", a, b, ka)
		}
		if ka != "" && !g.Equivalent(a, " "+a+" ") {
			t.Fatalf("%q is not equivalent to itself", a)
		}
		r := g.Grade(a, b)
		if r.Reason == "" {
			t.Fatalf("Grade(%q, %q) gave no reason", a, b)
		}
		p := g.Classes([]string{a, b, a})
		if p.Class[0] != p.Class[2] {
			t.Fatalf("Classes put %q in two classes: %v", a, p.Class)
		}
		if p.Class[0] >= 0 && p.Class[1] >= 0 && (p.Class[0] == p.Class[1]) != eq {
			t.Fatalf("Classes(%q, %q) = %v disagrees with Equivalent = %v", a, b, p.Class, eq)
		}
	})
}
