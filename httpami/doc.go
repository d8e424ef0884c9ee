// Package httpami is a client for the Asterisk Manager Interface (AMI)
// over Asterisk's built-in HTTP server (ports 8088 and 8089), for
// programs that can reach nothing else: serverless functions, web
// backends, hosted apps behind strict firewalls.
//
//	c, err := httpami.Dial(ctx, "http://hello:world@pbx:8088/")
//	if err != nil { … }
//	defer c.Close(ctx)
//	resp, err := c.Action(ctx, "Getvar", "Variable", "GLOBALVAR")
//	fmt.Println(resp.Get("Value"))
//
// # Configuration
//
// A Config, or its URL form for one environment variable (ParseURL):
//
//	http[s]://user:secret@host[:port][/prefix][?encoding=rawman|mxml&auth=cookie|md5|digest&events=mask&method=post|get&coldstart=true&realm=systemname&validate=refuse|warn|off&version=23.4.1]
//
// The path is http.conf's prefix. encoding picks /rawman (lossless, the
// default) or /mxml; auth picks how the Client authenticates:
//
//   - cookie (default): a Login action with the Secret, then the session's
//     mansession_id cookie. Other cookies (a load balancer's) live in a
//     net/http/cookiejar jar with the public suffix list; the session
//     cookie is held apart, since Asterisk's answer to a lost session
//     carries a new one that must not replace it.
//   - md5: Challenge, then Login with an MD5 Key: the Secret never crosses
//     the network.
//   - digest: HTTP digest authentication on /arawman or /amxml through
//     package digest; no Login, one round trip per action once a nonce
//     is known, and from the first with coldstart=true. Asterisk does
//     not apply manager.conf eventfilters to digest sessions.
//
// TLS is verified by default; Config.TLSConfig, Config.Transport or
// Config.HTTPClient change that. The default transport closes idle
// connections after 10 s, under Asterisk's 15 s keep-alive.
//
// # Actions and answers
//
// Do sends an Action (Client.Action and the typed helpers are short
// forms of it). Actions are POSTed as forms, so that values stay out of
// URLs and access logs (Config.Get sends GET instead). Before sending,
// the Client refuses (with an *InvalidActionError) values with CR or LF,
// which would inject lines into Asterisk's messages, and actions over
// Asterisk's limits, which it would otherwise cut silently: 128
// parameters, a 40960-byte body, a 4095-byte GET request line. Every
// action gets a unique ActionID unless it has one, and the answer must
// carry it back.
//
// Every action is also checked against the catalog of package actions
// (what Asterisk 13 to 23 document): a required parameter missing, a
// parameter the action does not have, or an action or parameter that
// the server's version lacks is refused before any request, with an
// *InvalidActionError that names them and wraps an
// *actions.ValidationError. Config.Validate (validate=warn or off) logs
// instead, or trusts the caller; actions the catalog does not know, those
// of custom modules, always go. The server's version is asked once with
// CoreSettings, and only when the verdict depends on it
// (Config.AsteriskVersion, version=, spares even that). Client.Send takes
// the generated types of package actions:
//
//	c.Send(ctx, &actions.Hangup{Channel: ch, Cause: "16"})
//
// A Response holds the answer (the message with "Response:") and sorts
// the other messages of the body: the items and completion event of an
// event list (Status, CoreShowChannels, QueueStatus, any answer with
// "EventList: start"; ListItems is checked), the events of a WaitEvent,
// and anything else (the FullyBooted event beside a Login answer).
//
// # Errors
//
// Every error is typed, and the sentinels match through errors.Is:
//
//   - *ActionError: "Response: Error"; matches ErrPermission,
//     ErrUnknownAction and ErrAuthentication when Asterisk says so.
//   - *HTTPError: a status other than 200 (401 matches
//     ErrAuthentication, 403 ErrPermission).
//   - *ProtocolError: a body that does not decode, an answer missing or
//     with another ActionID, a list cut short (ErrProtocol; also
//     ErrEmptyBody, ErrResponseTooLarge).
//   - *TransportError: no connection, a connection cut, a cancelled
//     context (context.Canceled and context.DeadlineExceeded match).
//   - *InvalidActionError: refused before sending (ErrInvalidAction;
//     also actions.ErrMissingParam, ErrUnknownParam, ErrUnavailable).
//   - ErrSessionLost: a lost session that a new Login could not heal.
//   - ErrOutcomeUnknown: an action with effects may have run, and was
//     not sent again (a TransportError, HTTPError or ProtocolError with
//     MaybeRun set).
//
// No error and no log line holds the Secret, an MD5 Key, an
// Authorization header, a digest nonce or a session cookie.
//
// # Sessions
//
// A cookie session ends when it stays idle past manager.conf's
// httptimeout (60 s by default), when Asterisk restarts, or on Logoff.
// Asterisk then runs the next request on a new, unauthenticated session
// and answers "Permission denied" with a new cookie; the Client tells
// that from a real permission error (which keeps the session's cookie),
// logs in again once for all the goroutines that noticed, and sends each
// refused action once more. That is safe even for Originate: Asterisk
// refused it without running it. Events queued for the lost session are
// gone; Response.Renewed and Client.Generation say when that happened.
//
// # Retries
//
// Requests go through github.com/hashicorp/go-retryablehttp, with
// exponential backoff and jitter (Config.RetryMax, RetryWaitMin,
// RetryWaitMax) and this policy:
//
//	failure                                    read-only or Idempotent   other actions
//	connection refused, DNS failure            sent again                sent again
//	connection cut, timeout, body cut short    sent again                ErrOutcomeUnknown
//	HTTP 5xx (but 501)                         sent again                ErrOutcomeUnknown
//	digest 401 with stale=true, twice in a row sent again                sent again
//	HTTP 4xx, 501, certificate not trusted     error                     error
//	answer "Permission denied", session lost   Login, sent once more     Login, sent once more
//
// Read-only actions are those ReadOnly lists: Ping, Getvar, CoreSettings,
// CoreStatus, CoreShowChannels, Status, QueueStatus, ListCommands and
// the other actions that only read state. Actions with effects
// (Originate, Hangup, Redirect, Setvar, UserEvent, Command, …) and
// actions the table does not know are never sent twice unless the
// connection was refused, which proves the first never arrived; set
// Action.Idempotent to opt an action in. WaitEvent is not read-only: a
// lost answer has moved the session's event cursor.
//
// # Concurrency
//
// A Client is safe for concurrent use. Each request in flight has its
// own connection, so a long WaitEvent never holds up other actions, and
// idle connections are reused. Every call ends promptly when its
// context does. Close logs off and closes idle connections; no
// goroutine of the Client outlives it.
//
// The behaviour this package follows is described in the project's
// http-ami-spec (sessions §2, digest §3, encodings §4, limits §1 and §6,
// answers §8) and checked against recordings of a real Asterisk 23
// under testdata/asterisk-23.
package httpami
