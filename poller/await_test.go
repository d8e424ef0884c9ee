package poller_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/encoding/rawman"
	"github.com/amihttp/amihttp/httpami"
	"github.com/amihttp/amihttp/poller"
)

// TestAwait follows an Originate with Async set to its OriginateResponse,
// in every mode, with the fake's calls running on its clock.
func TestAwait(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			f := newFake(t)
			c := client(t, f.config(m.auth, m.enc))
			p := f.start(t, c, poller.WithPolicy(poller.DropOldest)) // nobody reads Events
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			got := make(chan *rawman.Message, 1)
			go func() {
				ev, err := p.Await(ctx, "call-1", "originateresponse")
				assert.NoError(t, err)
				got <- ev
			}()
			resp, err := c.Originate(ctx, httpami.Originate{Channel: "Local/100@test", Application: "Echo", Async: true, ActionID: "call-1"})
			require.NoError(t, err)
			assert.Equal(t, "Originate successfully queued", resp.Message())
			var ev *rawman.Message
			for ev == nil {
				select {
				case ev = <-got:
				case <-time.After(time.Millisecond):
					f.clk.Advance(100 * time.Millisecond) // the call goes on
				}
			}
			require.NotNil(t, ev)
			assert.Equal(t, "Success", ev.Get("Response"))
			assert.Equal(t, "4", ev.Get("Reason"), "answered")

			// An event received before Await is still found.
			again, err := p.Await(ctx, "call-1", "OriginateResponse")
			require.NoError(t, err)
			assert.Equal(t, ev.Fields, again.Fields)
		})
	}
}

// TestAwaitEnds checks every way an Await ends without its event.
func TestAwaitEnds(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		f := newFake(t)
		p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := p.Await(ctx, "never", "OriginateResponse")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("gap", func(t *testing.T) {
		f := newFake(t)
		p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)), poller.WithPolicy(poller.DropOldest))
		errc := make(chan error)
		go func() {
			_, err := p.Await(context.Background(), "lost", "OriginateResponse")
			errc <- err
		}()
		f.waiting(t, 1)
		f.clk.Advance(time.Second)
		f.ExpireSessions()
		f.emit(t, "Wake", 1) // the WaitEvent answers; the next finds the session gone
		err := <-errc
		var g *poller.Gap
		require.ErrorAs(t, err, &g)
		assert.ErrorIs(t, err, poller.ErrGap)
		assert.Equal(t, poller.SessionLost, g.Reason)
		assert.ErrorIs(t, err, httpami.ErrSessionLost)
	})
	t.Run("closed", func(t *testing.T) {
		f := newFake(t)
		p := f.start(t, client(t, f.config(httpami.Cookie, httpami.Rawman)))
		errc := make(chan error)
		go func() {
			_, err := p.Await(context.Background(), "x", "OriginateResponse")
			errc <- err
		}()
		f.waiting(t, 1)
		time.Sleep(10 * time.Millisecond) // let Await wait
		require.NoError(t, p.Close())
		assert.ErrorIs(t, <-errc, poller.ErrClosed)
	})
	t.Run("terminal", func(t *testing.T) {
		f := newFake(t)
		c := client(t, f.config(httpami.Cookie, httpami.Rawman))
		p := f.start(t, c, poller.WithSharedSession())
		errc := make(chan error)
		go func() {
			_, err := p.Await(context.Background(), "x", "OriginateResponse")
			errc <- err
		}()
		f.waiting(t, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, c.Close(ctx)) // the shared Client: the poller cannot go on
		err := <-errc
		assert.ErrorIs(t, err, httpami.ErrClosed)
		for range p.Events() {
		}
		assert.ErrorIs(t, p.Err(), httpami.ErrClosed)
		assert.False(t, errors.Is(err, poller.ErrClosed))
	})
}

// TestAwaitWhileHeld awaits an answer while the consumer, which calls
// Await between two reads, has let the buffer fill: the Block policy
// lets the poller go on for the Await.
func TestAwaitWhileHeld(t *testing.T) {
	f := newFake(t)
	c := client(t, f.config(httpami.Cookie, httpami.Rawman))
	p := f.start(t, c, poller.WithBuffer(1), poller.WithEventMask("user,call"))
	blocked(t, f, p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Originate(ctx, httpami.Originate{Channel: "Local/100@test", Application: "Echo", Async: true, ActionID: "held"})
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() {
		_, err := p.Await(ctx, "held", "OriginateResponse")
		got <- err
	}()
	for {
		select {
		case err := <-got:
			require.NoError(t, err)
			assert.Equal(t, "1", next(t, p).Message.Get("Seq"), "the held events come first, in order")
			return
		case <-time.After(time.Millisecond):
			f.clk.Advance(100 * time.Millisecond)
		}
	}
}
