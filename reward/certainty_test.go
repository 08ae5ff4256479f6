package reward

import (
	"context"
	"errors"
	"math"
	"testing"

	"pgregory.net/rapid"

	"github.com/urlvr/urlvr/rollout"
)

const tol = 1e-6 // statistics are stored as float32

func near(a, b, eps float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return a == b || math.Abs(a-b) <= eps*math.Max(math.Abs(a), math.Abs(b))
}

func checkRewards(t *testing.T, name string, got, want []float64, eps float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rewards %v, want %d %v", name, len(got), got, len(want), want)
	}
	for i := range want {
		if !near(got[i], want[i], eps) {
			t.Errorf("%s: reward[%d] = %.12g, want %.12g (all: %v)", name, i, got[i], want[i], got)
		}
	}
}

func score(t *testing.T, e Estimator, g *rollout.Group) Scores {
	t.Helper()
	s, err := e.Score(context.Background(), g)
	if err != nil {
		t.Fatalf("%s.Score: %v", e.Name(), err)
	}
	return s
}

// twoTokenStats are the statistics of logits z = (0, ln 3) at T = 1, i.e.
// pi = (1/4, 3/4), with the sampled token the likelier one, written out by
// hand:
//
//	log pi(y) = ln(3/4)                                  = -0.2876820724517809
//	H(pi)     = (1/4) ln 4 + (3/4) ln(4/3)               =  0.5623351446188083
//	logsumexp(z) - mean(z) = ln 4 - (ln 3)/2             =  0.8369882167858358
//	KL(U || pi) = (1/2) ln((1/2)/(1/4)) + (1/2) ln((1/2)/(3/4)) = (1/2) ln(4/3) = 0.1438410362258904
//	p_top1 - p_top2 = 3/4 - 1/4                          =  0.5
func twoTokenStats() rollout.Rollout {
	return rollout.Rollout{
		LogProbs:      []float32{float32(math.Log(0.75))},
		Entropies:     []float32{float32(0.25*math.Log(4) + 0.75*math.Log(4.0/3))},
		SelfCertainty: []float32{float32(math.Log(4) - math.Log(3)/2)},
		Top2Gap:       []float32{0.5},
		AnswerMask:    []bool{true},
	}
}

func TestCertaintyFromLogits(t *testing.T) {
	g := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{twoTokenStats()}}
	for _, tc := range []struct {
		e    Estimator
		want float64
	}{
		{SelfCertainty{}, 0.8369882167858358},
		{SelfCertainty{VocabSize: 2}, 0.1438410362258904}, // the KL itself
		{TokenEntropy{}, -0.5623351446188083},
		{TrajectoryEntropy{}, -0.2876820724517809},
		{Probability{}, 0.75},
		{Probability{LogSpace: true}, -0.2876820724517809},
		{ProbabilityDisparity{}, 0.5},
	} {
		checkRewards(t, tc.e.Name(), score(t, tc.e, g).Rewards, []float64{tc.want}, tol)
	}
}

func TestCertaintyHandValues(t *testing.T) {
	g := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{
		{
			LogProbs:      []float32{-0.5, -1.5, -0.25, -0.75},
			Entropies:     []float32{1, 0.5, 0.25, 0.25},
			SelfCertainty: []float32{2, 3, 4, 5},
			Top2Gap:       []float32{0.5, 0.25, 1, 0.75},
			AnswerMask:    []bool{false, true, false, true},
		},
		{
			LogProbs:      []float32{-2},
			Entropies:     []float32{3},
			SelfCertainty: []float32{1},
			Top2Gap:       []float32{0},
			AnswerMask:    []bool{false},
		},
	}}
	for _, tc := range []struct {
		e    Estimator
		want []float64
	}{
		// (2+3+4+5)/4 = 3.5; 1.
		{SelfCertainty{}, []float64{3.5, 1}},
		// 3.5 - ln 8 = 1.4205584583201641; 1 - ln 8 = -1.0794415416798357.
		{SelfCertainty{VocabSize: 8}, []float64{1.4205584583201641, -1.0794415416798357}},
		// -(1+0.5+0.25+0.25)/4 = -0.5; -3.
		{TokenEntropy{}, []float64{-0.5, -3}},
		// (-0.5-1.5-0.25-0.75)/4 = -0.75; -2.
		{TrajectoryEntropy{}, []float64{-0.75, -2}},
		// exp(-3) = 0.049787068367863944; exp(-2) = 0.1353352832366127.
		{Probability{}, []float64{0.049787068367863944, 0.1353352832366127}},
		{Probability{LogSpace: true}, []float64{-3, -2}},
		// answer tokens 1 and 3: (0.25+0.75)/2 = 0.5; no answer tokens: 0.
		{ProbabilityDisparity{}, []float64{0.5, 0}},
		// every token: (0.5+0.25+1+0.75)/4 = 0.625; 0.
		{ProbabilityDisparity{AllTokens: true}, []float64{0.625, 0}},
	} {
		checkRewards(t, tc.e.Name(), score(t, tc.e, g).Rewards, tc.want, 1e-12)
	}
	if s := score(t, ProbabilityDisparity{}, g); s.Stats["no_answer_tokens"] != 1 {
		t.Errorf("no_answer_tokens = %v, want 1", s.Stats)
	}
}

func TestProbabilityUnderflow(t *testing.T) {
	long := make([]float32, 1000) // log-prob -1000: exp underflows to 0
	for i := range long {
		long[i] = -1
	}
	sub := make([]float32, 720) // log-prob -720: a subnormal, still > 0
	for i := range sub {
		sub[i] = -1
	}
	g := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{{LogProbs: long}, {LogProbs: sub}, {LogProbs: []float32{}}}}
	s := score(t, Probability{}, g)
	if s.Rewards[0] != 0 || s.Stats["underflow"] != 1 {
		t.Errorf("underflow: rewards %v stats %v", s.Rewards, s.Stats)
	}
	if want := math.Exp(-720); s.Rewards[1] != want || want == 0 {
		t.Errorf("subnormal: reward %g, want %g", s.Rewards[1], want)
	}
	if s.Rewards[2] != 1 {
		t.Errorf("empty response: probability %v, want exp(0) = 1", s.Rewards[2])
	}
	ls := score(t, Probability{LogSpace: true}, g)
	checkRewards(t, "probability log_space", ls.Rewards, []float64{-1000, -720, 0}, 1e-12)
}

func TestCertaintyErrors(t *testing.T) {
	ctx := context.Background()
	ok := rollout.Rollout{LogProbs: []float32{-1}, Entropies: []float32{1}, SelfCertainty: []float32{1}, Top2Gap: []float32{0.1}, AnswerMask: []bool{true}}
	for _, tc := range []struct {
		e     Estimator
		bad   rollout.Rollout
		isErr error
	}{
		{SelfCertainty{}, rollout.Rollout{LogProbs: []float32{-1}}, ErrMissingInput},
		{TokenEntropy{}, rollout.Rollout{LogProbs: []float32{-1}}, ErrMissingInput},
		{TrajectoryEntropy{}, rollout.Rollout{Entropies: []float32{1}}, ErrMissingInput},
		{Probability{}, rollout.Rollout{Entropies: []float32{1}}, ErrMissingInput},
		{ProbabilityDisparity{}, rollout.Rollout{Top2Gap: []float32{0.1}}, ErrMissingInput},
		{ProbabilityDisparity{}, rollout.Rollout{AnswerMask: []bool{true}}, ErrMissingInput},
		{TokenEntropy{}, rollout.Rollout{Entropies: []float32{}}, ErrNoTokens},
		{TrajectoryEntropy{}, rollout.Rollout{LogProbs: []float32{}}, ErrNoTokens},
	} {
		g := &rollout.Group{PromptID: "p", Rollouts: []rollout.Rollout{ok, tc.bad}}
		_, err := tc.e.Score(ctx, g)
		var re *rollout.Error
		if !errors.Is(err, tc.isErr) || !errors.As(err, &re) || re.Index != 1 {
			t.Errorf("%s on %+v: error %v, want %v at rollout 1", tc.e.Name(), tc.bad, err, tc.isErr)
		}
	}
	mismatch := &rollout.Group{Rollouts: []rollout.Rollout{{Top2Gap: []float32{0.1, 0.2}, AnswerMask: []bool{true}}}}
	if _, err := (ProbabilityDisparity{}).Score(ctx, mismatch); err == nil {
		t.Error("mask/gap length mismatch: no error")
	}
	if _, err := (TokenEntropy{}).Score(ctx, &rollout.Group{}); !errors.Is(err, rollout.ErrEmptyGroup) {
		t.Errorf("empty group: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (TokenEntropy{}).Score(cancelled, &rollout.Group{Rollouts: []rollout.Rollout{ok}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestSum32(t *testing.T) {
	// Halves add exactly in float32 lanes as long as sums stay small.
	for n := range 11 {
		xs := make([]float32, n)
		want := 0.0
		for i := range xs {
			xs[i] = float32(i) + 0.5
			want += float64(i) + 0.5
		}
		if got := sum32(xs); got != want {
			t.Errorf("sum32 of %d values = %v, want %v", n, got, want)
		}
	}
	// Any length against a float64 loop: within float32 rounding.
	rapid.Check(t, func(rt *rapid.T) {
		xs := rapid.SliceOfN(rapid.Float32Range(-20, 20), 0, 300).Draw(rt, "xs")
		var want, abs float64
		for _, x := range xs {
			want += float64(x)
			abs += math.Abs(float64(x))
		}
		if got := sum32(xs); math.Abs(got-want) > 1e-6*abs {
			rt.Fatalf("sum32 = %v, float64 loop %v", got, want)
		}
	})
}

func TestMaskedSum(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 100).Draw(rt, "n")
		gaps := rapid.SliceOfN(rapid.Float32Range(0, 1), n, n).Draw(rt, "gaps")
		mask := rapid.SliceOfN(rapid.Bool(), n, n).Draw(rt, "mask")
		var want float64
		wantM := 0
		for i := range gaps {
			if mask[i] {
				want += float64(gaps[i])
				wantM++
			}
		}
		got, m := maskedSum(gaps, mask)
		if m != wantM || math.Abs(got-want) > 1e-12 {
			rt.Fatalf("maskedSum = %v, %d; want %v, %d", got, m, want, wantM)
		}
	})
}
