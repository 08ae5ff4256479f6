package theory

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/urlvr/urlvr/metrics"
	"github.com/urlvr/urlvr/rl"
)

func TestTabularGradientHandComputed(t *testing.T) {
	probs := []float64{0.5, 0.25, 0.25}
	logP0 := []float64{math.Log(0.5), math.Log(0.25), math.Log(0.25)}
	samples := []int{0, 0, 1, 2}
	adv := []float64{1, 1, -1, -1}
	grad := make([]float64, 3)
	// (1/N) sum_i A_i (e_{a_i} - pi) = ([2, -1, -1] - 0 * pi)/4; KL term 0 at pi = pi_0.
	tabularGradient(probs, 1, samples, adv, 0.7, logP0, grad)
	want := []float64{0.5, -0.25, -0.25}
	for j := range want {
		if math.Abs(grad[j]-want[j]) > 1e-15 {
			t.Fatalf("gradient %v, want %v", grad, want)
		}
	}
	// Temperature 2 halves it; a non-zero advantage sum subtracts sum*pi/N/T.
	tabularGradient(probs, 2, samples, []float64{1, 1, 1, -1}, 0, logP0, grad)
	// counts-weighted [2, 1, -1], sum 2: ([2,1,-1] - 2*[.5,.25,.25])/(4*2) = [1, .5, -1.5]/8.
	want = []float64{0.125, 0.0625, -0.1875}
	for j := range want {
		if math.Abs(grad[j]-want[j]) > 1e-15 {
			t.Fatalf("T=2 gradient %v, want %v", grad, want)
		}
	}
}

// tabularGradient is the exact derivative of tabularObjective: check it
// against central differences, with the KL term and a temperature.
func TestTabularGradientFiniteDifference(t *testing.T) {
	rng := rand.New(rand.NewPCG(71, 72))
	for trial := range 20 {
		k, n := 2+rng.IntN(6), 2+rng.IntN(10)
		z := make([]float64, k)
		for j := range z {
			z[j] = rng.NormFloat64()
		}
		temp := 0.5 + rng.Float64()
		p0 := make([]float64, k)
		softmaxT(z, temp, p0)
		logP0 := make([]float64, k)
		for j := range z {
			z[j] += 0.5 * rng.NormFloat64() // move away from pi_0 so KL has a gradient
			logP0[j] = math.Log(p0[j])
		}
		samples, adv := make([]int, n), make([]float64, n)
		for i := range samples {
			samples[i], adv[i] = rng.IntN(k), rng.NormFloat64()
		}
		klCoef := float64(trial%3) * 0.4
		probs, grad := make([]float64, k), make([]float64, k)
		softmaxT(z, temp, probs)
		tabularGradient(probs, temp, samples, adv, klCoef, logP0, grad)
		const h = 1e-6
		for j := range z {
			zj := z[j]
			z[j] = zj + h
			up := tabularObjective(z, temp, samples, adv, klCoef, logP0)
			z[j] = zj - h
			down := tabularObjective(z, temp, samples, adv, klCoef, logP0)
			z[j] = zj
			if fd := (up - down) / (2 * h); math.Abs(fd-grad[j]) > 1e-7 {
				t.Fatalf("trial %d: dJ/dz[%d] = %v, finite difference %v", trial, j, grad[j], fd)
			}
		}
	}
}

func TestBuiltinRewards(t *testing.T) {
	samples := []int{2, 0, 2, 1}
	probs := []float64{0.1, 0.3, 0.6}
	cases := map[AnswerReward][]float64{
		MajorityReward:    {1, 0, 1, 0},
		GroundTruthReward: {0, 1, 0, 0}, // gold 0
		FrequencyReward:   {0.5, 0.25, 0.5, 0.25},
		ProbabilityReward: {0.6, 0.1, 0.6, 0.3},
	}
	for kind, want := range cases {
		got := make([]float64, 4)
		builtinReward(kind)(samples, probs, 0, got)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: rewards %v, want %v", kind, got, want)
				break
			}
		}
	}
	// Majority ties go to the answer seen first.
	got := make([]float64, 4)
	builtinReward(MajorityReward)([]int{1, 0, 0, 1}, probs, 0, got)
	if got[0] != 1 || got[1] != 0 {
		t.Errorf("tie: rewards %v, want answer 1 (seen first) rewarded", got)
	}
}

func TestSampleCategorical(t *testing.T) {
	rng := rand.New(rand.NewPCG(81, 82))
	p := []float64{0.5, 0.3, 0.2}
	counts := make([]float64, 3)
	const n = 200000
	for range n {
		counts[sampleCategorical(rng, p)]++
	}
	for i := range p {
		// 5 standard deviations of a binomial proportion.
		if sd := math.Sqrt(p[i] * (1 - p[i]) / n); math.Abs(counts[i]/n-p[i]) > 5*sd {
			t.Errorf("answer %d drawn with frequency %v, want %v", i, counts[i]/n, p[i])
		}
	}
}

// tableFourConfig mimics paper A.1.1: one problem, N = 1024 rollouts, an
// initial majority holding 12.7% of the mass among 16 answers, Adam updates.
func tableFourConfig(gold int) TabularConfig {
	probs := make([]float64, 16)
	probs[0] = 0.127
	for j := 1; j < 16; j++ {
		probs[j] = 0.873 / 15
	}
	return TabularConfig{Probs: probs, Gold: gold, Reward: MajorityReward, Estimator: rl.GRPO,
		N: 1024, Steps: 50, LR: 0.08, Optimizer: "adam", Seed: 7}
}

// Paper Tables 4-5: p_maj rises at every one of the first 10 steps, the
// majority never changes, and p_maj passes 98% by step 50.
func TestTabularMonotoneRise(t *testing.T) {
	steps, err := SimulateTabular(tableFourConfig(0))
	if err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= 10; k++ {
		if !(steps[k].PMaj > steps[k-1].PMaj) {
			t.Errorf("p_maj fell at step %d: %v -> %v", k, steps[k-1].PMaj, steps[k].PMaj)
		}
	}
	for _, s := range steps {
		if s.Majority != 0 {
			t.Fatalf("majority flipped to %d at step %d", s.Majority, s.Step)
		}
	}
	if last := steps[len(steps)-1]; last.PMaj < 0.98 || !last.LabelCorrect {
		t.Errorf("step 50: p_maj %v (want > 0.98), label correct %v", last.PMaj, last.LabelCorrect)
	}
}

// The same dynamics with a wrong majority: training concentrates on the
// wrong answer and the gold answer's mass vanishes (Theorem 1's limit).
func TestTabularCollapseOntoWrongMajority(t *testing.T) {
	steps, err := SimulateTabular(tableFourConfig(5))
	if err != nil {
		t.Fatal(err)
	}
	first, last := steps[0], steps[len(steps)-1]
	if last.PInitialMajority < 0.98 || last.PGold > 0.01 || last.PGold >= first.PGold {
		t.Errorf("wrong majority: final p_maj %v, p_gold %v -> %v", last.PInitialMajority, first.PGold, last.PGold)
	}
	for _, s := range steps {
		if s.LabelCorrect {
			t.Fatalf("step %d: the wrong majority became correct", s.Step)
		}
	}
}

// Section 6: with a wrong initial majority the reward accuracy of majority
// voting falls below 1% and the collapse detector finds the step; the
// ground-truth reward instead concentrates on the gold answer.
func TestTabularModelCollapseStep(t *testing.T) {
	cfg := TabularConfig{Probs: []float64{0.5, 0.3, 0.2}, Gold: 1, Reward: MajorityReward,
		N: 64, Steps: 150, LR: 0.5, Seed: 3}
	steps, err := SimulateTabular(cfg)
	if err != nil {
		t.Fatal(err)
	}
	det, err := metrics.NewCollapseDetector(metrics.CollapseConfig{Patience: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if _, err := det.Observe(s.Step, s.RewardAccuracy); err != nil {
			t.Fatal(err)
		}
	}
	if r := det.Result(); !r.Collapsed || r.Step < 1 {
		t.Errorf("no collapse detected: %+v (final p_gold %v)", r, steps[len(steps)-1].PGold)
	}
	if steps[0].Majority != 0 || steps[len(steps)-1].PInitialMajority < 0.98 {
		t.Errorf("expected collapse onto answer 0: first majority %d, final mass %v", steps[0].Majority, steps[len(steps)-1].PInitialMajority)
	}

	cfg.Reward = GroundTruthReward
	steps, err = SimulateTabular(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p := steps[len(steps)-1].PGold; p < 0.98 {
		t.Errorf("ground-truth reward: final p_gold %v, want > 0.98", p)
	}
}

// A KL penalty to the initial policy holds the distribution back: same
// seed, less mass on the majority and a bounded KL.
func TestTabularKLSlowsSharpening(t *testing.T) {
	base := TabularConfig{Probs: []float64{0.5, 0.3, 0.2}, Gold: 0, Reward: MajorityReward,
		N: 256, Steps: 60, LR: 0.5, Seed: 9}
	free, err := SimulateTabular(base)
	if err != nil {
		t.Fatal(err)
	}
	base.KLCoef = 2
	held, err := SimulateTabular(base)
	if err != nil {
		t.Fatal(err)
	}
	f, h := free[len(free)-1], held[len(held)-1]
	if !(h.PMaj < f.PMaj) || !(h.KL < f.KL) {
		t.Errorf("KL: p_maj %v vs %v without, KL %v vs %v", h.PMaj, f.PMaj, h.KL, f.KL)
	}
}

func TestTabularDeterministicAndCustom(t *testing.T) {
	cfg := TabularConfig{Probs: []float64{0.4, 0.35, 0.25}, Gold: 1, Reward: MajorityReward, N: 8, Steps: 20, LR: 0.5, Seed: 5}
	a, _ := SimulateTabular(cfg)
	b, _ := SimulateTabular(cfg)
	for i := range a {
		if a[i].PMaj != b[i].PMaj || a[i].Majority != b[i].Majority {
			t.Fatalf("same seed, different step %d", i)
		}
	}
	cfg.Seed = 6
	c, _ := SimulateTabular(cfg)
	same := true
	for i := range a {
		same = same && a[i].PMaj == c[i].PMaj
	}
	if same {
		t.Error("different seeds gave identical trajectories")
	}
	// A custom reward that always favours answer 2 drives its mass up.
	cfg.Custom = func(samples []int, probs []float64, gold int, r []float64) {
		for i, s := range samples {
			r[i] = b2f(s == 2)
		}
	}
	cfg.N, cfg.Steps = 64, 60
	steps, err := SimulateTabular(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if p := steps[len(steps)-1].Probs[2]; p < 0.95 {
		t.Errorf("custom reward: final mass on answer 2 is %v", p)
	}
	if steps[0].RewardAccuracy != -1 {
		t.Errorf("custom reward reported reward accuracy %v", steps[0].RewardAccuracy)
	}
}

func TestTabularValidate(t *testing.T) {
	good := TabularConfig{Probs: []float64{0.5, 0.5}, Gold: 0, Reward: MajorityReward, N: 4, Steps: 1, LR: 0.1}
	if _, err := SimulateTabular(good); err != nil {
		t.Fatal(err)
	}
	bad := []func(*TabularConfig){
		func(c *TabularConfig) { c.Probs = nil },
		func(c *TabularConfig) { c.Logits = []float64{0, 0} },
		func(c *TabularConfig) { c.Probs = []float64{0.5, 0.6} },
		func(c *TabularConfig) { c.Probs = []float64{1, 0} },
		func(c *TabularConfig) { c.Probs = []float64{1} },
		func(c *TabularConfig) { c.Gold = 2 },
		func(c *TabularConfig) { c.N = 1 },
		func(c *TabularConfig) { c.LR = 0 },
		func(c *TabularConfig) { c.KLCoef = -1 },
		func(c *TabularConfig) { c.Reward = "vibes" },
		func(c *TabularConfig) { c.Reward, c.Gold = GroundTruthReward, -1 },
		func(c *TabularConfig) { c.Estimator = rl.REINFORCEPlusPlusBaseline },
		func(c *TabularConfig) { c.Optimizer = "lion" },
		func(c *TabularConfig) { c.Temperature = -1 },
	}
	for i, mutate := range bad {
		c := good
		mutate(&c)
		if _, err := SimulateTabular(c); err == nil {
			t.Errorf("case %d (%+v): no error", i, c)
		}
	}
}

func ExampleSimulateTabular() {
	// Three answers; the wrong answer 0 holds the initial majority.
	steps, err := SimulateTabular(TabularConfig{
		Probs: []float64{0.5, 0.3, 0.2}, Gold: 1, Reward: MajorityReward,
		N: 64, Steps: 100, LR: 0.5, Seed: 3,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	first, last := steps[0], steps[len(steps)-1]
	fmt.Printf("p_maj %.2f -> %.3f, p_gold %.2f -> %.3f\n", first.PMaj, last.PMaj, first.PGold, last.PGold)
	// Output: p_maj 0.50 -> 0.998, p_gold 0.30 -> 0.001
}
