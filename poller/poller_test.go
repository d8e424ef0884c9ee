package poller_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/poller"
)

// TestEventsInOrder emits events in bursts, some while a WaitEvent waits
// and some while none does, and checks that every one arrives once, in
// order, with its fields, in every mode.
func TestEventsInOrder(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			p := f.start(t, client(t, f.config(m.auth, m.enc)))
			const n = 300
			go func() {
				for i := range n {
					f.emit(t, "Order", i)
				}
			}()
			for i := range n {
				ev := nextUser(t, p, "Order")
				require.Equal(t, fmt.Sprint(i), ev.Message.Get("Seq"))
				assert.Equal(t, "user,all", ev.Message.Get("Privilege"))
				assert.Equal(t, testStart, ev.Received, "received on the fake's clock")
			}
			st := p.Stats()
			assert.Zero(t, st.Gaps)
			assert.GreaterOrEqual(t, st.Delivered, uint64(n))
			assert.GreaterOrEqual(t, st.WaitEvents, uint64(1))
		})
	}
}

// TestEventDuringWaitEvent emits an event while the poller's WaitEvent
// waits on the fake's clock, which never moves: the event can only come
// because Asterisk answers at once, as it does (spec §5.2).
func TestEventDuringWaitEvent(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			p := f.start(t, client(t, f.config(m.auth, m.enc)))
			f.waiting(t, 1)
			f.emit(t, "Now", 1)
			ev := nextUser(t, p, "Now")
			assert.Equal(t, "1", ev.Message.Get("Seq"))
			assert.Equal(t, testStart, f.clk.Now(), "no time passed")
			f.waiting(t, 1) // the next WaitEvent is on its way
			assert.Equal(t, 1, f.Waiting(), "one WaitEvent per session, never two")
		})
	}
}

// TestRestartMidWaitEvent restarts the fake while the poller's WaitEvent
// waits: the consumer gets exactly one gap notice, then events again.
func TestRestartMidWaitEvent(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			p := f.start(t, client(t, f.config(m.auth, m.enc)))
			f.emit(t, "Before", 1)
			nextUser(t, p, "Before")
			f.waiting(t, 1)
			f.clk.Advance(3 * time.Second)
			f.Restart()
			f.waiting(t, 1) // the poller is back, on a new session
			f.clk.Advance(2 * time.Second)
			f.emit(t, "After", 2)
			ev := nextGapOrUser(t, p, "After")
			require.NotNil(t, ev.Gap, "a gap notice comes first")
			g := ev.Gap
			assert.Equal(t, poller.SessionLost, g.Reason, "%v", g)
			if m.auth == httpami.Digest {
				// A digest session is renewed without a word: Asterisk's
				// startup time tells.
				assert.ErrorContains(t, g, "Asterisk restarted")
			} else {
				assert.ErrorIs(t, g, httpami.ErrSessionLost)
			}
			// From the last answer to the first of the new session:
			// the SuccessfulAuth event of a Login, or the event.
			to := 3 * time.Second
			if m.auth == httpami.Digest {
				to = 5 * time.Second
			}
			assert.Equal(t, testStart, g.From)
			assert.Equal(t, testStart.Add(to), g.To)
			assert.Equal(t, to, g.Duration())
			assert.ErrorIs(t, g, poller.ErrGap)
			ev = nextGapOrUser(t, p, "After")
			require.Nil(t, ev.Gap, "exactly one gap notice")
			assert.Equal(t, "2", ev.Message.Get("Seq"))
			st := p.Stats()
			assert.Equal(t, uint64(1), st.Gaps)
			assert.Equal(t, uint64(1), st.Relogins, "one new session")
		})
	}
}

// blocked emits events until the poller, whose consumer reads nothing,
// has a full buffer of one and no WaitEvent on the fake: the Block
// policy at work. It returns the events emitted.
func blocked(t *testing.T, f *fake, p *poller.Poller) int {
	t.Helper()
	f.waiting(t, 1)
	f.emit(t, "Held", 1) // taken by the deliverer, which waits for the consumer
	// Once its answer is read, the WaitEvent waiting is the next one.
	// (The security event of a Login wakes the first WaitEvent too, for
	// an empty answer: the mask excludes it.)
	answers := func() uint64 { st := p.Stats(); return st.WaitEvents - st.Empty }
	require.Eventually(t, func() bool { return answers() == 1 && f.Waiting() == 1 }, 10*time.Second, time.Millisecond)
	f.emit(t, "Held", 2) // fills the buffer
	require.Eventually(t, func() bool { return answers() == 2 }, 10*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	require.Zero(t, f.Waiting(), "no WaitEvent while the buffer is full")
	return 2
}

// TestSlowConsumer holds the poller with a consumer that reads nothing:
// within httptimeout nothing is lost; past it, the session expires, and
// the consumer gets a SlowConsumer gap notice before the next events.
func TestSlowConsumer(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Run("within httptimeout", func(t *testing.T) {
				f := newFake(t)
				p := f.start(t, client(t, f.config(m.auth, m.enc)), poller.WithBuffer(1), poller.WithEventMask("user"))
				n := blocked(t, f, p)
				f.clk.Advance(30 * time.Second)
				f.emit(t, "Held", 3) // queued by Asterisk for the session
				for i := 1; i <= n+1; i++ {
					ev := next(t, p)
					require.Nil(t, ev.Gap, "%v", ev.Gap)
					assert.Equal(t, fmt.Sprint(i), ev.Message.Get("Seq"))
				}
			})
			t.Run("past httptimeout", func(t *testing.T) {
				f := newFake(t)
				p := f.start(t, client(t, f.config(m.auth, m.enc)), poller.WithBuffer(1), poller.WithEventMask("user"))
				n := blocked(t, f, p)
				f.clk.Advance(70 * time.Second) // the session expires and is purged
				f.emit(t, "Lost", 0)            // Asterisk has no session to queue it for
				for i := 1; i <= n; i++ {
					ev := next(t, p)
					require.Nil(t, ev.Gap, "%v", ev.Gap)
					assert.Equal(t, fmt.Sprint(i), ev.Message.Get("Seq"))
				}
				f.waiting(t, 1)
				f.emit(t, "After", 4)
				ev := next(t, p)
				require.NotNil(t, ev.Gap, "a gap notice first, got %v", ev.Message)
				assert.Equal(t, poller.SlowConsumer, ev.Gap.Reason, "%v", ev.Gap)
				assert.Equal(t, testStart, ev.Gap.From)
				assert.Equal(t, testStart.Add(70*time.Second), ev.Gap.To)
				ev = next(t, p)
				require.Nil(t, ev.Gap)
				assert.Equal(t, "After", ev.Message.Get("UserEvent"))
				assert.Equal(t, uint64(1), p.Stats().Gaps)
			})
		})
	}
}

// TestSecondPollerSameSession runs two pollers on one session, which
// kick each other's WaitEvents out (spec §5.4): each reports Kicked
// gaps, neither spins, and every event reaches exactly one of them.
func TestSecondPollerSameSession(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			c := client(t, f.config(m.auth, m.enc))
			opts := []poller.Option{poller.WithSharedSession(), poller.WithEventMask("user")}
			if m.auth == httpami.Digest {
				_, err := poller.New(c, opts...)
				assert.ErrorContains(t, err, "digest", "a digest Client has one session per nonce")
				return
			}
			a := f.start(t, c, opts...)
			f.waiting(t, 1)
			b := f.start(t, c, opts...)

			// They take turns, each backing off after being kicked:
			// a few WaitEvents a second, not thousands.
			before := f.Requests("")
			time.Sleep(300 * time.Millisecond)
			sent := f.Requests("") - before
			assert.Less(t, sent, 60, "WaitEvents in 300 ms")
			assert.Positive(t, a.Stats().Kicked+b.Stats().Kicked)

			const n = 20
			seen := map[string]int{}
			var gaps int
			got, done := make(chan poller.Event), make(chan struct{})
			defer close(done)
			for _, p := range []*poller.Poller{a, b} {
				go func() {
					for ev := range p.Events() {
						select {
						case got <- ev:
						case <-done:
							return
						}
					}
				}()
			}
			for i := range n {
				f.emit(t, "Shared", i)
			}
			for len(seen) < n {
				select {
				case ev := <-got:
					if ev.Gap != nil {
						assert.Equal(t, poller.Kicked, ev.Gap.Reason)
						assert.ErrorIs(t, ev.Gap.Err, httpami.ErrEmptyBody)
						gaps++
						continue
					}
					seen[ev.Message.Get("Seq")]++
				case <-time.After(10 * time.Second):
					require.FailNow(t, "events missing", "got %v", seen)
				}
			}
			for seq, k := range seen {
				assert.Equal(t, 1, k, "event %s delivered %d times", seq, k)
			}
			assert.Positive(t, gaps, "kicks are reported")
		})
	}
}

// TestTwoPollers runs two pollers on one Client, each with its session
// of its own (the default): each gets every event.
func TestTwoPollers(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			c := client(t, f.config(m.auth, m.enc))
			a := f.start(t, c, poller.WithEventMask("user"))
			b := f.start(t, c, poller.WithEventMask("user"))
			f.waiting(t, 2)
			for i := range 10 {
				f.emit(t, "Both", i)
			}
			for _, p := range []*poller.Poller{a, b} {
				for i := range 10 {
					assert.Equal(t, fmt.Sprint(i), nextEvent(t, p).Message.Get("Seq"))
				}
				assert.Zero(t, p.Stats().Kicked)
			}
		})
	}
}

// TestCancelMidRequest ends the poller's context, or closes it, while its
// WaitEvent waits on the fake's clock, which never moves: the channel
// closes at once, and no goroutine is left (newFake checks).
func TestCancelMidRequest(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Run("context", func(t *testing.T) {
				f := newFake(t)
				p := f.poller(t, client(t, f.config(m.auth, m.enc)))
				ctx, cancel := context.WithCancel(context.Background())
				require.NoError(t, p.Start(ctx))
				f.waiting(t, 1)
				cancel()
				for range p.Events() { // the Login's security events, then closed
				}
				assert.ErrorIs(t, p.Err(), context.Canceled)
				assert.NoError(t, p.Close())
				assert.ErrorIs(t, p.Start(ctx), poller.ErrClosed)
				if m.auth != httpami.Digest {
					assert.Equal(t, 1, f.Executed("Logoff"), "the poller's session is logged off")
				}
			})
			t.Run("close", func(t *testing.T) {
				f := newFake(t)
				p := f.start(t, client(t, f.config(m.auth, m.enc)))
				f.waiting(t, 1)
				done := make(chan error)
				go func() { done <- p.Close() }()
				select {
				case err := <-done:
					assert.NoError(t, err)
				case <-time.After(5 * time.Second):
					require.FailNow(t, "Close hangs")
				}
				for range p.Events() {
				}
				assert.NoError(t, p.Err(), "stopped on purpose")
				assert.NoError(t, p.Close(), "Close twice")
				_, err := p.Await(context.Background(), "x", "OriginateResponse")
				assert.ErrorIs(t, err, poller.ErrClosed)
			})
			t.Run("run", func(t *testing.T) {
				f := newFake(t)
				p := f.poller(t, client(t, f.config(m.auth, m.enc)))
				ctx, cancel := context.WithCancel(context.Background())
				errc := make(chan error)
				go func() { errc <- p.Run(ctx) }()
				go func() {
					for range p.Events() {
					}
				}()
				f.waiting(t, 1)
				assert.ErrorIs(t, p.Start(ctx), poller.ErrStarted)
				cancel()
				assert.ErrorIs(t, <-errc, context.Canceled)
			})
		})
	}
}

// TestCloseUnstarted closes a poller that never started.
func TestCloseUnstarted(t *testing.T) {
	f := newFake(t)
	p := f.poller(t, client(t, f.config(httpami.Cookie, httpami.Rawman)))
	require.NoError(t, p.Close())
	_, open := <-p.Events()
	assert.False(t, open)
	assert.ErrorIs(t, p.Start(context.Background()), poller.ErrClosed)
	assert.Zero(t, f.Requests(""))
}

// TestRestartWhileBlocked restarts the fake while the poller, held by a
// consumer that reads nothing, has no WaitEvent on it: nothing is cut,
// and a digest session is renewed without a word, yet the consumer
// gets a gap notice before the next events.
func TestRestartWhileBlocked(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			p := f.start(t, client(t, f.config(m.auth, m.enc)), poller.WithBuffer(1), poller.WithEventMask("user"))
			n := blocked(t, f, p)
			f.clk.Advance(5 * time.Second)
			f.Restart()
			f.clk.Advance(time.Second)
			for i := 1; i <= n; i++ {
				ev := next(t, p)
				require.Nil(t, ev.Gap, "%v", ev.Gap)
				assert.Equal(t, fmt.Sprint(i), ev.Message.Get("Seq"))
			}
			stop := f.emitEvery(t, "After", 5*time.Millisecond)
			defer stop()
			ev := next(t, p)
			require.NotNil(t, ev.Gap, "a gap notice first, got %v", ev.Message)
			assert.Equal(t, poller.SessionLost, ev.Gap.Reason, "%v", ev.Gap)
			assert.Equal(t, "After", nextEvent(t, p).Message.Get("UserEvent"))
		})
	}
}

// TestHTTPErrors: a 404 at Start (a wrong http.conf prefix) stops the
// poller; while it runs, a 404 is what Asterisk answers for a moment
// as it starts, and the poller tries again.
func TestHTTPErrors(t *testing.T) {
	t.Run("at start", func(t *testing.T) {
		f := newFake(t)
		cfg := f.config(httpami.Cookie, httpami.Rawman)
		cfg.URL += "/wrongprefix"
		p := f.poller(t, client(t, cfg))
		var he *httpami.HTTPError
		require.ErrorAs(t, p.Start(context.Background()), &he)
		assert.Equal(t, 404, he.StatusCode)
	})
	t.Run("while running", func(t *testing.T) {
		f := newFake(t)
		p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)), poller.WithEventMask("user"))
		f.waiting(t, 1)
		f.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus, Status: 404, Times: 3})
		f.emit(t, "Wake", 1)
		assert.Equal(t, "Wake", nextEvent(t, p).Message.Get("UserEvent"))
		stop := f.emitEvery(t, "After", 5*time.Millisecond)
		defer stop()
		assert.Equal(t, "After", nextEvent(t, p).Message.Get("UserEvent"))
		assert.GreaterOrEqual(t, p.Stats().Failures, uint64(3))
		assert.NoError(t, p.Err())
	})
}

// TestCredentialsRefused: while the poller runs, credentials refused a
// few times in a row (as while Asterisk starts) are tried again; refused
// for good, they stop the poller with ErrAuthentication.
func TestCredentialsRefused(t *testing.T) {
	for _, times := range []int{3, 20} {
		t.Run(fmt.Sprint(times), func(t *testing.T) {
			f := newFake(t)
			p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)), poller.WithEventMask("user"))
			f.waiting(t, 1)
			f.InjectFault(httpamitest.Fault{Kind: httpamitest.FaultStatus, Status: 401, Times: times})
			f.emit(t, "Wake", 1)
			assert.Equal(t, "Wake", nextEvent(t, p).Message.Get("UserEvent"))
			if times > 5 {
				for range p.Events() {
				}
				assert.ErrorIs(t, p.Err(), httpami.ErrAuthentication)
				_ = p.Close() // its Logoff is refused too
				assert.ErrorIs(t, p.Err(), httpami.ErrAuthentication, "Close keeps the error that stopped the poller")
				return
			}
			stop := f.emitEvery(t, "After", 5*time.Millisecond)
			defer stop()
			assert.Equal(t, "After", nextEvent(t, p).Message.Get("UserEvent"))
			assert.NoError(t, p.Err())
		})
	}
}
