package events

import (
	"errors"
	"reflect"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/internal/ascii"
)

// An Event is one of the generated event types.
type Event interface {
	// EventName returns the event's name as the catalog spells it, such
	// as "Hangup".
	EventName() string
}

// A Spec describes one event of the catalog.
type Spec struct {
	// Name is the event's name. Decode compares it case-insensitively:
	// the documented NewExten is sent as Newexten.
	Name string
	// Class lists the read classes (event mask words) it belongs to,
	// such as "call".
	Class []string
	// Versions lists the major versions of Asterisk covered by the
	// catalog that have it.
	Versions []int
	// Since lists the releases that introduced it, when documented.
	Since []string
	// Documented is false for events the catalog found only in
	// Asterisk's C source, or (Completes) only named by an action.
	Documented bool
	// Completes names the action whose event list it ends, for a
	// completion event the catalog does not document.
	Completes string
	// Snapshots lists the channel and bridge snapshots it carries.
	Snapshots []Snapshot
	// Fields lists its other keys.
	Fields []Field

	new func() Event
}

// A Snapshot is a channel or bridge snapshot in an event: Kind is
// "channel" or "bridge", Prefix is put in front of each of its keys.
type Snapshot struct {
	Kind   string
	Prefix string
}

// A Field describes one key of an event.
type Field struct {
	// Name is the key, prefix included.
	Name string
	// Versions lists the major versions that have it.
	Versions []int
	// Conditional marks a key sent only in some cases.
	Conditional bool
	// Multiple marks a key that may repeat.
	Multiple bool
	// Values lists the documented values, if any.
	Values []string
	// Observed is set for a key that the catalog lacks and a real
	// Asterisk sent: it says where it was seen.
	Observed string
}

// EnvelopeFields returns the keys of Envelope.
func EnvelopeFields() []Field { return envelope }

// SnapshotFields returns the keys of a snapshot of kind "channel" or
// "bridge", without prefix.
func SnapshotFields(kind string) []Field { return snapshots[kind] }

// Keys returns every key of the event but those of Envelope: its
// snapshots' keys with their prefix, then its other fields.
func (s *Spec) Keys() []string {
	var keys []string
	for _, sn := range s.Snapshots {
		for _, f := range snapshots[sn.Kind] {
			keys = append(keys, sn.Prefix+f.Name)
		}
	}
	for _, f := range s.Fields {
		keys = append(keys, f.Name)
	}
	return keys
}

// New returns a new zero value of the event's type, such as *Hangup.
func (s *Spec) New() Event { return s.new() }

// Type returns the event's Go type, such as Hangup.
func (s *Spec) Type() reflect.Type { return reflect.TypeOf(s.new()).Elem() }

// table finds the specs by name.
var table = ascii.NewTable(specs, func(s *Spec) string { return s.Name })

// Lookup returns the event name, compared case-insensitively.
func Lookup(name string) (*Spec, bool) { return table.Lookup(name) }

// All returns every event of the catalog, sorted by name. The Specs are
// shared: do not modify them.
func All() []*Spec { return table.All() }

// ErrNotEvent is returned by Decode for a message without an Event key.
var ErrNotEvent = errors.New("events: message has no Event key")

// Decode returns the event m holds as a pointer to its generated type,
// such as *Hangup, filled with rawman.Unmarshal (so it reads messages
// decoded from mxml too). An event the catalog does not know is returned
// as m itself, with no error; a message without an Event key gives m and
// ErrNotEvent. The headers of a UserEvent that are none of its fields go
// to its Headers (an `ami:",rest"` field).
func Decode(m *rawman.Message) (any, error) {
	if m == nil {
		return nil, ErrNotEvent
	}
	name := m.Get("Event")
	if name == "" {
		return m, ErrNotEvent
	}
	s, ok := Lookup(name)
	if !ok {
		return m, nil
	}
	v := s.new()
	return v, rawman.Unmarshal(m, v)
}
