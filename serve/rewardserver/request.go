package rewardserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/rollout"
	"github.com/urlvr/urlvr/serve"
)

// item is one rollout of a request, whichever wire shape it came in.
type item struct {
	// key is the rollout's group: its explicit group id, else its prompt.
	key string
	rec rollout.Record
}

// batch is a decoded scoring request.
type batch struct {
	run       string
	client    string // the client id the request gave, "" if none
	step      *int   // explicit training step, nil when not given
	groupSize int    // expected rollouts per group; 0: the server's setting
	items     []item
	warnings  []string
}

// Where a request names its run, step and group size when not in the body
// (OpenRLHF's client cannot add body fields; it can use a URL with a query).
const (
	HeaderRun       = "X-Urlvr-Run"
	HeaderStep      = "X-Urlvr-Step"
	HeaderGroupSize = "X-Urlvr-Group-Size"
	HeaderClient    = "X-Urlvr-Client"
	DefaultRun      = "default"
)

var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ValidRunID reports whether id can name a run: 1 to 128 letters, digits,
// '.', '_', ':' or '-', starting with a letter or digit.
func ValidRunID(id string) bool { return runIDPattern.MatchString(id) }

// requestMeta reads run_id, client_id, step and group_size from the body,
// else the headers, else the URL query.
func requestMeta(o serve.Object, r *http.Request, b *batch) error {
	client, ok, err := o.String("client_id")
	if err != nil {
		return err
	}
	if !ok {
		client = r.Header.Get(HeaderClient)
	}
	if client == "" {
		client = r.URL.Query().Get("client")
	}
	if client != "" && !ValidRunID(client) {
		return serve.BadRequest("client id %q: want 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", client)
	}
	b.client = client

	run, ok, err := o.String("run_id")
	if err != nil {
		return err
	}
	if !ok {
		run = r.Header.Get(HeaderRun)
	}
	if run == "" {
		run = r.URL.Query().Get("run")
	}
	if run == "" {
		run = DefaultRun
	}
	if !ValidRunID(run) {
		return serve.BadRequest("run id %q: want 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", run)
	}
	b.run = run

	intMeta := func(field, header, query string) (int, bool, error) {
		n, ok, err := o.Int(field)
		if ok || err != nil {
			return n, ok, err
		}
		for _, s := range []struct{ where, v string }{{"header " + header, r.Header.Get(header)}, {"query parameter " + query, r.URL.Query().Get(query)}} {
			if s.v == "" {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(s.v))
			if err != nil {
				return 0, true, serve.BadRequest("%s: %q is not an integer", s.where, s.v)
			}
			return n, true, nil
		}
		return 0, false, nil
	}
	step, ok, err := intMeta("step", HeaderStep, "step")
	if err != nil {
		return err
	}
	if ok {
		if step < 0 {
			return serve.BadRequest("step %d is negative", step)
		}
		b.step = &step
	}
	n, ok, err := intMeta("group_size", HeaderGroupSize, "group_size")
	if err != nil {
		return err
	}
	if ok && n < 1 {
		return serve.BadRequest("group_size %d: want at least 1", n)
	}
	b.groupSize = n
	return nil
}

// decodeOpenRLHF reads OpenRLHF's remote reward-model request:
//
//	{"query": [...], "prompts": [...], "labels": [...]}
//
// query[i] is the prompt and response as the trainer decoded them, prompts[i]
// the prompt (the response is what follows it in the query), labels[i] the
// gold answer ("" or null when unknown; a {"numbers", "target"} object for a
// Countdown problem). urlvr adds an optional "group_ids" list; without it the
// rollouts of one prompt text form a group.
func decodeOpenRLHF(body []byte, r *http.Request, ensemble bool) (*batch, error) {
	o, err := serve.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	f := openRLHFFields{meta: o}
	if f.query, f.hasQuery, err = o.StringList("query"); err != nil {
		return nil, err
	}
	if f.prompts, f.hasPrompts, err = o.StringList("prompts"); err != nil {
		return nil, err
	}
	if f.labels, f.hasLabels, err = o.Array("labels"); err != nil {
		return nil, err
	}
	if f.groupIDs, f.hasIDs, err = o.Array("group_ids"); err != nil {
		return nil, err
	}
	return f.batch(r, ensemble)
}

// openRLHFFields are the decoded fields of an OpenRLHF request.
type openRLHFFields struct {
	meta                                    serve.Object
	query, prompts                          []string
	labels, groupIDs                        []json.RawMessage
	hasQuery, hasPrompts, hasLabels, hasIDs bool
}

func (f *openRLHFFields) batch(r *http.Request, ensemble bool) (*batch, error) {
	b := &batch{}
	if err := requestMeta(f.meta, r, b); err != nil {
		return nil, err
	}
	if !f.hasQuery {
		return nil, serve.BadRequest(`missing field "query" (an array of prompt+response strings)`)
	}
	n := len(f.query)
	if n == 0 {
		return nil, serve.BadRequest(`field "query" is empty`)
	}
	if err := sameLength("prompts", len(f.prompts), f.hasPrompts, "query", n); err != nil {
		return nil, err
	}
	if err := sameLength("labels", len(f.labels), f.hasLabels, "query", n); err != nil {
		return nil, err
	}
	if err := sameLength("group_ids", len(f.groupIDs), f.hasIDs, "query", n); err != nil {
		return nil, err
	}
	if !f.hasPrompts && !f.hasIDs && ensemble {
		return nil, serve.BadRequest(`request has neither "prompts" nor "group_ids", so the rollouts of one prompt cannot be found; the estimator votes within groups`)
	}

	b.items = make([]item, n)
	var strayQueries []int
	for i := range n {
		it := &b.items[i]
		id, err := groupID(f.groupIDs, f.hasIDs, i)
		if err != nil {
			return nil, err
		}
		switch {
		case id.Present:
			it.key = id.Text
		case f.hasPrompts:
			it.key = f.prompts[i]
		default:
			it.key = strconv.Itoa(i)
		}
		it.rec.PromptID = it.key
		it.rec.Rollout.Text = f.query[i]
		if f.hasPrompts {
			resp, found := responseFromQuery(f.query[i], f.prompts[i])
			it.rec.Rollout.Text = resp
			if !found {
				strayQueries = append(strayQueries, i)
			}
		}
		if f.hasLabels {
			if err := setGold(&it.rec, f.labels[i]); err != nil {
				return nil, serve.BadRequest("labels[%d]: %v", i, err)
			}
		}
	}
	if len(strayQueries) > 0 {
		b.warnings = append(b.warnings, fmt.Sprintf("%s do not contain their prompt; the whole query was scored as the response",
			listPositions("query", strayQueries)))
	}
	return b, nil
}

// groupID decodes group_ids[i], a string, a number or null.
func groupID(ids []json.RawMessage, has bool, i int) (serve.Scalar, error) {
	if !has {
		return serve.Scalar{}, nil
	}
	id, err := serve.ScalarValue(ids[i])
	if err != nil {
		return id, serve.BadRequest("group_ids[%d]: %v", i, err)
	}
	return id, nil
}

// responseFromQuery returns the part of query after prompt. Trainers decode
// prompt and response together, sometimes with a BOS token in front, so the
// prompt is looked for anywhere; found is false when it is not there.
func responseFromQuery(query, prompt string) (response string, found bool) {
	if prompt == "" {
		return query, true
	}
	if strings.HasPrefix(query, prompt) {
		return query[len(prompt):], true
	}
	if i := strings.Index(query, prompt); i >= 0 {
		return query[i+len(prompt):], true
	}
	return query, false
}

// decodeBatch reads urlvr's batch request (POST /v1/rewards), in one of two
// shapes:
//
//	columns: {"responses": [...], "group_ids": [...], "prompts": [...], "golds": [...]}
//	records: {"rollouts": [{"group_id": ..., "response": ..., "gold": ..., "token_logprobs": [...], ...}]}
//
// Records carry everything `urlvr reward` reads (per-token statistics for the
// certainty estimators, answer, source, verdict, Countdown numbers/target);
// their group is "group_id", else "prompt_id", else "prompt". Columns group by
// group_ids, else prompts. Both shapes take "run_id", "step" and
// "group_size".
func decodeBatch(body []byte, r *http.Request) (*batch, error) {
	b := &batch{}
	o, err := serve.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	if err := requestMeta(o, r, b); err != nil {
		return nil, err
	}
	hasCols, hasRecs := o.Has("responses"), o.Has("rollouts")
	switch {
	case hasCols && hasRecs:
		return nil, serve.BadRequest(`give either "responses" (columns) or "rollouts" (records), not both`)
	case hasRecs:
		return b, decodeRecords(o, b)
	case hasCols:
		var c columns
		if c.responses, _, err = o.StringList("responses"); err != nil {
			return nil, err
		}
		if c.groupIDs, c.hasIDs, err = o.Array("group_ids"); err != nil {
			return nil, err
		}
		if c.prompts, c.hasPrompts, err = o.StringList("prompts"); err != nil {
			return nil, err
		}
		if c.golds, c.hasGolds, err = o.Array("golds"); err != nil {
			return nil, err
		}
		return b, columnsBatch(b, c)
	}
	return nil, serve.BadRequest(`missing field "responses" (with "group_ids" or "prompts", and "golds") or "rollouts" (an array of rollout records)`)
}

// columns are the decoded lists of a column-shaped batch request.
type columns struct {
	responses                    []string
	groupIDs                     []json.RawMessage
	prompts                      []string
	golds                        []json.RawMessage
	hasIDs, hasPrompts, hasGolds bool
}

func columnsBatch(b *batch, c columns) error {
	n := len(c.responses)
	if n == 0 {
		return serve.BadRequest(`field "responses" is empty`)
	}
	if err := sameLength("group_ids", len(c.groupIDs), c.hasIDs, "responses", n); err != nil {
		return err
	}
	if err := sameLength("prompts", len(c.prompts), c.hasPrompts, "responses", n); err != nil {
		return err
	}
	if !c.hasIDs && !c.hasPrompts {
		return serve.BadRequest(`missing field "group_ids" (or "prompts"): the rollouts of one prompt must be identifiable`)
	}
	if err := sameLength("golds", len(c.golds), c.hasGolds, "responses", n); err != nil {
		return err
	}
	b.items = make([]item, n)
	for i := range n {
		it := &b.items[i]
		id, err := groupID(c.groupIDs, c.hasIDs, i)
		if err != nil {
			return err
		}
		switch {
		case id.Present:
			it.key = id.Text
		case c.hasPrompts:
			it.key = c.prompts[i]
		default:
			return serve.BadRequest("group_ids[%d] is null and there are no prompts to group by", i)
		}
		it.rec.PromptID = it.key
		it.rec.Rollout.Text = c.responses[i]
		if c.hasGolds {
			if err := setGold(&it.rec, c.golds[i]); err != nil {
				return serve.BadRequest("golds[%d]: %v", i, err)
			}
		}
	}
	return nil
}

func decodeRecords(o serve.Object, b *batch) error {
	raws, _, err := o.Array("rollouts")
	if err != nil {
		return err
	}
	if len(raws) == 0 {
		return serve.BadRequest(`field "rollouts" is empty`)
	}
	b.items = make([]item, len(raws))
	for i, raw := range raws {
		if serve.Kind(raw) != "object" {
			return serve.BadRequest("rollouts[%d]: got %s, want an object", i, serve.Kind(raw))
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return serve.BadRequest("rollouts[%d]: %v", i, err)
		}
		f := serve.Object(fields)
		var keyRaw json.RawMessage
		for _, name := range []string{"group_id", "prompt_id", "prompt"} {
			if v, ok := f.Get(name); ok {
				keyRaw = v
				break
			}
		}
		if keyRaw == nil {
			return serve.BadRequest(`rollouts[%d]: missing "group_id" (or "prompt_id", or "prompt")`, i)
		}
		key, err := serve.ScalarValue(keyRaw)
		if err != nil {
			return serve.BadRequest("rollouts[%d]: group: %v", i, err)
		}
		fields["prompt_id"], _ = json.Marshal(key.Text)
		var goldObj json.RawMessage
		if g, ok := f.Get("gold"); ok && serve.Kind(g) == "object" {
			goldObj = g
			delete(fields, "gold")
		}
		rec, err := rollout.DecodeFields(fields)
		if err != nil {
			return serve.BadRequest("rollouts[%d]: %v", i, err)
		}
		if goldObj != nil {
			if err := setGold(&rec, goldObj); err != nil {
				return serve.BadRequest("rollouts[%d]: field \"gold\": %v", i, err)
			}
		}
		b.items[i] = item{key: key.Text, rec: rec}
	}
	return nil
}

// setGold reads a gold answer: a string or a number (kept as written), null
// or "" for none, or a Countdown problem {"numbers": [...], "target": n} as
// veRL's Countdown data stores its ground truth.
func setGold(rec *rollout.Record, raw json.RawMessage) error {
	if serve.Kind(raw) == "object" {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return err
		}
		o := serve.Object(fields)
		nums, ok1, err := o.Array("numbers")
		if err != nil {
			return err
		}
		target, ok2, err := o.Int("target")
		if err != nil {
			return err
		}
		if !ok1 || !ok2 {
			return fmt.Errorf(`an object gold must be a Countdown problem {"numbers": [...], "target": n}`)
		}
		if len(nums) == 0 {
			return fmt.Errorf(`"numbers" is empty`)
		}
		c := &rollout.Countdown{Target: target, Numbers: make([]int, len(nums))}
		for j, nr := range nums {
			v, err := serve.IntValue(nr)
			if err != nil {
				return fmt.Errorf("numbers[%d]: %v", j, err)
			}
			c.Numbers[j] = v
		}
		rec.Countdown = c
		return nil
	}
	s, err := serve.ScalarValue(raw)
	if err != nil {
		return fmt.Errorf(`%v, or a {"numbers", "target"} object`, err)
	}
	if s.Present && s.Text != "" {
		rec.Gold, rec.HasGold = s.Text, true
	}
	return nil
}

func sameLength(name string, n int, present bool, ref string, want int) error {
	if present && n != want {
		return serve.BadRequest("%q has %d entries but %q has %d", name, n, ref, want)
	}
	return nil
}

// listPositions names up to five positions of a list: "query[3], query[7] and 4 more".
func listPositions(name string, pos []int) string {
	const show = 5
	var parts []string
	for i, p := range pos {
		if i == show {
			break
		}
		parts = append(parts, fmt.Sprintf("%s[%d]", name, p))
	}
	s := strings.Join(parts, ", ")
	if len(pos) > show {
		s += fmt.Sprintf(" and %d more", len(pos)-show)
	}
	return s
}
