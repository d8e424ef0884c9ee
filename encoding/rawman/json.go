package rawman

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// ErrJSON is wrapped by the errors [Message.UnmarshalJSON] returns for JSON
// that is not an object of strings and arrays of strings.
var ErrJSON = errors.New("rawman: JSON is not an object of strings and arrays of strings")

// MarshalJSON encodes the message as one JSON object, for logs, event
// buses and browsers: each key once, in the order of its first field, with
// its value as a string, or as an array of its values in order when the key
// appears more than once (compared as the message's lookups compare keys;
// the first spelling is kept):
//
//	{"Event":"Newchannel","Channel":"Local/100@test-00000001;1","Variable":["a=1","b=2"]}
//
// Only the interleaving of different repeated keys is lost (A, B, A becomes
// {"A":[…],"B":…}). Bytes that are not UTF-8 become U+FFFD, as with
// encoding/json. A nil message is null.
func (m *Message) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	return m.AppendJSON(make([]byte, 0, 64+m.size())), nil
}

// AppendJSON appends the JSON form of [Message.MarshalJSON] to b and
// returns the extended buffer; it allocates nothing when the message has no
// repeated keys and b has room.
func (m *Message) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for i, f := range m.Fields {
		if m.seenBefore(i) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, f.Key)
		b = append(b, ':')
		if !m.repeatsAfter(i) {
			b = appendJSONString(b, f.Value)
			continue
		}
		b = append(b, '[')
		b = appendJSONString(b, f.Value)
		for _, g := range m.Fields[i+1:] {
			if m.keyEqual(g.Key, f.Key) {
				b = append(b, ',')
				b = appendJSONString(b, g.Value)
			}
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// seenBefore reports whether the key of field i appeared in an earlier field.
func (m *Message) seenBefore(i int) bool {
	for _, f := range m.Fields[:i] {
		if m.keyEqual(f.Key, m.Fields[i].Key) {
			return true
		}
	}
	return false
}

// repeatsAfter reports whether the key of field i appears in a later field.
func (m *Message) repeatsAfter(i int) bool {
	for _, f := range m.Fields[i+1:] {
		if m.keyEqual(f.Key, m.Fields[i].Key) {
			return true
		}
	}
	return false
}

// size is the wire size of the message's keys and values.
func (m *Message) size() int {
	n := 0
	for _, f := range m.Fields {
		n += len(f.Key) + len(f.Value) + 6
	}
	return n
}

// UnmarshalJSON sets the message to the fields of a JSON object as
// [Message.MarshalJSON] writes it: each member a field, in order, and each
// array one field per element. Values must be strings or arrays of strings
// (an error wrapping [ErrJSON] otherwise). Keys becomes [KeysAMI]. JSON null
// leaves the message unchanged, as encoding/json does.
func (m *Message) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("rawman: %w", err)
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("%w: found %v", ErrJSON, tok)
	}
	m.Fields = m.Fields[:0]
	m.Keys = KeysAMI
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("rawman: %w", err)
		}
		key := tok.(string) // object keys are always strings
		tok, err = dec.Token()
		if err != nil {
			return fmt.Errorf("rawman: %w", err)
		}
		switch v := tok.(type) {
		case string:
			m.Add(key, v)
		case json.Delim:
			if v != '[' {
				return fmt.Errorf("%w: key %q holds an object", ErrJSON, clip(key))
			}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return fmt.Errorf("rawman: %w", err)
				}
				s, ok := tok.(string)
				if !ok {
					return fmt.Errorf("%w: key %q holds an array with %s", ErrJSON, clip(key), jsonKind(tok))
				}
				m.Add(key, s)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return fmt.Errorf("rawman: %w", err)
			}
		default:
			return fmt.Errorf("%w: key %q holds %s", ErrJSON, clip(key), jsonKind(tok))
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fmt.Errorf("rawman: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("rawman: data after the JSON object")
	}
	return nil
}

// jsonKind names the JSON type of a token that is not a string.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case json.Delim:
		return "an array or object"
	}
	return fmt.Sprintf("%T", tok)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control bytes escaped, invalid UTF-8 as U+FFFD, and U+2028 and U+2029
// escaped so that the result is safe inside JavaScript too.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
