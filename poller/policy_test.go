package poller_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/httpami/httpamitest"
	"github.com/amihttp/amihttp/poller"
)

// TestDropOldest lets events pile up with the DropOldest policy and a
// buffer of two: the consumer then gets the oldest it could take, one
// Dropped gap notice counting the others, and the newest, in order.
func TestDropOldest(t *testing.T) {
	f := newFake(t)
	p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)),
		poller.WithBuffer(2), poller.WithPolicy(poller.DropOldest), poller.WithEventMask("user"))
	const n = 10
	for i := range n {
		f.emit(t, "Pile", i)
	}
	require.Eventually(t, func() bool {
		st := p.Stats()
		return st.Dropped >= n-3 && f.Waiting() == 1 && st.WaitEvents-st.Empty >= 1
	}, 10*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)

	var seqs []int
	var gaps []*poller.Gap
	gapAt, dropped := -1, 0
	for len(seqs) == 0 || seqs[len(seqs)-1] != n-1 {
		ev := next(t, p)
		if g := ev.Gap; g != nil {
			// One notice for each run of drops the deliverer saw.
			assert.Equal(t, poller.Dropped, g.Reason)
			assert.ErrorContains(t, g, "events)")
			assert.Equal(t, testStart, g.From)
			assert.Equal(t, testStart, g.To)
			gaps, gapAt, dropped = append(gaps, g), len(seqs), dropped+g.Dropped
			continue
		}
		i, err := strconv.Atoi(ev.Message.Get("Seq"))
		require.NoError(t, err)
		seqs = append(seqs, i)
	}
	require.NotEmpty(t, gaps)
	assert.Equal(t, n, len(seqs)+dropped, "every event delivered or counted: %v", seqs)
	assert.Equal(t, uint64(dropped), p.Stats().Dropped)
	assert.Equal(t, uint64(len(gaps)), p.Stats().Gaps)
	assert.IsIncreasing(t, seqs)
	assert.Equal(t, []int{n - 2, n - 1}, seqs[gapAt:], "the newest come after the last notice")
}

// TestNonceRotation polls a digest session past two nonce rotations of
// the fake (62 s each): the session survives them, and no gap is
// reported.
func TestNonceRotation(t *testing.T) {
	for _, enc := range []httpami.Encoding{httpami.Rawman, httpami.MXML} {
		t.Run(string(enc), func(t *testing.T) {
			f := newFake(t)
			p := f.start(t, client(t, f.config(httpami.Digest, enc)), poller.WithEventMask("user"))
			for i := range 10 {
				f.waiting(t, 1)
				f.clk.Advance(15 * time.Second)
				if i == 5 {
					f.RotateNonces()
				}
				f.emit(t, "Tick", i)
				assert.Equal(t, strconv.Itoa(i), nextEvent(t, p).Message.Get("Seq"))
			}
			assert.Zero(t, p.Stats().Gaps)
		})
	}
}

// TestNoSpin polls an Asterisk whose httptimeout of 10 s lets no
// WaitEvent wait (spec §5.1): every answer comes back at once and
// empty, and the poller spaces its WaitEvents out rather than spin, yet
// delivers events.
func TestNoSpin(t *testing.T) {
	f := newFake(t, httpamitest.WithHTTPTimeout(10*time.Second))
	p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)), poller.WithEventMask("user"), poller.WithHTTPTimeout(10*time.Second))
	time.Sleep(100 * time.Millisecond)
	before := f.Requests("")
	time.Sleep(300 * time.Millisecond)
	sent := f.Requests("") - before
	assert.Less(t, sent, 10, "WaitEvents in 300 ms")
	f.emit(t, "Still", 1)
	assert.Equal(t, "Still", nextEvent(t, p).Message.Get("UserEvent"))
	assert.Positive(t, p.Stats().Empty)
}

// TestShortHTTPTimeout polls Asterisks whose httptimeout is 5 s, where
// no WaitEvent waits and a digest session lives 5 s from its last
// request: events flow with no gap notice while time passes.
func TestShortHTTPTimeout(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t, httpamitest.WithHTTPTimeout(5*time.Second))
			p := f.start(t, client(t, f.config(m.auth, m.enc)), poller.WithEventMask("user"), poller.WithHTTPTimeout(5*time.Second))
			for i := range 20 {
				f.clk.Advance(500 * time.Millisecond)
				f.emit(t, "Short", i)
				assert.Equal(t, strconv.Itoa(i), nextEvent(t, p).Message.Get("Seq"))
			}
			assert.Zero(t, p.Stats().Gaps)
		})
	}
}
