// Package digest implements HTTP digest access authentication (RFC 7616)
// as an [http.RoundTripper], for Asterisk's digest-authenticated manager
// endpoints (/arawman, /amxml, /amanager) and any other server that
// speaks it.
//
//	t := &digest.Transport{Username: "hello", Password: "world"}
//	resp, err := t.Client().Get("http://pbx:8088/arawman?action=Ping")
//
// A plain digest client (curl --digest) pays two round trips for every
// request: the request, its 401 challenge, and the request again. The
// [Transport] pays them once per origin, then signs each request at once
// with a nonce it keeps, counting nc per nonce. Its design follows what
// Asterisk's manager requires (the project's http-ami-spec, section 3):
//
//   - Asterisk refuses a nonce count that is not greater than the last
//     one it accepted for the nonce, and then rotates the nonce, failing
//     every request in flight with it. A Transport never uses one nonce
//     for two requests at a time: it keeps a pool of nonces per origin
//     that grows to the number of concurrent requests.
//   - Asterisk rotates a nonce 62 seconds after issuing it and answers the
//     next request 401 with stale=true: the Transport retries once with
//     the new nonce, which the caller never sees.
//   - Asterisk accepts a nonce the client made up. With ColdStart set, the
//     first request of a fresh Transport is signed at once: one round trip
//     for a serverless function that starts cold on every call.
//
// Each nonce is a separate session to Asterisk. A caller that needs a
// stable session, such as a WaitEvent loop whose events belong to its
// session, should use a Transport of its own and send one request at a
// time; the Transport then always reuses the same nonce.
//
// Nothing the Transport returns or logs holds the password, the HA1 hash or
// a response hash. [ParseChallenges] parses WWW-Authenticate headers and
// reports a malformed one with a [*ChallengeError].
//
// The package imports nothing of amihttp's.
package digest
