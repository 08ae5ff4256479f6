package runlog

import (
	"strings"
	"testing"
)

func TestProblemScoresRowRoundTrip(t *testing.T) {
	in := ProblemScoresRow{Step: 20, Set: "large-mid", N: 4, Problems: ProblemsFingerprint([]string{"a", "b", "c"}), Correct: []int{0, 4, 3}}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := Read[ProblemScoresRow](strings.NewReader(string(b)))
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v, err %v", rows, err)
	}
	got := rows[0]
	if got.Step != 20 || got.Set != "large-mid" || got.N != 4 || got.Problems != in.Problems || len(got.Correct) != 3 || got.Correct[2] != 3 {
		t.Fatalf("read back %+v, wrote %+v", got, in)
	}
	acc := got.Accuracy()
	if acc[0] != 0 || acc[1] != 1 || acc[2] != 0.75 {
		t.Fatalf("accuracy %v, want [0 1 0.75]", acc)
	}
}

func TestProblemScoresRowRefusesImpossibleCounts(t *testing.T) {
	for _, line := range []string{
		`{"step":1,"set":"s","n":2,"problems":"x","correct":[3]}`,
		`{"step":1,"set":"s","n":0,"problems":"x","correct":[]}`,
		`{"set":"s","n":2,"problems":"x","correct":[1]}`,
		`{"step":1,"set":"s","n":2,"problems":"x","correct":[1],"extra":1}`,
	} {
		var r ProblemScoresRow
		if err := r.UnmarshalJSON([]byte(line)); err == nil {
			t.Errorf("%s: read as %+v, want an error", line, r)
		}
	}
}

func TestProblemsFingerprintDependsOnOrder(t *testing.T) {
	a := ProblemsFingerprint([]string{"p1", "p2"})
	if a == ProblemsFingerprint([]string{"p2", "p1"}) || len(a) != 16 {
		t.Fatalf("fingerprint %q should be 16 hex digits and change with the order", a)
	}
}
