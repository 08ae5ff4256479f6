package rl

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestAdvantagesHandComputed(t *testing.T) {
	// Group [1,0,0,1]: mean 0.5, unbiased std sqrt(1/3).
	s3 := math.Sqrt(1.0 / 3)
	g := 0.5 / (s3 + 1e-6)
	cases := []struct {
		name    string
		cfg     AdvantageConfig
		rewards []float64
		size    int
		want    []float64
		zeroVar int
	}{
		{"grpo", AdvantageConfig{Estimator: GRPO}, []float64{1, 0, 0, 1, 1, 1, 1, 1}, 4,
			[]float64{g, -g, -g, g, 0, 0, 0, 0}, 1},
		{"grpo custom epsilon", AdvantageConfig{Estimator: GRPO, Epsilon: 0.5}, []float64{2, 0}, 2,
			// mean 1, unbiased std sqrt(2): (±1)/(sqrt(2)+0.5)
			[]float64{1 / (math.Sqrt2 + 0.5), -1 / (math.Sqrt2 + 0.5)}, 0},
		{"dr.grpo", AdvantageConfig{Estimator: DrGRPO}, []float64{1, 0, 0, 0}, 4,
			[]float64{0.75, -0.25, -0.25, -0.25}, 0},
		{"reinforce", AdvantageConfig{Estimator: REINFORCE}, []float64{0.2, 0.6}, 2,
			[]float64{-0.2, 0.2}, 0},
		// leave-one-out: 1 - mean(0,0,0) = 1; 0 - mean(1,0,0) = -1/3.
		{"rloo", AdvantageConfig{Estimator: RLOO}, []float64{1, 0, 0, 0}, 4,
			[]float64{1, -1.0 / 3, -1.0 / 3, -1.0 / 3}, 0},
		{"single rollout", AdvantageConfig{Estimator: GRPO}, []float64{1, 0}, 1, []float64{0, 0}, 2},
		// Group means removed: [.5, -.5, 0, 0]; token weights 1,3,2,2 (W = 8):
		// weighted mean -0.125; deviations .625 -.375 .125 .125;
		// weighted ss = .390625 + .421875 + .0625 = .875; var = .875/7 = .125.
		{"reinforce++ baseline", AdvantageConfig{Estimator: REINFORCEPlusPlusBaseline, TokenCounts: []int{1, 3, 2, 2}},
			[]float64{1, 0, 1, 1}, 2,
			[]float64{0.625 / math.Sqrt(0.125+1e-8), -0.375 / math.Sqrt(0.125+1e-8),
				0.125 / math.Sqrt(0.125+1e-8), 0.125 / math.Sqrt(0.125+1e-8)}, 1},
		// Unweighted: [.5,-.5,0,0], mean 0, var = .5/3.
		{"reinforce++ baseline unweighted", AdvantageConfig{Estimator: REINFORCEPlusPlusBaseline},
			[]float64{1, 0, 1, 1}, 2,
			[]float64{0.5 / math.Sqrt(0.5/3+1e-8), -0.5 / math.Sqrt(0.5/3+1e-8), 0, 0}, 1},
	}
	for _, c := range cases {
		dst := make([]float64, len(c.rewards))
		st, err := Advantages(c.cfg, c.rewards, c.size, dst)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for i := range dst {
			if !near(dst[i], c.want[i], 1e-12) {
				t.Errorf("%s: A = %v, want %v", c.name, dst, c.want)
				break
			}
		}
		if st.ZeroVarianceGroups != c.zeroVar {
			t.Errorf("%s: %d zero-variance groups, want %d", c.name, st.ZeroVarianceGroups, c.zeroVar)
		}
	}
}

// Property: for the group-baseline estimators each group's advantages sum
// to zero; RLOO matches the explicit leave-one-out mean; GRPO groups have
// unbiased std just under 1; REINFORCE++-baseline has weighted mean 0 and
// weighted unbiased variance 1.
func TestAdvantageProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 300 {
		groups, size := 1+rng.IntN(8), 1+rng.IntN(9)
		rewards := make([]float64, groups*size)
		counts := make([]int, len(rewards))
		for i := range rewards {
			if trial%2 == 0 {
				rewards[i] = float64(rng.IntN(2))
			} else {
				rewards[i] = rng.NormFloat64()
			}
			counts[i] = 1 + rng.IntN(50)
		}
		for _, est := range []Estimator{GRPO, DrGRPO, RLOO, REINFORCE} {
			dst := make([]float64, len(rewards))
			if _, err := Advantages(AdvantageConfig{Estimator: est}, rewards, size, dst); err != nil {
				t.Fatal(err)
			}
			for g := range groups {
				a, r := dst[g*size:(g+1)*size], rewards[g*size:(g+1)*size]
				var sum, ss float64
				for _, v := range a {
					sum += v
					ss += v * v
				}
				if !near(sum, 0, 1e-9) {
					t.Fatalf("%s trial %d group %d: advantages %v sum to %v", est, trial, g, a, sum)
				}
				if est == RLOO && !allEqual(r) {
					for i := range r {
						var others float64
						for j := range r {
							if j != i {
								others += r[j]
							}
						}
						if want := r[i] - others/float64(size-1); !near(a[i], want, 1e-9) {
							t.Fatalf("rloo: A[%d] = %v, want %v", i, a[i], want)
						}
					}
				}
				if est == GRPO && !allEqual(r) && size > 1 {
					std := math.Sqrt(ss / float64(size-1))
					if std > 1 || std < 0.999 {
						t.Fatalf("grpo group std %v, want just under 1", std)
					}
				}
			}
		}
		dst := make([]float64, len(rewards))
		if _, err := Advantages(AdvantageConfig{Estimator: REINFORCEPlusPlusBaseline, TokenCounts: counts}, rewards, size, dst); err != nil {
			t.Fatal(err)
		}
		var w, sum, ss float64
		for i, a := range dst {
			w += float64(counts[i])
			sum += float64(counts[i]) * a
		}
		for i, a := range dst {
			ss += float64(counts[i]) * (a - sum/w) * (a - sum/w)
		}
		allZero := true
		for g := range groups {
			if !allEqual(rewards[g*size : (g+1)*size]) {
				allZero = false
			}
		}
		if !near(sum/w, 0, 1e-9) || (!allZero && !near(ss/(w-1), 1, 1e-6)) {
			t.Fatalf("reinforce++ baseline: weighted mean %v, var %v", sum/w, ss/(w-1))
		}
	}
}

// Permuting rollouts within a group permutes their advantages.
func TestAdvantagesPermutationEquivariant(t *testing.T) {
	r := []float64{0.3, 1, 0, 0.7, 0.1}
	p := []int{4, 2, 0, 3, 1}
	rp := make([]float64, len(r))
	for i, j := range p {
		rp[i] = r[j]
	}
	for _, est := range Estimators {
		a, ap := make([]float64, 5), make([]float64, 5)
		if _, err := Advantages(AdvantageConfig{Estimator: est}, r, 5, a); err != nil {
			t.Fatal(err)
		}
		if _, err := Advantages(AdvantageConfig{Estimator: est}, rp, 5, ap); err != nil {
			t.Fatal(err)
		}
		for i, j := range p {
			if !near(ap[i], a[j], 1e-12) {
				t.Fatalf("%s: not permutation equivariant: %v vs %v", est, a, ap)
			}
		}
	}
}

func TestAdvantagesVar(t *testing.T) {
	dst := make([]float64, 5)
	// groups [1,0] and [1,0,0]: Dr.GRPO gives .5,-.5 and 2/3,-1/3,-1/3.
	if _, err := AdvantagesVar(AdvantageConfig{Estimator: DrGRPO}, []float64{1, 0, 1, 0, 0}, []int{0, 2, 5}, dst); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.5, -0.5, 2.0 / 3, -1.0 / 3, -1.0 / 3}
	for i := range want {
		if !near(dst[i], want[i], 1e-15) {
			t.Fatalf("AdvantagesVar = %v, want %v", dst, want)
		}
	}
	for _, off := range [][]int{{0, 2}, {1, 5}, {0, 3, 3, 5}, {0}} {
		if _, err := AdvantagesVar(AdvantageConfig{Estimator: GRPO}, make([]float64, 5), off, dst); err == nil {
			t.Errorf("offsets %v: no error", off)
		}
	}
}

func TestAdvantagesErrors(t *testing.T) {
	dst := make([]float64, 4)
	bad := []struct {
		name    string
		cfg     AdvantageConfig
		rewards []float64
		size    int
		dst     []float64
	}{
		{"unknown estimator", AdvantageConfig{Estimator: "ppo"}, []float64{1, 0, 1, 0}, 2, dst},
		{"ragged groups", AdvantageConfig{Estimator: GRPO}, []float64{1, 0, 1}, 2, dst[:3]},
		{"zero group size", AdvantageConfig{Estimator: GRPO}, []float64{1, 0, 1, 0}, 0, dst},
		{"short dst", AdvantageConfig{Estimator: GRPO}, []float64{1, 0, 1, 0}, 2, dst[:2]},
		{"nan reward", AdvantageConfig{Estimator: GRPO}, []float64{1, math.NaN(), 1, 0}, 2, dst},
		{"negative epsilon", AdvantageConfig{Estimator: GRPO, Epsilon: -1}, []float64{1, 0, 1, 0}, 2, dst},
		{"token counts length", AdvantageConfig{Estimator: REINFORCEPlusPlusBaseline, TokenCounts: []int{1}}, []float64{1, 0, 1, 0}, 2, dst},
		{"negative token count", AdvantageConfig{Estimator: REINFORCEPlusPlusBaseline, TokenCounts: []int{1, -1, 1, 1}}, []float64{1, 0, 1, 0}, 2, dst},
	}
	for _, c := range bad {
		if _, err := Advantages(c.cfg, c.rewards, c.size, c.dst); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if _, err := ParseEstimator("nope"); err == nil {
		t.Error("ParseEstimator(nope): no error")
	}
	if e, err := ParseEstimator("Dr.GRPO"); err != nil || e != DrGRPO {
		t.Errorf("ParseEstimator(Dr.GRPO) = %v, %v", e, err)
	}
}

func TestExpandToTokens(t *testing.T) {
	mask := []float32{1, 1, 0, 1, 0, 0}
	dst := make([]float32, 6)
	if err := ExpandToTokens([]float64{2, -1}, 3, mask, dst); err != nil {
		t.Fatal(err)
	}
	want := []float32{2, 2, 0, -1, 0, 0}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("ExpandToTokens = %v, want %v", dst, want)
		}
	}
	if err := ExpandToTokens([]float64{1}, 3, mask, dst); err == nil {
		t.Error("shape mismatch: no error")
	}
}

func ExampleAdvantages() {
	// Two prompts, four rollouts each, majority-vote rewards.
	rewards := []float64{1, 1, 0, 0, 1, 1, 1, 1}
	adv := make([]float64, len(rewards))
	st, err := Advantages(AdvantageConfig{Estimator: GRPO}, rewards, 4, adv)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4f\nzero-variance groups: %d of %d\n", adv, st.ZeroVarianceGroups, st.Groups)
	// Output:
	// [0.8660 0.8660 -0.8660 -0.8660 0.0000 0.0000 0.0000 0.0000]
	// zero-variance groups: 1 of 2
}
