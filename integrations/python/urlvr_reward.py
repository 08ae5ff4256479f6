"""Client of the urlvr reward service for veRL and OpenRLHF.

Standard library only: copy this file next to a training script and point
the trainer at it. Start the service first, for example:

    urlvr serve rewards --addr 127.0.0.1:8000 --estimator majority_voting --group-size 8

veRL, batch reward manager (the whole training batch in one request, grouped
by the dataset's extra_info["index"], which veRL's preprocessing scripts
write):

    reward_model.reward_manager=batch
    custom_reward_function.path=integrations/python/urlvr_reward.py
    custom_reward_function.name=compute_score
    +custom_reward_function.reward_kwargs.url=http://127.0.0.1:8000
    +custom_reward_function.reward_kwargs.run_id=qwen-ttrl-1

veRL, as the reward manager itself (groups by veRL's own per-prompt "uid",
so no dataset field is needed):

    reward_model.reward_manager.source=importlib
    reward_model.reward_manager.name=UrlvrRewardManager
    reward_model.reward_manager.module.path=integrations/python/urlvr_reward.py
    +reward_model.reward_kwargs.url=http://127.0.0.1:8000

OpenRLHF needs no code: --remote_rm_url http://127.0.0.1:8000/get_reward?run=NAME
with the service started with --split wait (OpenRLHF sends one rollout per
request). reward_func below does the same from Python, with retries, for
--remote_rm_url path/to/urlvr_reward.py.

Environment defaults: URLVR_REWARD_URL, URLVR_RUN_ID, URLVR_TOKEN (the
service's bearer token; every function also takes token=).
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

__all__ = ["compute_score", "reward_func", "UrlvrRewardManager", "UrlvrClient", "UrlvrStop", "UrlvrError"]

DEFAULT_URL = "http://127.0.0.1:8000"
VALIDATION_SPLITS = ("test", "val", "valid", "validation", "eval")


class UrlvrError(RuntimeError):
    """The service refused a request (4xx), or could not be reached."""


class UrlvrStop(RuntimeError):
    """The service raised the run's stop signal (a confirmed Model Collapse
    Step with --stop-on-collapse, or POST /runs/ID/stop)."""


class UrlvrClient:
    """POSTs JSON to the service, retrying with exponential backoff on
    connection errors, 503 (saturated) and other 5xx answers. Sends the
    bearer token (token=, else URLVR_TOKEN; the first of a comma-separated
    list) when there is one."""

    def __init__(self, url=None, timeout=300.0, retries=5, backoff=0.5, max_backoff=30.0, token=None):
        self.url = (url or os.environ.get("URLVR_REWARD_URL") or DEFAULT_URL).rstrip("/")
        if token is None:
            token = (os.environ.get("URLVR_TOKEN") or "").split(",")[0].strip()
        self.token = token or None
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)

    def post(self, path, body, query=""):
        data = json.dumps(body, default=_jsonable).encode("utf-8")
        url = self.url + path + (("?" + query) if query else "")
        delay = self.backoff
        last = None
        for attempt in range(self.retries + 1):
            headers = {"Content-Type": "application/json"}
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            req = urllib.request.Request(url, data=data, method="POST", headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as e:
                message = _error_message(e)
                if e.code < 500:
                    raise UrlvrError("urlvr reward service: %d: %s" % (e.code, message)) from None
                last = "%d: %s" % (e.code, message)
                retry_after = e.headers.get("Retry-After") if e.headers else None
                if retry_after and retry_after.isdigit():
                    delay = max(delay, float(retry_after))
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                last = str(e)
            if attempt < self.retries:
                time.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
        raise UrlvrError("urlvr reward service at %s: gave up after %d tries: %s" % (url, self.retries + 1, last))


def _error_message(e):
    try:
        body = json.loads(e.read().decode("utf-8"))
        return body["error"]["message"]
    except Exception:
        return e.reason


def _jsonable(x):
    """json.dumps fallback for numpy scalars and arrays (veRL's non-tensor
    batch holds numpy objects)."""
    if hasattr(x, "tolist"):
        return x.tolist()
    if hasattr(x, "item"):
        return x.item()
    if isinstance(x, (set, tuple)):
        return list(x)
    raise TypeError("cannot send %r to the urlvr reward service" % (type(x).__name__,))


def _gold(gt):
    """A veRL ground truth as the service reads it: a string, a number, None,
    or a Countdown problem {"numbers": [...], "target": n}."""
    if gt is None:
        return None
    if isinstance(gt, dict):
        nums = gt.get("numbers", gt.get("nums"))
        if nums is not None and "target" in gt:
            return {"numbers": [int(n) for n in _jsonable(nums)] if hasattr(nums, "tolist") else [int(n) for n in nums],
                    "target": int(gt["target"])}
        raise UrlvrError("ground truth %r is a dict but not a Countdown problem with numbers and target" % (gt,))
    if hasattr(gt, "item") and not hasattr(gt, "__len__"):
        gt = gt.item()
    if isinstance(gt, (list, tuple)) or hasattr(gt, "tolist"):
        items = _jsonable(gt) if hasattr(gt, "tolist") else list(gt)
        if len(items) == 1:
            return _gold(items[0])
        raise UrlvrError("ground truth %r is a list; the service takes one gold answer per prompt" % (gt,))
    if isinstance(gt, float) and gt.is_integer():
        gt = int(gt)
    return gt if isinstance(gt, (str, int, float)) else str(gt)


def _group_keys(data_sources, extra_infos, group_key, group_size, n):
    """One group key per rollout: extra_info[group_key] (qualified by the
    data source), or consecutive runs of group_size for "contiguous"."""
    if group_key == "contiguous":
        if not group_size:
            raise UrlvrError('group_key="contiguous" needs group_size')
        return ["%d" % (i // int(group_size)) for i in range(n)]
    names = [group_key] if group_key != "auto" else ["uid", "index", "idx", "id", "question_id"]
    for name in names:
        infos = extra_infos if extra_infos is not None else [None] * n
        if all(isinstance(info, dict) and info.get(name) is not None for info in infos):
            keys = []
            for i, info in enumerate(infos):
                src = data_sources[i] if data_sources is not None else ""
                keys.append("%s/%s" % (src, _jsonable(info[name]) if hasattr(info[name], "item") else info[name]))
            return keys
    raise UrlvrError(
        "cannot tell which rollouts belong to one prompt: extra_info has no %s field on every item; set "
        "reward_kwargs.group_key to a field that identifies the prompt, use group_key=\"contiguous\" with "
        "group_size when rollouts of a prompt are adjacent, or use UrlvrRewardManager (groups by veRL's uid)"
        % " / ".join(repr(x) for x in names))


def _split_run(run_id, extra_infos, n):
    """Validation batches go to their own run, so they do not count as
    training steps."""
    infos = extra_infos if extra_infos is not None else [None] * n
    splits = {str(info.get("split", "")).lower() for info in infos if isinstance(info, dict)}
    if splits and splits <= set(VALIDATION_SPLITS):
        return run_id + ".val"
    return run_id


def score_groups(responses, group_ids, golds, url=None, run_id=None, group_size=None, step=None,
                 max_rollouts_per_request=0, on_stop="raise", timeout=300.0, retries=5, client=None, token=None):
    """Scores rollouts through POST /v1/rewards and returns (rewards, answer),
    answer being the service's last JSON answer merged over requests.

    Groups are never split across requests: with max_rollouts_per_request,
    requests are cut at group boundaries, and all parts count as one step."""
    n = len(responses)
    if not (len(group_ids) == n and len(golds) == n):
        raise UrlvrError("responses, group_ids and golds differ in length: %d, %d, %d" % (n, len(group_ids), len(golds)))
    client = client or UrlvrClient(url, timeout=timeout, retries=retries, token=token)
    run_id = run_id or os.environ.get("URLVR_RUN_ID") or "default"

    # Put the rollouts of a group next to each other, keeping first-seen
    # order, then cut into requests at group boundaries.
    order, first = [], {}
    for i, g in enumerate(group_ids):
        first.setdefault(g, []).append(i)
    for idxs in first.values():
        order.append(idxs)
    limit = int(max_rollouts_per_request or 0)
    chunks, cur = [], []
    for idxs in order:
        if cur and limit and len(cur) + len(idxs) > limit:
            chunks.append(cur)
            cur = []
        cur = cur + idxs
    if cur:
        chunks.append(cur)

    rewards = [0.0] * n
    answers = [""] * n
    last = {}
    for idxs in chunks:
        body = {
            "run_id": run_id,
            "responses": [responses[i] for i in idxs],
            "group_ids": [str(group_ids[i]) for i in idxs],
            "golds": [golds[i] for i in idxs],
        }
        if group_size:
            body["group_size"] = int(group_size)
        if step is not None:
            body["step"] = int(step)
        ans = client.post("/v1/rewards", body)
        if step is None and len(chunks) > 1:
            # The service numbered the first part's step; the other parts
            # join it, so one batch stays one training step.
            step = (ans.get("run") or {}).get("step")
        for j, i in enumerate(idxs):
            rewards[i] = float(ans["rewards"][j])
            answers[i] = ans.get("answers", [""] * len(idxs))[j]
        for w in ans.get("warnings") or []:
            print("urlvr reward service: warning: %s" % w, file=sys.stderr)
        last = ans
    last = dict(last)
    last["answers"] = answers
    _check_stop(last.get("run") or {}, on_stop)
    return rewards, last


def _check_stop(run, on_stop):
    if not run.get("stop"):
        return
    msg = "urlvr: run %r told to stop: %s" % (run.get("run_id"), run.get("stop_reason") or "stop signal")
    if on_stop == "raise":
        raise UrlvrStop(msg)
    if on_stop == "warn":
        print(msg, file=sys.stderr)


def compute_score(data_sources=None, solution_strs=None, ground_truths=None, extra_infos=None, url=None,
                  run_id=None, group_key="auto", group_size=None, max_rollouts_per_request=0, on_stop="raise",
                  return_dict=False, timeout=300.0, retries=5, token=None, **kwargs):
    """veRL BatchRewardManager reward function: one request per training batch
    (or per max_rollouts_per_request, cut at group boundaries).

    Returns one float per response, or with return_dict=True one dict per
    response with "score" (veRL then logs every key of the dicts)."""
    if solution_strs is None:
        raise UrlvrError("compute_score needs solution_strs (use reward_model.reward_manager=batch)")
    n = len(solution_strs)
    keys = _group_keys(data_sources, extra_infos, group_key, group_size, n)
    golds = [_gold(gt) for gt in (ground_truths if ground_truths is not None else [None] * n)]
    run = _split_run(run_id or os.environ.get("URLVR_RUN_ID") or "default", extra_infos, n)
    rewards, ans = score_groups(list(solution_strs), keys, golds, url=url, run_id=run, group_size=group_size,
                                max_rollouts_per_request=max_rollouts_per_request, on_stop=on_stop,
                                timeout=timeout, retries=retries, token=token)
    if not return_dict:
        return rewards
    return [{"score": r} for r in rewards]


def reward_func(queries, prompts, labels, **kwargs):
    """OpenRLHF reward function (--remote_rm_url path/to/urlvr_reward.py):
    forwards to POST /get_reward with the run from URLVR_RUN_ID."""
    client = UrlvrClient(kwargs.get("url"), token=kwargs.get("token"))
    run = kwargs.get("run_id") or os.environ.get("URLVR_RUN_ID") or "default"
    body = {"query": list(queries), "prompts": list(prompts), "labels": [_gold(l) if l != "" else None for l in labels]}
    ans = client.post("/get_reward", body, query="run=" + urllib.request.quote(run))
    _check_stop((ans.get("urlvr") or {}).get("run") or {}, kwargs.get("on_stop", "raise"))
    return {"rewards": ans["rewards"], "scores": ans["scores"], "extra_logs": ans.get("extra_logs", {})}


class UrlvrRewardManager:
    """A veRL reward manager that scores through the urlvr service, grouping
    rollouts by veRL's own per-prompt "uid", so whole groups are always sent
    together whatever the dataset holds.

    reward_kwargs: url, run_id, token, on_stop ("raise", "warn", "ignore"),
    max_rollouts_per_request, timeout, retries."""

    def __init__(self, tokenizer, num_examine=0, compute_score=None, reward_fn_key="data_source", **reward_kwargs):
        self.tokenizer = tokenizer
        self.num_examine = num_examine
        self.reward_fn_key = reward_fn_key
        self.kwargs = reward_kwargs

    def __call__(self, data, return_dict=False):
        import torch  # present wherever veRL runs

        if "rm_scores" in data.batch.keys():
            scores = data.batch["rm_scores"]
            return {"reward_tensor": scores, "reward_extra_info": {}} if return_dict else scores
        prompt_ids = data.batch["prompts"]
        response_ids = data.batch["responses"]
        prompt_len = prompt_ids.shape[-1]
        mask = data.batch["attention_mask"].tolist()
        lengths = [int(sum(row[prompt_len:])) for row in mask]
        responses_list = response_ids.tolist()
        responses = [self.tokenizer.decode(responses_list[i][: lengths[i]], skip_special_tokens=True)
                     for i in range(len(lengths))]
        nt = data.non_tensor_batch
        uids = [str(u) for u in nt["uid"]]
        golds = [_gold((rm or {}).get("ground_truth")) for rm in nt["reward_model"]]
        extra_infos = nt.get("extra_info")
        run = _split_run(self.kwargs.get("run_id") or os.environ.get("URLVR_RUN_ID") or "default", extra_infos, len(uids))
        rewards, ans = score_groups(responses, uids, golds, url=self.kwargs.get("url"), run_id=run,
                                    max_rollouts_per_request=self.kwargs.get("max_rollouts_per_request", 0),
                                    on_stop=self.kwargs.get("on_stop", "raise"),
                                    timeout=self.kwargs.get("timeout", 300.0), retries=self.kwargs.get("retries", 5),
                                    token=self.kwargs.get("token"))
        reward_tensor = torch.zeros(len(lengths), response_ids.shape[-1], dtype=torch.float32)
        for i, (r, length) in enumerate(zip(rewards, lengths)):
            if length > 0:
                reward_tensor[i, length - 1] = r
        if return_dict:
            return {"reward_tensor": reward_tensor, "reward_extra_info": {"urlvr_reward": rewards}}
        return reward_tensor
