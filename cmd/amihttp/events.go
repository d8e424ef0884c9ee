package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/poller"
)

// eventsCommand is "amihttp events".
var eventsCommand = &command{
	name:    "events",
	summary: "print the events Asterisk publishes, as JSON lines",
	help: `
Events polls Asterisk's events with WaitEvent, on a manager session of its
own, and prints each event as one JSON object on a line of its own: its
fields in order, a key that appears more than once as an array of its values.
It runs until Ctrl-C (exit status 0), or until --count events were printed.

When events may have been lost (the session expired, Asterisk restarted or
could not be reached), a gap notice is printed to stderr as
"gap: " and a JSON object with the Reason, From, To and Duration of the gap.
An error that stops the poller for good (credentials refused) ends the
command with exit status 1.

--filter keeps the events that have a field Key whose value is Value
exactly (the key compared case-insensitively); given several times, an
event must match them all. --mask and --server-filter make Asterisk itself
send fewer events.

	amihttp events
	amihttp events --filter Event=Hangup --filter Context=test
	amihttp events --mask call,user --count 10
`,
	setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		var conn connFlags
		conn.register(fs, fromEnv)
		var filters kvFlag
		fs.Var(&filters, "filter", "print only the events with a field `Key=Value` (key case-insensitive,\nvalue exact); repeat to require several")
		mask := fs.String("mask", "", "the session's event `mask`: on, or classes such as call,user\n(default: the URL's events parameter, else every class the user reads)")
		var serverFilters listFlag
		fs.Var(&serverFilters, "server-filter", "a `regex` for Asterisk's Filter action (\"Event: Hangup\", \"!Event: VarSet\");\nrepeatable; needs the write class system")
		count := fs.Int("count", 0, "stop after `n` events (0: run until Ctrl-C)")
		return func(ctx context.Context, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			if *count < 0 {
				return usagef("--count must not be negative")
			}
			c, err := conn.client(e)
			if err != nil {
				return err
			}
			defer closeClient(ctx, c)
			var opts []poller.Option
			if *mask != "" {
				opts = append(opts, poller.WithEventMask(*mask))
			}
			for _, re := range serverFilters {
				opts = append(opts, poller.WithServerFilter(re, ""))
			}
			if len(filters) > 0 {
				opts = append(opts, poller.WithFilter(matchAll(filters)))
			}
			p, err := poller.New(c, opts...)
			if err != nil {
				return &usageError{err}
			}
			defer p.Close()
			if err := p.Start(ctx); err != nil {
				if interrupted(ctx) {
					return nil
				}
				return err
			}
			fmt.Fprintf(e.stderr, "events: polling %s; Ctrl-C stops\n", c.Config().URL)
			n := 0
			for ev := range p.Events() {
				if ev.Gap != nil {
					if err := printGap(e.stderr, ev.Gap); err != nil {
						return err
					}
					continue
				}
				if err := writeJSONLine(e.stdout, ev.Message); err != nil {
					return fmt.Errorf("printing an event: %w", err)
				}
				if n++; *count > 0 && n >= *count {
					return nil
				}
			}
			if interrupted(ctx) {
				return nil
			}
			return p.Err()
		}
	},
}

// matchAll returns a predicate that accepts the messages having, for each
// of filters, a field of that key (case-insensitively) with that value.
func matchAll(filters []rawman.Field) func(*rawman.Message) bool {
	return func(m *rawman.Message) bool {
		for _, f := range filters {
			found := false
			for v := range m.Values(f.Key) {
				if v == f.Value {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
}

// printGap writes a gap notice to w as "gap: " and its JSON.
func printGap(w io.Writer, g *poller.Gap) error {
	var b bytes.Buffer
	b.WriteString("gap: ")
	if err := writeJSONLine(&b, g); err != nil {
		return fmt.Errorf("printing a gap notice: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}
