// Amihttp is the command-line tool of the amihttp module: it speaks the
// Asterisk Manager Interface (AMI) over Asterisk's HTTP server, with the
// module's client (package httpami) and event poller (package poller), and
// runs the module's fake Asterisk (package httpamitest) for development
// without a PBX.
//
// Usage:
//
//	amihttp <command> [arguments] [flags]
//
// The commands are:
//
//	action      send any action and print Asterisk's answer
//	actions     list the catalog's actions, with their privilege classes
//	events      print the events Asterisk publishes, as JSON lines
//	originate   place a call and follow its events until it hangs up
//	fake        run a pretend Asterisk HTTP manager, with simulated calls
//	demo        take a tour of AMI over HTTP, with a fake Asterisk in the process
//	completion  print a shell completion script for bash or zsh
//
// "amihttp help" lists them, and "amihttp help <command>" or
// "amihttp <command> --help" describes a command and every one of its flags.
// Flags come after the command's name, before, between or after its
// arguments; everything after "--" is an argument. The exit status is 0 on
// success (and when Ctrl-C stops a command that runs until then), 1 when an
// action or the connection fails, with Asterisk's message on stderr, and 2
// for a bad command line.
// Errors are printed to stderr after "amihttp: ".
//
// Try it without a PBX:
//
//	go run ./cmd/amihttp demo
//
// # Connection flags
//
// The commands action, events and originate talk to the Asterisk that --url
// names or, without it, the environment variable AMIHTTP_URL, in the
// client's URL form (see httpami.ParseURL):
//
//	http[s]://user:secret@host[:port][/prefix][?encoding=rawman|mxml&auth=cookie|md5|digest&events=mask&method=post|get&coldstart=true&realm=systemname&validate=refuse|warn|off&version=23.4.1]
//
// They, and demo, also take:
//
//	--timeout duration  how long each action may take (default 30s)
//	-v, --verbose       log the client's requests (debug level) to stderr
//	--cacert file       trust the PEM certificates in file for https
//
// The secret of the URL is never printed.
//
// # amihttp action NAME [Key=Value ...] [--json]
//
// Action sends the AMI action NAME with the parameters given as Key=Value
// arguments, split at the first '=', in order; a key may repeat (Variable).
// The client checks an action of the catalog (package httpami/actions)
// before sending anything: a required parameter missing or an unknown one
// is a usage error, exit status 2, that names it; actions the catalog does
// not know, those of custom modules, are sent unchecked. The URL's
// validate=warn sends such an action all the same, with a warning on
// stderr, and validate=off skips the check. "amihttp action
// NAME --help" shows what the catalog knows of NAME: the write classes that
// allow it, the Asterisk versions that have it, whether it answers with a
// list of events, and each parameter, required (in which versions) or not,
// repeatable, its default and documented values. It prints the answer as rawman text, exactly as Asterisk's /rawman writes
// it (CRLF line ends, an empty line after each message): the answer, then
// the items and completion event of a list action, then any other event of
// the answer's body. With --json, each of those messages is one JSON object
// on a line of its own: fields in order, a repeated key as an array of its
// values. When Asterisk answers "Response: Error", the answer is printed,
// its Message goes to stderr and the exit status is 1.
//
//	amihttp action Ping
//	amihttp action Getvar Variable=GLOBALVAR --json
//	amihttp action Originate --help
//
// # amihttp actions [PATTERN] [--json]
//
// Actions lists the actions of the catalog, without Asterisk, one a line in
// columns: the name, the write classes that allow it (any one will do; "-"
// for none), the Asterisk versions that have it ("13-23", or the majors
// that do, "13,16"), then "list" for an action answered with a list of
// events and "free-form" for one that takes any header. PATTERN keeps the
// names that contain it or, if it holds *, ? or [, that match it as a whole
// (path.Match), case ignored either way. With --json, each action is a
// JSON object on a line of its own, with its Name, Privilege, Versions,
// Since, Module, EventList, CompletionEvent, FreeForm and Params (each
// with its Name, Versions, Required, RequiredIn, Multiple, Default, Values
// and Pattern), the fields that are empty or false left out but Privilege.
//
//	amihttp actions 'pjsip*'
//
// # amihttp events [--type name ...] [--filter Key=Value ...] [--mask mask] [--server-filter regex ...] [--count n]
//
// Events polls Asterisk's events with WaitEvent on a session of its own and
// prints each event as a JSON line, as action --json does, until Ctrl-C
// (exit status 0) or until --count events were printed. A gap notice (events
// may have been lost: the session expired, Asterisk restarted or could not be
// reached) goes to stderr as "gap: " and a JSON object with its Reason, From,
// To and Duration. --type keeps the events of the types it names (the
// Event key, case ignored), repeated or comma-separated; an event name the
// catalog (package httpami/events) does not know is a usage error that
// suggests the nearest ones. --filter keeps the events with a field Key
// (compared case-insensitively) whose value is Value exactly; given several
// times, an event must match them all, and --type too. --count counts the
// events printed. --mask sets the session's event mask (on, or classes such
// as call,user) and --server-filter adds a Filter action regular
// expression, so that Asterisk itself sends fewer events.
//
// "amihttp events --list [PATTERN]" lists the event types of the catalog
// instead, without Asterisk: the name, its classes, the Asterisk versions
// that have it and "undocumented" for those found only in Asterisk's source;
// PATTERN selects names as the actions command's does.
//
//	amihttp events --type Hangup,Newchannel --count 10
//
// # amihttp originate --channel channel (--context context --exten extension [--priority priority] | --app application [--data argument]) [flags]
//
// Originate calls --channel and connects it, once answered, to a dialplan
// extension or an application, as the Asterisk book's amioriginate script
// does, then prints the events of the call's channels (those sharing the
// Linkedid of the originated channel) until all of them have hung up, and
// exits with status 0. Its other flags are --callerid "Name <number>",
// --ring-timeout duration (how long the channel may ring, default 30s),
// --var name=value (a channel variable, repeatable), --account code (the CDR
// account code), --async (Asterisk answers at once and reports the outcome
// in an OriginateResponse event, which originate waits for), --channel-id id
// (the Uniqueid of the originated channel, by which the call is recognised;
// default "amihttp-" and random hex digits), --json (events as JSON lines,
// other messages to stderr) and --follow=false (exit once the call is
// answered). The event poller starts before the Originate is sent, so that
// no event of the call is missed. A failed call exits with status 1 and
// Asterisk's message or the failure's reason; Ctrl-C stops following the
// call, which goes on, with status 0.
//
//	amihttp originate --channel Local/100@test --context test --exten 100 --async
//
// # amihttp fake [--addr host:port] [flags]
//
// Fake runs the fake Asterisk 23 HTTP manager of package httpamitest as a
// server, so that programs in any language can be developed against a
// pretend PBX: user hello, secret world, every class; the dialplan of the
// reference configuration (context test, extensions 100, 101, 200 and 300);
// cookie, MD5 and digest sessions on /rawman, /mxml, /arawman and /amxml.
// It prints the AMIHTTP_URL to use and runs until Ctrl-C. Its flags:
// --addr host:port (default 127.0.0.1:8088; port 0 picks a free one),
// --public (allow an address that is not loopback: the credentials are
// public), --traffic interval (originate a call to Local/100@test or
// Local/101@test in turn every interval, logged to stderr; default 10s, 0
// for none), --httptimeout duration (manager.conf's httptimeout, default
// 60s), --prefix prefix (http.conf's prefix), --tls (serve https with a
// self-signed certificate) and --cert file (where --tls writes the
// certificate, for the clients' --cacert).
//
//	amihttp fake
//	AMIHTTP_URL=http://hello:world@127.0.0.1:8088/ amihttp events
//	AMIHTTP_URL=http://hello:world@127.0.0.1:8088/ amihttp originate --channel Local/100@test --context test --exten 100
//
// # amihttp demo [--url URL] [--channel channel]
//
// Demo starts the fake Asterisk in the process and takes a tour of it with
// the client and the poller: log in, Ping, CoreSettings, start the poller,
// originate a call to --channel (default Local/100@test) running Echo,
// show its events as they come, list the channels, hang the call up and
// watch it end, log off. Each step prints what happened, when, and the HTTP
// round trips it took, and a summary ends the tour, in about a second.
// With --url, the tour visits that Asterisk instead; AMIHTTP_URL is not
// read.
//
// # amihttp completion bash|zsh
//
// Completion prints a completion script for bash or zsh, generated from
// this amihttp's commands, their flags and the catalog: it completes the
// command names, each command's flags, the action names after "action"
// (case ignored) and then that action's parameters as "Key=", the event
// names after "events --type" (also in a comma-separated list, or as
// --type=name) and the classes after --mask. The script holds its own copy
// of the lists: generate it again after an upgrade.
//
//	source <(amihttp completion bash)   # in ~/.bashrc
//	source <(amihttp completion zsh)    # in ~/.zshrc, after compinit
package main
