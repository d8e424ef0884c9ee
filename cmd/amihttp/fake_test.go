package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lc "github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/syncbuf"
)

// urlLine finds the AMIHTTP_URL the fake prints.
var urlLine = regexp.MustCompile(`AMIHTTP_URL=(\S+)`)

// fakeURLOf waits until the fake running in b prints its URL, and
// returns it.
func fakeURLOf(t *testing.T, out *syncbuf.Buffer, errs *syncbuf.Buffer) string {
	t.Helper()
	eventually(t, "the fake prints its URL", func() bool { return urlLine.MatchString(out.String()) }, out, errs)
	return urlLine.FindStringSubmatch(out.String())[1]
}

// TestFake runs the fake with simulated traffic, talks to it, and stops it.
func TestFake(t *testing.T) {
	lc.Check(t)
	b := start(t, nil, "fake", "--addr", "127.0.0.1:0", "--traffic", "100ms", "--httptimeout", "20s")
	u := fakeURLOf(t, &b.stdout, &b.stderr)
	assert.Regexp(t, `^http://hello:world@127\.0\.0\.1:\d+/$`, u)
	for _, want := range []string{"exten 100: Answer(), UserEvent(TestEvent", "exten 300: Answer(), Echo()", "sessions   expire after 20s", "a call every 100ms", "amihttp events"} {
		assert.Contains(t, b.stdout.String(), want)
	}

	r := runAmihttp(t, urlVar(u), "action", "Ping")
	assert.Equal(t, exitOK, r.code, "stderr %s", r.stderr)
	assert.Contains(t, r.stdout, "Ping: Pong")

	// The simulated calls hang up.
	r = runAmihttp(t, urlVar(u), "events", "--filter", "Event=Hangup", "--count", "1")
	assert.Equal(t, exitOK, r.code, "stderr %s", r.stderr)
	assert.Contains(t, r.stdout, `"Event":"Hangup"`)
	eventually(t, "calls are logged", func() bool {
		return strings.Contains(b.stderr.String(), "fake: call 2 to Local/101@test: Originate successfully queued")
	}, &b.stderr)

	assert.Equal(t, exitOK, b.stop(t), "stderr %s", b.stderr.String())
	assert.Contains(t, b.stderr.String(), "fake: stopped")
	r = runAmihttp(t, urlVar(u), "action", "Ping", "--timeout", "2s")
	assert.Equal(t, exitFailure, r.code, "the fake is gone")
}

// TestFakeTLS serves https under a prefix, and a client trusts the
// certificate the fake writes with --cacert.
func TestFakeTLS(t *testing.T) {
	lc.Check(t)
	cert := filepath.Join(t.TempDir(), "fake.pem")
	b := start(t, nil, "fake", "--addr", "127.0.0.1:0", "--traffic", "0", "--tls", "--cert", cert, "--prefix", "asterisk")
	u := fakeURLOf(t, &b.stdout, &b.stderr)
	assert.Regexp(t, `^https://hello:world@127\.0\.0\.1:\d+/asterisk/$`, u)
	assert.Contains(t, b.stdout.String(), "--cacert "+cert)
	assert.NotContains(t, b.stdout.String(), "traffic")

	r := runAmihttp(t, urlVar(u), "action", "Ping", "--cacert", cert)
	assert.Equal(t, exitOK, r.code, "stderr %s", r.stderr)
	assert.Contains(t, r.stdout, "Ping: Pong")

	r = runAmihttp(t, urlVar(u), "action", "Ping")
	assert.Equal(t, exitFailure, r.code, "an untrusted certificate")
	assert.Contains(t, r.stderr, "certificate")

	r = runAmihttp(t, urlVar(u), "action", "Ping", "--cacert", filepath.Join(t.TempDir(), "missing.pem"))
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, exitOK, b.stop(t))
}

// TestFakeAddrInUse checks that a taken address is a runtime failure.
func TestFakeAddrInUse(t *testing.T) {
	lc.Check(t)
	b := start(t, nil, "fake", "--addr", "127.0.0.1:0", "--traffic", "0")
	u := fakeURLOf(t, &b.stdout, &b.stderr)
	addr := strings.TrimSuffix(strings.TrimPrefix(u, "http://hello:world@"), "/")
	r := runAmihttp(t, nil, "fake", "--addr", addr)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "address already in use")
	require.Equal(t, exitOK, b.stop(t))
}

// TestDemo runs the tour on the embedded fake.
func TestDemo(t *testing.T) {
	lc.Check(t)
	r := runAmihttp(t, nil, "demo")
	require.Equal(t, exitOK, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.Empty(t, r.stderr)
	for _, want := range []string{
		"1. Log in", "Login: Success", "2. Ping", "Ping: Pong", "3. Core settings", "Asterisk 23.4.1",
		"4. Start the event poller", "5. Originate a call", "OriginateResponse (an event, matched by ActionID): Success",
		"6. The call's events, live", "Newchannel", "UserEvent=TestEvent",
		"7. List the channels", "2 channels", "8. Hang up", "Channel Hungup", "every channel of the call has hung up",
		"9. Log off", "Goodbye", "Done in", "round trips",
	} {
		assert.Contains(t, r.stdout, want)
	}
	assert.Regexp(t, `-> 1 round trip in `, r.stdout)
	assert.NotContains(t, r.stdout, "world", "the secret is not shown")

	// The tour on another Asterisk, with --url.
	_, u := newFake(t)
	r = runAmihttp(t, urlVar("http://hello:wrong@127.0.0.1:1/"), "demo", "--url", u+"?auth=digest")
	require.Equal(t, exitOK, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "(digest auth, rawman encoding)")
	assert.Contains(t, r.stdout, "every channel of the call has hung up")
}
