package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	lc "github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/internal/syncbuf"
)

// result is what a run of amihttp gave.
type result struct {
	code           int
	stdout, stderr string
}

// environ returns a getenv of the variables given as "NAME=value".
func environ(vars ...string) func(string) string {
	return func(name string) string {
		for _, v := range vars {
			if k, val, _ := strings.Cut(v, "="); k == name {
				return val
			}
		}
		return ""
	}
}

// runAmihttp runs amihttp in the process with args and the environment
// variables vars, and returns its exit status and output. It fails t if the
// command takes more than 20 s.
func runAmihttp(t *testing.T, vars []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr syncbuf.Buffer
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr, environ(vars...))
	require.NoError(t, ctx.Err(), "amihttp %q took too long; stderr:\n%s", args, stderr.String())
	return result{code, stdout.String(), stderr.String()}
}

// background is a run of amihttp in a goroutine, until stop.
type background struct {
	stdout, stderr syncbuf.Buffer
	cancel         context.CancelFunc
	done           chan int
}

// start runs amihttp with args in the background; t's cleanup stops it.
func start(t *testing.T, vars []string, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel, done: make(chan int, 1)}
	go func() { b.done <- run(ctx, args, strings.NewReader(""), &b.stdout, &b.stderr, environ(vars...)) }()
	t.Cleanup(func() { b.stop(t) })
	return b
}

// stop interrupts the command, as Ctrl-C does, and returns its exit status.
func (b *background) stop(t *testing.T) int {
	t.Helper()
	b.cancel()
	return b.wait(t)
}

// wait waits for the command to end, for at most 10 s, and returns its
// exit status.
func (b *background) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-b.done:
		b.done <- code // for a later stop or wait
		return code
	case <-time.After(10 * time.Second):
		t.Fatalf("the command did not end within 10 s; stdout:\n%s\nstderr:\n%s", b.stdout.String(), b.stderr.String())
		return -1
	}
}

// eventually waits until cond holds, for at most 10 s.
func eventually(t *testing.T, what string, cond func() bool, out ...*syncbuf.Buffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			var s []string
			for _, o := range out {
				s = append(s, o.String())
			}
			t.Fatalf("%s: not within 10 s; output:\n%s", what, strings.Join(s, "\n---\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newFake starts a fake Asterisk on the system clock for one test, and
// checks that the test leaves no goroutine behind. It returns the server
// and its client URL, user hello.
func newFake(t *testing.T, opts ...httpamitest.Option) (*httpamitest.Server, string) {
	t.Helper()
	lc.Check(t)
	srv := httpamitest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, fakeURL(srv, "")
}

// urlVar returns the AMIHTTP_URL variable naming u.
func urlVar(u string) []string { return []string{envURL + "=" + u} }

// userEvent returns a UserEvent named name.
func userEvent(name string, fields ...string) *rawman.Message {
	m := &rawman.Message{}
	m.Add("Event", "UserEvent")
	m.Add("Privilege", "user,all")
	m.Add("UserEvent", name)
	for i := 0; i+1 < len(fields); i += 2 {
		m.Add(fields[i], fields[i+1])
	}
	return m
}
