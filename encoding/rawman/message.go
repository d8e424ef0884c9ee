package rawman

import (
	"iter"
	"strconv"

	"github.com/amihttp/amihttp/internal/xmlname"
)

// A Field is one "Key: Value" line of an AMI message.
//
// A line that carried no colon is kept as a Field with an empty Key and the
// whole line as Value, so that no byte of the input is dropped.
type Field struct {
	Key   string
	Value string
}

// A Message is one AMI message: a response, an event or an action, as an
// ordered list of fields. Order and repeated keys are kept exactly as they
// were on the wire (Variable, Output, ChanVariable and the like repeat).
//
// Keys are stored as sent; no canonicalization is done. Lookups (Get,
// Lookup, Has, Values, Set, Del, and [Unmarshal]) compare them as Keys
// says: case-insensitively (ASCII case folding) for the zero value
// [KeysAMI], by their mxml attribute name for [KeysXML]. The zero Message
// is empty and ready to use. A Message is not safe for concurrent mutation.
type Message struct {
	// Fields holds the message's fields in wire order. A Decoder reuses
	// its backing array on every Decode into the same Message; the strings
	// themselves are never overwritten and stay valid.
	Fields []Field

	// Keys tells how the keys of Fields are spelled, and so how lookups
	// compare them. Decoders set it; it is KeysAMI unless the message was
	// decoded from Asterisk's XML encoding.
	Keys KeyForm
}

// A KeyForm tells how the keys of a [Message] are spelled.
type KeyForm uint8

const (
	// KeysAMI means keys as Asterisk's manager writes them in its text
	// encoding (rawman and the TCP port): "ActionID", "Cause-txt". Lookups
	// compare them with ASCII case folding.
	KeysAMI KeyForm = iota

	// KeysXML means keys as Asterisk's mxml encoding rewrote them: ASCII
	// letters lowered and every other byte outside [A-Za-z0-9] turned into
	// '_', with a '_' before a leading digit ("actionid", "cause_txt",
	// "_1st_header"). Lookups rewrite the key asked for the same way before
	// comparing, so m.Get("Cause-txt") finds "cause_txt". Names that differ
	// only in case or punctuation ("Foo-Bar", "Foo_Bar", "foo.bar") are the
	// same key in this form: Asterisk's translation has merged them.
	KeysXML
)

// String returns "KeysAMI" or "KeysXML".
func (k KeyForm) String() string {
	if k == KeysXML {
		return "KeysXML"
	}
	if k == KeysAMI {
		return "KeysAMI"
	}
	return "KeyForm(" + strconv.Itoa(int(k)) + ")"
}

// keyEqual reports whether the stored key k matches the key asked for,
// under the message's key form.
func (m *Message) keyEqual(k, key string) bool {
	return keyEqual(m.Keys, k, key)
}

// keyEqual reports whether key k matches key under form.
func keyEqual(form KeyForm, k, key string) bool {
	if form == KeysXML {
		return xmlname.Equal(k, key)
	}
	return equalFold(k, key)
}

// Get returns the value of the first field whose key equals key
// case-insensitively, or "" if there is none. Use [Message.Lookup] to tell
// an empty value from an absent field.
func (m *Message) Get(key string) string {
	v, _ := m.Lookup(key)
	return v
}

// Lookup returns the value of the first field whose key equals key
// case-insensitively, and whether such a field exists.
func (m *Message) Lookup(key string) (string, bool) {
	if m == nil {
		return "", false
	}
	for i := range m.Fields {
		if m.keyEqual(m.Fields[i].Key, key) {
			return m.Fields[i].Value, true
		}
	}
	return "", false
}

// Has reports whether the message has at least one field named key
// (case-insensitively).
func (m *Message) Has(key string) bool {
	_, ok := m.Lookup(key)
	return ok
}

// Values returns an iterator over the values of every field named key
// (case-insensitively), in wire order. The Command output lines of every
// Asterisk version are read this way:
//
//	for line := range m.Values("Output") { ... }
func (m *Message) Values(key string) iter.Seq[string] {
	return func(yield func(string) bool) {
		if m == nil {
			return
		}
		for i := range m.Fields {
			if m.keyEqual(m.Fields[i].Key, key) && !yield(m.Fields[i].Value) {
				return
			}
		}
	}
}

// All returns an iterator over the message's keys and values in wire order,
// repeated keys included.
func (m *Message) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if m == nil {
			return
		}
		for i := range m.Fields {
			if !yield(m.Fields[i].Key, m.Fields[i].Value) {
				return
			}
		}
	}
}

// keyForm returns m.Keys, or KeysAMI for a nil m.
func (m *Message) keyForm() KeyForm {
	if m == nil {
		return KeysAMI
	}
	return m.Keys
}

// Len returns the number of fields, repeated keys counted each time.
func (m *Message) Len() int {
	if m == nil {
		return 0
	}
	return len(m.Fields)
}

// Add appends a field, keeping any field of the same name already present.
func (m *Message) Add(key, value string) {
	m.Fields = append(m.Fields, Field{Key: key, Value: value})
}

// Set sets the value of the first field named key (case-insensitively) and
// removes any later field of that name; if there is none it appends one.
// The field keeps its position, as an edited header would.
func (m *Message) Set(key, value string) {
	for i := range m.Fields {
		if m.keyEqual(m.Fields[i].Key, key) {
			m.Fields[i].Value = value
			m.Fields = append(m.Fields[:i+1], deleteKey(m.Keys, m.Fields[i+1:], key)...)
			return
		}
	}
	m.Add(key, value)
}

// Del removes every field named key (case-insensitively).
func (m *Message) Del(key string) {
	m.Fields = deleteKey(m.Keys, m.Fields, key)
}

// deleteKey removes in place the fields of fs named key under form and
// returns the shortened slice. Freed slots are zeroed so they do not pin
// strings.
func deleteKey(form KeyForm, fs []Field, key string) []Field {
	out := fs[:0]
	for _, f := range fs {
		if !keyEqual(form, f.Key, key) {
			out = append(out, f)
		}
	}
	clear(fs[len(out):])
	return out
}

// Reset empties the message and sets Keys to KeysAMI, but keeps the
// capacity of Fields for reuse.
func (m *Message) Reset() {
	clear(m.Fields)
	m.Fields = m.Fields[:0]
	m.Keys = KeysAMI
}

// Clone returns a deep copy of the field list, with the same Keys. The
// strings are shared, which is safe because they are immutable.
func (m *Message) Clone() *Message {
	if m == nil {
		return nil
	}
	c := &Message{Keys: m.Keys}
	if m.Fields != nil {
		c.Fields = append(make([]Field, 0, len(m.Fields)), m.Fields...)
	}
	return c
}

// Equal reports whether m and o have the same Keys form and the same
// fields in the same order, keys compared exactly (not case-folded) and
// values byte for byte. A nil Message equals an empty KeysAMI one.
func (m *Message) Equal(o *Message) bool {
	if m.Len() != o.Len() || m.keyForm() != o.keyForm() {
		return false
	}
	for i := 0; i < m.Len(); i++ {
		if m.Fields[i] != o.Fields[i] {
			return false
		}
	}
	return true
}

// ActionID returns the value of the ActionID field, or "".
func (m *Message) ActionID() string { return m.Get("ActionID") }

// Event returns the event name (the value of the Event field), or "" if
// the message is not an event.
func (m *Message) Event() string { return m.Get("Event") }

// Response returns the value of the Response field ("Success", "Error",
// "Goodbye", or "Follows" for the Command output of Asterisk 13), or "".
// Some events also carry a Response field (OriginateResponse does), so use
// [Message.IsResponse] to classify a message.
func (m *Message) Response() string { return m.Get("Response") }

// IsEvent reports whether the message is an event: it has an Event field.
func (m *Message) IsEvent() bool { return m.Has("Event") }

// IsResponse reports whether the message is the response to an action: it
// has a Response field and no Event field. Classifying by Event first is
// what Asterisk's own conventions require, since events such as
// OriginateResponse carry a Response field too.
func (m *Message) IsResponse() bool { return !m.IsEvent() && m.Has("Response") }

// String returns the message in wire form: every field as "Key: Value\r\n"
// followed by an empty line, exactly as [Encoder] writes it. Fields are not
// validated; use an Encoder to reject values that contain CR or LF.
func (m *Message) String() string {
	return string(appendMessage(nil, m))
}

// equalFold reports whether a and b are equal under ASCII case folding.
// AMI keys are ASCII; a non-ASCII byte compares only equal to itself.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca|0x20 != cb|0x20 || ca|0x20 < 'a' || ca|0x20 > 'z' {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s begins with prefix under ASCII case folding.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix)
}
