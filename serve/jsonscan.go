package serve

import (
	"unicode/utf8"
)

// A one-pass reader for the JSON that scoring requests are made of: an
// object whose values are arrays of strings (responses, prompts) or of
// short scalars (ids, gold answers). encoding/json validates a body and then
// decodes it, and a field-by-field decode repeats both; a 512-rollout batch
// spent as long in decoding as in scoring. These functions accept a subset
// of JSON that they decode exactly as encoding/json does and report ok =
// false for anything else (invalid JSON, invalid UTF-8, escaped surrogates,
// null inside a string array, nesting deeper than encoding/json allows), so
// that callers fall back to encoding/json, which then also explains what is
// wrong. The differential fuzz test holds them to that.

// maxNesting is encoding/json's limit on nested arrays and objects.
const maxNesting = 10000

// ScanObject splits a JSON object into its fields: for each key the raw
// bytes of its value (a sub-slice of body). A key given twice keeps its
// last value, as encoding/json does when decoding into a map.
func ScanObject(body []byte) (fields Object, ok bool) {
	s := scanner{b: body}
	s.space()
	if !s.byte('{') {
		return nil, false
	}
	fields = Object{}
	s.space()
	if s.byte('}') {
		s.space()
		return fields, s.i == len(s.b)
	}
	for {
		s.space()
		key, ok := s.str()
		if !ok {
			return nil, false
		}
		s.space()
		if !s.byte(':') {
			return nil, false
		}
		s.space()
		start := s.i
		if !s.value(1) {
			return nil, false
		}
		fields[key] = body[start:s.i]
		s.space()
		if s.byte(',') {
			continue
		}
		if !s.byte('}') {
			return nil, false
		}
		s.space()
		return fields, s.i == len(s.b)
	}
}

// FastStrings decodes a raw JSON array of strings.
func FastStrings(raw []byte) (list []string, ok bool) {
	s := scanner{b: raw}
	if !s.byte('[') {
		return nil, false
	}
	list = []string{}
	s.space()
	if s.byte(']') {
		return list, s.i == len(s.b)
	}
	for {
		s.space()
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		list = append(list, v)
		s.space()
		if s.byte(',') {
			continue
		}
		if !s.byte(']') {
			return nil, false
		}
		return list, s.i == len(s.b)
	}
}

// FastElements splits a raw JSON array into its elements' raw bytes.
func FastElements(raw []byte) (items [][]byte, ok bool) {
	s := scanner{b: raw}
	if !s.byte('[') {
		return nil, false
	}
	items = [][]byte{}
	s.space()
	if s.byte(']') {
		return items, s.i == len(s.b)
	}
	for {
		s.space()
		start := s.i
		if !s.value(1) {
			return nil, false
		}
		items = append(items, raw[start:s.i])
		s.space()
		if s.byte(',') {
			continue
		}
		if !s.byte(']') {
			return nil, false
		}
		return items, s.i == len(s.b)
	}
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value skips one JSON value, checking it, at nesting depth.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.b) || depth > maxNesting {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '{':
		s.i++
		s.space()
		if s.byte('}') {
			return true
		}
		for {
			s.space()
			if !s.skipString() {
				return false
			}
			s.space()
			if !s.byte(':') {
				return false
			}
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.byte(',') {
				continue
			}
			return s.byte('}')
		}
	case c == '[':
		s.i++
		s.space()
		if s.byte(']') {
			return true
		}
		for {
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.byte(',') {
				continue
			}
			return s.byte(']')
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	s.byte('-')
	switch {
	case s.byte('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		digits()
	default:
		return false
	}
	if s.byte('.') && digits() == 0 {
		return false
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if !s.byte('+') {
			s.byte('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}

// str reads a JSON string at s.i and returns its decoded value. It declines
// invalid UTF-8 (encoding/json would substitute U+FFFD) and escaped
// surrogates (which encoding/json pairs up or substitutes).
func (s *scanner) str() (string, bool) {
	v, ok := s.readString(true)
	return string(v), ok
}

// skipString checks a JSON string at s.i without keeping its value.
func (s *scanner) skipString() bool {
	_, ok := s.readString(false)
	return ok
}

// readString reads a string; with keep, it returns the decoded bytes (a
// sub-slice of the input when there are no escapes).
func (s *scanner) readString(keep bool) ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	ascii := true
	var out []byte // decoded value, once an escape was seen
	run := start   // start of the bytes not yet copied to out
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			seg := s.b[start:s.i]
			if out != nil {
				out = append(out, s.b[run:s.i]...)
				seg = out
			}
			s.i++
			if !ascii && !utf8.Valid(seg) {
				return nil, false
			}
			return seg, true
		case c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
			s.i++
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return nil, false
			}
			if keep {
				if out == nil {
					out = make([]byte, 0, s.i-start+32)
				}
				out = append(out, s.b[run:s.i]...)
			}
			e := s.b[s.i+1]
			s.i += 2
			var dec byte
			switch e {
			case '"', '\\', '/':
				dec = e
			case 'b':
				dec = '\b'
			case 'f':
				dec = '\f'
			case 'n':
				dec = '\n'
			case 'r':
				dec = '\r'
			case 't':
				dec = '\t'
			case 'u':
				if s.i+4 > len(s.b) {
					return nil, false
				}
				r := 0
				for _, h := range s.b[s.i : s.i+4] {
					var v byte
					switch {
					case h >= '0' && h <= '9':
						v = h - '0'
					case h >= 'a' && h <= 'f':
						v = h - 'a' + 10
					case h >= 'A' && h <= 'F':
						v = h - 'A' + 10
					default:
						return nil, false
					}
					r = r<<4 | int(v)
				}
				if r >= 0xD800 && r < 0xE000 {
					return nil, false
				}
				s.i += 4
				if keep {
					out = utf8.AppendRune(out, rune(r))
				}
				run = s.i
				continue
			default:
				return nil, false
			}
			if keep {
				out = append(out, dec)
			}
			run = s.i
		default:
			s.i++
		}
	}
	return nil, false
}
