package rawman

import (
	"errors"
	"io"
	"strings"
)

// maxKeptBuf is the largest buffer an Encoder keeps between messages.
const maxKeptBuf = 256 << 10

// ErrEmptyMessage is returned when encoding a message that has no fields: on
// the wire it would be an empty line, which is no message at all.
var ErrEmptyMessage = errors.New("rawman: empty message")

// An Encoder writes AMI messages to an output stream in the framing Asterisk
// itself writes: "Key: Value" lines ended by CRLF, and an empty line after
// each message. A message whose first field is "Response: Follows" is
// written in the Command output form of Asterisk 13 (Privilege and ActionID
// lines, one raw line per Output field ended by LF, then
// "--END COMMAND--\r\n\r\n"), which a [Decoder] reads back as the same
// message.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes m with one Write call. It writes nothing and returns a
// [*FieldError] if a field cannot be written faithfully (see [Append]), or
// [ErrEmptyMessage] for a message without fields.
func (e *Encoder) Encode(m *Message) error {
	b, err := Append(e.buf[:0], m)
	if err != nil {
		return err
	}
	e.buf = b
	_, err = e.w.Write(b)
	if cap(e.buf) > maxKeptBuf {
		e.buf = nil // do not keep a huge buffer after one huge message
	}
	return err
}

// Append appends the wire form of m to dst and returns the extended slice.
// It refuses, with a [*FieldError] wrapping [ErrInvalidField] and dst
// unchanged, any field that would not read back as itself:
//
//   - a key or value holding CR or LF (it would inject lines),
//   - a key holding a colon,
//   - an empty key with an empty value, or with a value whose first colon
//     is not its first byte (such a line would read back with a key),
//   - in a "Response: Follows" message, a header other than Privilege and
//     ActionID, a header after the first Output, or an Output line ending in
//     "--END COMMAND--".
func Append(dst []byte, m *Message) ([]byte, error) {
	if m.Len() == 0 {
		return dst, ErrEmptyMessage
	}
	follows := isFollows(m)
	inOutput := false
	for i, f := range m.Fields {
		if reason := checkField(f); reason != "" {
			return dst, &FieldError{Index: i, Key: f.Key, Reason: reason}
		}
		if !follows || i == 0 {
			continue
		}
		isOutput := equalFold(f.Key, "Output")
		switch {
		case isOutput && strings.HasSuffix(f.Value, endCommand):
			return dst, &FieldError{Index: i, Key: f.Key, Reason: "output line ends in " + endCommand}
		case isOutput:
			inOutput = true
		case inOutput:
			return dst, &FieldError{Index: i, Key: f.Key, Reason: "header after the output of a Follows message"}
		case !equalFold(f.Key, "Privilege") && !equalFold(f.Key, "ActionID"):
			return dst, &FieldError{Index: i, Key: f.Key, Reason: "only Privilege and ActionID may precede Follows output"}
		}
	}
	return appendMessage(dst, m), nil
}

// checkField returns why f cannot be written as one line, or "".
func checkField(f Field) string {
	switch {
	case strings.ContainsAny(f.Key, "\r\n"):
		return "key contains CR or LF"
	case strings.ContainsAny(f.Value, "\r\n"):
		return "value contains CR or LF"
	case strings.IndexByte(f.Key, ':') >= 0:
		return "key contains a colon"
	case f.Key == "" && f.Value == "":
		return "empty key and value"
	case f.Key == "" && strings.IndexByte(f.Value, ':') > 0:
		return "empty key with a colon in the value"
	}
	return ""
}

// isFollows reports whether m is Asterisk 13's Command output message.
func isFollows(m *Message) bool {
	f := m.Fields[0]
	return equalFold(f.Key, "Response") && equalFold(f.Value, "Follows")
}

// appendMessage writes m without validating it.
func appendMessage(dst []byte, m *Message) []byte {
	if m.Len() == 0 {
		return append(dst, "\r\n"...)
	}
	if isFollows(m) {
		return appendFollows(dst, m)
	}
	for _, f := range m.Fields {
		dst = appendField(dst, f)
	}
	return append(dst, "\r\n"...)
}

// appendField writes one field as a line ended by CRLF; a field with an
// empty key is written as its bare value.
func appendField(dst []byte, f Field) []byte {
	if f.Key != "" {
		dst = append(dst, f.Key...)
		dst = append(dst, ": "...)
	}
	dst = append(dst, f.Value...)
	return append(dst, "\r\n"...)
}

// appendFollows writes the Asterisk 13 Command output form: headers, the
// raw output lines ended by LF, then the end marker and the empty line.
func appendFollows(dst []byte, m *Message) []byte {
	for i, f := range m.Fields {
		if i > 0 && equalFold(f.Key, "Output") {
			continue
		}
		dst = appendField(dst, f)
	}
	for i, f := range m.Fields {
		if i > 0 && equalFold(f.Key, "Output") {
			dst = append(dst, f.Value...)
			dst = append(dst, '\n')
		}
	}
	return append(dst, endCommand+"\r\n\r\n"...)
}
