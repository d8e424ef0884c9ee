package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/poller"
)

// demoLiveFor bounds how long the demo shows the call's events before it
// lists the channels, should the dialplan's UserEvent not come.
const demoLiveFor = 3 * time.Second

// demoCommand is "amihttp demo".
var demoCommand = &command{
	name:    "demo",
	summary: "take a tour of AMI over HTTP, with a fake Asterisk in the process",
	help: `
Demo starts the fake Asterisk of "amihttp fake" inside the process and
takes a tour of it with the client and the event poller: log in, Ping,
CoreSettings, start the poller, originate a call (--channel, running the
Echo application once answered), show its events as they come,
list the channels while it is up, hang it up and watch it end, log off.
Each step prints what happened, when, and the HTTP round trips it took;
a summary ends the tour. It takes about a second.

With --url, the tour visits that Asterisk instead (AMIHTTP_URL is not
read, so that a plain "amihttp demo" always runs on the fake). The call's
channel must then answer: the default, Local/100@test, needs the
dialplan of the project's reference configuration.

	go run ./cmd/amihttp demo
	amihttp demo --url http://hello:world@127.0.0.1:8088/ --channel Local/100@test
`,
	setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		var conn connFlags
		conn.register(fs, "a fake Asterisk in the process ($"+envURL+" is not read)")
		channel := fs.String("channel", "Local/100@test", "the `channel` to call")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			d := &demo{e: e, w: e.stdout, channel: *channel, timeout: conn.timeout}
			var cfg httpami.Config
			var err error
			if conn.url == "" {
				srv := httpamitest.NewServer()
				defer srv.Close()
				d.srv = srv
				cfg, err = conn.parse(e, fakeURL(srv, ""), "the fake's URL")
			} else {
				cfg, err = conn.parse(e, conn.url, "--url")
			}
			if err != nil {
				return err
			}
			return d.run(ctx, cfg)
		}
	},
}

// A demo is one run of the tour.
type demo struct {
	e       *env
	w       io.Writer
	channel string
	timeout time.Duration
	srv     *httpamitest.Server // nil with --url
	p       *poller.Poller

	client, poll *countingTransport // the round trips of the client and of the poller
	start        time.Time
	step         int
	stepStart    time.Time
	stepClient   int64 // the client's round trips when the step began
	stepPoll     int64 // the poller's
}

// begin starts a numbered step.
func (d *demo) begin(title string) {
	d.step++
	d.stepStart = time.Now()
	d.stepClient, d.stepPoll = d.client.n.Load(), d.poll.n.Load()
	fmt.Fprintf(d.w, "\n[%+.3fs] %d. %s\n", d.stepStart.Sub(d.start).Seconds(), d.step, title)
}

// say prints a line of the step.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.w, "           "+format+"\n", args...)
}

// end prints the round trips and the time the step took.
func (d *demo) end() {
	c, p := d.client.n.Load()-d.stepClient, d.poll.n.Load()-d.stepPoll
	var parts []string
	if c > 0 || p == 0 {
		parts = append(parts, plural(c, "round trip"))
	}
	if p > 0 {
		parts = append(parts, plural(p, "poller request"))
	}
	d.say("-> %s in %v", strings.Join(parts, " + "), time.Since(d.stepStart).Round(10*time.Microsecond))
}

// plural returns "1 round trip" or "3 round trips".
func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// actx returns the context of one action.
func (d *demo) actx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.timeout)
}

// run takes the tour of the Asterisk that cfg names.
func (d *demo) run(ctx context.Context, cfg httpami.Config) error {
	d.start = time.Now()
	d.client, d.poll = newCountingTransport(cfg.TLSConfig), newCountingTransport(cfg.TLSConfig)
	defer d.client.CloseIdleConnections()
	defer d.poll.CloseIdleConnections()
	ccfg, pcfg := cfg, cfg
	ccfg.Transport, pcfg.Transport = d.client, d.poll
	ccfg.TLSConfig, pcfg.TLSConfig = nil, nil

	fmt.Fprintln(d.w, "amihttp demo: a tour of the Asterisk Manager Interface over HTTP")
	fmt.Fprintln(d.w)
	if d.srv != nil {
		fmt.Fprintf(d.w, "A fake Asterisk %s runs in this process on %s\n", httpamitest.Asterisk23, d.srv.URL)
		fmt.Fprintln(d.w, "('amihttp fake' serves the same on a port of its own, for any language).")
	} else {
		fmt.Fprintf(d.w, "Asterisk at %s\n", cfg.URL)
	}
	fmt.Fprintf(d.w, "The client logs in as %s (%s auth, %s encoding); the event poller\n", cfg.Username, authOf(cfg), encodingOf(cfg))
	fmt.Fprintln(d.w, "keeps a session of its own for WaitEvent.")

	c, err := httpami.New(ccfg)
	if err != nil {
		return err
	}
	defer closeClient(ctx, c)
	pc, err := httpami.New(pcfg)
	if err != nil {
		return err
	}
	defer closeClient(ctx, pc)

	// 1. Log in.
	d.begin("Log in")
	actx, cancel := d.actx(ctx)
	resp, err := c.Login(actx)
	cancel()
	if err != nil {
		return fmt.Errorf("demo: logging in: %w", err)
	}
	d.say("Login: %s, %q", resp.Status(), resp.Message())
	for _, m := range resp.Other {
		d.say("beside it, the event %s", m.Event())
	}
	d.end()

	// 2. Ping.
	d.begin("Ping")
	actx, cancel = d.actx(ctx)
	resp, err = c.Action(actx, "Ping")
	cancel()
	if err != nil {
		return fmt.Errorf("demo: Ping: %w", err)
	}
	d.say("Ping: %s, Timestamp %s", resp.Get("Ping"), resp.Get("Timestamp"))
	d.end()

	// 3. Core settings.
	d.begin("Core settings")
	actx, cancel = d.actx(ctx)
	cs, err := c.CoreSettings(actx)
	cancel()
	if err != nil {
		return fmt.Errorf("demo: CoreSettings: %w", err)
	}
	d.say("Asterisk %s, AMI %s, HTTP enabled: %v", cs.AsteriskVersion, cs.AMIVersion, cs.CoreHTTPEnabled)
	if cs.SystemName != "" || cs.CoreRunUser != "" {
		d.say("system name %q, run by user %q", cs.SystemName, cs.CoreRunUser)
	}
	d.end()

	// 4. The poller.
	d.begin("Start the event poller")
	p, err := poller.New(pc)
	if err != nil {
		return err
	}
	defer p.Close()
	d.p = p
	if err := p.Start(ctx); err != nil {
		return fmt.Errorf("demo: starting the poller: %w", err)
	}
	d.say("its own session logged in; one WaitEvent always waits in Asterisk for the next events")
	d.end()

	// 5. Originate.
	d.begin("Originate a call")
	o := httpami.Originate{Channel: d.channel, Application: "Echo", Async: true}
	actx, cancel = d.actx(ctx)
	resp, err = c.Originate(actx, o)
	cancel()
	if err != nil {
		return fmt.Errorf("demo: Originate: %w", err)
	}
	d.say("Originate %s, Application Echo, Async: %s, %q", o.Channel, resp.Status(), resp.Message())
	actx, cancel = context.WithTimeout(ctx, defaultRingTimeout+d.timeout)
	or, err := p.Await(actx, resp.ActionID, "OriginateResponse")
	cancel()
	if err != nil {
		return fmt.Errorf("demo: waiting for the OriginateResponse: %w", err)
	}
	if !strings.EqualFold(or.Get("Response"), "Success") {
		return &callFailedError{Channel: o.Channel, Reason: or.Get("Reason")}
	}
	chName, uid := or.Get("Channel"), or.Get("Uniqueid")
	d.say("OriginateResponse (an event, matched by ActionID): %s, %s answered, Uniqueid %s", or.Get("Response"), chName, uid)
	d.end()

	// 6. Live events, until the dialplan's UserEvent.
	cl := newCall(uid)
	d.begin("The call's events, live")
	sawUser := false
	err = d.events(ctx, cl, demoLiveFor, func(m *rawman.Message) bool {
		if isEvent(m, "UserEvent") {
			sawUser = true
		}
		return sawUser
	})
	if err != nil {
		return err
	}
	d.end()

	// 7. List channels.
	d.begin("List the channels")
	actx, cancel = d.actx(ctx)
	chans, _, err := c.CoreShowChannels(actx)
	cancel()
	if err != nil {
		return fmt.Errorf("demo: CoreShowChannels: %w", err)
	}
	d.say("%-32s %-6s %-20s %s", "Channel", "State", "Application", "Duration")
	for _, ch := range chans {
		d.say("%-32s %-6s %-20s %v", ch.Channel, ch.ChannelStateDesc, ch.Application+"("+ch.ApplicationData+")", ch.Duration)
	}
	d.say("%s", plural(int64(len(chans)), "channel"))
	d.end()

	// 8. Hang up, and watch the call end.
	d.begin("Hang up")
	actx, cancel = d.actx(ctx)
	resp, err = c.Hangup(actx, httpami.Hangup{Channel: chName})
	cancel()
	if err != nil {
		return fmt.Errorf("demo: Hangup: %w", err)
	}
	d.say("Hangup %s: %s, %q", chName, resp.Status(), resp.Message())
	err = d.events(ctx, cl, d.timeout, func(*rawman.Message) bool { return cl.over() })
	if err != nil {
		return err
	}
	if cl.over() {
		d.say("every channel of the call has hung up")
	}
	d.end()

	// 9. Log off.
	d.begin("Log off")
	actx, cancel = d.actx(ctx)
	resp, err = c.Logoff(actx)
	cancel()
	if err != nil {
		return fmt.Errorf("demo: Logoff: %w", err)
	}
	d.say("Logoff: %s, %q", resp.Status(), resp.Message())
	d.end()

	st := p.Stats()
	fmt.Fprintf(d.w, "\nDone in %v: the client made %s; the poller %s (%d WaitEvent answers, %d events delivered, %d gaps).\n",
		time.Since(d.start).Round(time.Millisecond), plural(d.client.n.Load(), "round trip"), plural(d.poll.n.Load(), "request"),
		st.WaitEvents, st.Delivered, st.Gaps)
	if d.srv != nil {
		fmt.Fprintf(d.w, "The fake counted %s in all. Next: 'amihttp fake', then 'amihttp events' and 'amihttp originate'.\n",
			plural(int64(d.srv.Requests("")), "request"))
	}
	return nil
}

// events prints the events of cl as they come, until done says so after an
// event of the call, or for at most limit.
func (d *demo) events(ctx context.Context, cl *call, limit time.Duration, done func(*rawman.Message) bool) error {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-timer.C:
			d.say("(no more within %v)", limit)
			return nil
		case ev, ok := <-d.p.Events():
			if !ok {
				return errors.New("demo: the poller stopped")
			}
			if ev.Gap != nil {
				d.say("gap: %v", ev.Gap)
				continue
			}
			if !cl.belongs(ev.Message) {
				continue
			}
			cl.observe(ev.Message)
			d.say("%s", formatEvent(d.start, ev.Received, ev.Message))
			if done(ev.Message) {
				return nil
			}
		}
	}
}

// authOf names the authentication of cfg.
func authOf(cfg httpami.Config) httpami.Auth {
	if cfg.Auth == "" {
		return httpami.Cookie
	}
	return cfg.Auth
}

// encodingOf names the encoding of cfg.
func encodingOf(cfg httpami.Config) httpami.Encoding {
	if cfg.Encoding == "" {
		return httpami.Rawman
	}
	return cfg.Encoding
}
