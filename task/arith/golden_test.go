package arith

import (
	"math/rand/v2"
	"testing"
)

// These tests pin generated problems and solutions. They fail when the
// generator, the templates or the solution format change; such a change
// alters every shipped dataset and every base model's corpus, so update the
// expectations deliberately, regenerate datasets/arith, and say so.

func TestGoldenValidation(t *testing.T) {
	sets, err := Validation()
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]struct {
		p    Problem
		text string
	}{
		{
			{Problem{"Q: 180+55+28=?\n", "263", ValEasy, AddCarry, 1}, "180+55=235\n235+28=263\n\\boxed{263}"},
			{Problem{"Q: 75*5+93=?\n", "468", ValEasy, Mul2Digit, 1}, "75*5=375\n375+93=468\n\\boxed{468}"},
		},
		{
			{Problem{"Q: 126+97+73+3=?\n", "299", ValMid, AddCarry, 2}, "126+97=223\n223+73=296\n296+3=299\n\\boxed{299}"},
			{Problem{"Q: 66*6+42-54=?\n", "384", ValMid, Mul2Digit, 2}, "66*6=396\n396+42=438\n438-54=384\n\\boxed{384}"},
		},
		{
			{Problem{"Q: 59+824+61-23+87=?\n", "1008", ValHard, AddCarry, 3}, "59+824=883\n883+61=944\n944-23=921\n921+87=1008\n\\boxed{1008}"},
			{Problem{"Q: 89*8*9+42*2=?\n", "6492", ValHard, Mul2Digit, 3}, "89*8=712\n712*9=6408\n42*2=84\n6408+84=6492\n\\boxed{6492}"},
		},
	}
	for i, w := range want {
		for j, pw := range w {
			got := sets[i][j]
			if got != pw.p {
				t.Errorf("validation set %d problem %d = %#v, want %#v", i, j, got, pw.p)
				continue
			}
			expr, _ := got.Expression()
			sol, err := Solve(expr)
			if err != nil {
				t.Fatal(err)
			}
			if sol.Text() != pw.text {
				t.Errorf("solution of %q = %q, want %q", got.Prompt, sol.Text(), pw.text)
			}
		}
	}
}

func TestGoldenTrain(t *testing.T) {
	train, err := Train(SetSpec{Name: TrainName, Size: 3, Tiers: []int{1, 2, 3}, Seed: TrainSpec.Seed})
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{
		{"Q: 691+31+91+5=?\n", "818", TrainName, AddCarry, 2},
		{"Q: 22+39*8=?\n", "334", TrainName, Mul2Digit, 1},
		{"Q: 79-9*8+6*2=?\n", "19", TrainName, PrecedenceMix, 3},
	}
	for i := range want {
		if train[i] != want[i] {
			t.Errorf("train problem %d = %#v, want %#v", i, train[i], want[i])
		}
	}
}

// TestGoldenFamilies pins one tier-2 problem per family with its correct
// solution and the solution of the family's natural misconception.
func TestGoldenFamilies(t *testing.T) {
	want := []struct{ expr, clean, wrong string }{
		{"82+27+49+60", "82+27=109\n109+49=158\n158+60=218\n\\boxed{218}", "82+27=109\n109+49=148\n148+60=108\n\\boxed{108}"},
		{"65*9+27*5", "65*9=585\n27*5=135\n585+135=720\n\\boxed{720}", "65*9=545\n27*5=105\n545+105=650\n\\boxed{650}"},
		{"98-7*5+9", "7*5=35\n98-35=63\n63+9=72\n\\boxed{72}", "98-7=91\n91*5=455\n455+9=464\n\\boxed{464}"},
		{"6*(91-(65-36))", "65-36=29\n91-29=62\n6*62=372\n\\boxed{372}", "6*91=546\n546-65=481\n481-36=445\n\\boxed{445}"},
		{"3-58-13+3", "3-58=-55\n-55-13=-68\n-68+3=-65\n\\boxed{-65}", "3-58=55\n55-13=42\n42+3=45\n\\boxed{45}"},
		{"(35*6-17)/7", "35*6=210\n210-17=193\n193/7=193/7\n\\boxed{193/7}", "35*6=210\n210-17=193\n193/7=27\n\\boxed{27}"},
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i, f := range Families() {
		expr, sol, err := NewExpression(rng, f, 2)
		if err != nil {
			t.Fatal(err)
		}
		nat, _ := Natural(f)
		wrong, err := SolveWith(expr, []Kind{nat})
		if err != nil {
			t.Fatal(err)
		}
		if expr != want[i].expr || sol.Text() != want[i].clean || wrong.Text() != want[i].wrong {
			t.Errorf("%s: got {%q, %q, %q}\nwant %q", f, expr, sol.Text(), wrong.Text(), want[i])
		}
	}
}

func TestGoldenCorpus(t *testing.T) {
	docs, err := BuildCorpus(CorpusConfig{Examples: 3, Seed: 1, Misconceptions: []Rule{{Kind: DropCarry, Rate: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Q: (91+97)/(5*3)+2=?\n91+97=188\n5*3=15\n188/15=188/15\n188/15+2=218/15\n\\boxed{218/15}",
		"Q: 32+45-19+52=?\n32+45=77\n77-19=58\n58+52=100\n\\boxed{100}",
		"Q: 14+96*3=?\n96*3=288\n14+288=292\n\\boxed{292}",
	}
	for i := range want {
		if docs[i].Text() != want[i] {
			t.Errorf("document %d = %q, want %q", i, docs[i].Text(), want[i])
		}
	}
}
