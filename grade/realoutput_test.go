package grade

import "testing"

// TestRealOutputAgreement grades the hand-graded table of real-output
// kinds: a false positive (a wrong answer graded correct) fails the test
// outright, and agreement with the human verdicts must be at least 95%.
func TestRealOutputAgreement(t *testing.T) {
	g := Default()
	agree, falsePos := 0, 0
	positives := 0
	for _, c := range realOutputCases {
		if c.want {
			positives++
		}
		r := g.Grade(c.response, c.gold)
		if r.Correct == c.want {
			agree++
			continue
		}
		if r.Correct {
			falsePos++
			t.Errorf("%s: false positive: Grade(%q, %q) = %+v", c.kind, c.response, c.gold, r)
		} else {
			t.Logf("%s: missed: Grade(%q, %q) = %+v", c.kind, c.response, c.gold, r)
		}
	}
	n := len(realOutputCases)
	if positives < n/3 || n-positives < n/3 {
		t.Errorf("%d positive and %d negative cases: the table needs both", positives, n-positives)
	}
	if 100*agree < 95*n {
		t.Errorf("agreement %d/%d is below 95%%", agree, n)
	}
	t.Logf("agreement %d/%d (%.1f%%), %d false positives", agree, n, 100*float64(agree)/float64(n), falsePos)
}
