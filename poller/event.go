package poller

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// An Event is one element of the channel Poller.Events returns: an AMI
// event, or a gap notice telling that events may be missing before the
// ones that follow.
type Event struct {
	// Message is the event as Asterisk wrote it (Event, Privilege,
	// Timestamp and its fields, in order); nil for a gap notice. It is
	// the consumer's to keep: the poller never reuses it.
	Message *rawman.Message
	// Received is when the WaitEvent answer that carried the event
	// arrived, or when the gap notice was made.
	Received time.Time
	// Gap is set, and Message nil, for a gap notice.
	Gap *Gap
}

// Name returns the event's name (its Event field), or "" for a gap
// notice.
func (e Event) Name() string {
	if e.Message == nil {
		return ""
	}
	return e.Message.Event()
}

// A Reason tells why events may be missing.
type Reason int

// The reasons of a Gap, from the most to the least severe: when several
// apply to one outage, a single Gap reports the most severe.
const (
	// SessionLost: the session's events were dropped by Asterisk: the
	// session expired, was purged, was logged off, or Asterisk
	// restarted, and the poller logged in again.
	SessionLost Reason = iota + 1
	// SlowConsumer: the consumer held the poller (the Block policy)
	// until the session may have expired, or until Asterisk's age purge
	// (2.5 × httptimeout) may have dropped queued events.
	SlowConsumer
	// AnswerLost: a WaitEvent answer was cut, garbled, timed out or
	// refused by a proxy: Asterisk had moved the session's cursor past
	// the events it carried.
	AnswerLost
	// ConnectionFailed: Asterisk could not be reached for longer than a
	// WaitEvent cycle (or, with digest auth, long enough for its session
	// to expire and be renewed silently).
	ConnectionFailed
	// Kicked: another WaitEvent on the same session replaced the
	// poller's (spec §5.4), and may have taken events.
	Kicked
	// Dropped: the DropOldest policy discarded events that the consumer
	// did not take in time; Gap.Dropped counts them.
	Dropped
)

var reasonNames = [...]string{
	SessionLost:      "session lost",
	SlowConsumer:     "slow consumer",
	AnswerLost:       "answer lost",
	ConnectionFailed: "connection failed",
	Kicked:           "kicked by another WaitEvent",
	Dropped:          "dropped by the DropOldest policy",
}

// String returns the reason in words, such as "session lost".
func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// MarshalText returns the reason in words, as String does, so that a Gap
// reads well in JSON.
func (r Reason) MarshalText() ([]byte, error) {
	if r <= 0 || int(r) >= len(reasonNames) {
		return nil, fmt.Errorf("poller: no name for %v", r)
	}
	return []byte(reasonNames[r]), nil
}

// UnmarshalText sets the reason from its words, as MarshalText writes
// them.
func (r *Reason) UnmarshalText(text []byte) error {
	for i, name := range reasonNames {
		if i > 0 && name == string(text) {
			*r = Reason(i)
			return nil
		}
	}
	return fmt.Errorf("poller: unknown gap reason %q", text)
}

// ErrGap is matched by every *Gap: Poller.Await returns a Gap when one
// happens while it waits, since the event it waits for may be lost.
var ErrGap = errors.New("poller: events may be missing")

// A Gap reports that events may be missing: those Asterisk published
// between From and To, or, for Dropped, those the poller received
// between From and To and discarded. The consumer should rebuild the
// state it derives from events, for example by listing channels with
// CoreShowChannels. A Gap is also an error, matching ErrGap.
type Gap struct {
	Reason Reason
	// From is the end of the last WaitEvent answer known complete.
	From time.Time
	// To is when events flowed again: the arrival of the first complete
	// answer after the trouble.
	To time.Time
	// Dropped is how many events the DropOldest policy discarded.
	Dropped int
	// Err is the error that began the trouble, if one did (a
	// *httpami.TransportError, httpami.ErrSessionLost, …).
	Err error
}

// Duration returns To − From: how long events may be missing.
func (g *Gap) Duration() time.Duration { return g.To.Sub(g.From) }

// Error describes the gap: "poller: events may be missing for 1.5s (session lost): …".
func (g *Gap) Error() string {
	s := fmt.Sprintf("poller: events may be missing for %v (%v", g.Duration().Round(time.Millisecond), g.Reason)
	if g.Reason == Dropped {
		s += fmt.Sprintf(", %d events", g.Dropped)
	}
	s += ")"
	if g.Err != nil {
		s += ": " + g.Err.Error()
	}
	return s
}

// MarshalJSON encodes the gap as an object, for logs and event buses:
//
//	{"Reason":"session lost","From":"2026-11-30T16:20:01.5Z","To":"2026-11-30T16:20:04.1Z","Duration":"2.6s","Error":"httpami: session lost"}
//
// Dropped is left out when zero, and Error when Err is nil. Unmarshalling
// that object into a Gap restores all but Err.
func (g *Gap) MarshalJSON() ([]byte, error) {
	v := struct {
		Reason   Reason
		From, To time.Time
		Duration string
		Dropped  int    `json:",omitempty"`
		Error    string `json:",omitempty"`
	}{Reason: g.Reason, From: g.From, To: g.To, Duration: g.Duration().Round(time.Millisecond).String(), Dropped: g.Dropped}
	if g.Err != nil {
		v.Error = g.Err.Error()
	}
	return json.Marshal(v)
}

// Is matches ErrGap.
func (g *Gap) Is(target error) bool { return target == ErrGap }

// Unwrap returns the error that began the trouble.
func (g *Gap) Unwrap() error { return g.Err }

// A Policy says what the poller does when the consumer does not take
// events as fast as Asterisk publishes them and the buffer is full.
type Policy int

const (
	// Block stops asking Asterisk for events until the consumer makes
	// room: backpressure. Asterisk keeps the events queued meanwhile,
	// but only as long as the session lives; if the consumer held the
	// poller so long that the session may have expired (httptimeout, or
	// less with digest auth), the poller logs a warning and reports a
	// SlowConsumer gap. The default: nothing is lost while the consumer
	// keeps up within httptimeout.
	Block Policy = iota
	// DropOldest keeps asking Asterisk for events and discards the
	// oldest undelivered ones to make room, counting them in
	// Stats.Dropped and reporting them in a Dropped gap notice ahead of
	// the events that follow. The session never expires for a slow
	// consumer.
	DropOldest
)

// Stats counts what a Poller did. Every counter only grows.
type Stats struct {
	Delivered uint64 // events the consumer received from the channel
	Dropped   uint64 // events discarded by the DropOldest policy
	Filtered  uint64 // events rejected by the WithFilter predicate
	Gaps      uint64 // gap notices sent
	// WaitEvents counts WaitEvent answers, Empty those without events
	// (normal: Asterisk wakes every WaitEvent for any event, and one
	// times out when nothing happens).
	WaitEvents uint64
	Empty      uint64
	// Kicked counts empty bodies: WaitEvents replaced by another on
	// the same session.
	Kicked uint64
	// Relogins counts new sessions after a lost one: Logins, and
	// digest sessions Asterisk renewed when it restarted.
	Relogins uint64
	// Failures counts WaitEvent requests that failed, and the other
	// requests of the loop (restoring the event mask and filters,
	// checking Asterisk's startup time with digest auth).
	Failures uint64
}
