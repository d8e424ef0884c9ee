package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/events"
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

--type keeps the events of the types it names (their Event key, case
ignored): repeat it or give a comma-separated list. The names are checked
against the catalog of events: an unknown one is a usage error that
suggests the nearest. --filter keeps the events that have a field Key whose
value is Value exactly (the key compared case-insensitively); given several
times, an event must match them all, and --type too. Both filter the events
amihttp receives; --mask and --server-filter make Asterisk itself send
fewer events (for instance --server-filter 'Event: Hangup', if the user has
the write class system).

--list lists the event types of the catalog instead, without Asterisk: the
name, its classes (the words of the event mask, "-" for none), the Asterisk
versions that have it, and "undocumented" for the events found only in
Asterisk's source. An argument, PATTERN, keeps the names that contain it
or, if it holds *, ? or [, match it, ignoring case.

	amihttp events
	amihttp events --type Hangup,Newchannel --count 10
	amihttp events --filter Event=Hangup --filter Context=test
	amihttp events --mask call,user --count 10
	amihttp events --list 'hangup*'
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
		var types listFlag
		fs.Var(&types, "type", "print only the events of this `name` (Hangup; case-insensitive); repeat it\nor give a comma-separated list; 'amihttp events --list' lists the names")
		list := fs.Bool("list", false, "list the event types of the catalog (whose names contain the argument), without Asterisk")
		return func(ctx context.Context, args []string) error {
			if *list {
				if len(args) > 1 {
					return usagef("unexpected argument %q: --list takes one PATTERN at most", args[1])
				}
				return listEvents(e.stdout, args)
			}
			if len(args) > 0 {
				return usagef("unexpected argument %q", args[0])
			}
			if *count < 0 {
				return usagef("--count must not be negative")
			}
			typeNames, err := eventTypes(types)
			if err != nil {
				return err
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
			if len(filters) > 0 || len(typeNames) > 0 {
				opts = append(opts, poller.WithFilter(matchTypes(typeNames, matchAll(filters))))
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

// eventTypes returns the event names of the --type flags, each value a
// comma-separated list, as the catalog spells them. An unknown name is a
// usage error that suggests the nearest ones.
func eventTypes(types []string) ([]string, error) {
	var names []string
	for _, t := range types {
		for name := range strings.SplitSeq(t, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				return nil, usagef("--type %q: an empty event name", t)
			}
			s, ok := events.Lookup(name)
			if !ok {
				msg := fmt.Sprintf("--type: unknown event %q", name)
				if near := suggestNames(name, catalogEventNames()); len(near) > 0 {
					msg += "; did you mean " + orList(near) + "?"
				}
				return nil, usagef("%s ('amihttp events --list' lists them)", msg)
			}
			if !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
	}
	return names, nil
}

// matchTypes returns a predicate that accepts the messages that next
// accepts and, unless names is empty, whose Event is one of names, case
// ignored.
func matchTypes(names []string, next func(*rawman.Message) bool) func(*rawman.Message) bool {
	return func(m *rawman.Message) bool {
		if len(names) > 0 {
			ev := m.Get("Event")
			if !slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, ev) }) {
				return false
			}
		}
		return next(m)
	}
}

// listEvents writes the columns of the catalog's events whose names match
// the PATTERN of args, if any, to w.
func listEvents(w io.Writer, args []string) error {
	var pattern string
	if len(args) > 0 {
		pattern = args[0]
	}
	match, err := nameMatcher(pattern)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	n := 0
	for _, s := range events.All() {
		if !match(s.Name) {
			continue
		}
		n++
		class := strings.Join(s.Class, ",")
		if class == "" {
			class = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s", s.Name, class, majorsShort(s.Versions))
		if !s.Documented {
			io.WriteString(tw, "\tundocumented")
		}
		io.WriteString(tw, "\n")
	}
	if n == 0 {
		return fmt.Errorf("no event of the catalog matches %q", pattern)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("printing the events: %w", err)
	}
	return nil
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
