package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/amihttp/amihttp/poller"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers the bridge sets on every message besides Nats-Msg-Id.
const (
	// HeaderRun is the bridge's run id, made at random when it starts.
	HeaderRun = "Ami-Run"
	// HeaderSeq is the message's place in the run: 0 for the start
	// notice, then 1, 2, … in the order the poller delivered events and
	// gap notices.
	HeaderSeq = "Ami-Seq"
	// HeaderReceived is when the poller received the event (RFC 3339
	// with nanoseconds).
	HeaderReceived = "Ami-Received"
	// HeaderGaps counts the gap notices of the run, this one included;
	// it is set on gap notices only.
	HeaderGaps = "Ami-Gaps"
)

// Reasons of the gap notices the bridge makes itself; the poller's own
// gaps carry poller.Reason's words ("session lost", …).
const (
	// ReasonBridgeStarted opens every run: the events published between
	// the previous run's end and this one's start were not seen by anyone.
	ReasonBridgeStarted = "bridge started"
	// ReasonNotPublished stands for an event that NATS refused for good
	// (larger than the server's max_payload, say).
	ReasonNotPublished = "not published"
)

// Defaults of Options.
const (
	DefaultPrefix         = "ami"
	DefaultStream         = "AMI"
	DefaultDuplicates     = 5 * time.Minute
	DefaultMaxAge         = 24 * time.Hour
	DefaultPublishTimeout = 5 * time.Second
	DefaultBackoffMin     = 100 * time.Millisecond
	DefaultBackoffMax     = 5 * time.Second
)

// Options configure a Bridge. The zero value takes every default.
type Options struct {
	// Prefix is the first token(s) of every subject (default "ami"):
	// events go to Prefix.events.<Event>, gap notices to Prefix.gaps.
	Prefix string
	// NoJetStream publishes with core NATS even if the server has
	// JetStream.
	NoJetStream bool
	// Stream is the name of the JetStream stream the bridge creates when
	// none captures its subjects yet (default "AMI"). An existing stream
	// that captures them is used as it is.
	Stream string
	// Duplicates is the deduplication window of a stream the bridge
	// creates (default 5 min): a message republished with the same id
	// within it is stored once. It must outlast a NATS outage.
	Duplicates time.Duration
	// MaxAge is how long a stream the bridge creates keeps messages
	// (default 24 h).
	MaxAge time.Duration
	// PublishTimeout bounds one publish attempt, the JetStream ack
	// included (default 5 s).
	PublishTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between attempts of a
	// failed publish: it doubles from the minimum to the maximum, with
	// jitter (defaults 100 ms and 5 s).
	BackoffMin, BackoffMax time.Duration
	// Logger receives warnings (failed publishes, the JetStream
	// fallback) and debug lines; nil discards them.
	Logger *slog.Logger
}

// Stats counts what a Bridge did.
type Stats struct {
	Events     uint64 // events published (acknowledged by JetStream, or written with core NATS)
	Gaps       uint64 // gap notices published, the start notice included
	Duplicates uint64 // publishes JetStream acknowledged as duplicates (a retry of one already stored)
	Retries    uint64 // publish attempts that failed and were tried again
	Refused    uint64 // events NATS refused for good, each replaced by a "not published" gap notice
}

// A Bridge publishes a poller's events and gap notices to NATS, in the
// order the poller delivers them: with JetStream when the server has it
// (each message acknowledged before the next is sent, under a message id
// that makes a republished message a duplicate), with core NATS otherwise.
type Bridge struct {
	nc     *nats.Conn
	js     jetstream.JetStream // nil: core NATS
	stream string
	opts   Options
	log    *slog.Logger
	run    string
	seq    uint64 // last sequence number used; Run's alone
	gaps   uint64 // gap notices so far; Run's alone

	started atomic.Bool
	stats   struct {
		events, gaps, duplicates, retries, refused atomic.Uint64
	}
}

// NewBridge returns a Bridge publishing on nc. Unless o.NoJetStream is
// set it asks the server for JetStream and finds the stream that captures
// the bridge's subjects, or creates one; if the server has no JetStream it
// falls back to core NATS and logs it once.
func NewBridge(ctx context.Context, nc *nats.Conn, o Options) (*Bridge, error) {
	o = o.withDefaults()
	if err := validPrefix(o.Prefix); err != nil {
		return nil, err
	}
	b := &Bridge{nc: nc, opts: o, log: o.Logger, run: crand.Text()}
	if o.NoJetStream {
		b.log.Info("publishing with core NATS (--no-jetstream)")
		return b, nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("eventbus: %w", err)
	}
	stream, err := b.ensureStream(ctx, js)
	switch {
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		b.log.Warn("JetStream is not enabled on the NATS server: publishing with core NATS (at most once, no deduplication)")
		return b, nil
	case err != nil:
		return nil, err
	}
	b.js, b.stream = js, stream
	b.log.Info("publishing with JetStream", "stream", stream, "run", b.run)
	return b, nil
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	def(&o.Duplicates, DefaultDuplicates)
	def(&o.MaxAge, DefaultMaxAge)
	def(&o.PublishTimeout, DefaultPublishTimeout)
	def(&o.BackoffMin, DefaultBackoffMin)
	def(&o.BackoffMax, DefaultBackoffMax)
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// validPrefix accepts a subject of one or more tokens without wildcards
// or white space.
func validPrefix(p string) error {
	for tok := range strings.SplitSeq(p, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n*>") {
			return fmt.Errorf("eventbus: invalid subject prefix %q", p)
		}
	}
	return nil
}

// ensureStream returns the name of the stream that captures the bridge's
// subjects, creating it if there is none.
func (b *Bridge) ensureStream(ctx context.Context, js jetstream.JetStream) (string, error) {
	if _, err := js.AccountInfo(ctx); err != nil {
		return "", fmt.Errorf("eventbus: JetStream account: %w", err)
	}
	gaps, events := b.GapSubject(), b.opts.Prefix+".events.Hangup"
	name, err := js.StreamNameBySubject(ctx, gaps)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        b.opts.Stream,
			Description: "AMI events and gap notices of one Asterisk, published by amihttp's eventbus",
			Subjects:    []string{b.opts.Prefix + ".>"},
			Storage:     jetstream.FileStorage,
			Duplicates:  b.opts.Duplicates,
			MaxAge:      b.opts.MaxAge,
		})
		if err != nil {
			return "", fmt.Errorf("eventbus: create stream %s: %w", b.opts.Stream, err)
		}
		b.log.Info("created JetStream stream", "stream", b.opts.Stream, "subjects", b.opts.Prefix+".>", "duplicates", b.opts.Duplicates)
		return b.opts.Stream, nil
	}
	if err != nil {
		return "", fmt.Errorf("eventbus: find stream of %s: %w", gaps, err)
	}
	if other, err := js.StreamNameBySubject(ctx, events); err != nil || other != name {
		return "", fmt.Errorf("eventbus: stream %s captures %s but not %s", name, gaps, events)
	}
	s, err := js.Stream(ctx, name)
	if err != nil {
		return "", fmt.Errorf("eventbus: stream %s: %w", name, err)
	}
	if d := s.CachedInfo().Config.Duplicates; d < b.opts.Duplicates {
		b.log.Warn("the stream's duplicate window is short: a retry after a longer NATS outage may be stored twice", "stream", name, "duplicates", d)
	}
	return name, nil
}

// JetStream reports whether the bridge publishes with JetStream, and the
// stream's name.
func (b *Bridge) JetStream() (stream string, ok bool) { return b.stream, b.js != nil }

// RunID returns the random id of this bridge's run, the first part of
// every message id.
func (b *Bridge) RunID() string { return b.run }

// GapSubject returns the subject of gap notices: Prefix.gaps.
func (b *Bridge) GapSubject() string { return b.opts.Prefix + ".gaps" }

// Subject returns the subject of an event named name: Prefix.events.name,
// and for a UserEvent Prefix.events.UserEvent.userEvent (the user's name,
// from the UserEvent field). Each name becomes one subject token: every
// character outside [A-Za-z0-9_-] is replaced by '_', and an empty name
// is "_".
func (b *Bridge) Subject(name, userEvent string) string {
	s := b.opts.Prefix + ".events." + token(name)
	if strings.EqualFold(name, "UserEvent") {
		s += "." + token(userEvent)
	}
	return s
}

// token makes s one NATS subject token.
func token(s string) string {
	if s == "" {
		return "_"
	}
	var sb strings.Builder
	for _, r := range s {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

// Stats returns the bridge's counters.
func (b *Bridge) Stats() Stats {
	return Stats{
		Events:     b.stats.events.Load(),
		Gaps:       b.stats.gaps.Load(),
		Duplicates: b.stats.duplicates.Load(),
		Retries:    b.stats.retries.Load(),
		Refused:    b.stats.refused.Load(),
	}
}

// Run publishes a "bridge started" notice, then every event and gap
// notice of events, in order, until events is closed (it then returns
// nil) or ctx ends (it returns ctx's error). A publish that fails is tried
// again, under the same message id, until it succeeds or ctx ends;
// meanwhile the poller's Block policy holds the events back, and if that
// lasts until Asterisk may have dropped some, the poller's gap notice is
// published in turn. Run may be called once; it returns an error if
// the NATS connection is closed under it.
func (b *Bridge) Run(ctx context.Context, events <-chan poller.Event) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("eventbus: Run called twice")
	}
	if err := b.publishStart(ctx, time.Now()); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			b.seq++
			if err := b.publishEvent(ctx, b.seq, ev); err != nil {
				if ctx.Err() == nil {
					return err
				}
				b.log.Warn("stopped while publishing: the message may not have been published", "seq", b.seq, "event", ev.Name())
				return ctx.Err()
			}
		}
	}
}

// startNotice is the body of the notice that opens a run.
type startNotice struct {
	Reason string
	To     time.Time // when the run started
	Run    string
}

// refusedNotice is the body of the notice published in place of an event
// NATS refused for good.
type refusedNotice struct {
	Reason   string
	From, To time.Time // when the event was received
	Event    string
	Error    string
}

// publishStart publishes the notice that opens the run, with sequence
// number 0.
func (b *Bridge) publishStart(ctx context.Context, now time.Time) error {
	body, err := encode(startNotice{Reason: ReasonBridgeStarted, To: now.UTC(), Run: b.run})
	if err != nil {
		return err
	}
	return b.publishGap(ctx, 0, now, body)
}

// publishGap publishes body on the gap subject with sequence number seq.
func (b *Bridge) publishGap(ctx context.Context, seq uint64, received time.Time, body []byte) error {
	b.gaps++
	msg := b.message(b.GapSubject(), seq, received, body)
	msg.Header.Set(HeaderGaps, strconv.FormatUint(b.gaps, 10))
	if err := b.publish(ctx, msg); err != nil {
		b.gaps--
		return err
	}
	b.stats.gaps.Add(1)
	return nil
}

// publishEvent publishes the event or gap notice ev with sequence number
// seq. Called again with the same seq and ev (a retry), it publishes the
// same message under the same id.
func (b *Bridge) publishEvent(ctx context.Context, seq uint64, ev poller.Event) error {
	if ev.Gap != nil {
		body, err := encode(ev.Gap)
		if err != nil {
			return fmt.Errorf("eventbus: encode gap: %w", err)
		}
		b.log.Warn("publishing a gap notice", "seq", seq, "gap", ev.Gap.Error())
		return b.publishGap(ctx, seq, ev.Received, body)
	}
	m := ev.Message
	body, err := encode(m)
	if err == nil {
		err = b.publish(ctx, b.message(b.Subject(m.Event(), m.Get("UserEvent")), seq, ev.Received, body))
	}
	if err == nil {
		b.stats.events.Add(1)
		return nil
	}
	if !permanent(err) {
		return err
	}
	// Never lose an event silently: a gap notice takes its place.
	b.stats.refused.Add(1)
	b.log.Error("NATS refused an event: publishing a gap notice in its place", "seq", seq, "event", m.Event(), "err", err)
	body, err = encode(refusedNotice{Reason: ReasonNotPublished, From: ev.Received.UTC(), To: ev.Received.UTC(), Event: m.Event(), Error: err.Error()})
	if err != nil {
		return err
	}
	return b.publishGap(ctx, seq, ev.Received, body)
}

// encode returns the JSON of v, with <, > and & as they are: AMI values
// such as "<unknown>" stay readable.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// message returns the NATS message of body on subject, with the bridge's
// headers.
func (b *Bridge) message(subject string, seq uint64, received time.Time, body []byte) *nats.Msg {
	msg := nats.NewMsg(subject)
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, b.msgID(seq))
	msg.Header.Set(HeaderRun, b.run)
	msg.Header.Set(HeaderSeq, strconv.FormatUint(seq, 10))
	if !received.IsZero() {
		msg.Header.Set(HeaderReceived, received.UTC().Format(time.RFC3339Nano))
	}
	return msg
}

// msgID is the message id of sequence number seq in this run: the same
// for every attempt to publish that message, and for no other message.
func (b *Bridge) msgID(seq uint64) string {
	return b.run + "-" + strconv.FormatUint(seq, 10)
}

// permanent reports whether err will happen again however often the
// message is sent.
func permanent(err error) bool {
	return errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject) ||
		errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum) || errors.Is(err, jetstream.ErrInvalidSubject)
}

// errClosed is returned when the NATS connection is closed: no retry can
// succeed.
var errClosed = errors.New("eventbus: NATS connection closed")

// publish sends msg, and with JetStream waits for its ack. A failure is
// retried, with the same message (and id), after an exponential backoff
// with jitter, until it succeeds, ctx ends, the connection is closed or
// the failure is permanent.
func (b *Bridge) publish(ctx context.Context, msg *nats.Msg) error {
	for attempt := 0; ; attempt++ {
		err := b.publishOnce(ctx, msg)
		if err == nil {
			if attempt > 0 {
				b.log.Info("published after failures", "subject", msg.Subject, "id", msg.Header.Get(jetstream.MsgIDHeader), "attempts", attempt+1)
			}
			return nil
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case b.nc.IsClosed():
			return errClosed
		case permanent(err):
			return err
		}
		b.stats.retries.Add(1)
		wait := b.backoff(attempt)
		level := slog.LevelDebug
		if attempt == 0 {
			level = slog.LevelWarn
		}
		b.log.Log(ctx, level, "publish failed: trying again", "subject", msg.Subject, "id", msg.Header.Get(jetstream.MsgIDHeader), "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// publishOnce makes one attempt to publish msg.
func (b *Bridge) publishOnce(ctx context.Context, msg *nats.Msg) error {
	if b.js == nil {
		// Core NATS: written to the connection's buffer, which nats.go
		// keeps across a reconnect (up to its ReconnectBufSize).
		return b.nc.PublishMsg(msg)
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.PublishTimeout)
	defer cancel()
	ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithMsgID(msg.Header.Get(jetstream.MsgIDHeader)), jetstream.WithExpectStream(b.stream))
	if err != nil {
		return err
	}
	if ack.Duplicate {
		b.stats.duplicates.Add(1)
		b.log.Debug("JetStream had the message already", "subject", msg.Subject, "id", msg.Header.Get(jetstream.MsgIDHeader), "stream-seq", ack.Sequence)
	}
	return nil
}

// backoff returns the wait after the failed attempt number attempt
// (0-based): BackoffMin doubled attempt times, at most BackoffMax, then
// a random point between its half and itself.
func (b *Bridge) backoff(attempt int) time.Duration {
	d := b.opts.BackoffMax
	if attempt < 30 {
		d = min(b.opts.BackoffMin<<attempt, b.opts.BackoffMax)
	}
	return d/2 + rand.N(d/2+1)
}
