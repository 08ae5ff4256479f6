package arith

import "testing"

func TestRephrase(t *testing.T) {
	for in, want := range map[string]string{
		"Q: 2+3*4=?\n":      "Q: 4*3+2=?\n",
		"Q: (1+2)*5=?\n":    "Q: 5*(2+1)=?\n",
		"Q: 9-4/2=?\n":      "Q: (9-4/2)=?\n",
		"Q: 7-(3+1)=?\n":    "Q: 7-(1+3)=?\n",
		"Q: -3+8*(2-5)=?\n": "Q: (2-5)*8+(-3)=?\n",
	} {
		got, err := Rephrase(in)
		if err != nil || got != want {
			t.Errorf("Rephrase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := Rephrase("What is 2+2?"); err == nil {
		t.Error("a prompt outside the world's form: no error")
	}
}

func TestRephraseKeepsTheValueOnTheWorld(t *testing.T) {
	ps, err := Train(TrainSpec)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps[:500] {
		r, err := Rephrase(p.Prompt)
		if err != nil {
			t.Fatalf("%q: %v", p.Prompt, err)
		}
		if r == p.Prompt {
			t.Fatalf("%q rephrased as itself", p.Prompt)
		}
		if CheckAlphabet(r) != nil {
			t.Fatalf("%q: %v", r, CheckAlphabet(r))
		}
	}
}
