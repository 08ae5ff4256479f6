package rewardserver_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/urlvr/urlvr/reward"
	"github.com/urlvr/urlvr/serve/rewardserver"
)

// A veRL-shaped batch: two prompts of three rollouts, voted on by majority.
// The second prompt's majority (7) is wrong, so its label is incorrect and
// its rewards disagree with the ground truth.
func Example() {
	srv, err := rewardserver.New(rewardserver.Config{Estimator: reward.MajorityVoting{}, GroupSize: 3})
	if err != nil {
		panic(err)
	}
	body := `{"run_id": "demo", "step": 1,
	  "responses": ["\\boxed{4}", "\\boxed{4}", "\\boxed{5}", "\\boxed{7}", "\\boxed{7}", "\\boxed{9}"],
	  "group_ids": ["q1", "q1", "q1", "q2", "q2", "q2"],
	  "golds":     ["4", "4", "4", "9", "9", "9"]}`
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/v1/rewards", strings.NewReader(body)))
	var ans rewardserver.BatchResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		panic(err)
	}
	fmt.Println("rewards", ans.Rewards)
	fmt.Println("labels", *ans.Groups[0].Label, *ans.Groups[1].Label)
	fmt.Printf("label accuracy %.2f, reward accuracy %.2f\n", ans.Metrics.LabelAccuracy, ans.Metrics.RewardAccuracy)
	// Output:
	// rewards [1 1 0 1 1 0]
	// labels 4 7
	// label accuracy 0.50, reward accuracy 0.50
}
