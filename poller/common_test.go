package poller_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	lc "github.com/amihttp/amihttp/internal/leakcheck"
	"github.com/amihttp/amihttp/poller"
)

var testStart = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// modes are the sessions and encodings the poller is checked with.
var modes = []struct {
	name string
	auth httpami.Auth
	enc  httpami.Encoding
}{
	{"cookie-rawman", httpami.Cookie, httpami.Rawman},
	{"cookie-mxml", httpami.Cookie, httpami.MXML},
	{"md5-rawman", httpami.MD5, httpami.Rawman},
	{"digest-rawman", httpami.Digest, httpami.Rawman},
	{"digest-mxml", httpami.Digest, httpami.MXML},
}

// fake is a fake Asterisk on a FakeClock, for one test.
type fake struct {
	*httpamitest.Server
	clk *httpamitest.FakeClock
}

// newFake starts a fake Asterisk for one test, and checks that nothing
// of the test's is left running when it ends.
func newFake(t testing.TB, opts ...httpamitest.Option) *fake {
	t.Helper()
	lc.Check(t)
	clk := httpamitest.NewFakeClock(testStart)
	srv := httpamitest.NewServer(append([]httpamitest.Option{httpamitest.WithClock(clk)}, opts...)...)
	t.Cleanup(srv.Close)
	return &fake{srv, clk}
}

// config returns a Config for the fake as user hello, with retries that
// wait next to nothing.
func (f *fake) config(auth httpami.Auth, enc httpami.Encoding) httpami.Config {
	return httpami.Config{
		URL: f.URL, Username: "hello", Secret: "world", Auth: auth, Encoding: enc,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
	}
}

// client makes a Client for cfg, closed when t ends.
func client(t testing.TB, cfg httpami.Config) *httpami.Client {
	t.Helper()
	c, err := httpami.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Close(ctx)
	})
	return c
}

// start makes and starts a poller on the fake's clock with a quick
// backoff, closed when t ends.
func (f *fake) start(t testing.TB, c *httpami.Client, opts ...poller.Option) *poller.Poller {
	t.Helper()
	p := f.poller(t, c, opts...)
	require.NoError(t, p.Start(context.Background()))
	return p
}

// poller makes a poller on the fake's clock with a quick backoff,
// closed when t ends.
func (f *fake) poller(t testing.TB, c *httpami.Client, opts ...poller.Option) *poller.Poller {
	t.Helper()
	all := append([]poller.Option{poller.WithNow(f.clk.Now), poller.WithBackoff(5*time.Millisecond, 50*time.Millisecond)}, opts...)
	p, err := poller.New(c, all...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// waiting waits until n requests wait on the fake's clock.
func (f *fake) waiting(t testing.TB, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, f.AwaitWaiting(ctx, n), "waiting for %d requests to wait on the fake's clock", n)
}

// userEvent returns a UserEvent named name, of class privilege ("user,all"
// when empty), numbered seq.
func userEvent(name, privilege string, seq int) *rawman.Message {
	if privilege == "" {
		privilege = "user,all"
	}
	m := &rawman.Message{}
	m.Add("Event", "UserEvent")
	m.Add("Privilege", privilege)
	m.Add("UserEvent", name)
	m.Add("Seq", fmt.Sprint(seq))
	return m
}

// emit queues a UserEvent named name with a sequence number.
func (f *fake) emit(t testing.TB, name string, seq int) {
	t.Helper()
	require.NoError(t, f.Emit(userEvent(name, "", seq)))
}

// next returns the next element of the poller's channel, failing t if
// none comes within 10 s.
func next(t testing.TB, p *poller.Poller) poller.Event {
	t.Helper()
	select {
	case ev, ok := <-p.Events():
		require.True(t, ok, "the channel was closed; Err: %v", p.Err())
		return ev
	case <-time.After(10 * time.Second):
		require.FailNow(t, "no event within 10 s", "stats %+v", p.Stats())
		return poller.Event{}
	}
}

// nextEvent returns the next event that is not the security or
// housekeeping event of a Login (SuccessfulAuth and the like are class
// security, which user hello reads), failing on a gap notice.
func nextEvent(t testing.TB, p *poller.Poller) poller.Event {
	t.Helper()
	for {
		ev := next(t, p)
		require.Nil(t, ev.Gap, "unexpected gap notice: %v", ev.Gap)
		if ev.Message.Get("Privilege") != "security,all" {
			return ev
		}
	}
}

// nextUser returns the next UserEvent named name, skipping other events
// and failing on a gap notice.
func nextUser(t testing.TB, p *poller.Poller, name string) poller.Event {
	t.Helper()
	for {
		ev := nextEvent(t, p)
		if ev.Name() == "UserEvent" && ev.Message.Get("UserEvent") == name {
			return ev
		}
	}
}

// nextGapOrUser returns the next gap notice or UserEvent named name,
// skipping other events.
func nextGapOrUser(t testing.TB, p *poller.Poller, name string) poller.Event {
	t.Helper()
	for {
		ev := next(t, p)
		if ev.Gap != nil || ev.Name() == "UserEvent" && ev.Message.Get("UserEvent") == name {
			return ev
		}
	}
}

// emitEvery emits a UserEvent named name, numbered from 1, every d until
// the function it returns is called (at the latest when t ends).
func (f *fake) emitEvery(t testing.TB, name string, d time.Duration) (stop func()) {
	t.Helper()
	return f.emitEach(t, d, func(i int) []*rawman.Message {
		return []*rawman.Message{userEvent(name, "", i)}
	})
}

// emitEach emits the events that events(i) returns for i = 1, 2, …
// every d until the function it returns is called (at the latest when t
// ends).
func (f *fake) emitEach(t testing.TB, d time.Duration, events func(i int) []*rawman.Message) (stop func()) {
	t.Helper()
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(d)
		defer tick.Stop()
		for i := 1; ; i++ {
			for _, m := range events(i) {
				_ = f.Emit(m)
			}
			select {
			case <-tick.C:
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(done); <-ended }) }
	t.Cleanup(stop)
	return stop
}

// restart restarts the fake as Asterisk restarts: down for two seconds
// (on its clock), connections cut, then up with no session, event or
// channel of before. A real restart takes seconds, in which the poller
// p finds Asterisk gone: restart waits for that before the fake comes
// back, since it takes the fake microseconds.
func (f *fake) restart(t testing.TB, p *poller.Poller) {
	t.Helper()
	failures := p.Stats().Failures
	f.Down()
	require.Eventually(t, func() bool { return p.Stats().Failures > failures }, 10*time.Second, time.Millisecond)
	f.clk.Advance(2 * time.Second)
	f.Restart()
	require.NoError(t, f.Up())
}
