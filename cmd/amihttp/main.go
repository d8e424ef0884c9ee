package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/actions"
)

// Exit statuses of the command.
const (
	exitOK      = 0 // success, or stopped by Ctrl-C
	exitFailure = 1 // an action failed, or a runtime error
	exitUsage   = 2 // bad command line
)

// main runs amihttp with the process's arguments, streams and
// environment, and Ctrl-C (or SIGTERM) as the end of the context.
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, a second one kills the process at once.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// env is what a command may use of the process: its standard streams and
// its environment. Tests give their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// A command is one subcommand of amihttp. Adding one is adding an entry to
// commands: its help and flags are listed by "amihttp help" and its own
// --help from these fields.
type command struct {
	name    string // "action"
	args    string // the positional arguments of its usage line, "NAME [Key=Value ...]"
	summary string // one line for the command list
	help    string // paragraphs after the usage line
	// topic, if set, writes what the command can say of its positional
	// arguments, such as the parameters of the action "action Originate
	// --help" names; its help prints it after the usage line.
	topic func(b *strings.Builder, args []string)
	// setup registers the command's flags on fs and returns the function
	// that runs it with the positional arguments, once the flags are
	// parsed. The flags' values live in setup's closure, so that run may
	// be called concurrently (as tests do).
	setup func(fs *flag.FlagSet, e *env) func(ctx context.Context, args []string) error
}

// commands is the table of subcommands, in the order "amihttp help"
// lists them. init sets it, since completion, which reads it, is in it.
var commands []*command

func init() {
	commands = []*command{actionCommand, actionsCommand, eventsCommand, originateCommand, fakeCommand, demoCommand, completionCommand}
}

// lookup returns the command named name, or nil.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// run runs amihttp with the arguments args (without the program name) and
// returns its exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			c := lookup(args[1])
			if c == nil {
				fmt.Fprintf(stderr, "amihttp: unknown command %q\nRun 'amihttp help' for the list of commands.\n", args[1])
				return exitUsage
			}
			fs, _ := c.flagSet(e)
			c.printHelp(stdout, fs, args[2:])
			return exitOK
		}
		usage(stdout)
		return exitOK
	}
	c := lookup(args[0])
	if c == nil && strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "amihttp: flag %s before the command: flags go after it, as in 'amihttp action Ping --url …'\nRun 'amihttp help' for the list of commands.\n", args[0])
		return exitUsage
	}
	if c == nil {
		fmt.Fprintf(stderr, "amihttp: unknown command %q\nRun 'amihttp help' for the list of commands.\n", args[0])
		return exitUsage
	}
	return c.exec(ctx, e, args[1:])
}

// flagSet returns a new flag set of c and the function that runs c.
func (c *command) flagSet(e *env) (*flag.FlagSet, func(context.Context, []string) error) {
	fs := flag.NewFlagSet("amihttp "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are printed by exec
	fs.Usage = func() {}
	return fs, c.setup(fs, e)
}

// exec parses the command line of c and runs it.
func (c *command) exec(ctx context.Context, e *env, args []string) int {
	fs, runFunc := c.flagSet(e)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(e.stdout, fs, pos)
		return exitOK
	}
	if err == nil {
		err = runFunc(ctx, pos)
	}
	return c.report(e, err)
}

// report prints err, if any, and returns the exit status it calls for.
func (c *command) report(e *env, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) || errors.Is(err, httpami.ErrInvalidAction) {
		help := c.name
		if ve, ok := errors.AsType[*actions.ValidationError](err); ok && c == actionCommand {
			help += " " + ve.Action // its parameters
		}
		fmt.Fprintf(e.stderr, "amihttp: %s: %v\nRun 'amihttp %s --help' for usage.\n", c.name, err, help)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "amihttp: %s\n", describe(err))
	return exitFailure
}

// describe returns the text of err for the user: Asterisk's own message for
// an action it refused.
func describe(err error) string {
	if ae, ok := errors.AsType[*httpami.ActionError](err); ok {
		return ae.Action + ": " + ae.Message
	}
	return err.Error()
}

// parseInterleaved parses args with fs, allowing flags after positional
// arguments ("action Ping --json"): it parses, takes the positional
// arguments up to the next one starting with "-", and goes on. Everything
// after "--" is positional. With -h or --help, it returns flag.ErrHelp and
// the positional arguments found before and after it, which the help may
// be about ("action Originate --help").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				more, _ := parseInterleaved(fs, fs.Args())
				return append(pos, more...), err
			}
			return nil, &usageError{err}
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		for len(rest) > 0 && (!strings.HasPrefix(rest[0], "-") || rest[0] == "-") {
			pos = append(pos, rest[0])
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return pos, nil
		}
		args = rest
	}
}

// A usageError is a mistake on the command line: exit status 2.
type usageError struct{ err error }

// Error returns the mistake.
func (e *usageError) Error() string { return e.err.Error() }

// Unwrap returns the error inside.
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// usage prints the list of commands.
func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Amihttp speaks the Asterisk Manager Interface (AMI) over Asterisk's HTTP server.\n\n")
	b.WriteString("Usage:\n\n\tamihttp <command> [arguments] [flags]\n\nThe commands are:\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\t%-11s %s\n", c.name, c.summary)
	}
	b.WriteString(`
The commands that talk to Asterisk find it with --url or, without it, the
AMIHTTP_URL environment variable, in the client's URL form:

	http[s]://user:secret@host[:port][/prefix][?encoding=rawman|mxml&auth=cookie|md5|digest&...]

Try it without a PBX:

	amihttp demo

Run 'amihttp help <command>' or 'amihttp <command> --help' for a command's
arguments and flags. Exit status: 0 on success, 1 when an action or the
connection fails (with Asterisk's message on stderr), 2 for a bad command
line.
`)
	io.WriteString(w, b.String())
}

// printHelp prints the help of c, its flags included, and what c's topic
// says of the positional arguments args.
func (c *command) printHelp(w io.Writer, fs *flag.FlagSet, args []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: amihttp %s", c.name)
	if c.args != "" {
		b.WriteString(" " + c.args)
	}
	b.WriteString(" [flags]\n\n")
	if c.topic != nil && len(args) > 0 {
		c.topic(&b, args)
		b.WriteString("\n")
	}
	b.WriteString(strings.TrimSpace(c.help) + "\n")
	var own, conn []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		switch {
		case shortAliases[f.Name] != "":
			// printed with its long form
		case slices.Contains(connFlagNames, f.Name):
			conn = append(conn, f)
		default:
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		b.WriteString("\nFlags:\n")
		printFlags(&b, own)
	}
	if len(conn) > 0 {
		b.WriteString("\nConnection flags:\n")
		printFlags(&b, conn)
	}
	io.WriteString(w, b.String())
}

// shortAliases maps the one-letter flags to the long flag they stand for.
var shortAliases = map[string]string{"v": "verbose"}

// printFlags writes the help of each flag of fs, as "--name VALUE" and its
// usage on the next line.
func printFlags(b *strings.Builder, flags []*flag.Flag) {
	for _, f := range flags {
		name, text := flag.UnquoteUsage(f)
		b.WriteString("  ")
		for short, long := range shortAliases {
			if long == f.Name {
				b.WriteString("-" + short + ", ")
			}
		}
		b.WriteString("--" + f.Name)
		if name != "" {
			b.WriteString(" " + name)
		}
		b.WriteString("\n\t" + strings.ReplaceAll(text, "\n", "\n\t"))
		switch f.DefValue {
		case "", "0", "false", "0s", "[]":
		default:
			fmt.Fprintf(b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	}
}
