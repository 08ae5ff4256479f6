package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Two majority-voting prompts, N = 4.
//
// Prompt A: answers 5,5,5,7 with gold 5: majority 5 is right. Proxy
// (1,1,1,0) equals GT (1,1,1,0): 4 matches.
// Prompt B: answers 3,3,9,"" with gold 9: majority 3 is wrong. Proxy
// (1,1,0,0), GT (0,0,1,0): matches only at the last rollout, 1 match.
//
// label accuracy = (1+0)/2 = 0.5; reward accuracy = 5/8 = 0.625;
// ground truth reward = 4/8 = 0.5; proxy reward = 5/8 = 0.625;
// majority ratio = (3/4 + 2/4)/2 = 0.625; no zero-variance group.
// Point-biserial over the 8 rollouts: proxy x = (1,1,1,0,1,1,0,0), gt y =
// (1,1,1,0,0,0,1,0). mean x = 5/8. devCorrect = 3*(3/8) + (-5/8) = 1/2.
// ss = 5*(9/64) + 3*(25/64) = 120/64 = 15/8. n1 = n0 = 4.
// r = (1/2)/sqrt(15/8 * 16/8) = 0.5/sqrt(3.75) = 0.2581988897.
func ensembleFixture() []Group {
	return []Group{
		{
			Proxy: []float64{1, 1, 1, 0}, GT: []float64{1, 1, 1, 0},
			Answers: []string{"5", "5", "5", "7"}, Label: "5", LabelCorrect: ptr(true), TopCount: 3,
			Lengths: []int{10, 20, 30, 40}, Entropies: []float64{1, 2, 3, 4},
		},
		{
			Proxy: []float64{1, 1, 0, 0}, GT: []float64{0, 0, 1, 0},
			Answers: []string{"3", "3", "9", ""}, Label: "3", LabelCorrect: ptr(false), TopCount: 2,
			Lengths: []int{10, 10, 10, 10}, Entropies: []float64{0.5, 0.5, 0.5, 0.5},
		},
	}
}

func TestComputeDynamicsEnsemble(t *testing.T) {
	d, err := ComputeDynamics(ensembleFixture())
	if err != nil {
		t.Fatal(err)
	}
	// actor entropy, length weighted: (10+40+90+160 + 4*5)/(100+40) = 320/140.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"label_accuracy", d.LabelAccuracy, 0.5},
		{"reward_accuracy", d.RewardAccuracy, 0.625},
		{"ground_truth_reward", d.GroundTruthReward, 0.5},
		{"proxy_reward", d.ProxyReward, 0.625},
		{"majority_ratio", d.MajorityRatio, 0.625},
		{"zero_variance_fraction", d.ZeroVarianceFraction, 0},
		{"point_biserial", d.PointBiserial, 0.5 / math.Sqrt(3.75)},
		{"actor_entropy", d.ActorEntropy, 320.0 / 140},
		{"response_length", d.ResponseLength, 140.0 / 8},
		{"p_maj[0]", d.PerProblemPMaj[0], 0.75},
		{"p_maj[1]", d.PerProblemPMaj[1], 0.5},
	}
	for _, c := range checks {
		if !near(c.got, c.want, 1e-12) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !d.HasRewardAccuracy || !d.HasMajorityRatio || !d.HasActorEntropy || !d.HasResponseLength {
		t.Errorf("flags = %+v, want all metrics reported", d)
	}
	if d.Prompts != 2 || d.Rollouts != 8 {
		t.Errorf("counts = %d prompts, %d rollouts; want 2, 8", d.Prompts, d.Rollouts)
	}
	if got := d.PerProblemLabelCorrect; len(got) != 2 || !got[0] || got[1] {
		t.Errorf("per-problem label correct = %v, want [true false]", got)
	}
}

// Certainty estimator: continuous proxies, label = GT of the highest proxy.
// Prompt A: proxies (-0.3, -0.1, -0.1, -0.5), GT (0,1,0,0): the max -0.1
// first occurs at index 1 (tie with index 2 goes to the first), correct.
// Prompt B: proxies all -0.2 (zero variance), GT (0,0,1,1): tie over all,
// index 0 chosen, wrong. label accuracy = 0.5; ground truth reward = 3/8.
// No reward accuracy; majority ratio from Answers: A has answers a,a,b,""
// -> 2/4, B has none -> 0; mean 0.25.
// Point-biserial: x = (-0.3,-0.1,-0.1,-0.5,-0.2,-0.2,-0.2,-0.2), mean -0.225.
// devs: -0.075, 0.125, 0.125, -0.275, 0.025 x4. y=1 at indices 1, 6, 7:
// devCorrect = 0.125+0.025+0.025 = 0.175. ss = 0.005625+0.015625*2+
// 0.075625+0.000625*4 = 0.115. n1=3, n0=5: r = 0.175/sqrt(0.115*15/8).
func TestComputeDynamicsCertainty(t *testing.T) {
	groups := []Group{
		{Proxy: []float64{-0.3, -0.1, -0.1, -0.5}, GT: []float64{0, 1, 0, 0}, Answers: []string{"a", "a", "b", ""}},
		{Proxy: []float64{-0.2, -0.2, -0.2, -0.2}, GT: []float64{0, 0, 1, 1}, Answers: []string{"", "", "", ""}},
	}
	d, err := ComputeDynamics(groups)
	if err != nil {
		t.Fatal(err)
	}
	if d.HasRewardAccuracy {
		t.Errorf("reward accuracy reported for a continuous proxy: %v", d.RewardAccuracy)
	}
	if d.LabelAccuracy != 0.5 {
		t.Errorf("label accuracy = %v, want 0.5", d.LabelAccuracy)
	}
	if !near(d.GroundTruthReward, 3.0/8, 1e-15) || !near(d.ProxyReward, -0.225, 1e-15) {
		t.Errorf("gt, proxy = %v, %v; want 0.375, -0.225", d.GroundTruthReward, d.ProxyReward)
	}
	if !d.HasMajorityRatio || !near(d.MajorityRatio, 0.25, 1e-15) {
		t.Errorf("majority ratio = %v (reported %v), want 0.25", d.MajorityRatio, d.HasMajorityRatio)
	}
	if d.ZeroVarianceGroups != 1 || d.ZeroVarianceFraction != 0.5 {
		t.Errorf("zero variance = %d, %v; want 1, 0.5", d.ZeroVarianceGroups, d.ZeroVarianceFraction)
	}
	want := 0.175 / math.Sqrt(0.115*15/8)
	if !near(d.PointBiserial, want, 1e-12) {
		t.Errorf("point biserial = %v, want %v", d.PointBiserial, want)
	}
	if d.HasActorEntropy || d.HasResponseLength {
		t.Errorf("entropy/length reported without inputs")
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"reward_accuracy", "actor_entropy", "response_length"} {
		if strings.Contains(string(b), absent) {
			t.Errorf("JSON %s carries unreported %q", b, absent)
		}
	}
}

func TestDynamicsJSONRoundTrip(t *testing.T) {
	d, err := ComputeDynamics(ensembleFixture())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"label_accuracy":0.5`, `"reward_accuracy":0.625`, `"ground_truth_reward":0.5`,
		`"proxy_reward":0.625`, `"majority_ratio":0.625`, `"zero_variance_fraction":0`, `"per_problem_p_maj":[0.75,0.5]`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
	var back Dynamics
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Errorf("round trip changed JSON:\n%s\n%s", b, b2)
	}
}

func TestComputeDynamicsErrors(t *testing.T) {
	cases := map[string][]Group{
		"no groups":       nil,
		"empty group":     {{}},
		"gt length":       {{Proxy: []float64{1, 0}, GT: []float64{1}}},
		"gt not binary":   {{Proxy: []float64{1}, GT: []float64{0.1}}},
		"proxy NaN":       {{Proxy: []float64{math.NaN()}, GT: []float64{1}}},
		"answers length":  {{Proxy: []float64{1}, GT: []float64{1}, Answers: []string{"a", "b"}}},
		"top count":       {{Proxy: []float64{1}, GT: []float64{1}, TopCount: 2}},
		"negative length": {{Proxy: []float64{1}, GT: []float64{1}, Lengths: []int{-1}}},
	}
	for name, groups := range cases {
		if _, err := ComputeDynamics(groups); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err := ComputeDynamics([]Group{{Proxy: []float64{1}, GT: []float64{1}}, {Proxy: []float64{1}, GT: []float64{2}}})
	if err == nil || !strings.Contains(err.Error(), "group 1") {
		t.Errorf("error %v does not name group 1", err)
	}
}

// Property: the B.2 metrics do not depend on the order of rollouts within a
// group for ensemble groups, nor on the order of groups (up to the
// per-problem lists).
func TestDynamicsOrderInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		groups := make([]Group, 1+rng.IntN(6))
		for i := range groups {
			n := 1 + rng.IntN(8)
			g := Group{Proxy: make([]float64, n), GT: make([]float64, n), TopCount: 1 + rng.IntN(n), LabelCorrect: ptr(rng.IntN(2) == 1)}
			for j := range n {
				g.Proxy[j] = float64(rng.IntN(2))
				g.GT[j] = float64(rng.IntN(2))
			}
			groups[i] = g
		}
		a, err := ComputeDynamics(groups)
		if err != nil {
			t.Fatal(err)
		}
		for i := range groups {
			rng.Shuffle(len(groups[i].Proxy), func(x, y int) {
				groups[i].Proxy[x], groups[i].Proxy[y] = groups[i].Proxy[y], groups[i].Proxy[x]
				groups[i].GT[x], groups[i].GT[y] = groups[i].GT[y], groups[i].GT[x]
			})
		}
		rng.Shuffle(len(groups), func(x, y int) { groups[x], groups[y] = groups[y], groups[x] })
		b, err := ComputeDynamics(groups)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range [][2]float64{{a.LabelAccuracy, b.LabelAccuracy}, {a.RewardAccuracy, b.RewardAccuracy},
			{a.GroundTruthReward, b.GroundTruthReward}, {a.MajorityRatio, b.MajorityRatio}, {a.PointBiserial, b.PointBiserial}} {
			if !near(p[0], p[1], 1e-12) {
				t.Fatalf("trial %d: metric changed under reordering: %v vs %v", trial, p[0], p[1])
			}
		}
	}
}

func TestPointBiserialMatchesPearsonInDynamics(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	groups := make([]Group, 16)
	var xs, ys []float64
	for i := range groups {
		g := Group{Proxy: make([]float64, 8), GT: make([]float64, 8)}
		for j := range 8 {
			g.GT[j] = float64(rng.IntN(2))
			g.Proxy[j] = 100 + rng.NormFloat64()*0.01 + 0.005*g.GT[j]
		}
		xs = append(xs, g.Proxy...)
		ys = append(ys, g.GT...)
		groups[i] = g
	}
	d, err := ComputeDynamics(groups)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Pearson(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if !near(d.PointBiserial, r, 1e-9) {
		t.Errorf("point biserial %v != pearson %v", d.PointBiserial, r)
	}
}

func ExampleComputeDynamics() {
	correct, wrong := true, false
	d, err := ComputeDynamics([]Group{
		{Proxy: []float64{1, 1, 1, 0}, GT: []float64{1, 1, 1, 0}, Label: "5", LabelCorrect: &correct, TopCount: 3},
		{Proxy: []float64{1, 1, 0, 0}, GT: []float64{0, 0, 1, 0}, Label: "3", LabelCorrect: &wrong, TopCount: 2},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := json.Marshal(d)
	fmt.Println(string(b))
	// Output:
	// {"label_accuracy":0.5,"reward_accuracy":0.625,"ground_truth_reward":0.5,"proxy_reward":0.625,"majority_ratio":0.625,"zero_variance_fraction":0,"point_biserial":0.2581988897471611,"per_problem_p_maj":[0.75,0.5],"per_problem_label_correct":[true,false],"prompts":2,"rollouts":8,"zero_variance_groups":0}
}
