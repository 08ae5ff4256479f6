package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/urlvr/urlvr/grade"
)

// The fields each part of a Record is read from, in order of preference.
// Names match exactly first, then ignoring case ("Problem" and "Answer" in
// some AIME copies).
var (
	promptFields = []string{"prompt", "problem", "question"}
	idFields     = []string{"id", "unique_id", "idx", "problem_idx", "index"}
)

// decodeFields maps one record's top-level fields (already normalised by
// normalize) onto a Record. stem and index name the record when it has no
// id and no data_source. Errors are *fieldError.
func decodeFields(fields map[string]any, stem string, index int, opts Options) (Record, error) {
	rest := make(map[string]any, len(fields))
	for k, v := range fields {
		if v != nil {
			rest[k] = v
		}
	}
	var rec Record

	if err := decodeCountdown(rest, &rec); err != nil {
		return Record{}, err
	}
	if _, _, hasPrompt := lookupAny(rest, promptFields); rec.Countdown == nil || hasPrompt {
		if err := decodePrompt(rest, &rec); err != nil {
			return Record{}, err
		}
	}
	// A Countdown record's reference is its numbers and target; an answer
	// field, when present, is still read.
	aopts := opts
	aopts.AllowMissingAnswer = opts.AllowMissingAnswer || rec.Countdown != nil
	if err := decodeAnswer(rest, &rec, aopts); err != nil {
		return Record{}, err
	}

	rec.DataSource = opts.DataSource
	if rec.DataSource == "" {
		rec.DataSource = stem
	}
	if key, v, ok := lookup(rest, "data_source"); ok {
		s, isStr := v.(string)
		if !isStr {
			return Record{}, fieldErr(key, "want a string, got %s", kindOf(v))
		}
		rec.DataSource = s
		delete(rest, key)
	}

	rec.ID = fmt.Sprintf("%s/%d", stem, index)
	if key, v, ok := lookupAny(rest, idFields); ok {
		id, err := scalarText(v)
		if err != nil {
			return Record{}, &fieldError{Field: key, Err: err}
		}
		if strings.TrimSpace(id) != "" {
			rec.ID = id
		}
		delete(rest, key)
	} else if _, info, ok := lookup(rest, "extra_info"); ok {
		if m, isMap := info.(map[string]any); isMap {
			if _, v, ok := lookup(m, "index"); ok && v != nil {
				if id, err := scalarText(v); err == nil && strings.TrimSpace(id) != "" {
					rec.ID = id
				}
			}
		}
	}

	if len(rest) > 0 {
		rec.Extra = rest
	}
	return rec, nil
}

func decodePrompt(rest map[string]any, rec *Record) error {
	key, v, ok := lookupAny(rest, promptFields)
	if !ok {
		return fieldErr("", "no prompt: none of the fields %s is present", strings.Join(promptFields, ", "))
	}
	delete(rest, key)
	switch p := v.(type) {
	case string:
		if strings.TrimSpace(p) == "" {
			return fieldErr(key, "empty prompt")
		}
		rec.Prompt = p
		return nil
	case []any:
		msgs, err := decodeMessages(key, p)
		if err != nil {
			return err
		}
		rec.Messages = msgs
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Role == "user" {
				if strings.TrimSpace(msgs[i].Content) == "" {
					return fieldErr(fmt.Sprintf("%s[%d].content", key, i), "empty user message")
				}
				rec.Prompt = msgs[i].Content
				return nil
			}
		}
		return fieldErr(key, "chat prompt has no message with role \"user\"")
	}
	return fieldErr(key, "want a string or a list of {role, content} messages, got %s", kindOf(v))
}

func decodeMessages(key string, list []any) ([]Message, error) {
	if len(list) == 0 {
		return nil, fieldErr(key, "empty message list")
	}
	msgs := make([]Message, len(list))
	for i, item := range list {
		at := fmt.Sprintf("%s[%d]", key, i)
		m, ok := item.(map[string]any)
		if !ok {
			return nil, fieldErr(at, "want a {role, content} message, got %s", kindOf(item))
		}
		for _, part := range []string{"role", "content"} {
			k, v, ok := lookup(m, part)
			if !ok || v == nil {
				return nil, fieldErr(at+"."+part, "missing")
			}
			s, isStr := v.(string)
			if !isStr {
				return nil, fieldErr(at+"."+k, "want a string, got %s", kindOf(v))
			}
			if part == "role" {
				msgs[i].Role = s
			} else {
				msgs[i].Content = s
			}
		}
	}
	return msgs, nil
}

func decodeAnswer(rest map[string]any, rec *Record, opts Options) error {
	if key, rm, ok := lookup(rest, "reward_model"); ok {
		m, isMap := rm.(map[string]any)
		if !isMap {
			return fieldErr(key, "want a struct with ground_truth, got %s", kindOf(rm))
		}
		if gk, gt, ok := lookup(m, "ground_truth"); ok && gt != nil {
			a, err := answerText(gt)
			if err != nil && !(err == errEmptyAnswer && opts.AllowMissingAnswer) {
				return &fieldError{Field: key + "." + gk, Err: err}
			}
			rec.Answer = a
			delete(rest, key)
			return nil
		}
	}
	for _, name := range []string{"answer", "ground_truth"} {
		if key, v, ok := lookup(rest, name); ok {
			a, err := answerText(v)
			if err != nil && !(err == errEmptyAnswer && opts.AllowMissingAnswer) {
				return &fieldError{Field: key, Err: err}
			}
			rec.Answer = a
			delete(rest, key)
			return nil
		}
	}
	if key, v, ok := lookup(rest, "solution"); ok {
		sol, isStr := v.(string)
		if !isStr {
			return fieldErr(key, "want a string, got %s", kindOf(v))
		}
		a, err := grade.ExtractBoxed(sol)
		if err != nil {
			if opts.AllowMissingAnswer {
				return nil
			}
			return fieldErr(key, "no answer field, and the solution has no usable \\boxed{} answer: %v", err)
		}
		rec.Answer = a // solution stays in Extra: it is more than the answer
		return nil
	}
	if opts.AllowMissingAnswer {
		return nil
	}
	return fieldErr("", "no answer: none of reward_model.ground_truth, answer, ground_truth or solution is present")
}

// errEmptyAnswer: the answer field is present but blank, which unlabelled
// data written by WriteJSONL or WriteParquet looks like.
var errEmptyAnswer = errors.New("empty answer")

// answerText writes an answer value as text.
func answerText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		// GSM8K's answer is the worked solution ending in "#### 18".
		if i := strings.LastIndex(s, "\n#### "); i >= 0 {
			s = strings.TrimSpace(s[i+len("\n#### "):])
		}
		if s == "" {
			return "", errEmptyAnswer
		}
		return s, nil
	case int64, float64:
		return scalarText(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cannot write %s answer as text: %w", kindOf(v), err)
	}
	return string(b), nil
}

// scalarText writes a string or number as text; numbers in their shortest
// form, integral floats without a fraction.
func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("not a finite number: %v", x)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10), nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("want a string or a number, got %s", kindOf(v))
}

// lookup finds name in m: exactly, else ignoring case. It returns the key as
// spelled in m.
func lookup(m map[string]any, name string) (string, any, bool) {
	if v, ok := m[name]; ok {
		return name, v, true
	}
	found := ""
	for k := range m {
		// The smallest matching key wins, so the choice does not depend on
		// map order when a record spells a name two ways.
		if strings.EqualFold(k, name) && (found == "" || k < found) {
			found = k
		}
	}
	if found == "" {
		return "", nil, false
	}
	return found, m[found], true
}

// lookupAny returns the first of names present in m with a non-null value.
func lookupAny(m map[string]any, names []string) (string, any, bool) {
	for _, n := range names {
		if k, v, ok := lookup(m, n); ok && v != nil {
			return k, v, true
		}
	}
	return "", nil, false
}

// kindOf names a normalised value's JSON kind for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("a %T", v)
}

// normalize converts decoded JSON (with json.Number) and Parquet values to
// nil, bool, int64, float64, string, []any or map[string]any, so that both
// formats reach decodeFields alike.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return x
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return string(x) // out of float range: keep the literal
		}
		return f
	case []byte:
		return string(x)
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return float64(x)
	case uint:
		return normalize(uint64(x))
	case float32:
		// Through the shortest float32 text, so 0.1f stays 0.1.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	// Other slices and maps (typed ones from a Parquet reader).
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalize(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[fmt.Sprint(it.Key().Interface())] = normalize(it.Value().Interface())
		}
		return out
	case reflect.Pointer:
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface())
	}
	return fmt.Sprint(v) // time, UUID and other scalars: their text
}
