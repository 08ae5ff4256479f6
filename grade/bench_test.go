package grade

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// typicalPairs are short (response, gold) pairs as graded in training: the
// response ends in a boxed answer; most answers are plain numbers.
var typicalPairs = [][2]string{
	{`So the total is \boxed{42}.`, "42"},
	{`Therefore the answer is $\boxed{\frac{1}{2}}$.`, "0.5"},
	{`We get \boxed{-7/3}`, `\frac{-7}{3}`},
	{`Thus \boxed{12}`, "13"},
	{`\boxed{3.5}`, "7/2"},
	{`The value is \boxed{2\sqrt{2}}`, `\sqrt{8}`},
	{`\boxed{x=3}`, "3"},
	{`so it is \boxed{(1,2)}`, "(1, 2)"},
	{`\boxed{1,000}`, "1000"},
	{`Hence \boxed{100}`, "100"},
}

// BenchmarkGradeTypical measures Grade on typical short responses; the
// reported grades/s is for one goroutine (one core).
func BenchmarkGradeTypical(b *testing.B) {
	g := Default()
	b.ReportAllocs()
	cpu := cpuTime(func() {
		for i := 0; b.Loop(); i++ {
			p := typicalPairs[i%len(typicalPairs)]
			g.Grade(p[0], p[1])
		}
	})
	reportRates(b, cpu)
}

// reportRates reports grades per second of wall time and of the thread's
// CPU time; on a shared machine the second is the one that says what one
// core can do.
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grades/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "grades/cpu-s")
}

// BenchmarkGradePlainNumbers is the fast path: integer and decimal answers.
func BenchmarkGradePlainNumbers(b *testing.B) {
	g := Default()
	b.ReportAllocs()
	cpu := cpuTime(func() {
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				g.Grade(`The answer is \boxed{1234}.`, "1234")
			} else {
				g.Grade(`The answer is \boxed{0.5}.`, "1/2")
			}
		}
	})
	reportRates(b, cpu)
}

// BenchmarkClasses groups 8 rollouts' answers, as majority voting does.
func BenchmarkClasses(b *testing.B) {
	g := Default()
	answers := []string{"12", `\frac{24}{2}`, "12.0", "13", `2\sqrt{3}`, `\sqrt{12}`, "", "x=12"}
	b.ReportAllocs()
	for b.Loop() {
		g.Classes(answers)
	}
}

// adversarialAnswers are 10 KB inputs built to make a grader work hard.
func adversarialAnswers() map[string]string {
	cut := func(s string) string {
		if len(s) > 10<<10 {
			return s[:10<<10]
		}
		return s
	}
	m := map[string]string{
		"tower 10^10^10":   `10^{10^{10}}`,
		"nested braces":    strings.Repeat("{", 5000) + "1" + strings.Repeat("}", 5000),
		"nested parens":    strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000),
		"long sum":         strings.Repeat("1+", 5000) + "1",
		"long product":     strings.Repeat("99999999*", 1200),
		"power tower":      strings.Repeat("9^{", 1000) + "9" + strings.Repeat("}", 1000),
		"power chain":      strings.Repeat("2^", 5000) + "2",
		"nested fractions": strings.Repeat(`\frac{1}{1+`, 800) + "1" + strings.Repeat("}", 800),
		"nested roots":     strings.Repeat(`\sqrt{`, 1500) + "2" + strings.Repeat("}", 1500),
		"long literal":     strings.Repeat("9", 10000),
		"long decimal":     "0." + strings.Repeat("3", 10000),
		"long list":        strings.Repeat("1,", 5000) + "1",
		"set of surds":     `\{` + strings.Repeat(`\sqrt{2}+x,`, 1000) + `1\}`,
		"plus-minus chain": strings.Repeat(`1\pm `, 2000) + "1",
		"factorials":       strings.Repeat("500!+", 2000) + "1",
		"binomials":        strings.Repeat(`\binom{1000}{500}+`, 600) + "1",
		"big powers":       strings.Repeat(`2^{4095}\cdot`, 800) + "1",
		"big fractions":    strings.Repeat(`\frac{1}{3^{2000}}+`, 600) + "1",
		"polynomial":       strings.Repeat("x^{99}y^{99}+", 800) + "1",
		"exp tower":        strings.Repeat("e^{", 1000) + "1" + strings.Repeat("}", 1000),
		"nested text":      strings.Repeat(`\text{`, 2000) + "a" + strings.Repeat("}", 2000),
		"intervals":        strings.Repeat(`(1,2)\cup`, 1200) + "(1,2)",
		"matrix":           `\begin{pmatrix}` + strings.Repeat("1&", 3000) + `1\end{pmatrix}`,
		"bars":             strings.Repeat("|", 10000),
		"roots of powers":  strings.Repeat(`\sqrt[3]{2^{4000}}+`, 600) + "1",
		"unbalanced":       strings.Repeat(`\frac{`, 2000),
		"boxes":            strings.Repeat(`\boxed{`, 2000),
	}
	// Inputs that stay within the parser's node and depth limits, so the
	// arithmetic and the comparisons themselves are what is bounded.
	var surds, surdsRev, bigFracs, bigRoots, polys, facts strings.Builder
	for i := 2; i < 600; i++ {
		fmt.Fprintf(&surds, `\sqrt{%d},`, i)
		fmt.Fprintf(&surdsRev, `\sqrt{%d},`, 601-i)
	}
	for i := range 60 {
		fmt.Fprintf(&bigFracs, `\frac{3^{%d}+1}{7^{%d}+%d}+`, 1200+i, 700+i, i+2)
		fmt.Fprintf(&bigRoots, `\sqrt{2^{%d}+%d}+\sqrt[3]{5^{%d}}+`, 4000+i, i, 600+i)
		fmt.Fprintf(&facts, `%d!\cdot`, 300+i)
	}
	for i := range 300 {
		fmt.Fprintf(&polys, "x^{%d}y^{%d}+", i%97, i%89)
	}
	m["surd set"] = `\{` + surds.String() + `1\}`
	m["surd set reversed"] = `\{1,` + surdsRev.String() + `\sqrt{600}\}`
	m["surd list"] = surds.String() + "1"
	m["big fraction sum"] = bigFracs.String() + "1"
	m["big roots"] = bigRoots.String() + "1"
	m["factorial product"] = facts.String() + "1"
	m["polynomial in two variables"] = polys.String() + "1"
	m["equation"] = polys.String() + "1=" + polys.String() + "2"
	for k, v := range m {
		m[k] = cut(v)
	}
	return m
}

// minTime is the fastest of n runs of f, by thread CPU time where it can
// be read: the machine's other load only ever adds time, so the minimum is
// the best estimate of f's own cost.
func minTime(n int, f func()) time.Duration {
	best := time.Duration(1 << 62)
	for range n {
		if d := cpuTime(f); d < best {
			best = d
		}
	}
	return best
}

// BenchmarkWorstCase reports the slowest single comparison of a 10 KB
// adversarial answer (with a number, with a variant of itself, and with
// other adversarial answers), as the fastest of three runs in CPU time.
func BenchmarkWorstCase(b *testing.B) {
	g := Default()
	adv := adversarialAnswers()
	var worst time.Duration
	var worstName string
	for b.Loop() {
		for name, s := range adv {
			for _, o := range []string{"5", s + "+1", s + "1", adv["surd set reversed"], adv["big fraction sum"]} {
				if d := minTime(3, func() { g.Equivalent(s, o) }); d > worst {
					worst, worstName = d, name
				}
			}
		}
	}
	b.ReportMetric(float64(worst.Microseconds()), "worst-cpu-µs/cmp")
	b.Logf("slowest input: %s", worstName)
}
