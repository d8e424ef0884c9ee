package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
)

// actionCommand is "amihttp action".
var actionCommand = &command{
	name:    "action",
	args:    "NAME [Key=Value ...]",
	summary: "send any action and print Asterisk's answer",
	topic:   actionTopic,
	help: `
Action sends the AMI action NAME with the parameters given as Key=Value
arguments, split at the first '=', in order; a key may repeat (Variable).
The client adds an ActionID unless one is given, and logs in first with
cookie or MD5 auth.

An action of the catalog ('amihttp actions' lists them) is checked before
anything is sent: a required parameter missing, or one the action does not
know, is a usage error (exit status 2) that names it. 'amihttp action NAME
--help' lists the parameters of NAME and tells which are required. An
action the catalog does not know, a custom module's, is sent unchecked.
The URL's parameter validate=warn sends such an action all the same, with
a warning on stderr, and validate=off skips the check; version=23.4.1
names the server's version, which the client otherwise asks for when the
check depends on it.

The answer is printed as rawman text, exactly as Asterisk's /rawman writes
it ("Key: Value" lines ended by CRLF, an empty line after each message):
the answer, then the items and completion event of a list action
(CoreShowChannels, Status, ...), then any other event of the answer's body.
With --json, each of those messages is printed as one JSON object on a line
of its own, fields in order, a repeated key as an array of its values.

When Asterisk answers "Response: Error", the answer is printed too, its
Message goes to stderr and the exit status is 1.

	amihttp action Ping
	amihttp action Getvar Variable=GLOBALVAR --json
	amihttp action Originate Channel=Local/100@test Application=Echo Async=true Variable=a=1 Variable=b=2
`,
	setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		var conn connFlags
		conn.register(fs, fromEnv)
		asJSON := fs.Bool("json", false, "print each message as a JSON object on a line of its own")
		return func(ctx context.Context, args []string) error {
			if len(args) == 0 {
				return usagef("missing the action's NAME")
			}
			a := httpami.Action{Name: args[0]}
			for _, s := range args[1:] {
				kv, err := parseKV(s)
				if err != nil {
					return &usageError{err}
				}
				a.Params = append(a.Params, kv)
			}
			cfg, err := conn.config(e)
			if err != nil {
				return err
			}
			if cfg.Validate == httpami.ValidateWarn && cfg.Logger == nil {
				// The warning that validate=warn asks for shows without -v.
				cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			}
			c, err := httpami.New(cfg)
			if err != nil {
				return err
			}
			defer closeClient(ctx, c)
			actx, cancel := context.WithTimeout(ctx, conn.timeout)
			defer cancel()
			resp, err := c.Do(actx, a)
			if ae, ok := errors.AsType[*httpami.ActionError](err); ok && resp == nil {
				resp = ae.Response
			}
			if resp != nil {
				if perr := printResponse(e.stdout, resp, *asJSON); perr != nil && err == nil {
					err = perr
				}
			}
			return err
		}
	},
}

// messages returns the messages of r in the order they are printed: the
// answer, a list's items and completion event, then the other events.
func messages(r *httpami.Response) []*rawman.Message {
	var ms []*rawman.Message
	if r.Answer != nil {
		ms = append(ms, r.Answer)
	}
	ms = append(ms, r.Events...)
	if r.Complete != nil {
		ms = append(ms, r.Complete)
	}
	return append(ms, r.Other...)
}

// printResponse writes the messages of r to w as rawman text, or as JSON
// lines.
func printResponse(w io.Writer, r *httpami.Response, asJSON bool) error {
	enc := rawman.NewEncoder(w)
	for _, m := range messages(r) {
		var err error
		if asJSON {
			err = writeJSONLine(w, m)
		} else {
			err = enc.Encode(m)
		}
		if err != nil {
			return fmt.Errorf("printing the answer: %w", err)
		}
	}
	return nil
}

// writeJSONLine writes v as JSON and a newline, in one Write call, with
// <, > and & as they are ("<unknown>" is common in AMI).
func writeJSONLine(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
