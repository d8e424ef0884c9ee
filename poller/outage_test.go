package poller_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/poller"
)

// TestRefusedConnections takes the fake down (its listener closed, every
// connection cut) while the poller waits: the poller backs off rather
// than spin, comes back when the fake does, and reports the WaitEvent
// answer the cut lost in one gap notice.
func TestRefusedConnections(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			var dials atomic.Int64
			tr := http.DefaultTransport.(*http.Transport).Clone()
			dial := tr.DialContext
			tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return dial(ctx, network, addr)
			}
			t.Cleanup(tr.CloseIdleConnections)
			cfg := f.config(m.auth, m.enc)
			cfg.Transport = tr
			p := f.start(t, client(t, cfg), poller.WithEventMask("user"))
			f.emit(t, "Before", 0)
			nextEvent(t, p)
			f.waiting(t, 1)

			f.RefuseConnections(30 * time.Second) // on the fake's clock
			before := dials.Load()
			time.Sleep(400 * time.Millisecond)
			n := dials.Load() - before
			// Backoff from 5 to 50 ms, each attempt dialling up to four
			// times (the Client's own retries): tens of dials, where a
			// busy loop would make thousands.
			assert.Greater(t, n, int64(3), "the poller keeps trying")
			assert.Less(t, n, int64(150), "dials in 400 ms")
			assert.Positive(t, p.Stats().Failures)

			f.clk.Advance(30 * time.Second) // the fake listens again
			// The WaitEvent whose connection was cut still waits on the
			// fake, as on Asterisk, and takes the events published until
			// the poller's next WaitEvent replaces it: the lost answer.
			stop := f.emitEvery(t, "After", 5*time.Millisecond)
			ev := next(t, p)
			require.NotNil(t, ev.Gap, "a gap notice first, got %v", ev.Message)
			assert.Equal(t, poller.AnswerLost, ev.Gap.Reason, "%v", ev.Gap)
			assert.ErrorIs(t, ev.Gap.Err, httpami.ErrOutcomeUnknown)
			assert.Equal(t, testStart.Add(30*time.Second), ev.Gap.To)
			assert.Equal(t, "After", nextEvent(t, p).Message.Get("UserEvent"))
			stop()
			assert.Equal(t, uint64(1), p.Stats().Gaps)
		})
	}
}

// refuser is a RoundTripper that fails every request as a refused
// connection while on, whatever connections its base keeps alive.
type refuser struct {
	base     http.RoundTripper
	on       atomic.Bool
	refusals atomic.Int64
}

func (r *refuser) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.on.Load() {
		r.refusals.Add(1)
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return r.base.RoundTrip(req)
}

// TestOutage makes Asterisk unreachable between two WaitEvents, for a
// while on the fake's clock: under a WaitEvent cycle (40 s) nothing is
// reported; longer, a ConnectionFailed gap notice comes although the
// session kept its events; past the session's life, they are lost.
func TestOutage(t *testing.T) {
	cases := []struct {
		outage time.Duration
		reason map[httpami.Auth]poller.Reason // 0: no gap
		kept   bool                           // the event of the outage comes
	}{
		{20 * time.Second, nil, true},
		{45 * time.Second, map[httpami.Auth]poller.Reason{httpami.Cookie: poller.ConnectionFailed, httpami.MD5: poller.ConnectionFailed, httpami.Digest: poller.ConnectionFailed}, true},
		{70 * time.Second, map[httpami.Auth]poller.Reason{httpami.Cookie: poller.SessionLost, httpami.MD5: poller.SessionLost, httpami.Digest: poller.ConnectionFailed}, false},
	}
	for _, m := range modes {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%v", m.name, c.outage), func(t *testing.T) {
				f := newFake(t)
				r := &refuser{base: http.DefaultTransport.(*http.Transport).Clone()}
				t.Cleanup(r.base.(*http.Transport).CloseIdleConnections)
				cfg := f.config(m.auth, m.enc)
				cfg.Transport = r
				// The Client would try again itself, and could then
				// succeed in the same call after the clock jumped.
				cfg.RetryMax = -1
				p := f.start(t, client(t, cfg), poller.WithEventMask("user"))
				f.waiting(t, 1)
				r.on.Store(true)
				f.emit(t, "Before", 0) // answers the WaitEvent in flight
				nextEvent(t, p)
				require.Eventually(t, func() bool { return r.refusals.Load() >= 2 }, 10*time.Second, time.Millisecond)

				f.clk.Advance(c.outage)
				f.emit(t, "During", 1)
				r.on.Store(false)
				f.waiting(t, 1)
				f.emit(t, "After", 2)

				ev := next(t, p)
				if want := c.reason[m.auth]; want != 0 {
					require.NotNil(t, ev.Gap, "a gap notice first, got %v", ev.Message)
					assert.Equal(t, want, ev.Gap.Reason, "%v", ev.Gap)
					assert.Equal(t, testStart, ev.Gap.From)
					assert.Equal(t, testStart.Add(c.outage), ev.Gap.To)
					ev = next(t, p)
				}
				require.Nil(t, ev.Gap, "%v", ev.Gap)
				if c.kept {
					assert.Equal(t, "During", ev.Message.Get("UserEvent"))
					ev = nextEvent(t, p)
				}
				assert.Equal(t, "After", ev.Message.Get("UserEvent"))
			})
		}
	}
}
