package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/poller"
)

// defaultRingTimeout is Asterisk's own default of Originate's Timeout.
const defaultRingTimeout = 30 * time.Second

// originateCommand is "amihttp originate".
var originateCommand = &command{
	name:    "originate",
	summary: "place a call and follow its events until it hangs up",
	help: `
Originate calls --channel and, once it answers, connects it to a dialplan
extension (--context, --exten, --priority) or runs an application on it
(--app, --data), as the Asterisk book's amioriginate script does. Then it
follows the call: it prints each event of the call's channels (the
channels that share the Linkedid of the originated channel, so both halves
of a Local channel and whatever the call dials) until all of them have
hung up, then exits with status 0.

The event poller is started before the Originate is sent, so that no event
of the call is missed. Without --async, Asterisk answers the Originate
once the channel has answered or failed (within --ring-timeout); with
--async it answers at once, and the outcome comes as an OriginateResponse
event, which originate waits for. A failed call (Asterisk's "Originate
failed", or an OriginateResponse with Response: Failure) ends with status 1
and Asterisk's message or the failure's reason on stderr. Ctrl-C stops
following the call, which goes on, and exits with status 0.

The originated channel gets --channel-id as its Uniqueid (Asterisk's
ChannelId), which is how the call is recognised; Asterisk 12 and later
honour it. Events are printed one per line for people, or as JSON lines with
--json (then the other messages go to stderr).

	amihttp originate --channel PJSIP/100 --context default --exten 200
	amihttp originate --channel Local/100@test --app Echo --async
	amihttp originate --channel Local/101@test --context test --exten 101 --var a=1 --var b=2 --callerid 'Bob <200>'
`,
	setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		var conn connFlags
		conn.register(fs, fromEnv)
		var o httpami.Originate
		var vars kvFlag
		fs.StringVar(&o.Channel, "channel", "", "the `channel` to call, as Tech/data: PJSIP/100, Local/100@test (required)")
		fs.StringVar(&o.Context, "context", "", "the dialplan `context` to connect the call to, with --exten")
		fs.StringVar(&o.Exten, "exten", "", "the `extension` to connect the call to, with --context")
		fs.StringVar(&o.Priority, "priority", "1", "the `priority` (a number or a label) of --exten")
		fs.StringVar(&o.Application, "app", "", "the `application` to run on the answered channel, in place of --exten")
		fs.StringVar(&o.Data, "data", "", "the `argument` of --app")
		fs.StringVar(&o.CallerID, "callerid", "", "the caller ID of the call, as `\"Name <number>\"`")
		fs.DurationVar(&o.Timeout, "ring-timeout", defaultRingTimeout, "how long --channel may ring before the call fails, as a `duration`")
		fs.Var(&vars, "var", "set the channel variable `name=value` on the new channel; repeatable")
		fs.StringVar(&o.Account, "account", "", "the CDR account `code` of the call")
		fs.BoolVar(&o.Async, "async", false, "let Asterisk answer at once and report the outcome in an OriginateResponse event")
		channelID := fs.String("channel-id", "", "the Uniqueid to give the originated channel (default: amihttp- and a random `id`)")
		asJSON := fs.Bool("json", false, "print the call's events as JSON lines")
		follow := fs.Bool("follow", true, "follow the call's events until it hangs up; with --follow=false,\nexit once the call is answered (or, with --async, its OriginateResponse came)")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			switch {
			case o.Channel == "":
				return usagef("--channel is required")
			case (o.Exten == "") == (o.Application == ""):
				return usagef("give either --context and --exten, or --app")
			case o.Exten != "" && o.Context == "":
				return usagef("--exten needs --context")
			case o.Application == "" && o.Data != "":
				return usagef("--data needs --app")
			case o.Timeout <= 0:
				return usagef("--ring-timeout must be positive")
			}
			if o.Application != "" {
				o.Priority = ""
			}
			for _, kv := range vars {
				if o.Variable == nil {
					o.Variable = map[string]string{}
				}
				o.Variable[kv.Key] = kv.Value
			}
			o.ChannelID = *channelID
			if o.ChannelID == "" {
				o.ChannelID = newChannelID()
			}
			c, err := conn.client(e)
			if err != nil {
				return err
			}
			defer closeClient(ctx, c)
			p, err := poller.New(c)
			if err != nil {
				return err
			}
			defer p.Close()
			if err := p.Start(ctx); err != nil {
				if interrupted(ctx) {
					return nil
				}
				return err
			}
			info := e.stdout
			if *asJSON {
				info = e.stderr
			}
			f := &follower{e: e, info: info, c: c, p: p, o: o, asJSON: *asJSON, timeout: conn.timeout, start: time.Now()}
			return f.run(ctx, *follow)
		}
	},
}

// newChannelID returns a ChannelId unlikely to be taken: "amihttp-" and
// 16 random hex digits.
func newChannelID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	return "amihttp-" + hex.EncodeToString(b[:])
}

// A follower originates a call and follows it.
type follower struct {
	e       *env
	info    io.Writer // where the lines that are not events go
	c       *httpami.Client
	p       *poller.Poller
	o       httpami.Originate
	asJSON  bool
	timeout time.Duration // of each action
	start   time.Time
}

// run sends the Originate, waits for its outcome and, if follow, prints the
// call's events until it has hung up or ctx ends.
func (f *follower) run(ctx context.Context, follow bool) error {
	dest := f.o.Application + "(" + f.o.Data + ")"
	if f.o.Application == "" {
		dest = f.o.Exten + "@" + f.o.Context + " priority " + f.o.Priority
	}
	mode := "sync"
	if f.o.Async {
		mode = "async"
	}
	fmt.Fprintf(f.info, "originate: calling %s, then %s (%s, ChannelId %s)\n", f.o.Channel, dest, mode, f.o.ChannelID)

	// A synchronous Originate holds its request until the call is
	// answered or fails: allow the ring timeout on top.
	limit := f.timeout
	if !f.o.Async {
		limit += f.o.Timeout
	}
	actx, cancel := context.WithTimeout(ctx, limit)
	resp, err := f.c.Originate(actx, f.o)
	cancel()
	if err != nil {
		if interrupted(ctx) {
			return nil
		}
		return err
	}
	fmt.Fprintf(f.info, "originate: %s: %s\n", resp.Status(), resp.Message())

	cl := newCall(f.o.ChannelID)
	if f.o.Async {
		actx, cancel := context.WithTimeout(ctx, f.o.Timeout+f.timeout)
		ev, err := f.p.Await(actx, resp.ActionID, "OriginateResponse")
		cancel()
		switch {
		case err != nil && interrupted(ctx):
			return nil
		case errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("originate: no OriginateResponse within %v: %w", f.o.Timeout+f.timeout, err)
		case err != nil:
			return fmt.Errorf("originate: waiting for the OriginateResponse: %w", err)
		}
		if !strings.EqualFold(ev.Get("Response"), "Success") {
			return &callFailedError{Channel: f.o.Channel, Reason: ev.Get("Reason")}
		}
		cl.identify(ev.Get("Uniqueid"))
		fmt.Fprintf(f.info, "originate: answered: %s (Uniqueid %s)\n", ev.Get("Channel"), ev.Get("Uniqueid"))
	}
	if !follow {
		return nil
	}
	return f.follow(ctx, cl)
}

// follow prints the events of cl until every channel of the call has hung
// up. The call is known by the ChannelId it was given, which Asterisk 12
// and later (and the fake) make the Uniqueid of its first channel and the
// Linkedid of the others.
func (f *follower) follow(ctx context.Context, cl *call) error {
	for {
		var ev poller.Event
		var ok bool
		select {
		case ev, ok = <-f.p.Events():
		case <-ctx.Done():
			fmt.Fprintln(f.info, "originate: stopped following the call, which goes on")
			return nil
		}
		if !ok {
			if interrupted(ctx) {
				return nil
			}
			if err := f.p.Err(); err != nil {
				return err
			}
			return errors.New("originate: the poller stopped")
		}
		if ev.Gap != nil {
			if err := printGap(f.e.stderr, ev.Gap); err != nil {
				return err
			}
			if over, err := f.resync(ctx, cl); err != nil || over {
				return err
			}
			continue
		}
		m := ev.Message
		if !cl.belongs(m) {
			continue
		}
		cl.observe(m)
		if err := f.print(ev); err != nil {
			return err
		}
		if cl.over() {
			fmt.Fprintf(f.info, "originate: the call has hung up (%d channels, %.3fs)\n", cl.hungUp, time.Since(f.start).Seconds())
			return nil
		}
	}
}

// resync lists the channels after a gap, since Hangup events may be lost:
// it reports whether none of the call's channels is left.
func (f *follower) resync(ctx context.Context, cl *call) (bool, error) {
	actx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	chans, _, err := f.c.CoreShowChannels(actx)
	if err != nil {
		if interrupted(ctx) {
			return true, nil
		}
		return false, fmt.Errorf("originate: listing the channels after a gap: %w", err)
	}
	live := map[string]string{}
	for _, ch := range chans {
		if cl.ids[ch.LinkedID] || cl.ids[ch.UniqueID] {
			live[ch.UniqueID] = ch.Channel
		}
	}
	cl.live = live
	if cl.started && len(live) == 0 {
		fmt.Fprintf(f.info, "originate: the call has hung up (found after a gap, %.3fs)\n", time.Since(f.start).Seconds())
		return true, nil
	}
	return false, nil
}

// print writes one event of the call.
func (f *follower) print(ev poller.Event) error {
	var err error
	if f.asJSON {
		err = writeJSONLine(f.e.stdout, ev.Message)
	} else {
		_, err = io.WriteString(f.e.stdout, formatEvent(f.start, ev.Received, ev.Message)+"\n")
	}
	if err != nil {
		return fmt.Errorf("printing an event: %w", err)
	}
	return nil
}

// A callFailedError is an OriginateResponse with Response: Failure.
type callFailedError struct {
	Channel string
	Reason  string // Asterisk's Reason, a number
}

// Error describes the failure with Asterisk's Reason.
func (e *callFailedError) Error() string {
	return fmt.Sprintf("originate: the call to %s failed: %s (Reason %s)", e.Channel, reasonText(e.Reason), e.Reason)
}

// reasonText describes the Reason of an OriginateResponse: the last control
// frame Asterisk saw on the channel.
func reasonText(reason string) string {
	switch reason {
	case "0":
		return "no such channel or extension, or the channel failed"
	case "1":
		return "hung up before answering"
	case "3":
		return "no answer"
	case "4":
		return "answered"
	case "5":
		return "busy"
	case "8":
		return "congestion"
	}
	return "failed"
}

// isEvent reports whether m is the event named name.
func isEvent(m *rawman.Message, name string) bool { return strings.EqualFold(m.Event(), name) }
