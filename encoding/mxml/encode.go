package mxml

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/xmlname"
)

// maxKeptBuf is the largest buffer an Encoder keeps between messages.
const maxKeptBuf = 256 << 10

// ErrClosed is returned by [Encoder.Encode] after [Encoder.Close].
var ErrClosed = errors.New("mxml: Encode after Close")

// Default values of the id attribute and element name of each message, as
// Asterisk writes them when the request names none.
const (
	DefaultID         = "unknown"
	DefaultObjectType = "generic"
)

const (
	docStart = "<ajax-response>\n"
	docEnd   = "</ajax-response>\n"
)

// An Encoder writes AMI messages as the body of an /mxml answer,
// byte-identical to what Asterisk 23 writes for the same messages: the
// <ajax-response> wrapper, and for each message
//
//	<response type='object' id='unknown'><generic name='value' ... /></response>
//
// Each field is written as Asterisk's manager translates the "Key: Value"
// line it would send in rawman: the name lowered with every byte outside
// [A-Za-z0-9] turned into '_' (and '_' before a leading digit), a repeated
// name suffixed "-2", "-3" ... (counted by the name as written, so that
// "Foo-Bar" and "foo_bar" give two attributes named foo_bar), blanks
// trimmed around the value, and only < > " ' & escaped. A field with an
// empty key is a line without a colon, which starts Asterisk's opaque_data
// attribute; a "Response: Follows" message is written as Asterisk 13 wrote
// its Command output. Keys already in mxml form (a message decoded by
// [Decoder]) come out unchanged, so decoding and encoding a body Asterisk
// wrote gives back the same bytes, except where Asterisk wrote one
// attribute name twice (see the package documentation).
//
// The wrapper's first line is written with the first message, the last one
// by [Encoder.Close].
type Encoder struct {
	w       io.Writer
	id      string
	objType string
	started bool
	closed  bool
	legacy  bool           // names keep a leading digit (Asterisk 13)
	text    []byte         // the message as rawman text
	buf     []byte         // the output for one Encode
	counts  map[string]int // occurrences of each name in the object
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, id: DefaultID, objType: DefaultObjectType}
}

// SetObject sets the id attribute of the <response> elements and the name
// of the element that holds each message, as Asterisk's ajaxdest and
// ajaxobjtype request parameters do; an empty string restores the default
// ([DefaultID], [DefaultObjectType]). Like Asterisk, the Encoder writes
// them without escaping.
func (e *Encoder) SetObject(id, objType string) {
	e.id = cmp.Or(id, DefaultID)
	e.objType = cmp.Or(objType, DefaultObjectType)
}

// SetLegacyNames makes the Encoder write a name that begins with a digit
// as Asterisk did before 16.25.0, 18.11.0 and 20.0.0 (all of 13.x): without
// the '_' put in front of it, which makes the document ill-formed XML. The
// [Decoder] reads both forms.
func (e *Encoder) SetLegacyNames(on bool) { e.legacy = on }

// Encode writes m with one Write call, preceded by the "<ajax-response>"
// line if it is the first message. It writes nothing and returns a
// [*rawman.FieldError] wrapping [rawman.ErrInvalidField] if a field holds
// CR, LF or NUL (Asterisk's manager output never does), or is empty in both
// key and value; [rawman.ErrEmptyMessage] for a message without fields;
// and [ErrClosed] after Close.
func (e *Encoder) Encode(m *rawman.Message) error {
	if e.closed {
		return ErrClosed
	}
	if m.Len() == 0 {
		return rawman.ErrEmptyMessage
	}
	text, err := appendText(e.text[:0], m)
	if err != nil {
		return err
	}
	e.text = text
	b := e.buf[:0]
	if !e.started {
		b = append(b, docStart...)
	}
	b = e.translate(b, text)
	e.buf = b
	if cap(e.text) > maxKeptBuf || cap(e.buf) > maxKeptBuf {
		e.text, e.buf = nil, nil // do not keep a huge buffer after one huge message
	}
	e.started = true
	_, err = e.w.Write(b)
	return err
}

// Close writes the end of the document (and its start, if no message was
// encoded). It does not close the underlying writer. Later calls do
// nothing.
func (e *Encoder) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	b := []byte(docEnd)
	if !e.started {
		b = []byte(docStart + docEnd)
	}
	_, err := e.w.Write(b)
	return err
}

// appendText appends m in the rawman text form Asterisk's manager
// translates, after checking that every field is one line.
func appendText(dst []byte, m *rawman.Message) ([]byte, error) {
	for i, f := range m.Fields {
		if reason := checkField(f); reason != "" {
			return dst, &rawman.FieldError{Index: i, Key: f.Key, Reason: reason}
		}
	}
	if f := m.Fields[0]; strings.EqualFold(f.Key, "Response") && strings.EqualFold(f.Value, "Follows") {
		return rawman.Append(dst, m)
	}
	for _, f := range m.Fields {
		if f.Key != "" {
			dst = append(dst, f.Key...)
			dst = append(dst, ": "...)
		}
		dst = append(dst, f.Value...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...), nil
}

// checkField returns why f cannot be written as one line of Asterisk's
// manager output, or "".
func checkField(f rawman.Field) string {
	switch {
	case strings.ContainsAny(f.Key, "\r\n\x00"):
		return "key contains CR, LF or NUL"
	case strings.ContainsAny(f.Value, "\r\n\x00"):
		return "value contains CR, LF or NUL"
	case f.Key == "" && f.Value == "":
		return "empty key and value"
	}
	return ""
}

// translate appends to dst the XML Asterisk's manager makes of the
// manager output text: lines end at the first CR or LF (an LF right after
// it is part of the line end), trailing bytes up to 0x20 are trimmed, an
// empty line closes the current object, a "Name: value" line becomes an
// attribute, and a line without a colon starts an opaque_data attribute
// that takes in every following line of the object.
func (e *Encoder) translate(dst, text []byte) []byte {
	inObj, inData := false, false
	for len(text) > 0 {
		var line []byte
		if i := bytes.IndexAny(text, "\r\n"); i >= 0 {
			line, text = text[:i], text[i+1:]
			if len(text) > 0 && text[0] == '\n' {
				text = text[1:]
			}
		} else {
			line, text = text, nil
		}
		line = trimBlanksRight(line)
		if len(line) == 0 {
			if inData {
				dst = append(dst, '\'')
				inData = false
			}
			if inObj {
				dst = append(dst, " /></response>\n"...)
				inObj = false
			}
			continue
		}
		if !inObj {
			dst = append(dst, "<response type='object' id='"...)
			dst = append(dst, e.id...)
			dst = append(dst, "'><"...)
			dst = append(dst, e.objType...)
			clear(e.counts)
			inObj = true
		}
		if inData {
			dst = append(dst, '\n')
			dst = appendEscaped(dst, line)
			continue
		}
		name, value := line, line
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = trimBlanksRight(line[:i]), skipBlanks(line[i+1:])
		} else {
			name, inData = []byte("Opaque-data"), true
		}
		dst = append(dst, ' ')
		if e.legacy {
			for _, c := range name {
				dst = append(dst, xmlname.Byte(c))
			}
		} else {
			dst = xmlname.Append(dst, string(name))
		}
		if n := e.count(name); n > 1 {
			dst = append(dst, '-')
			dst = strconv.AppendInt(dst, int64(n), 10)
		}
		dst = append(dst, "='"...)
		dst = appendEscaped(dst, value)
		if !inData || len(text) == 0 {
			dst = append(dst, '\'')
		}
	}
	if inObj {
		dst = append(dst, " /></response>\n"...)
	}
	return dst
}

// count records one more occurrence of name in the current object and
// returns how many there have been.
func (e *Encoder) count(name []byte) int {
	if e.counts == nil {
		e.counts = make(map[string]int)
	}
	n := e.counts[string(name)] + 1
	e.counts[string(name)] = n
	return n
}

// appendEscaped appends s with the five characters Asterisk escapes
// replaced by their entities; every other byte is copied as is.
func appendEscaped(dst, s []byte) []byte {
	for len(s) > 0 {
		i := bytes.IndexAny(s, `<>"'&`)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		switch s[i] {
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '\'':
			dst = append(dst, "&apos;"...)
		case '&':
			dst = append(dst, "&amp;"...)
		}
		s = s[i+1:]
	}
	return dst
}

// trimBlanksRight removes the trailing bytes up to 0x20 from b.
func trimBlanksRight(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] <= ' ' {
		b = b[:len(b)-1]
	}
	return b
}

// skipBlanks removes the leading bytes up to 0x20 from b.
func skipBlanks(b []byte) []byte {
	for len(b) > 0 && b[0] <= ' ' {
		b = b[1:]
	}
	return b
}
