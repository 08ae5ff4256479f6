package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
)

// Error is an HTTP error whose message tells the client what to fix.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given status.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// IsStatus reports whether err is an *Error with the given status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// BadRequest returns a 400 *Error.
func BadRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, format, args...)
}

// errorBody is the error layout of OpenAI-compatible servers, which every
// urlvr service uses so that one client-side check fits all of them.
type errorBody struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

// WriteError writes err as a JSON error body: an *Error with its status,
// anything else as 500.
func WriteError(w http.ResponseWriter, err error) {
	status, msg := http.StatusInternalServerError, err.Error()
	var e *Error
	if errors.As(err, &e) {
		status, msg = e.Status, e.Message
	}
	var b errorBody
	b.Error.Message = msg
	b.Error.Code = status
	switch {
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		b.Error.Type = "overloaded_error"
		w.Header().Set("Retry-After", "1")
	case status >= 500:
		b.Error.Type = "server_error"
	case status == http.StatusNotFound:
		b.Error.Type = "not_found_error"
	case status == http.StatusUnauthorized:
		b.Error.Type = "authentication_error"
	default:
		b.Error.Type = "invalid_request_error"
	}
	WriteJSON(w, status, b)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"message":` + strconv.Quote("encoding the response: "+err.Error()) + `,"type":"server_error","code":500}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// ErrClientGone marks a request whose client went away before sending all
// of its body; there is no one to answer.
var ErrClientGone = errors.New("client went away")

// Object is a decoded JSON object whose fields are decoded on demand, each
// with an error that names the field.
type Object map[string]json.RawMessage

// DecodeObject parses body as one JSON object.
func DecodeObject(body []byte) (Object, error) {
	if o, ok := ScanObject(body); ok {
		return o, nil
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, BadRequest("request body is empty; want a JSON object")
	}
	if trimmed[0] != '{' {
		if !json.Valid(trimmed) {
			return nil, syntaxError(body)
		}
		return nil, BadRequest("request body is a JSON %s; want a JSON object", Kind(trimmed))
	}
	var o Object
	if err := json.Unmarshal(body, &o); err != nil {
		return nil, syntaxError(body)
	}
	return o, nil
}

// syntaxError describes where body stops being JSON.
func syntaxError(body []byte) error {
	err := json.Unmarshal(body, new(any))
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return BadRequest("malformed JSON at byte %d: %v", se.Offset, se)
	}
	if err != nil {
		return BadRequest("malformed JSON: %v", err)
	}
	return BadRequest("malformed JSON")
}

// Kind names the JSON type of a raw value: object, array, string, number,
// boolean or null.
func Kind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// IsNull reports whether raw is absent or JSON null.
func IsNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// Get returns the raw field; ok is false when it is absent or null.
func (o Object) Get(name string) (json.RawMessage, bool) {
	raw, ok := o[name]
	if !ok || IsNull(raw) {
		return nil, false
	}
	return raw, true
}

// Has reports whether the field is present and not null.
func (o Object) Has(name string) bool {
	_, ok := o.Get(name)
	return ok
}

// String decodes a string field; ok is false when it is absent or null.
func (o Object) String(name string) (s string, ok bool, err error) {
	raw, ok := o.Get(name)
	if !ok {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, BadRequest("field %q: got %s, want a string", name, Kind(raw))
	}
	return s, true, nil
}

// Int decodes an integer field (a JSON number without fraction).
func (o Object) Int(name string) (n int, ok bool, err error) {
	raw, ok := o.Get(name)
	if !ok {
		return 0, false, nil
	}
	n, err = IntValue(raw)
	if err != nil {
		return 0, true, BadRequest("field %q: %v", name, err)
	}
	return n, true, nil
}

// IntValue decodes a raw JSON integer.
func IntValue(raw []byte) (int, error) {
	if Kind(raw) != "number" {
		return 0, fmt.Errorf("got %s, want an integer", Kind(raw))
	}
	f, err := strconv.ParseFloat(string(bytes.TrimSpace(raw)), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("got %s, want an integer", bytes.TrimSpace(raw))
	}
	return int(f), nil
}

// Float decodes a number field.
func (o Object) Float(name string) (f float64, ok bool, err error) {
	raw, ok := o.Get(name)
	if !ok {
		return 0, false, nil
	}
	if Kind(raw) != "number" {
		return 0, true, BadRequest("field %q: got %s, want a number", name, Kind(raw))
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, true, BadRequest("field %q: %v", name, err)
	}
	return f, true, nil
}

// Bool decodes a boolean field.
func (o Object) Bool(name string) (b bool, ok bool, err error) {
	raw, ok := o.Get(name)
	if !ok {
		return false, false, nil
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, true, BadRequest("field %q: got %s, want a boolean", name, Kind(raw))
	}
	return b, true, nil
}

// Array decodes an array field into its raw elements.
func (o Object) Array(name string) (items []json.RawMessage, ok bool, err error) {
	raw, ok := o.Get(name)
	if !ok {
		return nil, false, nil
	}
	if Kind(raw) != "array" {
		return nil, true, BadRequest("field %q: got %s, want an array", name, Kind(raw))
	}
	if elems, ok := FastElements(raw); ok {
		items = make([]json.RawMessage, len(elems))
		for i, e := range elems {
			items[i] = e
		}
		return items, true, nil
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, true, BadRequest("field %q: %v", name, err)
	}
	return items, true, nil
}

// StringList decodes an array of strings; the error names the first element
// that is not one.
func (o Object) StringList(name string) (list []string, ok bool, err error) {
	raw, ok := o.Get(name)
	if !ok {
		return nil, false, nil
	}
	if Kind(raw) != "array" {
		return nil, true, BadRequest("field %q: got %s, want an array of strings", name, Kind(raw))
	}
	if list, ok := FastStrings(raw); ok {
		return list, true, nil
	}
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, true, nil
	}
	// Slow path, only to say which element is wrong.
	items, _, err := o.Array(name)
	if err != nil {
		return nil, true, err
	}
	for i, it := range items {
		if Kind(it) != "string" {
			return nil, true, BadRequest("%s[%d]: got %s, want a string", name, i, Kind(it))
		}
	}
	return nil, true, BadRequest("field %q: not an array of strings", name)
}

// Scalar is a JSON value that may be a string, a number (kept as written) or
// null, as ids and gold answers are in datasets.
type Scalar struct {
	Text    string
	Present bool
}

// ScalarValue decodes raw as a string or a number; null gives a Scalar that
// is not Present. Other kinds are an error.
func ScalarValue(raw []byte) (Scalar, error) {
	switch Kind(raw) {
	case "null":
		return Scalar{}, nil
	case "string":
		sc := scanner{b: trimJSONSpace(raw)}
		if v, ok := sc.str(); ok && sc.i == len(sc.b) {
			return Scalar{Text: v, Present: true}, nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Scalar{}, err
		}
		return Scalar{Text: s, Present: true}, nil
	case "number":
		t := trimJSONSpace(raw)
		sc := scanner{b: t}
		if sc.number() && sc.i == len(t) {
			return Scalar{Text: string(t), Present: true}, nil
		}
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return Scalar{}, err
		}
		return Scalar{Text: n.String(), Present: true}, nil
	}
	return Scalar{}, fmt.Errorf("got %s, want a string, a number or null", Kind(raw))
}

// trimJSONSpace drops the whitespace JSON allows around a value (and no
// other).
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// ScalarList decodes an array whose elements are strings, numbers or null.
func (o Object) ScalarList(name string) (list []Scalar, ok bool, err error) {
	items, ok, err := o.Array(name)
	if !ok || err != nil {
		return nil, ok, err
	}
	list = make([]Scalar, len(items))
	for i, it := range items {
		if list[i], err = ScalarValue(it); err != nil {
			return nil, true, BadRequest("%s[%d]: %v", name, i, err)
		}
	}
	return list, true, nil
}
