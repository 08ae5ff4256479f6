package rewardserver

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urlvr/urlvr/reward"
)

// adapterDir holds the stdlib-only Python adapter shipped for veRL and
// OpenRLHF.
var adapterDir, _ = filepath.Abs("../../integrations/python")

// fakeTorch stands in for the few torch calls UrlvrRewardManager makes, so
// that the manager runs under a bare python3.
const fakeTorch = `
float32 = "float32"

class Tensor:
    def __init__(self, rows):
        self.rows = rows
    @property
    def shape(self):
        return (len(self.rows), len(self.rows[0]) if self.rows else 0)
    def tolist(self):
        return [list(r) for r in self.rows]
    def __setitem__(self, idx, v):
        i, j = idx
        self.rows[i][j] = v

def zeros(*shape, dtype=None):
    return Tensor([[0.0] * shape[1] for _ in range(shape[0])])

def tensor(rows, dtype=None):
    return Tensor(rows)
`

// driver calls the adapter the way veRL and OpenRLHF do and prints what it
// got back as one JSON object.
const driver = `
import json, os, sys
sys.path.insert(0, sys.argv[1])
import torch
import urlvr_reward as u

cfg = json.load(open(sys.argv[2]))
url = cfg["url"]
out = {}

# veRL BatchRewardManager: compute_score(data_sources, solution_strs, ground_truths, extra_infos, **reward_kwargs)
out["batch"] = u.compute_score(
    data_sources=cfg["data_sources"], solution_strs=cfg["responses"], ground_truths=cfg["golds"],
    extra_infos=[{"index": i, "split": "train"} for i in cfg["prompt_index"]],
    url=url, run_id="py", group_size=cfg["n"])

# The same batch cut into requests of at most 5 rollouts: cut at group
# boundaries, so the rewards must not change.
out["chunked"] = u.compute_score(
    data_sources=cfg["data_sources"], solution_strs=cfg["responses"], ground_truths=cfg["golds"],
    extra_infos=[{"index": i} for i in cfg["prompt_index"]],
    url=url, run_id="py-chunked", max_rollouts_per_request=5)

# Validation batches go to their own run.
u.compute_score(data_sources=cfg["data_sources"], solution_strs=cfg["responses"], ground_truths=cfg["golds"],
    extra_infos=[{"index": i, "split": "test"} for i in cfg["prompt_index"]], url=url, run_id="py")

# veRL reward manager grouping by uid, over a DataProto-shaped object.
class Data:
    pass
data = Data()
P = 3
R = max(len(r) for r in cfg["responses"]) + 2
resp, mask = [], []
for r in cfg["responses"]:
    ids = [ord(c) for c in r]
    resp.append(ids + [0] * (R - len(ids)))
    mask.append([1] * P + [1] * len(ids) + [0] * (R - len(ids)))
data.batch = {"prompts": torch.tensor([[1] * P for _ in resp]), "responses": torch.tensor(resp), "attention_mask": torch.tensor(mask)}
data.non_tensor_batch = {"uid": ["u%d" % i for i in cfg["prompt_index"]], "reward_model": [{"ground_truth": g} for g in cfg["golds"]]}
class Tok:
    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(i) for i in ids if i != 0)
m = u.UrlvrRewardManager(Tok(), 0, url=url, run_id="py-manager")
res = m(data, return_dict=True)
t = res["reward_tensor"]
lengths = [len(r) for r in cfg["responses"]]
out["manager"] = [t.rows[i][lengths[i] - 1] for i in range(len(lengths))]
out["manager_zeros_elsewhere"] = all(v == 0.0 for i, row in enumerate(t.rows) for j, v in enumerate(row) if j != lengths[i] - 1)

# OpenRLHF reward_func.
got = u.reward_func(cfg["queries"], cfg["prompts"], cfg["golds"], url=url, run_id="py-orl")
out["openrlhf"] = got["rewards"]

# A refused request raises UrlvrError with the service's message.
try:
    u.compute_score(data_sources=["d"], solution_strs=["x"], ground_truths=[[1, 2]], extra_infos=[{"index": 0}], url=url)
    out["refused"] = "no error"
except u.UrlvrError as e:
    out["refused"] = str(e)
try:
    u.score_groups(["a"], ["g"], [{"target": 3}], url=url)
    out["bad_request"] = "no error"
except u.UrlvrError as e:
    out["bad_request"] = str(e)

# The stop signal raises UrlvrStop.
import urllib.request
urllib.request.urlopen(urllib.request.Request(url + "/runs/py/stop?reason=collapse", data=b"", method="POST",
                                              headers={"Authorization": "Bearer " + os.environ["URLVR_TOKEN"]})).read()
try:
    u.compute_score(data_sources=cfg["data_sources"], solution_strs=cfg["responses"], ground_truths=cfg["golds"],
        extra_infos=[{"index": i} for i in cfg["prompt_index"]], url=url, run_id="py")
    out["stop"] = "no stop"
except u.UrlvrStop as e:
    out["stop"] = str(e)

# A wrong token: refused at once (401), not retried.
try:
    u.UrlvrClient(cfg["url"], token="not-the-token-0123456789").post("/v1/rewards", {})
    out["unauthorized"] = "no error"
except u.UrlvrError as e:
    out["unauthorized"] = str(e)

# An unreachable service: retried, then UrlvrError.
try:
    u.UrlvrClient("http://127.0.0.1:1", retries=1, backoff=0.01).post("/v1/rewards", {})
    out["unreachable"] = "no error"
except u.UrlvrError as e:
    out["unreachable"] = str(e)
print(json.dumps(out))
`

func TestPythonAdapter(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	f := makeFixture(9, 4, 3)
	want := f.direct(t, reward.MajorityVoting{})
	var wantRewards []float64
	for _, r := range want.Results {
		wantRewards = append(wantRewards, r.Reward)
	}
	// The adapter sends the token from URLVR_TOKEN.
	const token = "python-adapter-token-0123456789"
	ts := startServer(t, Config{GroupSize: 3, Tokens: []string{token}})

	dir := t.TempDir()
	cfg := map[string]any{"url": ts.url, "n": 3}
	var sources, responses, golds, queries, prompts []string
	var index []int
	for k := range f.prompts {
		for _, r := range f.responses[k] {
			sources = append(sources, "math")
			responses = append(responses, r)
			golds = append(golds, f.golds[k])
			index = append(index, k)
			queries = append(queries, f.prompts[k]+r)
			prompts = append(prompts, f.prompts[k])
		}
	}
	cfg["data_sources"], cfg["responses"], cfg["golds"], cfg["prompt_index"] = sources, responses, golds, index
	cfg["queries"], cfg["prompts"] = queries, prompts
	raw, _ := json.Marshal(cfg)
	for name, content := range map[string]string{"cfg.json": string(raw), "torch.py": fakeTorch, "driver.py": driver} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(python, filepath.Join(dir, "driver.py"), adapterDir, filepath.Join(dir, "cfg.json"))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1", "URLVR_TOKEN="+token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python driver: %v\n%s", err, stderr.String())
	}
	var out struct {
		Batch, Chunked, Manager, OpenRLHF []float64
		ManagerZerosElsewhere             bool `json:"manager_zeros_elsewhere"`
		Refused                           string
		BadRequest                        string `json:"bad_request"`
		Stop, Unreachable, Unauthorized   string
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("driver output %q: %v", stdout.String(), err)
	}
	sameFloats(t, "compute_score", out.Batch, wantRewards)
	sameFloats(t, "compute_score in chunks", out.Chunked, wantRewards)
	sameFloats(t, "UrlvrRewardManager", out.Manager, wantRewards)
	sameFloats(t, "reward_func", out.OpenRLHF, wantRewards)
	if !out.ManagerZerosElsewhere {
		t.Error("the manager's reward tensor must be zero except at each response's last token")
	}
	if !strings.Contains(out.Refused, "is a list; the service takes one gold answer") {
		t.Errorf("refused: %q", out.Refused)
	}
	if !strings.Contains(out.BadRequest, "400: golds[0]: an object gold must be a Countdown problem") {
		t.Errorf("bad request: %q", out.BadRequest)
	}
	if !strings.Contains(out.Stop, "told to stop: collapse") {
		t.Errorf("stop: %q", out.Stop)
	}
	if !strings.Contains(out.Unauthorized, "401: missing or wrong bearer token") {
		t.Errorf("unauthorized: %q", out.Unauthorized)
	}
	if !strings.Contains(out.Unreachable, "gave up after 2 tries") {
		t.Errorf("unreachable: %q", out.Unreachable)
	}
	// Training and validation batches are separate runs.
	if rep, ok := ts.Run("py"); !ok || rep.Rollouts != int64(2*len(responses)) {
		t.Errorf("run py: %+v", rep)
	}
	if rep, ok := ts.Run("py.val"); !ok || rep.Steps != 1 {
		t.Errorf("run py.val: %+v", rep)
	}
	// Four requests of one group each (at most 5 rollouts, groups of 3),
	// counted as one step.
	if rep, ok := ts.Run("py-chunked"); !ok || rep.Steps != 0 || rep.Current == nil || rep.Current.Step != 1 || rep.Current.Rollouts != 12 {
		t.Errorf("run py-chunked: %d closed steps, current %+v", rep.Steps, rep.Current)
	}
}
