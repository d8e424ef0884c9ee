package poller

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
)

// Defaults of the options.
const (
	// DefaultBuffer is how many events wait for the consumer before the
	// Policy applies.
	DefaultBuffer = 4096
	// DefaultHTTPTimeout is manager.conf's default httptimeout.
	DefaultHTTPTimeout = 60 * time.Second
	// DefaultWaitTimeout is the WaitEvent Timeout with the default
	// httptimeout: Asterisk caps it at httptimeout − 10 s minus the
	// time since the session's last answer (spec §5.1), so 40 s leaves
	// 10 s to spare.
	DefaultWaitTimeout = 40 * time.Second
	// DefaultBackoffMin and DefaultBackoffMax bound the wait between
	// attempts while Asterisk cannot be reached: it doubles from the
	// minimum to the maximum, with jitter, and starts again from the
	// minimum after an answer.
	DefaultBackoffMin = 100 * time.Millisecond
	DefaultBackoffMax = 10 * time.Second
)

// An Option configures a Poller.
type Option func(*options) error

type serverFilter struct{ pattern, criteria string }

type options struct {
	buffer      int
	policy      Policy
	waitTimeout time.Duration // 0: derived from httpTimeout
	httpTimeout time.Duration
	mask        string
	filters     []serverFilter
	accept      func(*rawman.Message) bool
	shared      bool
	backoffMin  time.Duration
	backoffMax  time.Duration
	logger      *slog.Logger
	now         func() time.Time
}

// WithBuffer sets how many received events may wait for the consumer
// (default DefaultBuffer). With Block, one WaitEvent answer may exceed
// it: events already read are never dropped.
func WithBuffer(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("poller: WithBuffer(%d): need at least 1", n)
		}
		o.buffer = n
		return nil
	}
}

// WithPolicy chooses what happens when the buffer is full (default
// Block).
func WithPolicy(p Policy) Option {
	return func(o *options) error {
		if p != Block && p != DropOldest {
			return fmt.Errorf("poller: WithPolicy(%d): unknown policy", int(p))
		}
		o.policy = p
		return nil
	}
}

// WithHTTPTimeout tells the poller manager.conf's httptimeout (default
// 60 s), which bounds a session's idle life and Asterisk's WaitEvent
// timeout. The poller derives from it the WaitEvent Timeout (httptimeout
// − 20 s, from 1 s to 40 s, unless WithWaitTimeout says) and how long
// the consumer may hold it before the session may be gone.
func WithHTTPTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < time.Second {
			return fmt.Errorf("poller: WithHTTPTimeout(%v): need at least 1s", d)
		}
		o.httpTimeout = d
		return nil
	}
}

// WithWaitTimeout sets the Timeout of each WaitEvent, in whole seconds.
// Asterisk caps it at httptimeout − 10 s (less the time since the
// session's last answer), so a longer one gains nothing. 0 makes every
// WaitEvent a poll that returns at once, which the poller then spaces
// out. With a Config.HTTPClient whose Timeout is set, the Timeout is
// kept 5 s under it.
func WithWaitTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("poller: WithWaitTimeout(%v): negative", d)
		}
		o.waitTimeout = d.Truncate(time.Second)
		if o.waitTimeout == 0 {
			o.waitTimeout = -1 // set, and zero
		}
		return nil
	}
}

// WithEventMask sets the session's event mask: "on", or a
// comma-separated list of classes such as "call,user" (spec §5.5).
// Asterisk then sends only events of those classes. The poller sets it
// again on every new session. An "off" mask is refused: Asterisk turns
// it into "on" at the next WaitEvent.
func WithEventMask(mask string) Option {
	return func(o *options) error {
		switch mask {
		case "":
			return fmt.Errorf("poller: WithEventMask: empty mask")
		case "off", "no", "false":
			return fmt.Errorf("poller: WithEventMask(%q): WaitEvent turns an off mask on", mask)
		}
		o.mask = mask
		return nil
	}
}

// WithServerFilter adds a Filter action to the session, so that
// Asterisk sends only the events it lets through (see
// httpami.Client.Filter for pattern and matchCriteria). The poller adds
// its filters again on every new session. The user needs the write class
// system; without it the poller does not start.
func WithServerFilter(pattern, matchCriteria string) Option {
	return func(o *options) error {
		if pattern == "" {
			return fmt.Errorf("poller: WithServerFilter: empty pattern")
		}
		o.filters = append(o.filters, serverFilter{pattern, matchCriteria})
		return nil
	}
}

// WithFilter sets a predicate that every event must pass to reach the
// channel; events it rejects are counted in Stats.Filtered. It runs on
// the poller's goroutine and must not block. Poller.Await sees events
// before the predicate.
func WithFilter(accept func(*rawman.Message) bool) Option {
	return func(o *options) error {
		o.accept = accept
		return nil
	}
}

// WithSharedSession makes the poller run its WaitEvents on the Client's
// own session rather than on a session of its own. It saves a Login and
// a session, but the Client's and the poller's fates are then tied: a
// Close or Logoff of the Client ends the poller's session, an event mask
// or filter set for one applies to both, and a WaitEvent sent by anyone
// else on that session kicks the poller's (spec §5.4). After a lost
// session, the Client sends the WaitEvent again at once on the new
// session, before the poller sets its mask and filters there: that
// first answer may carry events they would have held back. A digest
// Client cannot share its session, since each nonce of its pool is
// one: New then fails.
func WithSharedSession() Option {
	return func(o *options) error {
		o.shared = true
		return nil
	}
}

// WithBackoff bounds the wait between attempts while Asterisk cannot be
// reached (defaults DefaultBackoffMin and DefaultBackoffMax).
func WithBackoff(minWait, maxWait time.Duration) Option {
	return func(o *options) error {
		if minWait <= 0 || maxWait < minWait {
			return fmt.Errorf("poller: WithBackoff(%v, %v): need 0 < min <= max", minWait, maxWait)
		}
		o.backoffMin, o.backoffMax = minWait, maxWait
		return nil
	}
}

// WithLogger sets the logger of warnings (gaps, failures, a slow
// consumer) and debug lines; the default is the Client's
// Config.Logger, or none.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.logger = l
		return nil
	}
}
