// Package httpamitest provides a fake Asterisk HTTP manager for tests, as
// net/http/httptest provides a fake HTTP server: a real server on the
// loopback interface that behaves like Asterisk 23's /rawman, /mxml,
// /arawman and /amxml endpoints, closely enough that code which passes
// against it works against a real PBX.
package httpamitest
