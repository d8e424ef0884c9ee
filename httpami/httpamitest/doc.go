// Package httpamitest provides a fake Asterisk HTTP manager for tests, as
// net/http/httptest provides a fake HTTP server: a real server on the
// loopback interface that answers /rawman, /mxml, /arawman and /amxml as
// Asterisk 23.4.1 does, closely enough that code which passes against it
// works against a real PBX. It imports no testing package, so programs
// (such as "amihttp demo") may embed it too.
//
//	srv := httpamitest.NewServer()
//	defer srv.Close()
//	resp, err := http.Get(srv.URL + "/rawman?Action=Login&Username=hello&Secret=world")
//
// # Fidelity
//
// TestTranscripts replays every recorded exchange of testdata/asterisk-23
// (byte-exact recordings of a real Asterisk 23.4.1) against a fresh
// server and compares status lines, headers in order, bodies field by
// field and timings on the server's clock; the few exchanges it cannot
// reproduce are listed, with the reason, in the file known_differences.
// Values that differ by nature (dates, timestamps, Uniqueids, ports, the
// suffix of Local channel names, the calls handled before) are masked.
// Within one WaitEvent answer only the order of each channel's events is
// compared, since Asterisk runs each channel in a thread of its own, and
// the events it publishes from yet other threads (DeviceStateChange,
// OriginateResponse, DialEnd) may fall anywhere; every event must still
// come in the same answer, with the same fields and values.
// Other recordings in the same format can be checked the same way:
//
//	go test ./httpami/httpamitest -run TestTranscripts -args -transcripts=DIR
//
// What is simulated:
//
//   - HTTP as Asterisk's own server speaks it: the header order, GET query
//     or form POST (POST ignores the query string, other media types give
//     no parameters), case-insensitive names, repeats in order, the
//     128-parameter cut, the 4095-byte line and 40960-byte body limits
//     (4096 for [Asterisk13]) with Asterisk's status codes and HTML
//     pages, HEAD running the action, keep-alive for HTTP/1.0 and 1.1 and
//     the 15 s idle close.
//   - Cookie sessions: the mansession_id cookie with Max-Age, a silent new
//     session with "Permission denied" for a missing or expired cookie,
//     expiry refreshed by every request, a one-second delay and a
//     destroyed session after a failed Login, Challenge + MD5 Login,
//     Logoff. Asterisk purges expired sessions every 5 s, so 0 to 5 s
//     after they expire; the fake does it 2.5 s after, every time.
//   - Digest sessions: the nonce is the session id, any client nonce
//     starts a session, nc must increase, the nonce is rotated with
//     stale=true after 62 s or an nc replay, user event filters are not
//     applied.
//   - The global event queue with a cursor per session: WaitEvent with
//     Asterisk's timeout cap, waking on any event, an empty answer for the
//     WaitEvent a newer one kicks out, read permissions, event masks and
//     filters, and the age purge (2.5 × httptimeout); security events.
//   - Actions: Login, Logoff, Challenge, Ping, Events, Filter, WaitEvent,
//     UserEvent, CoreSettings, CoreStatus, ListCommands, Command (a few
//     CLI commands), Getvar, Setvar, Originate, Redirect, Hangup, Status,
//     CoreShowChannels, CoreShowChannelMap, QueueStatus, QueueSummary, Agents,
//     DeviceStateList, ListCategories and ShowDialPlan, with write
//     permission classes per user. Every other action of the reference
//     build is listed by ListCommands and answers as an unknown action
//     unless a test scripts it with [Server.Handle].
//   - Calls: Originate runs the simulated [Dialplan] on Local channels on
//     the server's clock and publishes the events a real Asterisk does.
//
// What is not: the /manager and /amanager HTML pages, TCP AMI on port
// 5038, http.conf redirects and ACLs, allowmultiplelogin, the 100
// connection limit, channel drivers other than Local, and anything of
// the dialplan beyond the steps [Step] lists.
//
// # Time
//
// Every timer of the server runs on its [Clock]. With a [*FakeClock],
// tests of expiry, nonce age or WaitEvent timeouts never sleep: start the
// request, wait until [Server.Waiting] counts it, then Advance the clock.
//
// # Misbehaving on purpose
//
// [Server.InjectFault] makes the next requests answer 5xx, stall, drop
// the connection, cut or truncate the body or send garbage;
// [Server.RefuseConnections] and [Server.Down] make connecting fail;
// [Server.Restart] forgets every session and nonce as an Asterisk
// restart does, [Server.ExpireSessions] ends the sessions only, and
// [Server.RotateNonces] makes every digest nonce stale; [Server.Emit] queues any event; [Server.Requests] counts
// requests per endpoint for round-trip assertions.
package httpamitest
