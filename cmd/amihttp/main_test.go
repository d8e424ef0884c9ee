package main

import (
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami/actions"
	lc "github.com/amihttp/amihttp/internal/leakcheck"
)

// TestParseInterleaved checks flags before, between and after the
// positional arguments.
func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args    []string
		pos     []string
		json    bool
		timeout string
	}{
		{[]string{"Ping"}, []string{"Ping"}, false, ""},
		{[]string{"Ping", "--json"}, []string{"Ping"}, true, ""},
		{[]string{"--json", "Ping"}, []string{"Ping"}, true, ""},
		{[]string{"Setvar", "--json", "Variable=x", "--url", "u", "Value=-1"}, []string{"Setvar", "Variable=x", "Value=-1"}, true, "u"},
		{[]string{"Setvar", "--", "--json", "-x"}, []string{"Setvar", "--json", "-x"}, false, ""},
		{[]string{"A", "-", "B"}, []string{"A", "-", "B"}, false, ""},
		{nil, nil, false, ""},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "")
		u := fs.String("url", "", "")
		pos, err := parseInterleaved(fs, tt.args)
		require.NoError(t, err, "parseInterleaved(%q)", tt.args)
		assert.Equal(t, tt.pos, pos, "parseInterleaved(%q)", tt.args)
		assert.Equal(t, tt.json, *asJSON, "parseInterleaved(%q): --json", tt.args)
		assert.Equal(t, tt.timeout, *u, "parseInterleaved(%q): --url", tt.args)
	}

	for _, args := range [][]string{
		{"Originate", "--help"},
		{"--help", "Originate"},
		{"-h", "--json", "Originate"},
		{"--url", "u", "Originate", "-help", "--bogus"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Bool("json", false, "")
		fs.String("url", "", "")
		pos, err := parseInterleaved(fs, args)
		assert.ErrorIs(t, err, flag.ErrHelp, "parseInterleaved(%q)", args)
		assert.Equal(t, []string{"Originate"}, pos, "parseInterleaved(%q): the arguments the help is about", args)
	}

	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	_, err := parseInterleaved(fs, []string{"Ping", "--bogus"})
	var ue *usageError
	assert.True(t, errors.As(err, &ue), "an unknown flag is a usage error: %v", err)
}

// TestHelp checks that the top-level help lists every command, and that the
// help of each command exits 0 and describes every one of its flags.
func TestHelp(t *testing.T) {
	lc.Check(t)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := runAmihttp(t, nil, args...)
		assert.Equal(t, exitOK, r.code, "amihttp %q", args)
		for _, c := range commands {
			assert.Contains(t, r.stdout, "\t"+c.name+" ", "amihttp %q lists %s", args, c.name)
			assert.Contains(t, r.stdout, c.summary)
		}
	}
	r := runAmihttp(t, nil)
	assert.Equal(t, exitUsage, r.code, "amihttp without a command")
	assert.Contains(t, r.stderr, "The commands are:")

	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}, {c.name, "X=1", "--help"}} {
				r := runAmihttp(t, nil, args...)
				require.Equal(t, exitOK, r.code, "amihttp %q: stderr %s", args, r.stderr)
				assert.Empty(t, r.stderr, "amihttp %q", args)
				assert.True(t, strings.HasPrefix(r.stdout, "Usage: amihttp "+c.name), "amihttp %q: %s", args, r.stdout)
				fs, _ := c.flagSet(&env{})
				n := 0
				fs.VisitAll(func(f *flag.Flag) {
					n++
					want := "--" + f.Name
					if len(f.Name) == 1 {
						want = "-" + f.Name + ","
					}
					assert.Contains(t, r.stdout, want, "amihttp %q describes its flag %s", args, f.Name)
					assert.NotEmpty(t, f.Usage, "flag %s of %s", f.Name, c.name)
				})
				if c != completionCommand { // the one without flags
					assert.Positive(t, n)
				}
			}
		})
	}
	r = runAmihttp(t, nil, "action", "Originate", "--help")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "Usage: amihttp action NAME")
}

// TestReportInvalidAction checks that an action the client refuses before
// sending it is a usage error whose hint names the action's own help.
func TestReportInvalidAction(t *testing.T) {
	tests := []struct {
		c    *command
		err  error
		code int
		want string
	}{
		{actionCommand, &usageError{&actions.ValidationError{Action: "Originate", Param: "Channel", Err: actions.ErrMissingParam}}, exitUsage,
			"amihttp: action: actions: Originate: missing required parameter Channel\nRun 'amihttp action Originate --help' for usage.\n"},
		{originateCommand, &usageError{&actions.ValidationError{Action: "Originate", Param: "Channel", Err: actions.ErrMissingParam}}, exitUsage,
			"Run 'amihttp originate --help' for usage.\n"},
		{actionCommand, usagef("missing the action's NAME"), exitUsage, "Run 'amihttp action --help' for usage.\n"},
		{actionCommand, errors.New("boom"), exitFailure, "amihttp: boom\n"},
	}
	for _, tt := range tests {
		var stderr strings.Builder
		code := tt.c.report(&env{stderr: &stderr}, tt.err)
		assert.Equal(t, tt.code, code, "report(%v)", tt.err)
		assert.Contains(t, stderr.String(), tt.want, "report(%v)", tt.err)
	}
}

// TestDoc checks that the package documentation names every command and
// every flag, as the help does.
func TestDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	for _, c := range commands {
		assert.Contains(t, string(doc), "# amihttp "+c.name, "doc.go has a section for %s", c.name)
		assert.Contains(t, string(doc), c.summary, "doc.go lists %s with its summary", c.name)
		fs, _ := c.flagSet(&env{})
		fs.VisitAll(func(f *flag.Flag) {
			want := "--" + f.Name
			if len(f.Name) == 1 {
				want = "-" + f.Name + ","
			}
			assert.Contains(t, string(doc), want, "doc.go describes the flag %s of %s", f.Name, c.name)
		})
	}
}

// TestUsageErrors checks that bad command lines exit with status 2, an
// "amihttp: " message on stderr and never the secret.
func TestUsageErrors(t *testing.T) {
	lc.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	good := urlVar("http://hello:world@" + closed + "/")

	tests := []struct {
		name string
		vars []string
		args []string
		want string // in stderr
	}{
		{"unknown command", nil, []string{"bogus"}, `unknown command "bogus"`},
		{"help of an unknown command", nil, []string{"help", "bogus"}, `unknown command "bogus"`},
		{"flag before the command", nil, []string{"--url", "http://hello:s3cret@h/", "action", "Ping"}, "flags go after it"},
		{"no action name", good, []string{"action"}, "missing the action's NAME"},
		{"not Key=Value", good, []string{"action", "Ping", "Oops"}, `"Oops" is not Key=Value`},
		{"empty key", good, []string{"action", "Ping", "=x"}, `"=x" is not Key=Value`},
		{"unknown flag", good, []string{"action", "Ping", "--bogus"}, "flag provided but not defined: -bogus"},
		{"Action key", good, []string{"action", "Ping", "Action=Logoff"}, "Action"},
		{"no URL", nil, []string{"action", "Ping"}, "give --url or set AMIHTTP_URL"},
		{"bad URL", urlVar("ftp://hello:s3cret@host/"), []string{"action", "Ping"}, "AMIHTTP_URL: httpami: invalid Config.URL: scheme"},
		{"bad URL query", nil, []string{"action", "Ping", "--url", "http://hello:s3cret@host/?bogus=1"}, "--url: httpami: invalid URL: unknown parameter"},
		{"bad timeout", good, []string{"action", "Ping", "--timeout", "-1s"}, "--timeout must be positive"},
		{"events argument", good, []string{"events", "extra"}, `unexpected argument "extra"`},
		{"events bad filter", good, []string{"events", "--filter", "x"}, `"x" is not Key=Value`},
		{"events mask off", good, []string{"events", "--mask", "off"}, "off"},
		{"events unknown type", good, []string{"events", "--type", "Hangup,Hangpu"}, `unknown event "Hangpu"; did you mean Hangup?`},
		{"events unknown types", good, []string{"events", "--type", "Dial"}, "did you mean DialBegin, DialEnd or DialState?"},
		{"events empty type", good, []string{"events", "--type", "Hangup,"}, "an empty event name"},
		{"events list arguments", nil, []string{"events", "--list", "a", "b"}, `unexpected argument "b"`},
		{"actions arguments", nil, []string{"actions", "a", "b"}, `unexpected argument "b"`},
		{"actions bad pattern", nil, []string{"actions", "[x"}, `bad PATTERN "[x"`},
		{"completion no shell", nil, []string{"completion"}, "want one shell"},
		{"completion unknown shell", nil, []string{"completion", "fish"}, `unknown shell "fish"`},
		{"originate without channel", good, []string{"originate", "--app", "Echo"}, "--channel is required"},
		{"originate both", good, []string{"originate", "--channel", "Local/1@t", "--app", "Echo", "--context", "t", "--exten", "1"}, "either --context and --exten, or --app"},
		{"originate neither", good, []string{"originate", "--channel", "Local/1@t"}, "either --context and --exten, or --app"},
		{"originate exten without context", good, []string{"originate", "--channel", "Local/1@t", "--exten", "1"}, "--exten needs --context"},
		{"originate data without app", good, []string{"originate", "--channel", "Local/1@t", "--context", "t", "--exten", "1", "--data", "x"}, "--data needs --app"},
		{"originate bad var", good, []string{"originate", "--channel", "Local/1@t", "--app", "Echo", "--var", "novalue"}, `"novalue" is not Key=Value`},
		{"fake bad addr", nil, []string{"fake", "--addr", "nonsense"}, "--addr"},
		{"fake public addr", nil, []string{"fake", "--addr", "0.0.0.0:0"}, "not a loopback address"},
		{"fake cert without tls", nil, []string{"fake", "--cert", "x.pem"}, "--cert needs --tls"},
		{"demo argument", nil, []string{"demo", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAmihttp(t, tt.vars, tt.args...)
			assert.Equal(t, exitUsage, r.code, "stderr: %s", r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "amihttp: "), "stderr: %s", r.stderr)
			assert.Contains(t, r.stderr, tt.want)
			assert.NotContains(t, r.stderr+r.stdout, "s3cret")
			assert.Empty(t, r.stdout)
		})
	}
}

// TestUnreachable checks that a server that cannot be reached is a
// runtime failure, not a panic or a hang.
func TestUnreachable(t *testing.T) {
	lc.Check(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	u := "http://hello:s3cret@" + ln.Addr().String() + "/"
	require.NoError(t, ln.Close())
	for _, args := range [][]string{{"action", "Ping"}, {"events"}, {"originate", "--channel", "Local/100@test", "--app", "Echo"}, {"demo", "--url", u}} {
		r := runAmihttp(t, urlVar(u), args...)
		assert.Equal(t, exitFailure, r.code, "amihttp %q: stderr %s", args, r.stderr)
		assert.Contains(t, r.stderr, "refused", "amihttp %q", args)
		assert.NotContains(t, r.stderr+r.stdout, "s3cret", "amihttp %q", args)
	}
}
